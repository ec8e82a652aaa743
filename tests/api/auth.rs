use reqwest::Method;

use crate::helpers::{Creds, MAIN_SID, MAIN_TOKEN, TestApp, assert_twilio_error, into_json, send};

#[tokio::test]
async fn healthz_needs_no_credentials() {
    let app = TestApp::spawn().await;
    let response = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn bad_credentials_get_401_20003_with_the_basic_challenge() {
    let app = TestApp::spawn().await;
    let path = format!("/2010-04-01/Accounts/{MAIN_SID}.json");
    let headers = [
        None,
        Some("Basic"),
        Some("Basic !!!notbase64"),
        Some("Bearer abc"),
        Some("Basic QUM6"),             // "AC:"
        Some("Basic YWRtaW46YWRtaW4="), // admin:admin
    ];
    for header in headers {
        let mut req = app.client.get(format!("{}{path}", app.base));
        if let Some(h) = header {
            req = req.header("authorization", h);
        }
        let response = send(req).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            "Basic realm=\"Twilio API\"",
            "{header:?}"
        );
        let (status, body) = into_json(response).await;
        assert_twilio_error(status, &body, 401, 20003);
    }
    for creds in [
        Creds::new(MAIN_SID, "ffffffffffffffffffffffffffffffff"),
        Creds::new(MAIN_SID, &format!("{MAIN_TOKEN} ")),
        Creds::new(&MAIN_SID.to_lowercase(), MAIN_TOKEN),
        Creds::new("ACffffffffffffffffffffffffffffffff", MAIN_TOKEN),
        Creds::new("SKffffffffffffffffffffffffffffffff", MAIN_TOKEN),
    ] {
        let (status, body) = app.get(&path, &creds).await;
        assert_twilio_error(status, &body, 401, 20003);
    }
}

#[tokio::test]
async fn authentication_comes_before_routing() {
    let app = TestApp::spawn().await;
    let response = app.request(Method::GET, "/no/such/route", None, None).await;
    let (status, body) = into_json(response).await;
    assert_twilio_error(status, &body, 401, 20003);
}

#[tokio::test]
async fn suspending_a_subaccount_stops_its_cached_token_at_once() {
    let app = TestApp::spawn().await;
    let sub = app.subaccount(&app.main(), "s").await;
    let path = format!("/2010-04-01/Accounts/{}.json", sub.user);
    // Twice, so the second is served from the verified-credential cache.
    for _ in 0..2 {
        assert_eq!(app.get(&path, &sub).await.0, 200);
    }
    let (status, _) = app
        .post(&path, &app.main(), &[("Status", "suspended")])
        .await;
    assert_eq!(status, 200);
    let (status, body) = app.get(&path, &sub).await;
    assert_twilio_error(status, &body, 401, 20003);

    // Reactivated, it works again; closed, it never does.
    app.post(&path, &app.main(), &[("Status", "active")]).await;
    assert_eq!(app.get(&path, &sub).await.0, 200);
    app.post(&path, &app.main(), &[("Status", "closed")]).await;
    let (status, body) = app.get(&path, &sub).await;
    assert_twilio_error(status, &body, 401, 20003);
}

#[tokio::test]
async fn a_suspended_subaccounts_keys_stop_too() {
    let app = TestApp::spawn().await;
    let sub = app.subaccount(&app.main(), "s").await;
    let (_, key) = app
        .post(
            &format!("/2010-04-01/Accounts/{}/Keys.json", sub.user),
            &sub,
            &[],
        )
        .await;
    let key = Creds::new(
        key["sid"].as_str().unwrap(),
        key["secret"].as_str().unwrap(),
    );
    // A Standard key passes authentication: an unknown route then answers 404, not 401.
    let (status, _) = app.get("/v1/Nothing", &key).await;
    assert_eq!(status, 404);
    app.post(
        &format!("/2010-04-01/Accounts/{}.json", sub.user),
        &app.main(),
        &[("Status", "suspended")],
    )
    .await;
    let (status, body) = app.get("/v1/Nothing", &key).await;
    assert_twilio_error(status, &body, 401, 20003);
}

#[tokio::test]
async fn many_concurrent_first_requests_of_one_credential_all_succeed() {
    let app = TestApp::spawn().await;
    let path = format!("/2010-04-01/Accounts/{MAIN_SID}.json");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let client = app.client.clone();
        let url = format!("{}{path}", app.base);
        tasks.push(tokio::spawn(async move {
            let request = client.get(url).basic_auth(MAIN_SID, Some(MAIN_TOKEN));
            into_json(send(request).await).await.0
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
}

#[tokio::test]
async fn a_flood_of_wrong_passwords_is_limited_but_verified_clients_are_not() {
    let app = TestApp::spawn().await;
    let path = format!("/2010-04-01/Accounts/{MAIN_SID}.json");
    assert_eq!(
        app.get(&path, &app.main()).await.0,
        200,
        "verified and cached first"
    );
    let wrong = Creds::new(MAIN_SID, "ffffffffffffffffffffffffffffffff");
    let mut limited = None;
    // The budget refills at 2 a second while the flood runs (each attempt costs an argon2
    // verification, slower on a busy machine), so the refill is counted, not the speed assumed.
    let flood_started = std::time::Instant::now();
    for attempt in 0..40 {
        let response = app.request(Method::GET, &path, Some(&wrong), None).await;
        if response.status() == 429 {
            let retry_after = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap();
            assert!((1..=60).contains(&retry_after));
            let (status, body) = into_json(response).await;
            assert_twilio_error(status, &body, 429, 20429);
            limited = Some(attempt);
            break;
        }
        let (status, body) = into_json(response).await;
        assert_twilio_error(status, &body, 401, 20003);
    }
    let limited = limited.expect("the flood was never limited");
    let refilled = (flood_started.elapsed().as_secs_f64() * 2.0).floor() as usize;
    assert!(
        (20..=21 + refilled).contains(&limited),
        "a burst of 20 failures (and {refilled} refilled meanwhile) is allowed, got {limited}"
    );
    // The verified credential goes on working from the same address.
    for _ in 0..3 {
        assert_eq!(app.get(&path, &app.main()).await.0, 200);
    }
}

//! The table of bad inputs: each gets its Twilio status and code, and nothing is written.

use reqwest::Method;

use crate::helpers::{MAIN_SID, TestApp, assert_twilio_error, into_json, send};

#[tokio::test]
async fn bad_paths_are_404_20404_naming_the_path() {
    let app = TestApp::spawn().await;
    for path in [
        "/2010-04-01/Accounts/ACnothex00000000000000000000000000.json".to_owned(),
        "/2010-04-01/Accounts/AC123.json".to_owned(),
        format!("/2010-04-01/Accounts/{MAIN_SID}"), // no .json
        format!("/2010-04-01/Accounts/{MAIN_SID}.xml"),
        format!("/2010-04-01/Accounts/{}.json", MAIN_SID.replace("AC", "SK")),
        format!("/2010-04-01/Accounts/{MAIN_SID}/Keys/SK123.json"),
        format!("/2010-04-01/Accounts/{MAIN_SID}/Keys/SKffffffffffffffffffffffffffffffff.json"),
        "/2010-04-01/Accounts/ACffffffffffffffffffffffffffffffff/Keys.json".to_owned(),
        "/v2/Nothing".to_owned(),
        "/".to_owned(),
    ] {
        let (status, body) = app.get(&path, &app.main()).await;
        assert_twilio_error(status, &body, 404, 20404);
        assert_eq!(
            body["message"],
            format!("The requested resource {path} was not found")
        );
    }
}

#[tokio::test]
async fn wrong_methods_are_405_20004() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::DELETE, "/2010-04-01/Accounts.json".to_owned()),
        (Method::PUT, format!("/2010-04-01/Accounts/{MAIN_SID}.json")),
        (
            Method::PATCH,
            format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json"),
        ),
    ] {
        let response = app
            .request(method.clone(), &path, Some(&app.main()), None)
            .await;
        let (status, body) = into_json(response).await;
        assert_twilio_error(status, &body, 405, 20004);
    }
}

#[tokio::test]
async fn non_form_bodies_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let before = app.count("accounts").await;
    for (content_type, body) in [
        (Some("application/json"), r#"{"FriendlyName":"x"}"#),
        (None, "FriendlyName=x"),
        (Some("multipart/form-data; boundary=x"), "--x\r\n"),
        (Some("text/plain"), "FriendlyName=x"),
    ] {
        let mut req = app
            .client
            .post(format!("{}/2010-04-01/Accounts.json", app.base))
            .basic_auth(MAIN_SID, Some(crate::helpers::MAIN_TOKEN))
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let (status, body) = into_json(send(req).await).await;
        assert_twilio_error(status, &body, 400, 20001);
    }
    assert_eq!(app.count("accounts").await, before);
}

#[tokio::test]
async fn malformed_form_values_are_20001_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let before = app.count("accounts").await;
    for raw in [
        "FriendlyName=%zz",
        "FriendlyName=%C3",              // truncated UTF-8
        "FriendlyName=a%00b",            // NUL
        "FriendlyName=a&FriendlyName=b", // a scalar given twice
    ] {
        let req = app
            .client
            .post(format!("{}/2010-04-01/Accounts.json", app.base))
            .basic_auth(MAIN_SID, Some(crate::helpers::MAIN_TOKEN))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(raw);
        let (status, body) = into_json(send(req).await).await;
        assert_twilio_error(status, &body, 400, 20001);
    }
    let long = "x".repeat(65);
    let (status, body) = app
        .post(
            "/2010-04-01/Accounts.json",
            &app.main(),
            &[("FriendlyName", &long)],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    assert_eq!(app.count("accounts").await, before);
}

#[tokio::test]
async fn form_values_decode_plus_percent_and_utf8_exactly() {
    let app = TestApp::spawn().await;
    let req = app
        .client
        .post(format!("{}/2010-04-01/Accounts.json", app.base))
        .basic_auth(MAIN_SID, Some(crate::helpers::MAIN_TOKEN))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body("FriendlyName=a+b%2Bc%25d%20%E2%9C%93&Unknown=ignored");
    let (status, body) = into_json(send(req).await).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["friendly_name"], "a b+c%d \u{2713}");
}

#[tokio::test]
async fn bad_paging_parameters_are_rejected() {
    let app = TestApp::spawn().await;
    for (query, code) in [
        ("PageSize=0", 20001),
        ("PageSize=-5", 20001),
        ("PageSize=ten", 20001),
        ("Page=-1", 20001),
        ("PageToken=garbage", 21481),
        ("PageToken=PA", 21481),
        ("PageToken=PAzz", 21481),
        ("PageSize=5&PageSize=6", 20001),
    ] {
        let (status, body) = app
            .get(&format!("/2010-04-01/Accounts.json?{query}"), &app.main())
            .await;
        assert_twilio_error(status, &body, 400, code);
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_and_write_nothing() {
    let app = TestApp::spawn().await;
    let before = app.count("accounts").await;
    let huge = format!("FriendlyName={}", "x".repeat(1024 * 1024 + 1));
    let request = app
        .client
        .post(format!("{}/2010-04-01/Accounts.json", app.base))
        .basic_auth(MAIN_SID, Some(crate::helpers::MAIN_TOKEN))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge);
    let (status, body) = into_json(send(request).await).await;
    assert_twilio_error(status, &body, 413, 20001);
    assert_eq!(app.count("accounts").await, before);
    // Just under the limit is read (and refused for its content, not its size).
    let near = format!("FriendlyName={}", "x".repeat(1024 * 1024 - 100));
    let request = app
        .client
        .post(format!("{}/2010-04-01/Accounts.json", app.base))
        .basic_auth(MAIN_SID, Some(crate::helpers::MAIN_TOKEN))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(near);
    let (status, body) = into_json(send(request).await).await;
    assert_twilio_error(status, &body, 400, 20001);
}

#[tokio::test]
async fn hostile_identities_are_just_data_and_bad_paths_are_404() {
    let app = TestApp::spawn().await;
    let hostile = [
        "'; drop table conversation_users; --",
        "../../etc/passwd",
        "\" OR 1=1 --",
        "<script>alert(1)</script>",
        "%00%2e%2e",
        "ünï©ødé ✓",
    ];
    for identity in hostile {
        let (status, created) = app
            .post("/v1/Users", &app.main(), &[("Identity", identity)])
            .await;
        assert_eq!(status, 201, "{identity}: {created}");
        let path = format!("/v1/Users/{}", crate::conversations::encode(identity));
        let (status, fetched) = app.get(&path, &app.main()).await;
        assert_eq!(
            (status.as_u16(), fetched["identity"].as_str()),
            (200, Some(identity))
        );
    }
    assert_eq!(
        app.count("conversation_users").await,
        hostile.len() as i64,
        "nothing dropped, nothing extra"
    );
    // Values of 100,000 characters get a 4xx where a limit exists, and never a 5xx.
    let long = "x".repeat(100_000);
    let (status, body) = app
        .post("/v1/Users", &app.main(), &[("Identity", &long)])
        .await;
    assert_twilio_error(status, &body, 400, 50207);
    let (status, body) = app
        .post(
            "/2010-04-01/Accounts.json",
            &app.main(),
            &[("FriendlyName", &long)],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    // Invalid UTF-8 or a stray % in a path can name nothing.
    for path in [
        "/v1/Users/%FF%FE",
        "/v1/Users/%",
        "/v2/Flows/%C3%28/TestUsers",
        "/v1/EndUsers/..%2F..%2Fetc",
    ] {
        let response = app
            .request(Method::GET, path, Some(&app.main()), None)
            .await;
        let (status, body) = into_json(response).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
}

//! The hostile-input corpus, run against every write endpoint that takes a form: each malformed
//! body gets a Twilio-shaped 400 and changes nothing in the database.

use crate::{
    helpers::{MAIN_SID, MAIN_TOKEN, TestApp, assert_twilio_error, into_json},
    studio::new_flow,
};

/// (content type, body) pairs no endpoint may accept. (A repeated parameter is refused only
/// where the endpoint knows it — unknown parameters are ignored — so that case lives in
/// errors.rs with a known field.)
const HOSTILE: &[(Option<&str>, &[u8])] = &[
    (
        Some("application/x-www-form-urlencoded"),
        b"FriendlyName=%FF%FE&Identity=%C3%28",
    ), // invalid UTF-8
    (
        Some("application/x-www-form-urlencoded"),
        b"FriendlyName=a%00b&Identity=a%00b",
    ), // NUL
    (
        Some("application/x-www-form-urlencoded"),
        b"FriendlyName=%zz&Identity=%",
    ), // bad percent-encoding
    (
        Some("application/json"),
        br#"{"FriendlyName":"x","Identity":"x","Type":"individual"}"#,
    ),
    (
        Some("multipart/form-data; boundary=XyZ"),
        b"--XyZ\r\nContent-Disposition: form-data; name=\"FriendlyName\"\r\n\r\nx\r\n--XyZ--\r\n",
    ),
    (None, b"FriendlyName=x&Identity=x"), // a body without a Content-Type
];

const TABLES: &[&str] = &[
    "accounts",
    "api_keys",
    "flows",
    "flow_revisions",
    "flow_test_users",
    "conversation_services",
    "conversation_roles",
    "conversation_users",
    "end_users",
    "account_webhooks",
    "service_webhooks",
];

async fn snapshot(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in TABLES {
        counts.push(app.count(table).await);
    }
    counts
}

#[tokio::test]
async fn every_write_endpoint_refuses_every_malformed_body_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let flow = new_flow(&app, &app.main()).await;
    let (_, user) = app
        .post("/v1/Users", &app.main(), &[("Identity", "target")])
        .await;
    let (_, key) = app
        .post(
            &format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json"),
            &app.main(),
            &[],
        )
        .await;
    let (_, end_user) = app
        .post(
            "/v1/EndUsers",
            &app.main(),
            &[("FriendlyName", "t"), ("Type", "individual")],
        )
        .await;
    let (_, roles) = app.get("/v1/Roles", &app.main()).await;
    let (_, config) = app.get("/v1/Configuration", &app.main()).await;
    let is = config["default_chat_service_sid"].as_str().unwrap();
    let rl = roles["roles"][0]["sid"].as_str().unwrap();
    let us = user["sid"].as_str().unwrap();
    let sk = key["sid"].as_str().unwrap();
    let it = end_user["sid"].as_str().unwrap();
    let endpoints = [
        "/2010-04-01/Accounts.json".to_owned(),
        format!("/2010-04-01/Accounts/{MAIN_SID}.json"),
        format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json"),
        format!("/2010-04-01/Accounts/{MAIN_SID}/Keys/{sk}.json"),
        "/v2/Flows".to_owned(),
        "/v2/Flows/Validate".to_owned(),
        format!("/v2/Flows/{flow}"),
        format!("/v2/Flows/{flow}/TestUsers"),
        "/v1/Configuration".to_owned(),
        "/v1/Configuration/Webhooks".to_owned(),
        "/v1/Services".to_owned(),
        format!("/v1/Services/{is}/Configuration"),
        format!("/v1/Services/{is}/Configuration/Webhooks"),
        "/v1/Roles".to_owned(),
        format!("/v1/Roles/{rl}"),
        "/v1/Users".to_owned(),
        format!("/v1/Users/{us}"),
        format!("/v1/Services/{is}/Users"),
        format!("/v1/Services/{is}/Roles"),
        "/v1/EndUsers".to_owned(),
        format!("/v1/EndUsers/{it}"),
    ];
    let before = snapshot(&app).await;
    for path in &endpoints {
        for (content_type, body) in HOSTILE {
            let mut request = app
                .client
                .post(format!("{}{path}", app.base))
                .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                .body(body.to_vec());
            if let Some(ct) = content_type {
                request = request.header("content-type", *ct);
            }
            let (status, reply) = into_json(request.send().await.unwrap()).await;
            assert_twilio_error(status, &reply, 400, 20001);
        }
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused request changed the database"
    );
    assert_eq!(
        app.get("/healthz", &app.main()).await.0,
        200,
        "still serving"
    );
}

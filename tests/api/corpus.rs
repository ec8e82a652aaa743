//! The hostile-input corpus, run against every write endpoint that takes a form (the first
//! products', and Conversations core, Studio executions, 2010 Messages and TrustHub bundles):
//! each malformed body gets a Twilio-shaped 400 and changes nothing in the database.

use crate::{
    helpers::{MAIN_SID, MAIN_TOKEN, TestApp, assert_twilio_error, into_json, send},
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
    "conversations",
    "conversation_participants",
    "conversation_messages",
    "conversation_webhooks",
    "studio_executions",
    "studio_execution_steps",
    "messages",
    "message_media",
    "supporting_documents",
    "trust_bundles",
    "trust_bundle_entities",
    "trust_bundle_channel_endpoints",
    "trust_bundle_evaluations",
    "webhook_deliveries",
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
    // The writes of the later products. Instance paths take well-formed SIDs: a body is
    // refused before anything is looked up.
    let [ch, mb, im, wh, fnx, sm, bu, bt, rd] =
        ["CH", "MB", "IM", "WH", "FN", "SM", "BU", "BU", "RD"]
            .map(|prefix| format!("{prefix}{}", "0".repeat(32)));
    let later = [
        "/v1/Conversations".to_owned(),
        format!("/v1/Conversations/{ch}"),
        format!("/v1/Conversations/{ch}/Participants"),
        format!("/v1/Conversations/{ch}/Participants/{mb}"),
        format!("/v1/Conversations/{ch}/Messages"),
        format!("/v1/Conversations/{ch}/Messages/{im}"),
        format!("/v1/Conversations/{ch}/Webhooks"),
        format!("/v1/Conversations/{ch}/Webhooks/{wh}"),
        format!("/v1/Services/{is}/Conversations/{ch}/Messages"),
        "/v1/ConversationWithParticipants".to_owned(),
        format!("/v1/Users/{us}/Conversations/{ch}"),
        format!("/v2/Flows/{flow}/Executions"),
        format!("/v2/Flows/{flow}/Executions/{fnx}"),
        format!("/2010-04-01/Accounts/{MAIN_SID}/Messages.json"),
        format!("/2010-04-01/Accounts/{MAIN_SID}/Messages/{sm}.json"),
        "/v1/SupportingDocuments".to_owned(),
        format!("/v1/SupportingDocuments/{rd}"),
        "/v1/CustomerProfiles".to_owned(),
        format!("/v1/CustomerProfiles/{bu}"),
        format!("/v1/CustomerProfiles/{bu}/EntityAssignments"),
        format!("/v1/CustomerProfiles/{bu}/ChannelEndpointAssignments"),
        format!("/v1/CustomerProfiles/{bu}/Evaluations"),
        "/v1/TrustProducts".to_owned(),
        format!("/v1/TrustProducts/{bt}"),
        format!("/v1/TrustProducts/{bt}/EntityAssignments"),
        format!("/v1/TrustProducts/{bt}/ChannelEndpointAssignments"),
        format!("/v1/TrustProducts/{bt}/Evaluations"),
    ];
    let endpoints: Vec<String> = endpoints.into_iter().chain(later).collect();
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
            let (status, reply) = into_json(send(request).await).await;
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

#[tokio::test]
async fn a_100k_character_value_in_any_field_is_refused_with_a_4xx() {
    let app = TestApp::spawn().await;
    let flow = new_flow(&app, &app.main()).await;
    let (_, key) = app
        .post(
            &format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json"),
            &app.main(),
            &[],
        )
        .await;
    let (_, user) = app
        .post("/v1/Users", &app.main(), &[("Identity", "target")])
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
    let is = config["default_chat_service_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let rl = roles["roles"][0]["sid"].as_str().unwrap().to_owned();
    let us = user["sid"].as_str().unwrap().to_owned();
    let sk = key["sid"].as_str().unwrap().to_owned();
    let it = end_user["sid"].as_str().unwrap().to_owned();
    let long = "x".repeat(100_000);
    let json_long = format!("{{\"k\":\"{long}\"}}");
    let url_long = format!("https://example.com/{long}");
    let def = r#"{"initial_state":"Trigger","states":[{"name":"Trigger","type":"trigger","properties":{},"transitions":[]}]}"#;
    // (path, the long field, its value, the other fields the request needs)
    type Case<'a> = (String, &'a str, &'a str, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "/2010-04-01/Accounts.json".into(),
            "FriendlyName",
            &long,
            vec![],
        ),
        (
            format!("/2010-04-01/Accounts/{MAIN_SID}.json"),
            "FriendlyName",
            &long,
            vec![],
        ),
        (
            format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json"),
            "FriendlyName",
            &long,
            vec![],
        ),
        (
            format!("/2010-04-01/Accounts/{MAIN_SID}/Keys/{sk}.json"),
            "FriendlyName",
            &long,
            vec![],
        ),
        (
            "/v2/Flows".into(),
            "FriendlyName",
            &long,
            vec![("Status", "draft"), ("Definition", def)],
        ),
        (
            "/v2/Flows".into(),
            "CommitMessage",
            &long,
            vec![
                ("FriendlyName", "f"),
                ("Status", "draft"),
                ("Definition", def),
            ],
        ),
        (
            "/v2/Flows".into(),
            "Definition",
            &long,
            vec![("FriendlyName", "f"), ("Status", "draft")],
        ),
        (
            "/v2/Flows/Validate".into(),
            "FriendlyName",
            &long,
            vec![("Status", "draft"), ("Definition", def)],
        ),
        (
            format!("/v2/Flows/{flow}"),
            "FriendlyName",
            &long,
            vec![("Status", "draft")],
        ),
        (
            format!("/v2/Flows/{flow}/TestUsers"),
            "TestUsers",
            &long,
            vec![],
        ),
        (
            "/v1/Configuration".into(),
            "DefaultInactiveTimer",
            &long,
            vec![],
        ),
        (
            "/v1/Configuration".into(),
            "DefaultChatServiceSid",
            &long,
            vec![],
        ),
        (
            "/v1/Configuration/Webhooks".into(),
            "PostWebhookUrl",
            &url_long,
            vec![],
        ),
        (
            "/v1/Configuration/Webhooks".into(),
            "Filters",
            &long,
            vec![],
        ),
        ("/v1/Services".into(), "FriendlyName", &long, vec![]),
        (
            format!("/v1/Services/{is}/Configuration"),
            "DefaultChatServiceRoleSid",
            &long,
            vec![],
        ),
        (
            format!("/v1/Services/{is}/Configuration/Webhooks"),
            "PreWebhookUrl",
            &url_long,
            vec![],
        ),
        (
            "/v1/Roles".into(),
            "FriendlyName",
            &long,
            vec![("Type", "service"), ("Permission", "joinConversation")],
        ),
        (format!("/v1/Roles/{rl}"), "Permission", &long, vec![]),
        ("/v1/Users".into(), "Identity", &long, vec![]),
        (
            "/v1/Users".into(),
            "FriendlyName",
            &long,
            vec![("Identity", "u1")],
        ),
        (
            "/v1/Users".into(),
            "Attributes",
            &json_long,
            vec![("Identity", "u2")],
        ),
        (format!("/v1/Users/{us}"), "FriendlyName", &long, vec![]),
        (format!("/v1/Users/{us}"), "Attributes", &json_long, vec![]),
        (format!("/v1/Users/{us}"), "RoleSid", &long, vec![]),
        (
            format!("/v1/Services/{is}/Users"),
            "Identity",
            &long,
            vec![],
        ),
        (
            "/v1/EndUsers".into(),
            "FriendlyName",
            &long,
            vec![("Type", "individual")],
        ),
        (
            "/v1/EndUsers".into(),
            "Attributes",
            &json_long,
            vec![("FriendlyName", "e"), ("Type", "individual")],
        ),
        (
            "/v1/EndUsers".into(),
            "Type",
            &long,
            vec![("FriendlyName", "e")],
        ),
        (
            format!("/v1/EndUsers/{it}"),
            "Attributes",
            &json_long,
            vec![],
        ),
    ];
    let before = snapshot(&app).await;
    for (path, field, value, mut rest) in cases {
        rest.push((field, value));
        let (status, body) = app.post(&path, &app.main(), &rest).await;
        assert!(status.is_client_error(), "{path} {field}: {status} {body}");
        assert_eq!(body["status"], status.as_u16(), "{path} {field}: {body}");
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "a refused request changed the database"
    );
}

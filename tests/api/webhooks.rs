//! Conversations webhooks end to end: a real receiver, signatures checked by an independent
//! HMAC-SHA1, the X-Twilio-Webhook-Enabled header deciding, durable retries.

use std::{collections::BTreeSet, time::Duration};

use serde_json::{Value, json};

use crate::{
    helpers::{MAIN_SID, MAIN_TOKEN, TestApp, assert_twilio_error, into_json},
    receiver::{Receiver, expected_signature},
    spec::assert_schema,
};

const CONV: &str = "twilio_conversations_v1.json";
const WAIT: Duration = Duration::from_secs(15);
/// How long "nothing arrives" is watched for.
const GRACE: Duration = Duration::from_millis(1500);

async fn configure(app: &TestApp, url: &str, filters: &[&str], method: &str) -> Value {
    let mut form = vec![
        ("PostWebhookUrl", url),
        ("Method", method),
        ("Target", "webhook"),
    ];
    form.extend(filters.iter().map(|f| ("Filters", *f)));
    let (status, body) = app
        .post("/v1/Configuration/Webhooks", &app.main(), &form)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// POST `path` with the header (when `header` is Some).
async fn send(
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
    header: Option<&str>,
) -> (reqwest::StatusCode, Value) {
    let mut req = app
        .client
        .post(format!("{}{path}", app.base))
        .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
        .form(form);
    if let Some(h) = header {
        req = req.header("X-Twilio-Webhook-Enabled", h);
    }
    into_json(crate::helpers::send(req).await).await
}

/// The attempt log once `done` holds for it (the worker records an attempt just after the
/// receiver answers).
async fn attempts_until(app: &TestApp, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..100 {
        let (_, body) = app.get("/_localtwilio/WebhookAttempts", &app.main()).await;
        let attempts = body["attempts"].as_array().unwrap().clone();
        if done(&attempts) {
            return attempts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the attempt log never reached the expected state");
}

fn names(params: &[(String, String)]) -> BTreeSet<String> {
    params.iter().map(|(k, _)| k.clone()).collect()
}

#[tokio::test]
async fn with_the_header_each_event_arrives_once_signed_with_the_documented_parameters() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    let url = receiver.url("/hooks/conversations?source=localtwilio");
    let config = configure(&app, &url, &["onUserAdded", "onUserUpdated"], "POST").await;
    assert_schema(
        CONV,
        "conversations.v1.configuration.configuration_webhook",
        &config,
    );

    let (status, user) = send(
        &app,
        "/v1/Users",
        &[
            ("Identity", "hooked"),
            ("FriendlyName", "Hook"),
            ("Attributes", "{\"a\": 1}"),
        ],
        Some("true"),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let got = receiver.wait_for(1, WAIT).await;
    let added = &got[0];
    assert_eq!(added.method, "POST");
    assert_eq!(
        added.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(added.headers["user-agent"], "TwilioProxy/1.1");
    assert_eq!(
        added.uri.to_string(),
        "/hooks/conversations?source=localtwilio"
    );
    let params = added.params();
    assert_eq!(
        added.signature(),
        expected_signature(MAIN_TOKEN, &url, &params),
        "signature verifies"
    );
    let want: BTreeSet<String> = [
        "AccountSid",
        "EventType",
        "Source",
        "ChatServiceSid",
        "UserSid",
        "DateCreated",
        "Identity",
        "RoleSid",
        "Attributes",
        "FriendlyName",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(names(&params), want);
    assert_eq!(added.param("EventType").as_deref(), Some("onUserAdded"));
    assert_eq!(added.param("Source").as_deref(), Some("API"));
    assert_eq!(added.param("AccountSid").as_deref(), Some(MAIN_SID));
    assert_eq!(added.param("UserSid").as_deref(), user["sid"].as_str());
    assert_eq!(
        added.param("ChatServiceSid").as_deref(),
        user["chat_service_sid"].as_str()
    );
    assert_eq!(added.param("Attributes").as_deref(), Some("{\"a\": 1}"));
    assert_eq!(
        added.param("DateCreated").as_deref(),
        user["date_created"].as_str()
    );
    // The worker logs an attempt just after the receiver answers; wait for that log entry, or a
    // second worker could log the update's attempt first and the newest-first order below would
    // not be the order of the events.
    attempts_until(&app, |a| !a.is_empty()).await;

    let (status, _) = send(
        &app,
        "/v1/Users/hooked",
        &[("FriendlyName", "Renamed")],
        Some("true"),
    )
    .await;
    assert_eq!(status, 200);
    let got = receiver.wait_for(2, WAIT).await;
    let updated = &got[1];
    let params = updated.params();
    assert_eq!(
        updated.signature(),
        expected_signature(MAIN_TOKEN, &url, &params)
    );
    assert_eq!(updated.param("EventType").as_deref(), Some("onUserUpdated"));
    assert_eq!(updated.param("FriendlyName").as_deref(), Some("Renamed"));
    assert!(names(&params).contains("DateUpdated"));
    tokio::time::sleep(GRACE).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "exactly one request per event"
    );

    let attempts = attempts_until(&app, |a| a.len() >= 2).await;
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        (
            attempts[0]["event_type"].as_str(),
            attempts[0]["status_code"].as_i64()
        ),
        (Some("onUserUpdated"), Some(200))
    );
}

#[tokio::test]
async fn without_the_header_or_with_false_nothing_is_sent() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    configure(
        &app,
        &receiver.url("/h"),
        &["onUserAdded", "onUserUpdated"],
        "POST",
    )
    .await;
    send(&app, "/v1/Users", &[("Identity", "quiet")], None).await;
    send(&app, "/v1/Users", &[("Identity", "quiet2")], Some("false")).await;
    send(&app, "/v1/Users/quiet", &[("FriendlyName", "x")], None).await;
    send(
        &app,
        "/v1/Users/quiet",
        &[("FriendlyName", "y")],
        Some("false"),
    )
    .await;
    tokio::time::sleep(GRACE).await;
    assert_eq!(receiver.received().len(), 0);
    // The pipeline works: a sentinel with the header arrives, and only it.
    send(&app, "/v1/Users", &[("Identity", "sentinel")], Some("true")).await;
    let got = receiver.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(got[0].param("Identity").as_deref(), Some("sentinel"));
    assert_eq!(
        app.count("webhook_deliveries").await,
        1,
        "nothing else was even queued"
    );
}

#[tokio::test]
async fn a_filter_that_omits_an_event_suppresses_it() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    configure(&app, &receiver.url("/h"), &["onUserUpdated"], "POST").await;
    send(&app, "/v1/Users", &[("Identity", "filtered")], Some("true")).await;
    send(
        &app,
        "/v1/Users/filtered",
        &[("FriendlyName", "f")],
        Some("true"),
    )
    .await;
    let got = receiver.wait_for(1, WAIT).await;
    tokio::time::sleep(GRACE).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(got[0].param("EventType").as_deref(), Some("onUserUpdated"));
}

#[tokio::test]
async fn get_targets_receive_the_parameters_in_the_query_and_a_url_signature() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    let url = receiver.url("/get-hook");
    configure(&app, &url, &["onUserAdded"], "GET").await;
    send(&app, "/v1/Users", &[("Identity", "via get")], Some("true")).await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].method, "GET");
    assert_eq!(got[0].param("Identity").as_deref(), Some("via get"));
    let full = format!("http://{}{}", receiver.addr, got[0].uri);
    assert_eq!(
        got[0].signature(),
        expected_signature(MAIN_TOKEN, &full, &[])
    );
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_the_delivery_when_it_comes_back() {
    let app = TestApp::spawn().await;
    let probe = Receiver::start("127.0.0.1:0").await;
    let addr = probe.addr.to_string();
    probe.stop().await; // nothing listens there now
    configure(
        &app,
        &format!("http://{addr}/late"),
        &["onUserAdded"],
        "POST",
    )
    .await;
    send(&app, "/v1/Users", &[("Identity", "patient")], Some("true")).await;
    // At least one attempt has failed before the receiver comes up.
    attempts_until(&app, |a| !a.is_empty()).await;
    let receiver = Receiver::start(&addr).await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].param("Identity").as_deref(), Some("patient"));
    let attempts =
        attempts_until(&app, |a| a.first().is_some_and(|x| x["status_code"] == 200)).await;
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert_eq!(attempts.last().unwrap()["error"], "connection failed");
}

#[tokio::test]
async fn a_delivery_pending_at_shutdown_is_sent_after_restart() {
    let mut app = TestApp::spawn().await;
    let probe = Receiver::start("127.0.0.1:0").await;
    let addr = probe.addr.to_string();
    probe.stop().await;
    configure(
        &app,
        &format!("http://{addr}/after-restart"),
        &["onUserAdded"],
        "POST",
    )
    .await;
    send(&app, "/v1/Users", &[("Identity", "survivor")], Some("true")).await;
    app.stop().await;
    let receiver = Receiver::start(&addr).await;
    app.restart().await;
    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(got[0].param("Identity").as_deref(), Some("survivor"));
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_every_attempt_is_recorded() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    receiver.answer_with(500);
    configure(&app, &receiver.url("/flaky"), &["onUserAdded"], "POST").await;
    send(&app, "/v1/Users", &[("Identity", "retried")], Some("true")).await;
    receiver.wait_for(1, WAIT).await;
    receiver.answer_with(204);
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[0].body, got[1].body, "the same request again");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 2, "no more once delivered");
    let attempts = attempts_until(&app, |a| a.len() >= 2).await;
    let codes: Vec<Value> = attempts.iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(codes, vec![json!(204), json!(500)]);
}

#[tokio::test]
async fn a_hanging_receiver_does_not_hold_up_the_api() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    receiver.hold();
    configure(
        &app,
        &receiver.url("/slow"),
        &["onUserAdded", "onUserUpdated"],
        "POST",
    )
    .await;
    send(&app, "/v1/Users", &[("Identity", "busy")], Some("true")).await;
    receiver.wait_for(1, WAIT).await;
    // The receiver holds that request open; 100 updates in a burst all complete meanwhile.
    let mut tasks = Vec::new();
    for i in 0..100 {
        let client = app.client.clone();
        let url = format!("{}/v1/Users/busy", app.base);
        tasks.push(tokio::spawn(async move {
            let request = client
                .post(url)
                .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                .header("X-Twilio-Webhook-Enabled", "true")
                .form(&[("FriendlyName", format!("n{i}"))]);
            into_json(crate::helpers::send(request).await).await.0
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert!(
        receiver.received().len() < 101,
        "the API did not wait for the receiver"
    );
    receiver.release();
    receiver.wait_for(101, Duration::from_secs(60)).await;
}

#[tokio::test]
async fn webhook_configuration_is_validated_and_service_level_has_its_own_schema() {
    let app = TestApp::spawn().await;
    let (status, empty) = app.get("/v1/Configuration/Webhooks", &app.main()).await;
    assert_eq!(status, 200);
    assert_schema(
        CONV,
        "conversations.v1.configuration.configuration_webhook",
        &empty,
    );
    assert_eq!(
        (
            empty["method"].as_str(),
            empty["filters"].clone(),
            empty["target"].as_str()
        ),
        (Some("POST"), json!([]), Some("webhook"))
    );
    for form in [
        vec![("PostWebhookUrl", "not a url")],
        vec![("PostWebhookUrl", "ftp://example.com/x")],
        vec![("PreWebhookUrl", "/relative")],
        vec![("Method", "PUT")],
        vec![("Filters", "onUserExploded")],
        vec![("Target", "studio")],
    ] {
        let (status, body) = app
            .post("/v1/Configuration/Webhooks", &app.main(), &form)
            .await;
        assert_twilio_error(status, &body, 400, 20001);
    }
    let (_, config) = app.get("/v1/Configuration", &app.main()).await;
    let is = config["default_chat_service_sid"].as_str().unwrap();
    let path = format!("/v1/Services/{is}/Configuration/Webhooks");
    let (status, service) = app
        .post(
            &path,
            &app.main(),
            &[
                ("PreWebhookUrl", "https://pre.example.com/x"),
                ("Filters", "onMessageAdded"),
                ("Method", "GET"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{service}");
    assert_schema(
        CONV,
        "conversations.v1.service.service_configuration.service_webhook_configuration",
        &service,
    );
    assert_eq!(service["pre_webhook_url"], "https://pre.example.com/x");
    // The spec's service-level filter list has no user events.
    let (status, body) = app
        .post(&path, &app.main(), &[("Filters", "onUserAdded")])
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let other = app.subaccount(&app.main(), "other").await;
    let (status, body) = app.get(&path, &other).await;
    assert_twilio_error(status, &body, 404, 20404);
}

#[tokio::test]
async fn delete_accepts_the_header_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    configure(
        &app,
        &receiver.url("/h"),
        &["onUserAdded", "onUserUpdated"],
        "POST",
    )
    .await;
    for (identity, header) in [("d1", "true"), ("d2", "false")] {
        send(&app, "/v1/Users", &[("Identity", identity)], None).await;
        let request = app
            .client
            .delete(format!("{}/v1/Users/{identity}", app.base))
            .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
            .header("X-Twilio-Webhook-Enabled", header);
        let (status, _) = into_json(crate::helpers::send(request).await).await;
        assert_eq!(status, 204);
    }
    send(&app, "/v1/Users", &[("Identity", "d3")], None).await;
    let request = app
        .client
        .delete(format!("{}/v1/Users/d3", app.base))
        .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
        .header("X-Twilio-Webhook-Enabled", "TRUE");
    let (status, body) = into_json(crate::helpers::send(request).await).await;
    assert_twilio_error(status, &body, 400, 20001);
    assert_eq!(
        app.get("/v1/Users/d3", &app.main()).await.0,
        200,
        "a refused delete deletes nothing"
    );
    tokio::time::sleep(GRACE).await;
    assert_eq!(receiver.received().len(), 0);
}

/// The URL a receiver validates against: what it was requested at (scheme + `Host` + the
/// request target), as the official validators are given it.
fn url_as_received(received: &crate::receiver::Received) -> String {
    format!(
        "http://{}{}",
        received.headers["host"].to_str().unwrap(),
        received.uri
    )
}

#[tokio::test]
async fn webhook_urls_are_stored_normalised_and_signed_as_requested() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start("127.0.0.1:0").await;
    // An upper-case scheme is a valid URL (RFC 3986 §3.1: schemes are case-insensitive); it is
    // kept in its normalised form, which is the URL the request goes to and is signed with.
    let upper = receiver.url("/Hook?x=1").replacen("http://", "HTTP://", 1);
    for method in ["POST", "GET"] {
        let config = configure(&app, &upper, &["onUserAdded"], method).await;
        assert_eq!(
            config["post_webhook_url"].as_str(),
            Some(receiver.url("/Hook?x=1").as_str()),
            "stored normalised"
        );
        let identity = format!("normalised-{method}");
        let (status, body) =
            send(&app, "/v1/Users", &[("Identity", &identity)], Some("true")).await;
        assert_eq!(status, 201, "{body}");
    }
    let got = receiver.wait_for(2, WAIT).await;
    for received in &got {
        let signed_url = url_as_received(received);
        let params = if received.method == "GET" {
            Vec::new()
        } else {
            received.params()
        };
        assert_eq!(
            received.signature(),
            expected_signature(MAIN_TOKEN, &signed_url, &params),
            "{} signature validates against the URL requested ({signed_url})",
            received.method
        );
    }
}

#[tokio::test]
async fn webhook_urls_that_are_not_absolute_http_urls_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let service = {
        let (status, body) = app
            .post("/v1/Services", &app.main(), &[("FriendlyName", "hooks")])
            .await;
        assert_eq!(status, 201, "{body}");
        body["sid"].as_str().unwrap().to_owned()
    };
    let bad = [
        "http://hooks.example.com/a\r\nb",
        "http://hooks.example.com/a\nX-Injected: 1",
        "http://hooks.example.com/a\tb",
        "http://hooks.example.com/a b",
        "http:///x",
        "http:hooks.example.com/x",
        "http:\\\\hooks.example.com\\x",
        "https://",
        "ftp://hooks.example.com/x",
        "/relative",
    ];
    for path in [
        "/v1/Configuration/Webhooks".to_owned(),
        format!("/v1/Services/{service}/Configuration/Webhooks"),
    ] {
        for field in ["PostWebhookUrl", "PreWebhookUrl"] {
            for url in bad {
                let (status, body) = app.post(&path, &app.main(), &[(field, url)]).await;
                assert_twilio_error(status, &body, 400, 20001);
            }
        }
        let (status, body) = app.get(&path, &app.main()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["post_webhook_url"],
            Value::Null,
            "{path}: nothing stored"
        );
        assert_eq!(
            body["pre_webhook_url"],
            Value::Null,
            "{path}: nothing stored"
        );
    }
}

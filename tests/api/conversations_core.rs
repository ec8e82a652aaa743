//! Conversations core (issue 17): conversations, participants, messages, user and participant
//! conversations, ConversationWithParticipants, scoped webhooks, timers and cascades, through
//! the real server on both path families.

use std::{collections::BTreeSet, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    conversations::{default_service, encode, new_service},
    helpers::{MAIN_SID, MAIN_TOKEN, TestApp, assert_twilio_error, into_json},
    receiver::{Receiver, expected_signature},
    spec::{assert_schema, assert_v1_page},
};

const CONV: &str = "twilio_conversations_v1.json";
const WAIT: Duration = Duration::from_secs(15);

/// POSTs `form` to `path` as the main account; the resource must be created (201).
async fn created(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Value {
    let (status, body) = app.post(path, &app.main(), form).await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn conversation(app: &TestApp, family: &str, form: &[(&str, &str)]) -> Value {
    created(app, &format!("{family}/Conversations"), form).await
}

/// Adds a participant to conversation `ch` (on `family`).
async fn join(app: &TestApp, family: &str, ch: &str, form: &[(&str, &str)]) -> Value {
    created(
        app,
        &format!("{family}/Conversations/{ch}/Participants"),
        form,
    )
    .await
}

/// Posts a message to conversation `ch` (on `family`).
async fn post_message(app: &TestApp, family: &str, ch: &str, form: &[(&str, &str)]) -> Value {
    created(app, &format!("{family}/Conversations/{ch}/Messages"), form).await
}

/// Gives conversation `ch` a scoped webhook to the receiver's `/scoped` taking `filter` and a
/// trigger to its `/trigger` on `keyword`.
async fn scoped_and_trigger(
    app: &TestApp,
    receiver: &Receiver,
    ch: &str,
    filter: &str,
    keyword: &str,
) {
    let scoped_url = receiver.url("/scoped");
    let trigger_url = receiver.url("/trigger");
    for form in [
        [
            ("Target", "webhook"),
            ("Configuration.Url", scoped_url.as_str()),
            ("Configuration.Filters", filter),
        ],
        [
            ("Target", "trigger"),
            ("Configuration.Url", trigger_url.as_str()),
            ("Configuration.Triggers", keyword),
        ],
    ] {
        created(app, &format!("/v1/Conversations/{ch}/Webhooks"), &form).await;
    }
}

fn sid(v: &Value) -> String {
    v["sid"].as_str().unwrap().to_owned()
}

/// POST with `X-Twilio-Webhook-Enabled` when `header` is Some.
async fn post_with(
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
    header: Option<&str>,
) -> (StatusCode, Value) {
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

#[tokio::test]
async fn conversations_on_both_families_with_unique_names_states_and_errors() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let is = default_service(&app, &main).await;
    let c = conversation(
        &app,
        "/v1",
        &[
            ("FriendlyName", "Support"),
            ("UniqueName", "support-1"),
            ("Attributes", "{\"topic\": \"billing\"}"),
        ],
    )
    .await;
    assert_schema(CONV, "conversations.v1.conversation", &c);
    let ch = sid(&c);
    assert!(ch.starts_with("CH"));
    assert_eq!(c["state"], "active");
    assert_eq!(c["timers"], json!({}));
    assert_eq!(c["bindings"], json!({}));
    assert_eq!(c["attributes"], "{\"topic\": \"billing\"}");
    assert_eq!(c["chat_service_sid"], is);
    assert_eq!(c["url"], format!("{}/v1/Conversations/{ch}", app.base));
    assert_eq!(
        c["links"]["participants"],
        format!("{}/v1/Conversations/{ch}/Participants", app.base)
    );

    // By unique name, and on the service family with its own URLs.
    let (status, by_name) = app.get("/v1/Conversations/support-1", &main).await;
    assert_eq!(status, 200);
    assert_eq!(by_name["sid"], ch);
    let (status, explicit) = app
        .get(&format!("/v1/Services/{is}/Conversations/{ch}"), &main)
        .await;
    assert_eq!(status, 200);
    assert_schema(
        CONV,
        "conversations.v1.service.service_conversation",
        &explicit,
    );
    assert_eq!(
        explicit["url"],
        format!("{}/v1/Services/{is}/Conversations/{ch}", app.base)
    );

    // Unique names: taken → 409 50353; CH-shaped → 400 50390; another service may reuse it.
    let (status, body) = app
        .post("/v1/Conversations", &main, &[("UniqueName", "support-1")])
        .await;
    assert_twilio_error(status, &body, 409, 50353);
    let (status, body) = app
        .post(
            "/v1/Conversations",
            &main,
            &[("UniqueName", "CHaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 50390);
    let other = new_service(&app, "other").await;
    let reused = conversation(
        &app,
        &format!("/v1/Services/{other}"),
        &[("UniqueName", "support-1")],
    )
    .await;
    assert_eq!(reused["chat_service_sid"], other);
    // The other service's conversation is not in the default family.
    let (status, _) = app
        .get(&format!("/v1/Conversations/{}", sid(&reused)), &main)
        .await;
    assert_eq!(status, 404);

    // States and timers.
    for (form, code) in [
        (vec![("State", "closed")], 50384),
        (vec![("Timers.Inactive", "PT5M")], 50382),
        (
            vec![("State", "active"), ("Timers.Inactive", "PT30S")],
            50375,
        ),
        (vec![("State", "active"), ("Timers.Closed", "PT5M")], 50376),
        (
            vec![("State", "active"), ("Timers.Inactive", "5 minutes")],
            50379,
        ),
        (vec![("State", "active"), ("Timers.Closed", "never")], 50380),
        (vec![("State", "paused")], 20001),
    ] {
        let (status, body) = app.post("/v1/Conversations", &main, &form).await;
        assert_twilio_error(status, &body, 400, code);
    }
    let long = "x".repeat(257);
    let (status, body) = app
        .post("/v1/Conversations", &main, &[("FriendlyName", &long)])
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(16 * 1024));
    let (status, body) = app
        .post("/v1/Conversations", &main, &[("Attributes", &big)])
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let timed = conversation(
        &app,
        "/v1",
        &[
            ("State", "active"),
            ("Timers.Inactive", "PT5M"),
            ("Timers.Closed", "PT1H"),
        ],
    )
    .await;
    let created = crate::spec::is_iso8601_z(timed["timers"]["date_inactive"].as_str().unwrap());
    assert!(created, "{timed}");
    assert!(timed["timers"]["date_closed"].is_string(), "{timed}");

    // Update, then close: closed is final.
    let (status, updated) = app
        .post(
            &format!("/v1/Conversations/{ch}"),
            &main,
            &[("FriendlyName", "Renamed"), ("State", "inactive")],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["friendly_name"], "Renamed");
    assert_eq!(updated["state"], "inactive");
    assert_eq!(updated["unique_name"], "support-1");
    let (status, listed) = app.get("/v1/Conversations?State=inactive", &main).await;
    assert_eq!(status, 200);
    assert_v1_page(&listed, "conversations");
    let sids: Vec<&str> = listed["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, [ch.as_str()]);
    assert!(
        listed["meta"]["url"]
            .as_str()
            .unwrap()
            .contains("State=inactive&PageSize=50"),
        "{listed}"
    );
    let (_, all) = app.get("/v1/Conversations?PageSize=100", &main).await;
    assert_eq!(all["conversations"].as_array().unwrap().len(), 2);
    let (status, body) = app.get("/v1/Conversations?PageSize=101", &main).await;
    assert_eq!(status, 200, "clamped: {body}");
    assert_eq!(body["meta"]["page_size"], 100);
    let (_, none) = app
        .get(
            "/v1/Conversations?StartDate=2000-01-01&EndDate=2000-01-02",
            &main,
        )
        .await;
    assert_eq!(none["conversations"], json!([]));
    let (status, closed) = app
        .post(
            &format!("/v1/Conversations/{ch}"),
            &main,
            &[("State", "closed")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(closed["state"], "closed");
    let (status, body) = app
        .post(
            &format!("/v1/Conversations/{ch}"),
            &main,
            &[("State", "active")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 50377);

    // Another account sees none of it.
    let sub = app.subaccount(&main, "sub").await;
    let (status, _) = app.get(&format!("/v1/Conversations/{ch}"), &sub).await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get(&format!("/v1/Services/{is}/Conversations/{ch}"), &sub)
        .await;
    assert_eq!(status, 404);

    let (status, _) = app.delete(&format!("/v1/Conversations/{ch}"), &main).await;
    assert_eq!(status, 204);
    let (status, body) = app.get(&format!("/v1/Conversations/{ch}"), &main).await;
    assert_twilio_error(status, &body, 404, 20404);
}

#[tokio::test]
async fn participants_chat_and_sms_with_user_autocreation_roles_and_bindings() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let is = default_service(&app, &main).await;
    let (_, sc) = app
        .get(&format!("/v1/Services/{is}/Configuration"), &main)
        .await;
    let ch = sid(&conversation(&app, "/v1", &[]).await);
    let path = format!("/v1/Conversations/{ch}/Participants");

    let (status, alice) = app.post(&path, &main, &[("Identity", "alice")]).await;
    assert_eq!(status, 201, "{alice}");
    assert_schema(
        CONV,
        "conversations.v1.conversation.conversation_participant",
        &alice,
    );
    assert!(alice.get("chat_service_sid").is_none(), "{alice}");
    assert_eq!(alice["messaging_binding"], Value::Null);
    assert_eq!(alice["role_sid"], sc["default_conversation_role_sid"]);
    assert_eq!(alice["last_read_message_index"], Value::Null);
    // The identity's user was created, with the service's default chat role.
    let (status, user) = app.get("/v1/Users/alice", &main).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["role_sid"], sc["default_chat_service_role_sid"]);
    assert_eq!(user["attributes"], "{}");
    assert_eq!(user["friendly_name"], Value::Null);

    let (status, body) = app.post(&path, &main, &[("Identity", "alice")]).await;
    assert_twilio_error(status, &body, 409, 50433);
    let (status, body) = app.post(&path, &main, &[("Attributes", "{}")]).await;
    assert_twilio_error(status, &body, 400, 50204);

    // SMS participant; its pair cannot be in a second open conversation.
    let sms_form = [
        ("MessagingBinding.Address", "+15558675310"),
        ("MessagingBinding.ProxyAddress", "+15017122661"),
    ];
    let (status, sms) = app.post(&path, &main, &sms_form).await;
    assert_eq!(status, 201, "{sms}");
    assert_eq!(sms["identity"], Value::Null);
    assert_eq!(
        sms["messaging_binding"],
        json!({"type": "sms", "address": "+15558675310", "proxy_address": "+15017122661"})
    );
    let second = sid(&conversation(&app, "/v1", &[]).await);
    let second_path = format!("/v1/Conversations/{second}/Participants");
    let (status, body) = app.post(&second_path, &main, &sms_form).await;
    assert_twilio_error(status, &body, 409, 50416);
    assert!(body["message"].as_str().unwrap().contains(&ch), "{body}");
    for (form, code) in [
        (
            vec![
                ("MessagingBinding.Address", "not a number"),
                ("MessagingBinding.ProxyAddress", "+15017122661"),
            ],
            50407,
        ),
        (vec![("MessagingBinding.Address", "+15558675311")], 50412),
        (
            vec![
                ("MessagingBinding.Address", "+15558675311"),
                ("MessagingBinding.ProxyAddress", "+15558675311"),
            ],
            50409,
        ),
        (
            vec![
                ("MessagingBinding.Address", "+15558675311"),
                ("MessagingBinding.ProxyAddress", "proxy"),
            ],
            50408,
        ),
    ] {
        let (status, body) = app.post(&second_path, &main, &form).await;
        assert_twilio_error(status, &body, 400, code);
    }
    // A service role is not a conversation role.
    let (status, body) = app
        .post(
            &second_path,
            &main,
            &[
                ("Identity", "bob"),
                (
                    "RoleSid",
                    sc["default_chat_service_role_sid"].as_str().unwrap(),
                ),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let (status, body) = app.get("/v1/Users/bob", &main).await;
    assert_twilio_error(status, &body, 404, 20404);

    // Fetch by identity, update the read horizon, on the service family too.
    let (status, by_identity) = app.get(&format!("{path}/alice"), &main).await;
    assert_eq!(status, 200);
    assert_eq!(by_identity["sid"], alice["sid"]);
    let explicit = format!("/v1/Services/{is}/Conversations/{ch}/Participants/alice");
    let (status, updated) = app
        .post(
            &explicit,
            &main,
            &[
                ("LastReadMessageIndex", "3"),
                ("LastReadTimestamp", "2026-01-01T00:00:00Z"),
                ("Attributes", "{\"x\":1}"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_schema(
        CONV,
        "conversations.v1.service.service_conversation.service_conversation_participant",
        &updated,
    );
    assert_eq!(updated["chat_service_sid"], is);
    assert_eq!(updated["last_read_message_index"], 3);
    assert_eq!(updated["last_read_timestamp"], "2026-01-01T00:00:00Z");
    assert_eq!(updated["attributes"], "{\"x\":1}");
    let (status, body) = app
        .post(&explicit, &main, &[("LastReadMessageIndex", "-1")])
        .await;
    assert_twilio_error(status, &body, 400, 20001);

    let (status, page) = app.get(&path, &main).await;
    assert_eq!(status, 200);
    assert_v1_page(&page, "participants");
    assert_eq!(page["participants"].as_array().unwrap().len(), 2);

    // Closing the first conversation frees the pair.
    let (status, _) = app
        .post(
            &format!("/v1/Conversations/{ch}"),
            &main,
            &[("State", "closed")],
        )
        .await;
    assert_eq!(status, 200);
    let (status, moved) = app.post(&second_path, &main, &sms_form).await;
    assert_eq!(status, 201, "{moved}");
    let (status, body) = app.post(&path, &main, &[("Identity", "carol")]).await;
    assert_twilio_error(status, &body, 400, 50377);

    let (status, _) = app
        .delete(&format!("{second_path}/{}", sid(&moved)), &main)
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .get(&format!("{second_path}/{}", sid(&moved)), &main)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn fifty_concurrent_participants_with_one_new_identity_make_one_user() {
    let app = TestApp::spawn().await;
    let mut conversations = Vec::new();
    for _ in 0..50 {
        conversations.push(sid(&conversation(&app, "/v1", &[]).await));
    }
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for ch in conversations {
        let app = std::sync::Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            app.post(
                &format!("/v1/Conversations/{ch}/Participants"),
                &app.main(),
                &[("Identity", "newcomer")],
            )
            .await
        }));
    }
    let mut user_sids = BTreeSet::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 201, "{body}");
        let (_, p) = app
            .get(
                &format!(
                    "/v1/Conversations/{}/Participants/{}",
                    body["conversation_sid"].as_str().unwrap(),
                    body["sid"].as_str().unwrap()
                ),
                &app.main(),
            )
            .await;
        assert_eq!(p["identity"], "newcomer");
        user_sids.insert(body["conversation_sid"].as_str().unwrap().to_owned());
    }
    assert_eq!(user_sids.len(), 50);
    let (_, users) = app.get("/v1/Users", &app.main()).await;
    let newcomers: Vec<&Value> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["identity"] == "newcomer")
        .collect();
    assert_eq!(newcomers.len(), 1, "{users}");
    // … and it is in all 50 conversations.
    let (_, mine) = app
        .get("/v1/Users/newcomer/Conversations?PageSize=50", &app.main())
        .await;
    assert_eq!(mine["conversations"].as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn fifty_concurrent_posts_get_indexes_0_to_49_and_deletes_never_free_an_index() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let ch = sid(&conversation(&app, "/v1", &[]).await);
    let mut tasks = Vec::new();
    for n in 0..50 {
        let app = std::sync::Arc::clone(&app);
        let ch = ch.clone();
        tasks.push(tokio::spawn(async move {
            app.post(
                &format!("/v1/Conversations/{ch}/Messages"),
                &app.main(),
                &[("Body", &format!("message {n}"))],
            )
            .await
        }));
    }
    let mut indexes = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 201, "{body}");
        indexes.push(body["index"].as_i64().unwrap());
    }
    indexes.sort_unstable();
    assert_eq!(indexes, (0..50).collect::<Vec<i64>>());
    // The listed order is the index order.
    let (_, page) = app
        .get(
            &format!("/v1/Conversations/{ch}/Messages?PageSize=100"),
            &app.main(),
        )
        .await;
    let listed: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["index"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, (0..50).collect::<Vec<i64>>());
    let last = &page["messages"][49];
    let (status, _) = app
        .delete(
            &format!("/v1/Conversations/{ch}/Messages/{}", sid(last)),
            &app.main(),
        )
        .await;
    assert_eq!(status, 204);
    let next = post_message(&app, "/v1", &ch, &[("Body", "after the delete")]).await;
    assert_eq!(next["index"], 50, "an index is never reused");
}

#[tokio::test]
async fn messages_authors_order_paging_errors_and_receipts() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let is = default_service(&app, &main).await;
    let ch = sid(&conversation(&app, "/v1", &[("State", "inactive")]).await);
    let path = format!("/v1/Conversations/{ch}/Messages");
    let alice = join(&app, "/v1", &ch, &[("Identity", "alice")]).await;
    let sms = join(
        &app,
        "/v1",
        &ch,
        &[
            ("MessagingBinding.Address", "+15558675310"),
            ("MessagingBinding.ProxyAddress", "+15017122661"),
        ],
    )
    .await;

    let (status, system) = app.post(&path, &main, &[("Body", "welcome")]).await;
    assert_eq!(status, 201, "{system}");
    assert_schema(
        CONV,
        "conversations.v1.conversation.conversation_message",
        &system,
    );
    assert_eq!(system["index"], 0);
    assert_eq!(system["author"], "system");
    assert_eq!(system["participant_sid"], Value::Null);
    // Sent to the SMS participant (issue 19): one SMS, not yet sent.
    assert_eq!(system["delivery"]["total"], 1);
    assert_eq!(system["delivery"]["delivered"], "none");
    assert_eq!(system["media"], Value::Null);
    assert_eq!(system["attributes"], "{}");
    assert!(system.get("chat_service_sid").is_none());
    // The inactive conversation became active.
    let (_, c) = app.get(&format!("/v1/Conversations/{ch}"), &main).await;
    assert_eq!(c["state"], "active");

    let (_, from_alice) = app
        .post(&path, &main, &[("Body", "hi"), ("Author", "alice")])
        .await;
    assert_eq!(from_alice["participant_sid"], alice["sid"]);
    let (_, from_sms) = app
        .post(&path, &main, &[("Body", "yo"), ("Author", "+15558675310")])
        .await;
    assert_eq!(from_sms["participant_sid"], sms["sid"]);
    let (_, stranger) = app
        .post(&path, &main, &[("Body", "?"), ("Author", "zed")])
        .await;
    assert_eq!(stranger["participant_sid"], Value::Null);
    let media = "ME0123456789abcdef0123456789abcdef";
    let (status, with_media) = app.post(&path, &main, &[("MediaSid", media)]).await;
    assert_eq!(status, 201, "{with_media}");
    assert_eq!(with_media["media"][0]["sid"], media);
    let content = "HX0123456789abcdef0123456789abcdef";
    let (status, templated) = app
        .post(
            &path,
            &main,
            &[("ContentSid", content), ("Body", "ignored")],
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(templated["content_sid"], content);
    assert_eq!(templated["body"], Value::Null);

    let (status, body) = app.post(&path, &main, &[("Attributes", "{}")]).await;
    assert_twilio_error(status, &body, 400, 50503);
    let long = "é".repeat(1601);
    let (status, body) = app.post(&path, &main, &[("Body", &long)]).await;
    assert_twilio_error(status, &body, 400, 50504);
    let (status, body) = app.post(&path, &main, &[("MediaSid", "ME12")]).await;
    assert_twilio_error(status, &body, 400, 20001);

    // Order and paging, on the service family (which adds chat_service_sid).
    let explicit = format!("/v1/Services/{is}/Conversations/{ch}/Messages");
    let (status, desc) = app
        .get(&format!("{explicit}?Order=desc&PageSize=2"), &main)
        .await;
    assert_eq!(status, 200);
    assert_v1_page(&desc, "messages");
    let first: Vec<i64> = desc["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["index"].as_i64().unwrap())
        .collect();
    assert_eq!(first, [5, 4]);
    assert_eq!(desc["messages"][0]["chat_service_sid"], is);
    let next = desc["meta"]["next_page_url"].as_str().unwrap();
    assert!(next.contains("Order=desc&PageSize=2&Page=1"), "{next}");
    let (_, second) = app.get(next.strip_prefix(&app.base).unwrap(), &main).await;
    let second: Vec<i64> = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["index"].as_i64().unwrap())
        .collect();
    assert_eq!(second, [3, 2]);
    let (_, asc) = app.get(&format!("{path}?PageSize=4"), &main).await;
    let (_, asc2) = app
        .get(
            asc["meta"]["next_page_url"]
                .as_str()
                .unwrap()
                .strip_prefix(&app.base)
                .unwrap(),
            &main,
        )
        .await;
    let rest: Vec<i64> = asc2["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["index"].as_i64().unwrap())
        .collect();
    assert_eq!(rest, [4, 5]);
    let (status, body) = app.get(&format!("{path}?Order=up"), &main).await;
    assert_twilio_error(status, &body, 400, 20001);

    // Update and fetch.
    let message = format!("{path}/{}", sid(&from_alice));
    let (status, edited) = app
        .post(
            &message,
            &main,
            &[("Body", "hello"), ("Attributes", "{\"e\":true}")],
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["body"], "hello");
    assert_eq!(edited["index"], 1);
    let (_, fetched) = app.get(&message, &main).await;
    assert_eq!(fetched["attributes"], "{\"e\":true}");

    // Receipts: alice's message went to the SMS participant as an SMS (issue 19).
    let (status, receipts) = app.get(&format!("{message}/Receipts"), &main).await;
    assert_eq!(status, 200);
    assert_v1_page(&receipts, "delivery_receipts");
    let receipts = receipts["delivery_receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["participant_sid"], sms["sid"]);
    // The SMS participant's own message is not sent back to it.
    let (_, none) = app
        .get(&format!("{path}/{}/Receipts", sid(&from_sms)), &main)
        .await;
    assert_eq!(none["delivery_receipts"], json!([]));
    let (status, _) = app
        .get(
            &format!("{message}/Receipts/DY0123456789abcdef0123456789abcdef"),
            &main,
        )
        .await;
    assert_eq!(status, 404);

    // Closed: no more messages.
    app.post(
        &format!("/v1/Conversations/{ch}"),
        &main,
        &[("State", "closed")],
    )
    .await;
    let (status, body) = app.post(&path, &main, &[("Body", "late")]).await;
    assert_twilio_error(status, &body, 400, 50377);
}

#[tokio::test]
async fn user_conversations_count_unread_update_the_horizon_and_leave() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let is = default_service(&app, &main).await;
    let one = conversation(
        &app,
        "/v1",
        &[("UniqueName", "one"), ("FriendlyName", "One")],
    )
    .await;
    let two = conversation(&app, "/v1", &[]).await;
    for c in [&one, &two] {
        let (status, _) = app
            .post(
                &format!("/v1/Conversations/{}/Participants", sid(c)),
                &main,
                &[("Identity", "dana")],
            )
            .await;
        assert_eq!(status, 201);
    }
    for n in 0..5 {
        app.post(
            &format!("/v1/Conversations/{}/Messages", sid(&one)),
            &main,
            &[("Body", &format!("m{n}"))],
        )
        .await;
    }
    let (status, list) = app.get("/v1/Users/dana/Conversations", &main).await;
    assert_eq!(status, 200);
    assert_v1_page(&list, "conversations");
    let items = list["conversations"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert_schema(CONV, "conversations.v1.user.user_conversation", item);
        assert_eq!(item["unread_messages_count"], Value::Null, "no horizon yet");
    }
    assert_eq!(items[0]["conversation_sid"], sid(&one));
    assert_eq!(items[0]["friendly_name"], "One");
    assert_eq!(items[0]["created_by"], "system");

    // The horizon through the UserConversation (by unique name), and the unread count.
    let (_, user) = app.get("/v1/Users/dana", &main).await;
    let us = sid(&user);
    let uc = format!("/v1/Users/{us}/Conversations/one");
    let (status, updated) = app
        .post(
            &uc,
            &main,
            &[
                ("LastReadMessageIndex", "1"),
                ("NotificationLevel", "muted"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_schema(CONV, "conversations.v1.user.user_conversation", &updated);
    assert_eq!(updated["unread_messages_count"], 3);
    assert_eq!(updated["last_read_message_index"], 1);
    assert_eq!(updated["notification_level"], "muted");
    assert_eq!(
        updated["url"],
        format!("{}/v1/Users/{us}/Conversations/{}", app.base, sid(&one))
    );
    let (status, body) = app.post(&uc, &main, &[("NotificationLevel", "loud")]).await;
    assert_twilio_error(status, &body, 400, 20001);
    // The participant shows the same horizon.
    let (_, p) = app
        .get(
            &format!("/v1/Conversations/{}/Participants/dana", sid(&one)),
            &main,
        )
        .await;
    assert_eq!(p["last_read_message_index"], 1);
    let (status, fetched) = app
        .get(
            &format!("/v1/Services/{is}/Users/dana/Conversations/{}", sid(&one)),
            &main,
        )
        .await;
    assert_eq!(status, 200);
    assert_schema(
        CONV,
        "conversations.v1.service.service_user.service_user_conversation",
        &fetched,
    );
    assert_eq!(fetched["unread_messages_count"], 3);

    // ParticipantConversations by identity and by address.
    let (status, pc) = app
        .get("/v1/ParticipantConversations?Identity=dana", &main)
        .await;
    assert_eq!(status, 200);
    assert_v1_page(&pc, "conversations");
    assert_eq!(pc["conversations"].as_array().unwrap().len(), 2);
    assert_eq!(pc["conversations"][0]["participant_user_sid"], us);
    assert!(
        pc["meta"]["url"]
            .as_str()
            .unwrap()
            .contains("Identity=dana&PageSize=50"),
        "{pc}"
    );
    app.post(
        &format!("/v1/Conversations/{}/Participants", sid(&two)),
        &main,
        &[
            ("MessagingBinding.Address", "+15558675310"),
            ("MessagingBinding.ProxyAddress", "+15017122661"),
        ],
    )
    .await;
    let (_, by_address) = app
        .get(
            &format!(
                "/v1/Services/{is}/ParticipantConversations?Address={}",
                encode("+15558675310")
            ),
            &main,
        )
        .await;
    let found = by_address["conversations"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{by_address}");
    assert_eq!(found[0]["conversation_sid"], sid(&two));
    assert_eq!(
        found[0]["participant_messaging_binding"]["address"],
        "+15558675310"
    );
    let (status, body) = app.get("/v1/ParticipantConversations", &main).await;
    assert_twilio_error(status, &body, 400, 20001);

    // Leave: the participant goes.
    let (status, _) = app.delete(&uc, &main).await;
    assert_eq!(status, 204);
    let (_, list) = app.get("/v1/Users/dana/Conversations", &main).await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
    let (status, _) = app
        .get(
            &format!("/v1/Conversations/{}/Participants/dana", sid(&one)),
            &main,
        )
        .await;
    assert_eq!(status, 404);

    // Another account's and another service's user are 404.
    let sub = app.subaccount(&main, "sub").await;
    let (status, _) = app
        .get(&format!("/v1/Users/{us}/Conversations"), &sub)
        .await;
    assert_eq!(status, 404);
    let other = new_service(&app, "other").await;
    let (status, _) = app
        .get(
            &format!("/v1/Services/{other}/Users/{us}/Conversations"),
            &main,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn conversation_with_participants_is_all_or_nothing() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let (status, body) = app
        .post(
            "/v1/ConversationWithParticipants",
            &main,
            &[
                ("FriendlyName", "Group"),
                ("Participant", "{\"identity\":\"erin\"}"),
                (
                    "Participant",
                    "{\"messaging_binding\":{\"address\":\"+15558675310\",\"proxy_address\":\"+15017122661\"}}",
                ),
            ],
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_schema(
        CONV,
        "conversations.v1.conversation_with_participants",
        &body,
    );
    assert!(body["links"].get("export").is_none());
    let (_, participants) = app
        .get(
            &format!("/v1/Conversations/{}/Participants", sid(&body)),
            &main,
        )
        .await;
    assert_eq!(participants["participants"].as_array().unwrap().len(), 2);

    let (status, plain) = app
        .post(
            "/v1/ConversationWithParticipants",
            &main,
            &[("FriendlyName", "Alone")],
        )
        .await;
    assert_eq!(status, 201, "{plain}");

    let before = app.count("conversations").await;
    let users_before = app.count("conversation_users").await;
    // The second participant's pair is taken: nothing of the request stays.
    let (status, body) = app
        .post(
            "/v1/ConversationWithParticipants",
            &main,
            &[
                ("UniqueName", "never"),
                ("Participant", "{\"identity\":\"frank\"}"),
                (
                    "Participant",
                    "{\"messaging_binding\":{\"address\":\"+15558675310\",\"proxy_address\":\"+15017122661\"}}",
                ),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 409, 50416);
    assert_eq!(app.count("conversations").await, before);
    assert_eq!(
        app.count("conversation_users").await,
        users_before,
        "no user for frank"
    );
    let (status, body) = app
        .post(
            "/v1/ConversationWithParticipants",
            &main,
            &[("Participant", "not json")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    let eleven: Vec<String> = (0..11)
        .map(|n| format!("{{\"identity\":\"p{n}\"}}"))
        .collect();
    let mut form: Vec<(&str, &str)> = eleven.iter().map(|p| ("Participant", p.as_str())).collect();
    form.push(("FriendlyName", "Crowd"));
    let (status, body) = app
        .post("/v1/ConversationWithParticipants", &main, &form)
        .await;
    assert_twilio_error(status, &body, 400, 50426);
    assert_eq!(app.count("conversations").await, before);
}

#[tokio::test]
async fn deletes_cascade_from_conversations_users_and_services() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let other = new_service(&app, "doomed").await;
    let family = format!("/v1/Services/{other}");
    let ch = sid(&conversation(&app, &family, &[]).await);
    for identity in ["gus", "hal"] {
        join(&app, &family, &ch, &[("Identity", identity)]).await;
    }
    post_message(&app, &family, &ch, &[("Body", "x")]).await;
    let (status, hook) = app
        .post(
            &format!("{family}/Conversations/{ch}/Webhooks"),
            &main,
            &[
                ("Target", "webhook"),
                ("Configuration.Url", "https://example.com/h"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    // Deleting a user removes its participant.
    let (status, _) = app.delete(&format!("{family}/Users/gus"), &main).await;
    assert_eq!(status, 204);
    let (_, page) = app
        .get(&format!("{family}/Conversations/{ch}/Participants"), &main)
        .await;
    assert_eq!(page["participants"].as_array().unwrap().len(), 1);

    // Deleting the conversation removes everything under it.
    let default = sid(&conversation(&app, "/v1", &[]).await);
    app.post(
        &format!("/v1/Conversations/{default}/Participants"),
        &main,
        &[("Identity", "ivy")],
    )
    .await;
    app.post(
        &format!("/v1/Conversations/{default}/Messages"),
        &main,
        &[("Body", "y")],
    )
    .await;
    let (status, _) = app
        .delete(&format!("/v1/Conversations/{default}"), &main)
        .await;
    assert_eq!(status, 204);
    assert_eq!(app.count("conversation_participants").await, 1);
    assert_eq!(app.count("conversation_messages").await, 1);

    // Deleting the service removes its conversations and all under them.
    let (status, _) = app.delete(&format!("/v1/Services/{other}"), &main).await;
    assert_eq!(status, 204);
    for table in [
        "conversations",
        "conversation_participants",
        "conversation_messages",
        "conversation_webhooks",
    ] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn scoped_webhooks_are_validated_and_limited_to_five() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let ch = sid(&conversation(&app, "/v1", &[]).await);
    let path = format!("/v1/Conversations/{ch}/Webhooks");
    let (status, hook) = app
        .post(
            &path,
            &main,
            &[
                ("Target", "webhook"),
                ("Configuration.Url", "https://example.com/hook"),
                ("Configuration.Method", "GET"),
                ("Configuration.Filters", "onMessageAdded"),
                ("Configuration.Filters", "onParticipantAdded"),
            ],
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    assert_schema(
        CONV,
        "conversations.v1.conversation.conversation_scoped_webhook",
        &hook,
    );
    assert_eq!(
        hook["configuration"],
        json!({"url": "https://example.com/hook", "method": "get", "filters": ["onMessageAdded", "onParticipantAdded"]})
    );
    for (form, code) in [
        (
            vec![
                ("Target", "trigger"),
                ("Configuration.Url", "https://example.com/t"),
            ],
            50371,
        ),
        (
            vec![("Target", "studio"), ("Configuration.FlowSid", "FW12")],
            50367,
        ),
        (vec![("Target", "webhook")], 20001),
        (vec![("Target", "carrier-pigeon")], 20001),
    ] {
        let (status, body) = app.post(&path, &main, &form).await;
        assert_twilio_error(status, &body, 400, code);
    }
    let long = format!("https://example.com/{}", "x".repeat(500));
    let (status, body) = app
        .post(
            &path,
            &main,
            &[("Target", "webhook"), ("Configuration.Url", &long)],
        )
        .await;
    assert_twilio_error(status, &body, 400, 50372);
    let six: Vec<(&str, &str)> = std::iter::once(("Target", "trigger"))
        .chain(std::iter::once((
            "Configuration.Url",
            "https://example.com/t",
        )))
        .chain((0..6).map(|_| ("Configuration.Triggers", "help")))
        .collect();
    let (status, body) = app.post(&path, &main, &six).await;
    assert_twilio_error(status, &body, 400, 50362);
    let (status, studio) = app
        .post(
            &path,
            &main,
            &[
                ("Target", "studio"),
                (
                    "Configuration.FlowSid",
                    "FW0123456789abcdef0123456789abcdef",
                ),
            ],
        )
        .await;
    assert_eq!(status, 201, "{studio}");
    assert_eq!(
        studio["configuration"],
        json!({"flow_sid": "FW0123456789abcdef0123456789abcdef"})
    );
    for _ in 0..3 {
        let (status, body) = app
            .post(
                &path,
                &main,
                &[
                    ("Target", "trigger"),
                    ("Configuration.Url", "https://example.com/t"),
                    ("Configuration.Triggers", "help"),
                ],
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = app
        .post(
            &path,
            &main,
            &[
                ("Target", "webhook"),
                ("Configuration.Url", "https://example.com/6"),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 400, 50361);
    let (status, list) = app.get(&path, &main).await;
    assert_eq!(status, 200);
    assert_v1_page(&list, "webhooks");
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 5);
    assert_eq!(list["meta"]["page_size"], 5);

    let one = format!("{path}/{}", sid(&hook));
    let (status, updated) = app
        .post(
            &one,
            &main,
            &[("Configuration.Url", "https://example.com/moved")],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["configuration"]["url"], "https://example.com/moved");
    assert_eq!(updated["configuration"]["method"], "get");
    let (status, _) = app.delete(&one, &main).await;
    assert_eq!(status, 204);
    let (status, _) = app.get(&one, &main).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn conversation_events_are_sent_only_with_the_header_signed_and_to_scoped_webhooks() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let receiver = Receiver::start("127.0.0.1:0").await;
    let account_url = receiver.url("/account");
    let mut form = vec![
        ("PostWebhookUrl", account_url.as_str()),
        ("Method", "POST"),
        ("Target", "webhook"),
    ];
    for f in [
        "onConversationAdded",
        "onConversationUpdated",
        "onConversationStateUpdated",
        "onConversationRemoved",
        "onParticipantAdded",
        "onMessageAdded",
        "onMessageUpdated",
        "onMessageRemoved",
    ] {
        form.push(("Filters", f));
    }
    let (status, _) = app.post("/v1/Configuration/Webhooks", &main, &form).await;
    assert_eq!(status, 200);

    // Without the header: nothing.
    let (status, quiet) = post_with(&app, "/v1/Conversations", &[], None).await;
    assert_eq!(status, 201);
    let (status, _) = post_with(
        &app,
        &format!("/v1/Conversations/{}/Messages", sid(&quiet)),
        &[("Body", "quiet")],
        Some("false"),
    )
    .await;
    assert_eq!(status, 201);

    let (status, c) = post_with(
        &app,
        "/v1/Conversations",
        &[("FriendlyName", "Hooked"), ("UniqueName", "hooked")],
        Some("true"),
    )
    .await;
    assert_eq!(status, 201);
    let ch = sid(&c);
    let got = receiver.wait_for(1, WAIT).await;
    let added = &got[0];
    let params = added.params();
    assert_eq!(
        added.param("EventType").as_deref(),
        Some("onConversationAdded")
    );
    assert_eq!(
        added.signature(),
        expected_signature(MAIN_TOKEN, &account_url, &params)
    );
    assert_eq!(added.param("ConversationSid").as_deref(), Some(ch.as_str()));
    assert_eq!(added.param("UniqueName").as_deref(), Some("hooked"));
    assert_eq!(added.param("State").as_deref(), Some("active"));
    assert_eq!(added.param("Source").as_deref(), Some("API"));

    // A scoped webhook (filters) and a trigger (keywords) on this conversation.
    scoped_and_trigger(&app, &receiver, &ch, "onMessageAdded", "help").await;
    let (status, message) = post_with(
        &app,
        &format!("/v1/Conversations/{ch}/Messages"),
        &[("Body", "I need help"), ("Author", "system")],
        Some("true"),
    )
    .await;
    assert_eq!(status, 201);
    let got = receiver.wait_for(4, WAIT).await;
    let message_events: Vec<_> = got
        .iter()
        .filter(|r| r.param("EventType").as_deref() == Some("onMessageAdded"))
        .collect();
    let paths: BTreeSet<String> = message_events
        .iter()
        .map(|r| r.uri.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        ["/account", "/scoped", "/trigger"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
    for event in &message_events {
        assert_eq!(
            event.param("MessageSid"),
            message["sid"].as_str().map(str::to_owned)
        );
        assert_eq!(event.param("Index").as_deref(), Some("0"));
        assert_eq!(event.param("Body").as_deref(), Some("I need help"));
        let url = receiver.url(event.uri.path());
        assert_eq!(
            event.signature(),
            expected_signature(MAIN_TOKEN, &url, &event.params())
        );
    }
    // No trigger without the keyword.
    post_with(
        &app,
        &format!("/v1/Conversations/{ch}/Messages"),
        &[("Body", "helpful")],
        Some("true"),
    )
    .await;
    let got = receiver.wait_for(6, WAIT).await;
    assert_eq!(got.iter().filter(|r| r.uri.path() == "/trigger").count(), 1);

    // A state change: onConversationUpdated and onConversationStateUpdated (Reason=API).
    post_with(
        &app,
        &format!("/v1/Conversations/{ch}"),
        &[("State", "inactive")],
        Some("true"),
    )
    .await;
    let got = receiver.wait_for(8, WAIT).await;
    let state = got
        .iter()
        .find(|r| r.param("EventType").as_deref() == Some("onConversationStateUpdated"))
        .expect("state event");
    assert_eq!(state.param("StateFrom").as_deref(), Some("active"));
    assert_eq!(state.param("StateTo").as_deref(), Some("inactive"));
    assert_eq!(state.param("Reason").as_deref(), Some("API"));

    // A service target with a URL replaces the account's for its service.
    let is = default_service(&app, &main).await;
    let service_url = receiver.url("/service");
    let (status, _) = app
        .post(
            &format!("/v1/Services/{is}/Configuration/Webhooks"),
            &main,
            &[
                ("PostWebhookUrl", service_url.as_str()),
                ("Filters", "onParticipantAdded"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let before = receiver.received().len();
    post_with(
        &app,
        &format!("/v1/Conversations/{ch}/Participants"),
        &[("Identity", "jo")],
        Some("true"),
    )
    .await;
    let got = receiver.wait_for(before + 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got_now = receiver.received();
    assert_eq!(got_now.len(), got.len(), "only one target got it");
    let participant = got_now.last().unwrap();
    assert_eq!(participant.uri.path(), "/service");
    assert_eq!(
        participant.param("EventType").as_deref(),
        Some("onParticipantAdded")
    );
    assert_eq!(participant.param("Identity").as_deref(), Some("jo"));
}

#[tokio::test]
async fn timers_fire_and_pending_ones_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let main = app.main();
    let c = conversation(
        &app,
        "/v1",
        &[
            ("State", "active"),
            ("Timers.Inactive", "PT1M"),
            ("Timers.Closed", "PT10M"),
        ],
    )
    .await;
    let ch = sid(&c);
    // The test cannot wait a minute: the due time is moved to the past in the file.
    app.execute(
        "update conversations set date_inactive = 1000 where sid = $1",
        &[&ch],
    )
    .await;
    let mut state = String::new();
    for _ in 0..100 {
        let (_, now) = app.get(&format!("/v1/Conversations/{ch}"), &main).await;
        state = now["state"].as_str().unwrap().to_owned();
        if state == "inactive" {
            assert!(now["timers"].get("date_inactive").is_none(), "{now}");
            assert!(now["timers"]["date_closed"].is_string(), "{now}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "inactive");

    // A closed timer due while the server is stopped fires after the restart.
    app.stop().await;
    app.execute(
        "update conversations set date_closed = 1000 where sid = $1",
        &[&ch],
    )
    .await;
    app.restart().await;
    for _ in 0..100 {
        let (_, now) = app.get(&format!("/v1/Conversations/{ch}"), &main).await;
        state = now["state"].as_str().unwrap().to_owned();
        if state == "closed" {
            assert_eq!(now["timers"], json!({}));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "closed");
}

#[tokio::test]
async fn conversations_participants_and_messages_survive_a_restart() {
    let mut app = TestApp::spawn().await;
    let main = app.main();
    let ch = sid(&conversation(&app, "/v1", &[("UniqueName", "kept")]).await);
    join(&app, "/v1", &ch, &[("Identity", "kim")]).await;
    let m = post_message(
        &app,
        "/v1",
        &ch,
        &[("Body", "persisted"), ("Author", "kim")],
    )
    .await;
    app.restart().await;
    let (status, c) = app.get("/v1/Conversations/kept", &main).await;
    assert_eq!(status, 200);
    assert_eq!(c["sid"], ch);
    let (_, after) = app
        .get(
            &format!("/v1/Conversations/{ch}/Messages/{}", sid(&m)),
            &main,
        )
        .await;
    assert_eq!(after, m);
    let next = post_message(&app, "/v1", &ch, &[("Body", "next")]).await;
    assert_eq!(next["index"], 1);
    let (status, _) = app.get("/v1/Users/kim/Conversations/kept", &main).await;
    assert_eq!(status, 200);
}

/// The unread count stops at 1,000 ("UnreadMessageCount returns a maximum value of 1000") and
/// is exact below it, in a conversation of 1,100 messages (written straight into the
/// database: posting them one by one would only slow the test).
#[tokio::test]
async fn unread_counts_are_exact_up_to_1000_in_a_long_conversation() {
    let app = TestApp::spawn().await;
    let ch = sid(&conversation(&app, "/v1", &[("UniqueName", "long")]).await);
    join(&app, "/v1", &ch, &[("Identity", "reader")]).await;
    app.execute(
        "with recursive n(i) as (select 0 union all select i + 1 from n where i < 1099) \
         insert into conversation_messages (sid, conversation_sid, service_sid, account_sid, \
         message_index, author, body, attributes, date_created, date_updated) \
         select 'IM000000000000000' || cast(10000000000000000 + i as text), c.sid, \
         c.service_sid, c.account_sid, i, 'system', 'x', '{}', 0, 0 from n, conversations c \
         where c.sid = $1",
        &[&ch],
    )
    .await;
    app.execute(
        "update conversations set next_message_index = 1100 where sid = $1",
        &[&ch],
    )
    .await;
    for (horizon, unread) in [
        ("5", 1000),
        ("98", 1000),
        ("99", 1000),
        ("100", 999),
        ("1097", 2),
    ] {
        let (status, body) = app
            .post(
                "/v1/Users/reader/Conversations/long",
                &app.main(),
                &[("LastReadMessageIndex", horizon)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["unread_messages_count"], unread, "horizon {horizon}");
        let (_, list) = app.get("/v1/Users/reader/Conversations", &app.main()).await;
        assert_eq!(
            list["conversations"][0]["unread_messages_count"], unread,
            "horizon {horizon}"
        );
    }
}

/// A message into an inactive conversation fires three events (onMessageAdded,
/// onConversationUpdated, onConversationStateUpdated with `Reason=EVENT`), whose targets come
/// from one read of the three levels: the service's target replaces the account's for them,
/// and the conversation's own webhook and trigger are added.
#[tokio::test]
async fn a_message_that_reactivates_its_conversation_reaches_every_level_by_its_rules() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let receiver = Receiver::start("127.0.0.1:0").await;
    let account_url = receiver.url("/account");
    let mut form = vec![("PostWebhookUrl", account_url.as_str()), ("Method", "POST")];
    for f in [
        "onMessageAdded",
        "onConversationUpdated",
        "onConversationStateUpdated",
    ] {
        form.push(("Filters", f));
    }
    let (status, _) = app.post("/v1/Configuration/Webhooks", &main, &form).await;
    assert_eq!(status, 200);
    let is = default_service(&app, &main).await;
    let service_url = receiver.url("/service");
    let (status, _) = app
        .post(
            &format!("/v1/Services/{is}/Configuration/Webhooks"),
            &main,
            &[
                ("PostWebhookUrl", service_url.as_str()),
                ("Filters", "onMessageAdded"),
                ("Filters", "onConversationUpdated"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let ch = sid(&conversation(&app, "/v1", &[]).await);
    let (status, c) = app
        .post(
            &format!("/v1/Conversations/{ch}"),
            &main,
            &[("State", "inactive")],
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["state"], "inactive");
    scoped_and_trigger(&app, &receiver, &ch, "onConversationStateUpdated", "wake").await;
    let (status, message) = post_with(
        &app,
        &format!("/v1/Conversations/{ch}/Messages"),
        &[("Body", "wake up")],
        Some("true"),
    )
    .await;
    assert_eq!(status, 201, "{message}");
    receiver.wait_for(4, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got: BTreeSet<(String, String)> = receiver
        .received()
        .iter()
        .map(|r| {
            (
                r.uri.path().to_owned(),
                r.param("EventType").unwrap_or_default(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("/service", "onMessageAdded"),
        ("/service", "onConversationUpdated"),
        ("/scoped", "onConversationStateUpdated"),
        ("/trigger", "onMessageAdded"),
    ]
    .into_iter()
    .map(|(p, e)| (p.to_owned(), e.to_owned()))
    .collect();
    assert_eq!(
        got, expected,
        "the account's target is replaced by the service's"
    );
    assert_eq!(receiver.received().len(), 4, "each once");
    let state = receiver
        .received()
        .into_iter()
        .find(|r| r.uri.path() == "/scoped")
        .unwrap();
    assert_eq!(state.param("StateFrom").as_deref(), Some("inactive"));
    assert_eq!(state.param("StateTo").as_deref(), Some("active"));
    assert_eq!(state.param("Reason").as_deref(), Some("EVENT"));
    let (_, after) = app.get(&format!("/v1/Conversations/{ch}"), &main).await;
    assert_eq!(after["state"], "active");
}

/// A UserConversation is found by the user's SID or identity and the conversation's SID or
/// unique name, on both families, and by nothing else: another user, a conversation the user
/// is not in, another service's path, another account.
#[tokio::test]
async fn a_user_conversation_is_found_by_each_key_and_only_its_own() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let is = default_service(&app, &main).await;
    let c = conversation(&app, "/v1", &[("UniqueName", "room")]).await;
    let ch = sid(&c);
    let other = conversation(&app, "/v1", &[("UniqueName", "elsewhere")]).await;
    let p = join(&app, "/v1", &ch, &[("Identity", "ana")]).await;
    join(&app, "/v1", &sid(&other), &[("Identity", "ben")]).await;
    let (_, user) = app.get("/v1/Users/ana", &main).await;
    let us = sid(&user);
    for family in ["/v1".to_owned(), format!("/v1/Services/{is}")] {
        for user_key in [us.as_str(), "ana"] {
            for conversation_key in [ch.as_str(), "room"] {
                let path = format!("{family}/Users/{user_key}/Conversations/{conversation_key}");
                let (status, found) = app.get(&path, &main).await;
                assert_eq!(status, 200, "{path}: {found}");
                assert_eq!(found["conversation_sid"], ch);
                assert_eq!(found["participant_sid"], sid(&p));
                assert_eq!(found["user_sid"], us);
                assert_eq!(found["chat_service_sid"], is);
                assert_eq!(
                    found["url"],
                    format!("{}{family}/Users/{us}/Conversations/{ch}", app.base)
                );
            }
        }
    }
    let service = new_service(&app, "Another").await;
    for path in [
        "/v1/Users/ana/Conversations/elsewhere".to_owned(),
        "/v1/Users/ben/Conversations/room".to_owned(),
        "/v1/Users/nobody/Conversations/room".to_owned(),
        "/v1/Users/ana/Conversations/CH0123456789abcdef0123456789abcdef".to_owned(),
        format!("/v1/Services/{service}/Users/ana/Conversations/room"),
        format!("/v1/Services/{service}/Users/{us}/Conversations/{ch}"),
    ] {
        let (status, body) = app.get(&path, &main).await;
        assert_twilio_error(status, &body, 404, 20404);
        let (status, body) = app
            .post(&path, &main, &[("NotificationLevel", "muted")])
            .await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    let stranger = app.subaccount(&main, "stranger").await;
    let (status, body) = app
        .get(&format!("/v1/Users/{us}/Conversations/{ch}"), &stranger)
        .await;
    assert_twilio_error(status, &body, 404, 20404);
}

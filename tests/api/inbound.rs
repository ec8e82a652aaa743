//! The operator API of issue 19 through the real server: inbound messages routed into waiting
//! executions, conversations and attached numbers; conversations sending SMS to non-chat
//! participants with receipts; a conversation's `studio` webhook driving a flow; the clock
//! firing timeouts; restarts in the middle; tenancy; two replies racing for one wait.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Creds, TestApp, assert_twilio_error},
    receiver::Receiver,
};

/// The contact's phone and the account's number.
const CONTACT: &str = "+15551230001";
const NUMBER: &str = "+15557650000";
const WAIT: Duration = Duration::from_secs(10);

fn state(name: &str, kind: &str, properties: Value, transitions: Value) -> Value {
    json!({"name": name, "type": kind, "properties": properties, "transitions": transitions})
}

/// "Reply YES to confirm": asks, waits `timeout` seconds, answers `Confirmed`, `Declined` or
/// (on timeout) `Too late`. Every trigger event leads to the question.
fn reply_yes_flow(timeout: &str) -> Value {
    let send = |name: &str, body: &str| {
        state(
            name,
            "send-message",
            json!({"body": body}),
            json!([{"event": "sent"}, {"event": "failed"}]),
        )
    };
    json!({"description": "reply YES", "initial_state": "Trigger",
           "flags": {"allow_concurrent_calls": true},
           "states": [
        state("Trigger", "trigger", json!({"offset": {"x": 0, "y": 0}}), json!([
            {"event": "incomingMessage", "next": "ask"},
            {"event": "incomingCall"},
            {"event": "incomingConversationMessage", "next": "ask"},
            {"event": "incomingRequest", "next": "ask"},
            {"event": "incomingParent", "next": "ask"}
        ])),
        state("ask", "send-and-wait-for-reply",
              json!({"body": "Reply YES to confirm", "timeout": timeout}),
              json!([{"event": "incomingMessage", "next": "check"},
                     {"event": "timeout", "next": "late"},
                     {"event": "deliveryFailure"}])),
        state("check", "split-based-on", json!({"input": "{{widgets.ask.inbound.Body}}"}), json!([
            {"event": "noMatch", "next": "declined"},
            {"event": "match", "next": "confirmed", "conditions": [
                {"friendly_name": "yes", "arguments": ["{{widgets.ask.inbound.Body}}"],
                 "type": "equal_to", "value": "yes"}]}
        ])),
        send("confirmed", "Confirmed, {{widgets.ask.inbound.From}}"),
        send("declined", "Declined"),
        send("late", "Too late"),
    ]})
}

/// A flow saved as a draft only, `CONTACT` its test user (so only the test user may run it).
async fn draft_flow_with_test_user(app: &TestApp, who: &Creds, definition: &Value) -> String {
    let text = definition.to_string();
    let (code, flow) = app
        .post(
            "/v2/Flows",
            who,
            &[
                ("FriendlyName", "confirm"),
                ("Status", "draft"),
                ("Definition", &text),
            ],
        )
        .await;
    assert_eq!(code, 201, "{flow}");
    let sid = flow["sid"].as_str().unwrap().to_owned();
    let (code, users) = app
        .post(
            &format!("/v2/Flows/{sid}/TestUsers"),
            who,
            &[("TestUsers", CONTACT)],
        )
        .await;
    assert_eq!(code, 200, "{users}");
    sid
}

async fn start_execution(app: &TestApp, flow: &str) -> String {
    let (code, execution) = app
        .post(
            &format!("/v2/Flows/{flow}/Executions"),
            &app.main(),
            &[("To", CONTACT), ("From", NUMBER)],
        )
        .await;
    assert_eq!(code, 201, "{execution}");
    assert_eq!(execution["status"], "active");
    execution["sid"].as_str().unwrap().to_owned()
}

async fn inbound(app: &TestApp, who: &Creds, from: &str, to: &str, body: &str) -> Value {
    let (code, received) = app
        .post(
            "/_localtwilio/InboundMessages",
            who,
            &[("From", from), ("To", to), ("Body", body)],
        )
        .await;
    assert_eq!(code, 201, "{received}");
    assert_eq!(received["direction"], "inbound");
    assert_eq!(received["status"], "received");
    assert_eq!(received["body"], body);
    received
}

/// A REST POST carrying `X-Twilio-Webhook-Enabled: true` (webhooks, the conversation's
/// `studio` one included, fire for REST actions only with it).
async fn post_hooked(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let main = app.main();
    let req = app
        .client
        .post(format!("{}{path}", app.base))
        .basic_auth(&main.user, Some(&main.secret))
        .header("X-Twilio-Webhook-Enabled", "true")
        .form(form);
    crate::helpers::into_json(crate::helpers::send(req).await).await
}

/// (name, from, to) of each step.
async fn steps(app: &TestApp, flow: &str, execution: &str) -> Vec<(String, String, String)> {
    let (code, page) = app
        .get(
            &format!("/v2/Flows/{flow}/Executions/{execution}/Steps?PageSize=100"),
            &app.main(),
        )
        .await;
    assert_eq!(code, 200, "{page}");
    page["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["transitioned_from"].as_str().unwrap().to_owned(),
                s["transitioned_to"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn step(name: &str, from: &str, to: &str) -> (String, String, String) {
    (name.to_owned(), from.to_owned(), to.to_owned())
}

async fn execution_status(app: &TestApp, flow: &str, execution: &str) -> String {
    let (_, body) = app
        .get(
            &format!("/v2/Flows/{flow}/Executions/{execution}"),
            &app.main(),
        )
        .await;
    body["status"].as_str().unwrap().to_owned()
}

async fn wait_until_ended(app: &TestApp, flow: &str, execution: &str) {
    for _ in 0..100 {
        if execution_status(app, flow, execution).await == "ended" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("execution {execution} did not end");
}

/// The bodies of the 2010 Messages the account sent to `to`, oldest first.
async fn bodies_to(app: &TestApp, who: &Creds, to: &str) -> Vec<String> {
    let (code, page) = app
        .get(
            &format!(
                "/2010-04-01/Accounts/{}/Messages.json?To={}",
                who.user,
                to.replace('+', "%2B")
            ),
            who,
        )
        .await;
    assert_eq!(code, 200, "{page}");
    let mut bodies: Vec<String> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    bodies.reverse();
    bodies
}

#[tokio::test]
async fn a_test_user_confirms_by_replying_yes_across_a_restart() {
    let mut app = TestApp::spawn().await;
    let main = app.main();
    let flow = draft_flow_with_test_user(&app, &main, &reply_yes_flow("3600")).await;
    let execution = start_execution(&app, &flow).await;
    assert_eq!(
        bodies_to(&app, &main, CONTACT).await,
        ["Reply YES to confirm"]
    );

    // The server restarts while the execution waits for the reply.
    app.restart().await;
    let received = inbound(&app, &main, CONTACT, NUMBER, " Yes ").await;
    assert_eq!(
        received["routed_to"],
        json!({"kind": "execution-resumed", "flow_sid": flow, "execution_sid": execution,
               "conversation_sid": null, "message_sid": null})
    );
    assert_eq!(execution_status(&app, &flow, &execution).await, "ended");
    assert_eq!(
        steps(&app, &flow, &execution).await,
        [
            step("incomingRequest", "Trigger", "ask"),
            step("incomingMessage", "ask", "check"),
            step("match", "check", "confirmed"),
            step("sent", "confirmed", "Ended"),
        ]
    );
    assert_eq!(
        bodies_to(&app, &main, CONTACT).await,
        [
            "Reply YES to confirm",
            format!("Confirmed, {CONTACT}").as_str()
        ]
    );
    let (_, context) = app
        .get(
            &format!("/v2/Flows/{flow}/Executions/{execution}/Context"),
            &main,
        )
        .await;
    let reply = &context["context"]["widgets"]["ask"]["inbound"];
    assert_eq!(reply["Body"], " Yes ");
    assert_eq!(reply["From"], CONTACT);
    assert_eq!(reply["To"], NUMBER);
    assert_eq!(reply["MessageSid"], received["sid"]);
    // The reply itself is a 2010 Message of the account.
    let (code, fetched) = app
        .get(
            &format!(
                "/2010-04-01/Accounts/{}/Messages/{}.json",
                main.user,
                received["sid"].as_str().unwrap()
            ),
            &main,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(fetched["direction"], "inbound");

    // The execution has ended: the next message is only recorded.
    let again = inbound(&app, &main, CONTACT, NUMBER, "yes").await;
    assert_eq!(again["routed_to"]["kind"], "recorded");
}

#[tokio::test]
async fn the_clock_fires_a_timeout_without_waiting_and_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let main = app.main();
    let flow = draft_flow_with_test_user(&app, &main, &reply_yes_flow("600")).await;
    let execution = start_execution(&app, &flow).await;

    let (code, clock) = app.get("/_localtwilio/Clock", &main).await;
    assert_eq!(code, 200, "{clock}");
    assert_eq!(clock["offset_seconds"], 0);
    assert_eq!(clock["account_sid"], main.user.as_str());

    // Five minutes: not yet.
    let (code, clock) = app
        .post("/_localtwilio/Clock", &main, &[("Advance", "PT5M")])
        .await;
    assert_eq!(code, 200, "{clock}");
    assert_eq!(clock["offset_seconds"], 300);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(execution_status(&app, &flow, &execution).await, "active");

    // The clock is stored: a restart does not jump back.
    app.restart().await;
    let (_, clock) = app.get("/_localtwilio/Clock", &main).await;
    assert_eq!(clock["offset_seconds"], 300);

    // Six more minutes: the 600 s timeout has passed on the account's clock.
    let (_, clock) = app
        .post("/_localtwilio/Clock", &main, &[("Advance", "PT6M")])
        .await;
    assert_eq!(clock["offset_seconds"], 660);
    wait_until_ended(&app, &flow, &execution).await;
    assert_eq!(
        steps(&app, &flow, &execution).await,
        [
            step("incomingRequest", "Trigger", "ask"),
            step("timeout", "ask", "late"),
            step("sent", "late", "Ended"),
        ]
    );
    assert_eq!(
        bodies_to(&app, &main, CONTACT).await,
        ["Reply YES to confirm", "Too late"]
    );

    // Bad durations are Twilio-shaped 400s and move nothing.
    // The last overflows when its days and seconds are added (wrapped, it would be 600).
    for bad in ["10 minutes", "PT0S", "", "P1DT18446744073709465816S"] {
        let (code, body) = app
            .post("/_localtwilio/Clock", &main, &[("Advance", bad)])
            .await;
        assert_twilio_error(code, &body, 400, 20001);
    }
    let (_, clock) = app.get("/_localtwilio/Clock", &main).await;
    assert_eq!(clock["offset_seconds"], 660);

    // Another account's clock did not move.
    let other = app.subaccount(&main, "other").await;
    let (_, clock) = app.get("/_localtwilio/Clock", &other).await;
    assert_eq!(clock["offset_seconds"], 0);
}

#[tokio::test]
async fn a_number_attached_to_a_flow_starts_an_execution_from_an_inbound_message() {
    let mut app = TestApp::spawn().await;
    let main = app.main();
    let flow = draft_flow_with_test_user(&app, &main, &reply_yes_flow("3600")).await;

    // Nothing attached yet: recorded only.
    let first = inbound(&app, &main, CONTACT, NUMBER, "hello").await;
    assert_eq!(first["routed_to"]["kind"], "recorded");

    let (code, number) = app
        .post(
            "/_localtwilio/Numbers",
            &main,
            &[("PhoneNumber", "+1 555-765-0000"), ("FlowSid", &flow)],
        )
        .await;
    assert_eq!(code, 201, "{number}");
    assert_eq!(number["phone_number"], NUMBER);
    assert_eq!(number["flow_sid"], flow.as_str());
    let (code, list) = app.get("/_localtwilio/Numbers", &main).await;
    assert_eq!(code, 200);
    assert_eq!(list["numbers"].as_array().unwrap().len(), 1);
    let (code, _) = app.get("/_localtwilio/Numbers/%2B15557650000", &main).await;
    assert_eq!(code, 200);

    let started = inbound(&app, &main, CONTACT, NUMBER, "hello").await;
    assert_eq!(started["routed_to"]["kind"], "execution-started");
    let execution = started["routed_to"]["execution_sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, fetched) = app
        .get(&format!("/v2/Flows/{flow}/Executions/{execution}"), &main)
        .await;
    assert_eq!(fetched["contact_channel_address"], CONTACT);
    let (_, context) = app
        .get(
            &format!("/v2/Flows/{flow}/Executions/{execution}/Context"),
            &main,
        )
        .await;
    assert_eq!(context["context"]["trigger"]["message"]["Body"], "hello");
    assert_eq!(
        context["context"]["trigger"]["message"]["MessageSid"],
        started["sid"]
    );
    assert_eq!(context["context"]["flow"]["channel"]["address"], NUMBER);
    assert_eq!(
        steps(&app, &flow, &execution).await[0],
        step("incomingMessage", "Trigger", "ask")
    );

    // The next message from the contact is the reply.
    app.restart().await;
    let reply = inbound(&app, &main, CONTACT, NUMBER, "no").await;
    assert_eq!(reply["routed_to"]["kind"], "execution-resumed");
    assert_eq!(reply["routed_to"]["execution_sid"], execution.as_str());
    assert_eq!(execution_status(&app, &flow, &execution).await, "ended");

    // Detached: recorded only; a second detach is 404.
    let (code, _) = app
        .delete("/_localtwilio/Numbers/%2B15557650000", &main)
        .await;
    assert_eq!(code, 204);
    let (code, _) = app
        .delete("/_localtwilio/Numbers/%2B15557650000", &main)
        .await;
    assert_eq!(code, 404);
    let last = inbound(&app, &main, CONTACT, NUMBER, "hello").await;
    assert_eq!(last["routed_to"]["kind"], "recorded");
}

#[tokio::test]
async fn inbound_checks_its_parameters() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let (code, body) = app
        .post(
            "/_localtwilio/InboundMessages",
            &main,
            &[("To", NUMBER), ("Body", "x")],
        )
        .await;
    assert_twilio_error(code, &body, 400, 20001);
    let (code, body) = app
        .post(
            "/_localtwilio/InboundMessages",
            &main,
            &[("From", CONTACT), ("Body", "x")],
        )
        .await;
    assert_twilio_error(code, &body, 400, 20001);
    let (code, body) = app
        .post(
            "/_localtwilio/InboundMessages",
            &main,
            &[("From", CONTACT), ("To", NUMBER)],
        )
        .await;
    assert_twilio_error(code, &body, 400, 21602);
    let (code, body) = app
        .post(
            "/_localtwilio/Numbers",
            &main,
            &[
                ("PhoneNumber", NUMBER),
                ("FlowSid", "FW00000000000000000000000000000000"),
            ],
        )
        .await;
    assert_twilio_error(code, &body, 404, 20404);
    let response = app
        .request(
            reqwest::Method::POST,
            "/_localtwilio/InboundMessages",
            None,
            Some(&[("From", CONTACT), ("To", NUMBER), ("Body", "x")]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_accounts_executions_numbers_and_conversations_are_never_reached() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let other = app.subaccount(&main, "other").await;
    let flow = draft_flow_with_test_user(&app, &main, &reply_yes_flow("3600")).await;
    let execution = start_execution(&app, &flow).await;
    let (code, _) = app
        .post(
            "/_localtwilio/Numbers",
            &main,
            &[("PhoneNumber", "+15557650009"), ("FlowSid", &flow)],
        )
        .await;
    assert_eq!(code, 201);
    let (code, conversation) = app.post("/v1/Conversations", &main, &[]).await;
    assert_eq!(code, 201);
    let ch = conversation["sid"].as_str().unwrap();
    let (code, _) = app
        .post(
            &format!("/v1/Conversations/{ch}/Participants"),
            &main,
            &[
                ("MessagingBinding.Address", "+15551239999"),
                ("MessagingBinding.ProxyAddress", NUMBER),
            ],
        )
        .await;
    assert_eq!(code, 201);

    // The same contact, numbers and binding, played on the other account: recorded only.
    for (from, to) in [
        (CONTACT, NUMBER),
        (CONTACT, "+15557650009"),
        ("+15551239999", NUMBER),
    ] {
        let received = inbound(&app, &other, from, to, "yes").await;
        assert_eq!(received["routed_to"]["kind"], "recorded", "{from} → {to}");
    }
    assert_eq!(execution_status(&app, &flow, &execution).await, "active");
    let (_, messages) = app
        .get(&format!("/v1/Conversations/{ch}/Messages"), &main)
        .await;
    assert!(messages["messages"].as_array().unwrap().is_empty());
    // The other account cannot attach, see or detach the main account's flow and numbers.
    let (code, body) = app
        .post(
            "/_localtwilio/Numbers",
            &other,
            &[("PhoneNumber", NUMBER), ("FlowSid", &flow)],
        )
        .await;
    assert_twilio_error(code, &body, 404, 20404);
    let (_, list) = app.get("/_localtwilio/Numbers", &other).await;
    assert!(list["numbers"].as_array().unwrap().is_empty());
    let (code, _) = app
        .delete("/_localtwilio/Numbers/%2B15557650009", &other)
        .await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn two_replies_at_once_resume_one_waiting_execution_once() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let flow = draft_flow_with_test_user(&app, &main, &reply_yes_flow("3600")).await;
    let execution = start_execution(&app, &flow).await;
    let (a, b) = tokio::join!(
        inbound(&app, &main, CONTACT, NUMBER, "yes"),
        inbound(&app, &main, CONTACT, NUMBER, "no"),
    );
    let kinds = [
        a["routed_to"]["kind"].clone(),
        b["routed_to"]["kind"].clone(),
    ];
    assert_eq!(
        kinds.iter().filter(|k| *k == "execution-resumed").count(),
        1,
        "{kinds:?}"
    );
    assert!(kinds.contains(&json!("recorded")), "{kinds:?}");
    let path = steps(&app, &flow, &execution).await;
    assert_eq!(
        path.iter()
            .filter(|(name, ..)| name == "incomingMessage")
            .count(),
        1,
        "{path:?}"
    );
    assert_eq!(path.len(), 4);
    // Both replies are recorded.
    let (_, page) = app
        .get(
            &format!(
                "/2010-04-01/Accounts/{}/Messages.json?From=%2B15551230001",
                main.user
            ),
            &main,
        )
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 2);
}

/// Asks until the reply is YES, counting the replies in `flow.variables.replies`: every reply
/// comes back to the same wait, so within one second the wait's timeout is the same.
fn ask_until_yes_flow() -> Value {
    json!({"description": "ask until YES", "initial_state": "Trigger",
           "flags": {"allow_concurrent_calls": true},
           "states": [
        state("Trigger", "trigger", json!({"offset": {"x": 0, "y": 0}}), json!([
            {"event": "incomingMessage", "next": "ask"},
            {"event": "incomingCall"},
            {"event": "incomingConversationMessage", "next": "ask"},
            {"event": "incomingRequest", "next": "ask"},
            {"event": "incomingParent", "next": "ask"}
        ])),
        state("ask", "send-and-wait-for-reply",
              json!({"body": "Reply YES to confirm", "timeout": "3600"}),
              json!([{"event": "incomingMessage", "next": "count"},
                     {"event": "timeout"},
                     {"event": "deliveryFailure"}])),
        state("count", "set-variables",
              json!({"variables": [{"key": "replies",
                                    "value": "{{flow.variables.replies | plus: 1}}"}]}),
              json!([{"event": "next", "next": "check"}])),
        state("check", "split-based-on", json!({"input": "{{widgets.ask.inbound.Body}}"}), json!([
            {"event": "noMatch", "next": "ask"},
            {"event": "match", "conditions": [
                {"friendly_name": "yes", "arguments": ["{{widgets.ask.inbound.Body}}"],
                 "type": "equal_to", "value": "yes"}]}
        ])),
    ]})
}

#[tokio::test]
async fn two_replies_at_once_to_a_wait_the_flow_loops_back_to_resume_it_once_each() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let flow = draft_flow_with_test_user(&app, &main, &ask_until_yes_flow()).await;
    let execution = start_execution(&app, &flow).await;
    let (a, b) = tokio::join!(
        inbound(&app, &main, CONTACT, NUMBER, "maybe"),
        inbound(&app, &main, CONTACT, NUMBER, "perhaps"),
    );
    let resumed = [&a, &b]
        .iter()
        .filter(|m| m["routed_to"]["kind"] == "execution-resumed")
        .count();
    assert!(resumed >= 1, "{a} {b}");
    // Each reply that resumed the execution ran once from where the other left it: the count
    // sees both, and the question was asked again after each.
    let (_, context) = app
        .get(
            &format!("/v2/Flows/{flow}/Executions/{execution}/Context"),
            &main,
        )
        .await;
    assert_eq!(
        context["context"]["flow"]["variables"]["replies"],
        resumed.to_string(),
        "{context}"
    );
    assert_eq!(bodies_to(&app, &main, CONTACT).await.len(), 1 + resumed);
    assert_eq!(
        steps(&app, &flow, &execution)
            .await
            .iter()
            .filter(|(name, ..)| name == "incomingMessage")
            .count(),
        resumed
    );
    assert_eq!(execution_status(&app, &flow, &execution).await, "active");
}

/// A conversation with a chat participant `alice` and an SMS participant `CONTACT` on
/// `NUMBER`; returns its SID and the SMS participant's.
async fn sms_and_chat_conversation(app: &TestApp) -> (String, String) {
    let main = app.main();
    let (code, conversation) = app
        .post("/v1/Conversations", &main, &[("FriendlyName", "support")])
        .await;
    assert_eq!(code, 201);
    let ch = conversation["sid"].as_str().unwrap().to_owned();
    let (code, _) = app
        .post(
            &format!("/v1/Conversations/{ch}/Participants"),
            &main,
            &[("Identity", "alice")],
        )
        .await;
    assert_eq!(code, 201);
    let (code, sms) = app
        .post(
            &format!("/v1/Conversations/{ch}/Participants"),
            &main,
            &[
                ("MessagingBinding.Address", CONTACT),
                ("MessagingBinding.ProxyAddress", NUMBER),
            ],
        )
        .await;
    assert_eq!(code, 201, "{sms}");
    (ch, sms["sid"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_sms_participant_and_a_chat_participant_talk_in_one_conversation() {
    let mut app = TestApp::spawn().await;
    let main = app.main();
    let receiver = Receiver::start("127.0.0.1:0").await;
    let url = receiver.url("/events");
    let (code, _) = app
        .post(
            "/v1/Configuration/Webhooks",
            &main,
            &[
                ("PostWebhookUrl", url.as_str()),
                ("Method", "POST"),
                ("Target", "webhook"),
                ("Filters", "onMessageAdded"),
            ],
        )
        .await;
    assert_eq!(code, 200);
    let (ch, sms_participant) = sms_and_chat_conversation(&app).await;

    // alice writes (REST, no webhook header): the SMS participant gets it as an SMS from the
    // proxy number, with a receipt on the conversation message.
    let (code, hello) = app
        .post(
            &format!("/v1/Conversations/{ch}/Messages"),
            &main,
            &[("Author", "alice"), ("Body", "Hi, how can I help?")],
        )
        .await;
    assert_eq!(code, 201, "{hello}");
    assert_eq!(hello["delivery"]["total"], 1);
    let (_, page) = app
        .get(
            &format!(
                "/2010-04-01/Accounts/{}/Messages.json?To=%2B15551230001",
                main.user
            ),
            &main,
        )
        .await;
    let sent = &page["messages"][0];
    assert_eq!(sent["body"], "Hi, how can I help?");
    assert_eq!(sent["from"], NUMBER);
    assert_eq!(sent["direction"], "outbound-api");
    let (code, receipts) = app
        .get(
            &format!(
                "/v1/Conversations/{ch}/Messages/{}/Receipts",
                hello["sid"].as_str().unwrap()
            ),
            &main,
        )
        .await;
    assert_eq!(code, 200, "{receipts}");
    let receipt = &receipts["delivery_receipts"][0];
    assert_eq!(receipt["participant_sid"], sms_participant.as_str());
    assert_eq!(receipt["channel_message_sid"], sent["sid"]);

    // The server restarts in the middle of the conversation.
    app.restart().await;

    // The customer answers by SMS: a conversation message authored by the address, which the
    // chat side reads, and onMessageAdded with Source=SMS without any header.
    let received = inbound(&app, &main, CONTACT, NUMBER, "My order is late").await;
    assert_eq!(received["routed_to"]["kind"], "conversation");
    assert_eq!(received["routed_to"]["conversation_sid"], ch.as_str());
    let (_, messages) = app
        .get(&format!("/v1/Conversations/{ch}/Messages"), &main)
        .await;
    let list = messages["messages"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["author"], CONTACT);
    assert_eq!(list[1]["body"], "My order is late");
    assert_eq!(list[1]["participant_sid"], sms_participant.as_str());
    assert_eq!(list[1]["sid"], received["routed_to"]["message_sid"]);
    // alice's went out as one SMS (on its way or delivered); the customer's went to nobody.
    let delivery = &list[0]["delivery"];
    assert_eq!(delivery["total"], 1);
    assert_eq!(
        (
            &delivery["read"],
            &delivery["failed"],
            &delivery["undelivered"]
        ),
        (&json!("none"), &json!("none"), &json!("none"))
    );
    assert!(["all", "none"].contains(&delivery["delivered"].as_str().unwrap()));
    assert!(list[1]["delivery"].is_null());
    // Its author is not sent its own message back.
    assert_eq!(
        bodies_to(&app, &main, CONTACT).await,
        ["Hi, how can I help?"]
    );

    let got = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        got.len(),
        1,
        "only the SMS-sourced message fires without the header"
    );
    assert_eq!(got[0].param("EventType").as_deref(), Some("onMessageAdded"));
    assert_eq!(got[0].param("Source").as_deref(), Some("SMS"));
    assert_eq!(got[0].param("Author").as_deref(), Some(CONTACT));
    assert_eq!(
        got[0].param("ParticipantSid").as_deref(),
        Some(sms_participant.as_str())
    );
    receiver.stop().await;
}

#[tokio::test]
async fn a_conversation_studio_webhook_drives_a_flow_that_answers_into_the_conversation() {
    let mut app = TestApp::spawn().await;
    let main = app.main();
    let flow = draft_flow_with_test_user(&app, &main, &reply_yes_flow("3600")).await;
    // The conversation's flow runs for its conversation, not for a test user: publish it.
    let text = reply_yes_flow("3600").to_string();
    let (code, _) = app
        .post(
            &format!("/v2/Flows/{flow}"),
            &main,
            &[("Status", "published"), ("Definition", &text)],
        )
        .await;
    assert_eq!(code, 200);
    let (ch, _) = sms_and_chat_conversation(&app).await;
    let (code, hook) = app
        .post(
            &format!("/v1/Conversations/{ch}/Webhooks"),
            &main,
            &[("Target", "studio"), ("Configuration.FlowSid", &flow)],
        )
        .await;
    assert_eq!(code, 201, "{hook}");

    // The SMS participant writes: the flow starts and asks in the conversation (which the SMS
    // participant gets as an SMS again).
    let first = inbound(&app, &main, CONTACT, NUMBER, "I want to book").await;
    assert_eq!(first["routed_to"]["kind"], "conversation");
    let (_, list) = app
        .get(&format!("/v2/Flows/{flow}/Executions"), &main)
        .await;
    let executions = list["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 1);
    let execution = executions[0]["sid"].as_str().unwrap().to_owned();
    assert_eq!(executions[0]["status"], "active");
    assert_eq!(
        steps(&app, &flow, &execution).await,
        [step("incomingConversationMessage", "Trigger", "ask")]
    );
    let (_, context) = app
        .get(
            &format!("/v2/Flows/{flow}/Executions/{execution}/Context"),
            &main,
        )
        .await;
    assert_eq!(
        context["context"]["trigger"]["conversation"]["ConversationSid"],
        ch.as_str()
    );
    assert_eq!(
        context["context"]["trigger"]["conversation"]["Source"],
        "SMS"
    );
    assert_eq!(
        context["context"]["trigger"]["conversation"]["Body"],
        "I want to book"
    );

    assert_eq!(
        transcript(&app, &ch).await,
        [
            format!("{CONTACT}: I want to book"),
            "system: Reply YES to confirm".to_owned()
        ]
    );
    assert_eq!(
        bodies_to(&app, &main, CONTACT).await,
        ["Reply YES to confirm"]
    );

    // A restart while it waits; then the chat participant answers in the conversation. A REST
    // message without `X-Twilio-Webhook-Enabled: true` fires no webhook, the `studio` one
    // included: the flow still waits.
    app.restart().await;
    let (code, _) = app
        .post(
            &format!("/v1/Conversations/{ch}/Messages"),
            &main,
            &[("Author", "alice"), ("Body", "no")],
        )
        .await;
    assert_eq!(code, 201);
    assert_eq!(execution_status(&app, &flow, &execution).await, "active");
    assert_eq!(steps(&app, &flow, &execution).await.len(), 1);
    let (code, _) = post_hooked(
        &app,
        &format!("/v1/Conversations/{ch}/Messages"),
        &[("Author", "alice"), ("Body", "yes")],
    )
    .await;
    assert_eq!(code, 201);
    assert_eq!(execution_status(&app, &flow, &execution).await, "ended");
    assert_eq!(
        transcript(&app, &ch).await,
        [
            format!("{CONTACT}: I want to book"),
            "system: Reply YES to confirm".to_owned(),
            "alice: no".to_owned(),
            "alice: yes".to_owned(),
            "system: Confirmed, alice".to_owned(),
        ]
    );
    // A system message (the flow's own, or REST without an author) starts nothing.
    let (code, _) = post_hooked(
        &app,
        &format!("/v1/Conversations/{ch}/Messages"),
        &[("Body", "note")],
    )
    .await;
    assert_eq!(code, 201);
    let (_, list) = app
        .get(&format!("/v2/Flows/{flow}/Executions"), &main)
        .await;
    assert_eq!(list["executions"].as_array().unwrap().len(), 1);
}

/// The conversation's messages as `author: body`.
async fn transcript(app: &TestApp, ch: &str) -> Vec<String> {
    let (_, messages) = app
        .get(&format!("/v1/Conversations/{ch}/Messages"), &app.main())
        .await;
    messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}: {}",
                m["author"].as_str().unwrap(),
                m["body"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_subflow_that_waits_makes_its_parent_wait_and_both_resume_on_the_reply() {
    let mut app = TestApp::spawn().await;
    let main = app.main();
    let child = json!({"description": "child", "initial_state": "Trigger", "states": [
        state("Trigger", "trigger", json!({}), json!([
            {"event": "incomingMessage"}, {"event": "incomingCall"},
            {"event": "incomingRequest"}, {"event": "incomingParent", "next": "ask"}])),
        state("ask", "send-and-wait-for-reply", json!({"body": "Which colour?", "timeout": "3600"}),
              json!([{"event": "incomingMessage", "next": "keep"}, {"event": "timeout"},
                     {"event": "deliveryFailure"}])),
        state("keep", "set-variables",
              json!({"variables": [{"key": "colour", "value": "{{widgets.ask.inbound.Body}}"}]}),
              json!([{"event": "next"}])),
    ]});
    let text = child.to_string();
    let (code, created) = app
        .post(
            "/v2/Flows",
            &main,
            &[
                ("FriendlyName", "child"),
                ("Status", "published"),
                ("Definition", &text),
            ],
        )
        .await;
    assert_eq!(code, 201, "{created}");
    let child_sid = created["sid"].as_str().unwrap().to_owned();
    let parent = json!({"description": "parent", "initial_state": "Trigger", "states": [
        state("Trigger", "trigger", json!({}), json!([
            {"event": "incomingMessage"}, {"event": "incomingCall"},
            {"event": "incomingRequest", "next": "sub"}, {"event": "incomingParent"}])),
        state("sub", "run-subflow", json!({"flow_sid": child_sid, "flow_revision": "LatestPublished"}),
              json!([{"event": "completed", "next": "done"}, {"event": "failed"}])),
        state("done", "send-message", json!({"body": "You chose {{widgets.sub.colour}}"}),
              json!([{"event": "sent"}, {"event": "failed"}])),
    ]});
    let flow = draft_flow_with_test_user(&app, &main, &parent).await;
    let execution = start_execution(&app, &flow).await;
    assert_eq!(bodies_to(&app, &main, CONTACT).await, ["Which colour?"]);
    assert_eq!(
        steps(&app, &flow, &execution).await,
        [
            step("incomingRequest", "Trigger", "sub"),
            step("incomingParent", "Trigger", "ask")
        ]
    );

    app.restart().await;
    let reply = inbound(&app, &main, CONTACT, NUMBER, "blue").await;
    assert_eq!(reply["routed_to"]["kind"], "execution-resumed");
    assert_eq!(execution_status(&app, &flow, &execution).await, "ended");
    assert_eq!(
        steps(&app, &flow, &execution).await,
        [
            step("incomingRequest", "Trigger", "sub"),
            step("incomingParent", "Trigger", "ask"),
            step("incomingMessage", "ask", "keep"),
            step("next", "keep", "Ended"),
            step("completed", "sub", "done"),
            step("sent", "done", "Ended"),
        ]
    );
    assert_eq!(
        bodies_to(&app, &main, CONTACT).await,
        ["Which colour?", "You chose blue"]
    );
    // The subflow's steps name the run-subflow step as their parent.
    let (_, page) = app
        .get(
            &format!("/v2/Flows/{flow}/Executions/{execution}/Steps"),
            &main,
        )
        .await;
    let all = page["steps"].as_array().unwrap();
    let sub_step = all[4]["sid"].clone();
    for child_step in &all[1..4] {
        assert_eq!(child_step["parent_step_sid"], sub_step);
    }
    assert!(all[4]["parent_step_sid"].is_null());
}

#[tokio::test]
async fn conversation_timers_run_on_the_accounts_clock() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let other = app.subaccount(&main, "other").await;
    let mut conversations = Vec::new();
    for who in [&main, &other] {
        let (code, c) = app
            .post(
                "/v1/Conversations",
                who,
                &[("State", "active"), ("Timers.Inactive", "PT10M")],
            )
            .await;
        assert_eq!(code, 201, "{c}");
        conversations.push(c["sid"].as_str().unwrap().to_owned());
    }
    let (code, _) = app
        .post("/_localtwilio/Clock", &main, &[("Advance", "PT11M")])
        .await;
    assert_eq!(code, 200);
    let mut state = String::new();
    for _ in 0..50 {
        let (_, c) = app
            .get(&format!("/v1/Conversations/{}", conversations[0]), &main)
            .await;
        state = c["state"].as_str().unwrap().to_owned();
        if state == "inactive" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "inactive");
    // The other account's clock did not move: its conversation is still active.
    let (_, c) = app
        .get(&format!("/v1/Conversations/{}", conversations[1]), &other)
        .await;
    assert_eq!(c["state"], "active");
}

#[tokio::test]
async fn a_media_only_mms_from_an_sms_participant_is_a_conversation_message_with_its_media() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let (ch, sms_participant) = sms_and_chat_conversation(&app).await;
    let (code, received) = app
        .post(
            "/_localtwilio/InboundMessages",
            &main,
            &[
                ("From", CONTACT),
                ("To", NUMBER),
                ("MediaUrl", "https://example.com/cat.jpg"),
            ],
        )
        .await;
    assert_eq!(code, 201, "{received}");
    assert_eq!(received["num_media"], "1");
    assert_eq!(received["routed_to"]["kind"], "conversation");
    let (_, media) = app
        .get(
            &format!(
                "/2010-04-01/Accounts/{}/Messages/{}/Media.json",
                main.user,
                received["sid"].as_str().unwrap()
            ),
            &main,
        )
        .await;
    let media_sid = media["media_list"][0]["sid"].clone();
    assert!(media_sid.as_str().unwrap().starts_with("ME"), "{media}");
    let (code, message) = app
        .get(
            &format!(
                "/v1/Conversations/{ch}/Messages/{}",
                received["routed_to"]["message_sid"].as_str().unwrap()
            ),
            &main,
        )
        .await;
    assert_eq!(code, 200, "{message}");
    assert_eq!(message["author"], CONTACT);
    assert_eq!(message["participant_sid"], sms_participant.as_str());
    assert_eq!(message["body"], Value::Null);
    assert_eq!(message["media"].as_array().unwrap().len(), 1, "{message}");
    assert_eq!(message["media"][0]["sid"], media_sid);
}

#[tokio::test]
async fn participant_messages_racing_to_start_a_conversations_flow_all_reach_it() {
    let app = TestApp::spawn().await;
    let main = app.main();
    let definition = ask_until_yes_flow().to_string();
    let (code, flow) = app
        .post(
            "/v2/Flows",
            &main,
            &[
                ("FriendlyName", "ask"),
                ("Status", "published"),
                ("Definition", &definition),
            ],
        )
        .await;
    assert_eq!(code, 201, "{flow}");
    let flow = flow["sid"].as_str().unwrap().to_owned();
    let (ch, _) = sms_and_chat_conversation(&app).await;
    let (code, hook) = app
        .post(
            &format!("/v1/Conversations/{ch}/Webhooks"),
            &main,
            &[("Target", "studio"), ("Configuration.FlowSid", &flow)],
        )
        .await;
    assert_eq!(code, 201, "{hook}");
    let path = format!("/v1/Conversations/{ch}/Messages");
    let (a, b, c) = tokio::join!(
        post_hooked(&app, &path, &[("Author", "alice"), ("Body", "one")]),
        post_hooked(&app, &path, &[("Author", "alice"), ("Body", "two")]),
        post_hooked(&app, &path, &[("Author", "alice"), ("Body", "three")]),
    );
    for (code, body) in [a, b, c] {
        assert_eq!(code, 201, "{body}");
    }
    // One execution: the first message started it, each other one resumed it once.
    let (_, list) = app
        .get(&format!("/v2/Flows/{flow}/Executions"), &main)
        .await;
    let executions = list["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 1, "{list}");
    let execution = executions[0]["sid"].as_str().unwrap().to_owned();
    let (_, context) = app
        .get(
            &format!("/v2/Flows/{flow}/Executions/{execution}/Context"),
            &main,
        )
        .await;
    assert_eq!(
        context["context"]["flow"]["variables"]["replies"], "2",
        "{context}"
    );
    let asked = transcript(&app, &ch)
        .await
        .iter()
        .filter(|line| line.as_str() == "system: Reply YES to confirm")
        .count();
    assert_eq!(asked, 3);
}

#[tokio::test]
async fn a_draft_flow_runs_from_a_conversation_for_its_test_user() {
    let app = TestApp::spawn().await;
    let main = app.main();
    // Draft only; its test user is the SMS participant's address.
    let flow = draft_flow_with_test_user(&app, &main, &reply_yes_flow("3600")).await;
    let (ch, _) = sms_and_chat_conversation(&app).await;
    let (code, hook) = app
        .post(
            &format!("/v1/Conversations/{ch}/Webhooks"),
            &main,
            &[("Target", "studio"), ("Configuration.FlowSid", &flow)],
        )
        .await;
    assert_eq!(code, 201, "{hook}");
    // alice is no test user: the draft does not run for her (there is no published revision).
    let (code, _) = post_hooked(
        &app,
        &format!("/v1/Conversations/{ch}/Messages"),
        &[("Author", "alice"), ("Body", "hello")],
    )
    .await;
    assert_eq!(code, 201);
    let (_, list) = app
        .get(&format!("/v2/Flows/{flow}/Executions"), &main)
        .await;
    assert_eq!(list["executions"].as_array().unwrap().len(), 0, "{list}");
    // The test user writes by SMS: the draft runs and asks in the conversation.
    inbound(&app, &main, CONTACT, NUMBER, "I want to book").await;
    let (_, list) = app
        .get(&format!("/v2/Flows/{flow}/Executions"), &main)
        .await;
    assert_eq!(list["executions"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(
        transcript(&app, &ch).await,
        [
            "alice: hello".to_owned(),
            format!("{CONTACT}: I want to book"),
            "system: Reply YES to confirm".to_owned()
        ]
    );
}

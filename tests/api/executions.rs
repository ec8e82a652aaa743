//! Studio Executions: the API, TestUsers gating the draft, one active execution per contact,
//! the engine (every widget it runs, Liquid, the limits), waits that time out across a
//! restart, and tenancy.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Creds, TestApp, assert_twilio_error},
    spec::{assert_schema, assert_v1_page},
};

const STUDIO: &str = "twilio_studio_v2.json";
const TO: &str = "+15551230001";
const FROM: &str = "+15557650000";

/// A state of a definition.
fn state(name: &str, kind: &str, properties: Value, transitions: Value) -> Value {
    json!({"name": name, "type": kind, "properties": properties, "transitions": transitions})
}

/// A definition whose trigger's REST transition leads to `first`, then `states`.
fn definition(first: &str, states: Vec<Value>) -> Value {
    let mut all = vec![state(
        "Trigger",
        "trigger",
        json!({"offset": {"x": 0, "y": 0}}),
        json!([
            {"event": "incomingMessage"},
            {"event": "incomingCall"},
            {"event": "incomingRequest", "next": first},
            {"event": "incomingParent", "next": first}
        ]),
    )];
    all.extend(states);
    json!({"description": "test", "initial_state": "Trigger", "states": all,
           "flags": {"allow_concurrent_calls": true}})
}

async fn create_flow(app: &TestApp, who: &Creds, status: &str, def: &Value) -> String {
    let text = def.to_string();
    let (code, body) = app
        .post(
            "/v2/Flows",
            who,
            &[
                ("FriendlyName", "f"),
                ("Status", status),
                ("Definition", &text),
            ],
        )
        .await;
    assert_eq!(code, 201, "{body}");
    body["sid"].as_str().unwrap().to_owned()
}

async fn update_flow(app: &TestApp, flow: &str, status: &str, def: &Value) {
    let text = def.to_string();
    let (code, body) = app
        .post(
            &format!("/v2/Flows/{flow}"),
            &app.main(),
            &[("Status", status), ("Definition", &text)],
        )
        .await;
    assert_eq!(code, 200, "{body}");
}

async fn start(
    app: &TestApp,
    who: &Creds,
    flow: &str,
    to: &str,
    parameters: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = vec![("To", to), ("From", FROM)];
    if let Some(p) = parameters {
        form.push(("Parameters", p));
    }
    app.post(&format!("/v2/Flows/{flow}/Executions"), who, &form)
        .await
}

/// Starts an execution that must be created; returns it.
async fn run(app: &TestApp, flow: &str, parameters: Option<&str>) -> Value {
    let (code, body) = start(app, &app.main(), flow, TO, parameters).await;
    assert_eq!(code, 201, "{body}");
    assert_schema(STUDIO, "studio.v2.flow.execution", &body);
    body
}

/// Every step of an execution, page by page (each page checked against the spec).
async fn steps(app: &TestApp, flow: &str, execution: &str, page_size: usize) -> Vec<Value> {
    let mut url = format!("/v2/Flows/{flow}/Executions/{execution}/Steps?PageSize={page_size}");
    let mut all = Vec::new();
    loop {
        let (code, page) = app.get(&url, &app.main()).await;
        assert_eq!(code, 200, "{page}");
        assert_v1_page(&page, "steps");
        all.extend(page["steps"].as_array().unwrap().iter().cloned());
        match page["meta"]["next_page_url"].as_str() {
            Some(next) => url = next.strip_prefix(&app.base).unwrap().to_owned(),
            None => return all,
        }
    }
}

/// (name, transitioned_from, transitioned_to) of each step.
fn path(steps: &[Value]) -> Vec<(String, String, String)> {
    steps
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

fn triple(name: &str, from: &str, to: &str) -> (String, String, String) {
    (name.into(), from.into(), to.into())
}

async fn context(app: &TestApp, flow: &str, execution: &str) -> Value {
    let (code, body) = app
        .get(
            &format!("/v2/Flows/{flow}/Executions/{execution}/Context"),
            &app.main(),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_schema(STUDIO, "studio.v2.flow.execution.execution_context", &body);
    body["context"].clone()
}

/// trigger → set-variables → split → send-message → end, the benchmark's flow.
pub fn six_widget_flow() -> Value {
    definition(
        "vars",
        vec![
            state(
                "vars",
                "set-variables",
                json!({"variables": [
                    {"key": "greeting", "value": "Hello {{flow.data.name}}"},
                    {"key": "count", "value": "{{flow.data.n | plus: 1}}"}
                ]}),
                json!([{"event": "next", "next": "route"}]),
            ),
            state(
                "route",
                "split-based-on",
                json!({"input": "{{flow.data.lang}}"}),
                json!([
                    {"event": "noMatch", "next": "english"},
                    {"event": "match", "next": "spanish", "conditions": [
                        {"friendly_name": "es", "arguments": ["{{flow.data.lang}}"],
                         "type": "equal_to", "value": "ES"}]}
                ]),
            ),
            state(
                "english",
                "send-message",
                json!({"body": "{{flow.variables.greeting}} #{{flow.variables.count}}"}),
                json!([{"event": "sent"}, {"event": "failed"}]),
            ),
            state(
                "spanish",
                "send-message",
                json!({"body": "Hola {{flow.data.name}}", "to": "{{contact.channel.address}}"}),
                json!([{"event": "sent"}, {"event": "failed"}]),
            ),
        ],
    )
}

#[tokio::test]
async fn an_execution_runs_every_widget_and_records_steps_and_context_as_twilio_does() {
    let app = TestApp::spawn().await;
    let flow = create_flow(&app, &app.main(), "published", &six_widget_flow()).await;
    let execution = run(
        &app,
        &flow,
        Some(r#"{"name": "Ann", "n": 41, "lang": " es "}"#),
    )
    .await;
    let sid = execution["sid"].as_str().unwrap();
    assert!(sid.starts_with("FN"));
    assert_eq!(execution["status"], "ended");
    assert_eq!(execution["flow_version"], 1);
    assert_eq!(execution["contact_channel_address"], TO);
    assert_eq!(execution["context"], json!({}));
    assert!(
        execution["initiated_by"]
            .as_str()
            .unwrap()
            .starts_with("RQ")
    );
    assert!(execution["contact_sid"].as_str().unwrap().starts_with("FC"));
    let url = format!("{}/v2/Flows/{flow}/Executions/{sid}", app.base);
    assert_eq!(execution["url"], url);
    assert_eq!(execution["links"]["steps"], format!("{url}/Steps"));
    assert_eq!(
        execution["links"]["execution_context"],
        format!("{url}/Context")
    );

    let all = steps(&app, &flow, sid, 50).await;
    assert_eq!(
        path(&all),
        vec![
            triple("incomingRequest", "Trigger", "vars"),
            triple("next", "vars", "route"),
            triple("match", "route", "spanish"),
            triple("sent", "spanish", "Ended"),
        ]
    );
    let types: Vec<&str> = all.iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["trigger", "set-variables", "split-based-on", "send-message"]
    );
    for step in &all {
        assert_schema(STUDIO, "studio.v2.flow.execution.execution_step", step);
        assert!(step["parent_step_sid"].is_null());
    }
    assert_eq!(
        all[1]["context"],
        json!({"greeting": "Hello Ann", "count": "42"})
    );

    let ctx = context(&app, &flow, sid).await;
    assert_eq!(ctx["trigger"]["request"]["to"], TO);
    assert_eq!(ctx["trigger"]["request"]["from"], FROM);
    assert_eq!(ctx["trigger"]["request"]["parameters"]["name"], "Ann");
    assert_eq!(ctx["contact"]["channel"]["address"], TO);
    assert_eq!(ctx["flow"]["channel"]["address"], FROM);
    assert_eq!(
        ctx["flow"]["sid"], sid,
        "Twilio puts the execution SID in flow.sid"
    );
    assert_eq!(ctx["flow"]["flow_sid"], flow.as_str());
    assert_eq!(ctx["flow"]["data"]["n"], 41);
    assert_eq!(ctx["flow"]["variables"]["greeting"], "Hello Ann");
    assert_eq!(ctx["widgets"]["route"], json!({}));
    let outbound = &ctx["widgets"]["spanish"]["outbound"];
    assert_eq!(outbound["Body"], "Hola Ann");
    assert_eq!(outbound["To"], TO);
    assert_eq!(outbound["From"], FROM);
    assert!(outbound["Sid"].as_str().unwrap().starts_with("SM"));
    assert_eq!(outbound["Direction"], "outbound-api");
    // The flow's message is a Message of the account, found the way one asks Twilio.
    let (code, sent) = app
        .get(
            &format!(
                "/2010-04-01/Accounts/{}/Messages.json?To=%2B15551230001",
                app.main().user
            ),
            &app.main(),
        )
        .await;
    assert_eq!(code, 200, "{sent}");
    assert_eq!(sent["messages"].as_array().unwrap().len(), 1, "{sent}");
    assert_eq!(sent["messages"][0]["sid"], outbound["Sid"]);
    assert_eq!(sent["messages"][0]["body"], "Hola Ann");

    // The step and its context, fetched on their own.
    let step = &all[3];
    let step_url = format!(
        "/v2/Flows/{flow}/Executions/{sid}/Steps/{}",
        step["sid"].as_str().unwrap()
    );
    let (code, fetched) = app.get(&step_url, &app.main()).await;
    assert_eq!(code, 200);
    assert_eq!(&fetched, step);
    assert_eq!(
        fetched["links"]["step_context"],
        format!("{}{step_url}/Context", app.base)
    );
    let (code, step_context) = app.get(&format!("{step_url}/Context"), &app.main()).await;
    assert_eq!(code, 200, "{step_context}");
    assert_schema(
        STUDIO,
        "studio.v2.flow.execution.execution_step.execution_step_context",
        &step_context,
    );
    assert_eq!(step_context["step_sid"], step["sid"]);
    assert_eq!(step_context["context"]["outbound"]["Body"], "Hola Ann");

    // noMatch: the other branch.
    let (code, other) = start(
        &app,
        &app.main(),
        &flow,
        "+15551230002",
        Some(r#"{"name": "Bo", "lang": "en"}"#),
    )
    .await;
    assert_eq!(code, 201, "{other}");
    let all = steps(&app, &flow, other["sid"].as_str().unwrap(), 50).await;
    assert_eq!(all[2]["name"], "noMatch");
    assert_eq!(all[3]["context"]["outbound"]["Body"], "Hello Bo #1");
}

#[tokio::test]
async fn create_checks_its_parameters_and_the_flow() {
    let app = TestApp::spawn().await;
    let flow = create_flow(&app, &app.main(), "published", &six_widget_flow()).await;
    let url = format!("/v2/Flows/{flow}/Executions");
    let (code, body) = app.post(&url, &app.main(), &[("From", FROM)]).await;
    assert_twilio_error(code, &body, 400, 20001);
    assert_eq!(
        body["message"],
        "Missing required parameter To in the post body"
    );
    let (code, body) = app.post(&url, &app.main(), &[("To", TO)]).await;
    assert_twilio_error(code, &body, 400, 20001);
    assert_eq!(
        body["message"],
        "Missing required parameter From in the post body"
    );
    for bad in ["[1,2]", "not json", "\"text\""] {
        let (code, body) = start(&app, &app.main(), &flow, TO, Some(bad)).await;
        assert_twilio_error(code, &body, 400, 20001);
    }
    // Unknown parameters (the spec's example sends ExternalId) are ignored.
    let (code, body) = app
        .post(
            &url,
            &app.main(),
            &[("To", TO), ("From", FROM), ("ExternalId", "x")],
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let missing = "FW00000000000000000000000000000000";
    let (code, body) = start(&app, &app.main(), missing, TO, None).await;
    assert_twilio_error(code, &body, 404, 20404);
    let (code, body) = app
        .post(&format!("/v2/Flows/{missing}/Executions"), &app.main(), &[])
        .await;
    assert_twilio_error(code, &body, 404, 20404);
    assert_eq!(app.count("studio_executions").await, 1);
}

/// A flow that waits for a reply (`timeout` seconds) and then says goodbye on timeout.
fn waiting_flow(timeout: &str, body: &str) -> Value {
    definition(
        "ask",
        vec![
            state(
                "ask",
                "send-and-wait-for-reply",
                json!({"body": body, "timeout": timeout}),
                json!([
                    {"event": "incomingMessage"},
                    {"event": "timeout", "next": "bye"},
                    {"event": "deliveryFailure"}
                ]),
            ),
            state(
                "bye",
                "send-message",
                json!({"body": "Bye {{widgets.ask.outbound.Body}}"}),
                json!([{"event": "sent"}, {"event": "failed"}]),
            ),
        ],
    )
}

async fn set_test_users(app: &TestApp, flow: &str, users: &[&str]) {
    let form: Vec<(&str, &str)> = users.iter().map(|u| ("TestUsers", *u)).collect();
    let (code, body) = app
        .post(&format!("/v2/Flows/{flow}/TestUsers"), &app.main(), &form)
        .await;
    assert_eq!(code, 200, "{body}");
}

async fn end(app: &TestApp, flow: &str, execution: &str) -> Value {
    let (code, body) = app
        .post(
            &format!("/v2/Flows/{flow}/Executions/{execution}"),
            &app.main(),
            &[("Status", "ended")],
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_schema(STUDIO, "studio.v2.flow.execution", &body);
    body
}

/// The body the flow's first message had (from the execution's context).
async fn first_body(app: &TestApp, flow: &str, execution: &str) -> String {
    let ctx = context(app, flow, execution).await;
    ctx["widgets"]["ask"]["outbound"]["Body"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn test_users_run_the_latest_draft_and_everyone_else_the_latest_published_revision() {
    let app = TestApp::spawn().await;
    let tester = "+15550000001";
    let other = "+15550000002";
    // Draft only: a test user runs it, anyone else is refused.
    let flow = create_flow(&app, &app.main(), "draft", &waiting_flow("3600", "v1")).await;
    let (code, body) = start(&app, &app.main(), &flow, tester, None).await;
    assert_twilio_error(code, &body, 404, 20404);
    set_test_users(&app, &flow, &[" +15550000001 ", "client:alice"]).await;
    let (code, as_tester) = start(&app, &app.main(), &flow, tester, None).await;
    assert_eq!(code, 201, "{as_tester}");
    assert_eq!(as_tester["flow_version"], 1);
    assert_eq!(as_tester["status"], "active");
    let (code, body) = start(&app, &app.main(), &flow, other, None).await;
    assert_twilio_error(code, &body, 404, 20404);
    end(&app, &flow, as_tester["sid"].as_str().unwrap()).await;

    // Published (revision 2), then a newer draft (revision 3).
    update_flow(&app, &flow, "published", &waiting_flow("3600", "v2")).await;
    update_flow(&app, &flow, "draft", &waiting_flow("3600", "v3")).await;
    let (code, as_other) = start(&app, &app.main(), &flow, other, None).await;
    assert_eq!(code, 201, "{as_other}");
    assert_eq!(as_other["flow_version"], 2);
    let other_sid = as_other["sid"].as_str().unwrap();
    assert_eq!(first_body(&app, &flow, other_sid).await, "v2");
    let (code, as_tester) = start(&app, &app.main(), &flow, tester, None).await;
    assert_eq!(code, 201, "{as_tester}");
    assert_eq!(as_tester["flow_version"], 3);
    let tester_sid = as_tester["sid"].as_str().unwrap();
    assert_eq!(first_body(&app, &flow, tester_sid).await, "v3");
    // `From` is not the contact: a test user's number as From changes nothing.
    let (code, body) = app
        .post(
            &format!("/v2/Flows/{flow}/Executions"),
            &app.main(),
            &[("To", "+15550000003"), ("From", tester)],
        )
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["flow_version"], 2);

    // A publish while they wait changes neither: the revision was pinned at the start.
    update_flow(&app, &flow, "published", &waiting_flow("3600", "v4")).await;
    for sid in [other_sid, tester_sid] {
        let (code, body) = app
            .get(&format!("/v2/Flows/{flow}/Executions/{sid}"), &app.main())
            .await;
        assert_eq!(code, 200);
        assert_ne!(body["flow_version"], 4);
        assert_eq!(body["status"], "active");
    }
    end(&app, &flow, other_sid).await;
    let (code, body) = start(&app, &app.main(), &flow, other, None).await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["flow_version"], 4);
}

#[tokio::test]
async fn one_execution_is_active_per_contact_under_20_concurrent_creates() {
    let app = TestApp::spawn().await;
    let flow = create_flow(&app, &app.main(), "published", &waiting_flow("3600", "hi")).await;
    let main = app.main();
    let creates = (0..20).map(|_| start(&app, &main, &flow, TO, None));
    let answers = futures_join_all(creates).await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(code, _)| *code == 201)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    for (code, body) in answers.iter().filter(|(code, _)| *code != 201) {
        assert_twilio_error(*code, body, 409, 20409);
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains("already active for this contact"),
            "{message}"
        );
        assert!(
            message.contains(created[0]["sid"].as_str().unwrap()),
            "{message}"
        );
    }
    assert_eq!(app.count("studio_executions").await, 1);
    // Another contact, or another From, is another session.
    let (code, body) = start(&app, &app.main(), &flow, "+15551239999", None).await;
    assert_eq!(code, 201, "{body}");
    let (code, body) = app
        .post(
            &format!("/v2/Flows/{flow}/Executions"),
            &app.main(),
            &[("To", TO), ("From", "+15557659999")],
        )
        .await;
    assert_eq!(code, 201, "{body}");
    // Ending it frees the contact; its contact SID stays the same.
    let first = created[0]["sid"].as_str().unwrap();
    let ended = end(&app, &flow, first).await;
    assert_eq!(ended["status"], "ended");
    let again = end(&app, &flow, first).await;
    assert_eq!(again["status"], "ended", "ending is idempotent");
    let (code, next) = start(&app, &app.main(), &flow, TO, None).await;
    assert_eq!(code, 201, "{next}");
    assert_eq!(next["contact_sid"], created[0]["contact_sid"]);
}

/// `join_all` without the futures crate: every future polled concurrently on this task.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, future) in set.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(out) => outputs[i] = Some(out),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn update_list_filters_delete_and_bad_statuses() {
    let app = TestApp::spawn().await;
    let flow = create_flow(&app, &app.main(), "published", &waiting_flow("3600", "hi")).await;
    let waiting = run(&app, &flow, None).await;
    let waiting_sid = waiting["sid"].as_str().unwrap();
    let (code, done) = start(&app, &app.main(), &flow, "+15550001111", None).await;
    assert_eq!(code, 201);
    let done_sid = done["sid"].as_str().unwrap().to_owned();
    end(&app, &flow, &done_sid).await;

    let list = format!("/v2/Flows/{flow}/Executions");
    let (code, page) = app.get(&format!("{list}?status=active"), &app.main()).await;
    assert_eq!(code, 200, "{page}");
    assert_v1_page(&page, "executions");
    let sids: Vec<&str> = page["executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, [waiting_sid]);
    assert!(
        page["meta"]["url"]
            .as_str()
            .unwrap()
            .contains("status=active")
    );
    let (_, page) = app.get(&format!("{list}?status=ended"), &app.main()).await;
    assert_eq!(page["executions"].as_array().unwrap().len(), 1);
    let (_, page) = app
        .get(
            &format!("{list}?DateCreatedFrom=2000-01-01T00:00:00Z"),
            &app.main(),
        )
        .await;
    assert_eq!(page["executions"].as_array().unwrap().len(), 2);
    let (_, page) = app
        .get(
            &format!("{list}?DateCreatedTo=2000-01-01T00:00:00%2B01:00"),
            &app.main(),
        )
        .await;
    assert_eq!(page["executions"].as_array().unwrap().len(), 0);
    let (_, page) = app.get(&format!("{list}?PageSize=1"), &app.main()).await;
    assert_eq!(page["executions"].as_array().unwrap().len(), 1);
    assert!(page["meta"]["next_page_url"].is_string());
    for bad in ["status=running", "DateCreatedFrom=yesterday"] {
        let (code, body) = app.get(&format!("{list}?{bad}"), &app.main()).await;
        assert_twilio_error(code, &body, 400, 20001);
    }

    let one = format!("{list}/{waiting_sid}");
    for form in [
        vec![],
        vec![("Status", "paused")],
        vec![("Status", "active")],
    ] {
        let (code, body) = app.post(&one, &app.main(), &form).await;
        assert_twilio_error(code, &body, 400, 20001);
    }
    let (code, body) = app
        .post(
            &format!("{list}/FN00000000000000000000000000000000"),
            &app.main(),
            &[("Status", "ended")],
        )
        .await;
    assert_twilio_error(code, &body, 404, 20404);

    let steps_before = app.count("studio_execution_steps").await;
    assert!(steps_before > 0);
    let (code, _) = app.delete(&one, &app.main()).await;
    assert_eq!(code, 204);
    let (code, body) = app.get(&one, &app.main()).await;
    assert_twilio_error(code, &body, 404, 20404);
    let (code, body) = app.get(&format!("{one}/Steps"), &app.main()).await;
    assert_twilio_error(code, &body, 404, 20404);
    let (code, _) = app.delete(&one, &app.main()).await;
    assert_eq!(code, 404);
    assert!(
        app.count("studio_execution_steps").await < steps_before,
        "its steps went with it"
    );
    // Deleting the flow takes its executions along.
    let (code, _) = app.delete(&format!("/v2/Flows/{flow}"), &app.main()).await;
    assert_eq!(code, 204);
    assert_eq!(app.count("studio_executions").await, 0);
}

#[tokio::test]
async fn another_accounts_executions_steps_and_contexts_are_404() {
    let app = TestApp::spawn().await;
    let other = app.subaccount(&app.main(), "other").await;
    let flow = create_flow(&app, &app.main(), "published", &six_widget_flow()).await;
    let execution = run(&app, &flow, None).await;
    let sid = execution["sid"].as_str().unwrap();
    let all = steps(&app, &flow, sid, 50).await;
    let step = all[0]["sid"].as_str().unwrap();
    let base = format!("/v2/Flows/{flow}/Executions");
    for path in [
        base.clone(),
        format!("{base}/{sid}"),
        format!("{base}/{sid}/Context"),
        format!("{base}/{sid}/Steps"),
        format!("{base}/{sid}/Steps/{step}"),
        format!("{base}/{sid}/Steps/{step}/Context"),
    ] {
        let (code, body) = app.get(&path, &other).await;
        assert_twilio_error(code, &body, 404, 20404);
    }
    let (code, body) = start(&app, &other, &flow, TO, None).await;
    assert_twilio_error(code, &body, 404, 20404);
    let (code, body) = app
        .post(&format!("{base}/{sid}"), &other, &[("Status", "ended")])
        .await;
    assert_twilio_error(code, &body, 404, 20404);
    let (code, _) = app.delete(&format!("{base}/{sid}"), &other).await;
    assert_eq!(code, 404);
    // The other account's own flow cannot reach this execution either.
    let their_flow = create_flow(&app, &other, "published", &six_widget_flow()).await;
    let (code, body) = app
        .get(&format!("/v2/Flows/{their_flow}/Executions/{sid}"), &other)
        .await;
    assert_twilio_error(code, &body, 404, 20404);
    // A step of one execution is not found under another.
    let second = run(&app, &flow, None).await;
    let (code, body) = app
        .get(
            &format!("{base}/{}/Steps/{step}", second["sid"].as_str().unwrap()),
            &app.main(),
        )
        .await;
    assert_twilio_error(code, &body, 404, 20404);
}

/// Polls the execution until it has ended (its timeout fired), for at most 10 s.
async fn wait_until_ended(app: &TestApp, flow: &str, sid: &str) {
    let url = format!("/v2/Flows/{flow}/Executions/{sid}");
    let mut status = String::new();
    for _ in 0..100 {
        let (_, body) = app.get(&url, &app.main()).await;
        status = body["status"].as_str().unwrap().to_owned();
        if status == "ended" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "ended");
}

#[tokio::test]
async fn a_waiting_execution_survives_a_restart_and_takes_its_timeout_transition() {
    let mut app = TestApp::spawn().await;
    let flow = create_flow(&app, &app.main(), "published", &waiting_flow("2", "Ping")).await;
    let execution = run(&app, &flow, None).await;
    let sid = execution["sid"].as_str().unwrap().to_owned();
    assert_eq!(execution["status"], "active");
    let before = steps(&app, &flow, &sid, 50).await;
    assert_eq!(
        path(&before),
        vec![triple("incomingRequest", "Trigger", "ask")]
    );
    assert_eq!(first_body(&app, &flow, &sid).await, "Ping");
    // Stopped while it waits; its timeout passes while the server is down.
    app.stop().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    app.restart().await;
    wait_until_ended(&app, &flow, &sid).await;
    let after = steps(&app, &flow, &sid, 50).await;
    assert_eq!(
        path(&after),
        vec![
            triple("incomingRequest", "Trigger", "ask"),
            triple("timeout", "ask", "bye"),
            triple("sent", "bye", "Ended"),
        ]
    );
    assert_eq!(after[1]["type"], "send-and-wait-for-reply");
    assert_eq!(after[1]["context"]["outbound"]["Body"], "Ping");
    assert_eq!(after[2]["context"]["outbound"]["Body"], "Bye Ping");
}

#[tokio::test]
async fn a_timeout_also_fires_while_the_server_runs_and_not_after_the_execution_ended() {
    let app = TestApp::spawn().await;
    let flow = create_flow(&app, &app.main(), "published", &waiting_flow("1", "x")).await;
    let running = run(&app, &flow, None).await;
    let (code, ended) = start(&app, &app.main(), &flow, "+15550002222", None).await;
    assert_eq!(code, 201);
    let ended_sid = ended["sid"].as_str().unwrap();
    end(&app, &flow, ended_sid).await;
    wait_until_ended(&app, &flow, running["sid"].as_str().unwrap()).await;
    assert_eq!(
        steps(&app, &flow, running["sid"].as_str().unwrap(), 50)
            .await
            .len(),
        3
    );
    // The one ended by hand took no transition.
    assert_eq!(steps(&app, &flow, ended_sid, 50).await.len(), 1);
}

/// Runs a flow of `states` (starting at `first`) and returns (steps, context).
async fn run_states(
    app: &TestApp,
    first: &str,
    states: Vec<Value>,
    parameters: Option<&str>,
) -> (Vec<Value>, Value) {
    let flow = create_flow(app, &app.main(), "published", &definition(first, states)).await;
    let execution = run(app, &flow, parameters).await;
    let sid = execution["sid"].as_str().unwrap();
    (
        steps(app, &flow, sid, 100).await,
        context(app, &flow, sid).await,
    )
}

#[tokio::test]
async fn set_variables_and_liquid_unknown_variables_numbers_and_json() {
    let app = TestApp::spawn().await;
    let (all, ctx) = run_states(
        &app,
        "vars",
        vec![
            state(
                "vars",
                "set-variables",
                json!({"variables": [
                    {"key": "unknown", "value": "[{{flow.data.nope}}|{{widgets.ghost.parsed.x.y}}|{{trigger.parameters.z}}]"},
                    {"key": "sum", "value": "{{flow.data.n | plus: 0.5}}"},
                    {"key": "counter", "value": "{{flow.variables.counter | plus: 1}}"},
                    {"key": "shout", "value": "{{flow.data.name | upcase | append: '!'}}"},
                    {"key": "fallback", "value": "{{flow.data.nope | default: 'none'}}"},
                    {"key": "again", "value": "{{flow.variables.shout}}"},
                    {"key": "loop", "value": "{% for i in flow.data.list %}{{i}}{% endfor %}"},
                    {"key": "as_json", "value": "{{flow.data.obj | to_json}}"}
                ]}),
                json!([{"event": "next", "next": "parsed"}]),
            ),
            state(
                "parsed",
                "set-variables",
                json!({"parse_as_json": true, "variables": [
                    {"key": "obj", "value": "{\"a\": {\"b\": [1, 2]}, \"n\": {{flow.data.n}}}"},
                    {"key": "plain", "value": "not json"}
                ]}),
                json!([{"event": "next", "next": "use"}]),
            ),
            state(
                "use",
                "set-variables",
                json!({"variables": [
                    {"key": "deep", "value": "{{widgets.parsed.obj.a.b[1]}}-{{flow.variables.obj.n}}"}
                ]}),
                json!([{"event": "next"}]),
            ),
        ],
        Some(r#"{"n": 2, "name": "ann", "list": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20], "obj": {"k": "v"}}"#),
    )
    .await;
    assert_eq!(all.len(), 4);
    let vars = &ctx["flow"]["variables"];
    assert_eq!(vars["unknown"], "[||]");
    assert_eq!(vars["sum"], "2.5");
    assert_eq!(
        vars["counter"], "1",
        "nil is 0 to plus, as in Shopify's Liquid"
    );
    assert_eq!(vars["shout"], "ANN!");
    assert_eq!(vars["fallback"], "none");
    assert_eq!(
        vars["again"], "ANN!",
        "a later variable sees an earlier one"
    );
    assert_eq!(
        vars["loop"], "123456789101112131415",
        "loops stop after 15 iterations"
    );
    assert_eq!(vars["as_json"], r#"{"k":"v"}"#);
    assert_eq!(
        ctx["widgets"]["parsed"]["obj"],
        json!({"a": {"b": [1, 2]}, "n": 2})
    );
    assert_eq!(ctx["widgets"]["parsed"]["plain"], "not json");
    assert_eq!(vars["deep"], "2-2");
    assert_eq!(all[1]["context"]["counter"], "1");
}

#[tokio::test]
async fn a_template_that_does_not_parse_takes_the_failure_path_with_the_reason() {
    let app = TestApp::spawn().await;
    let (all, _) = run_states(
        &app,
        "vars",
        vec![
            state(
                "vars",
                "set-variables",
                json!({"variables": [{"key": "x", "value": "{{ broken"}]}),
                json!([{"event": "next", "next": "vars2"}]),
            ),
            state(
                "vars2",
                "set-variables",
                json!({"variables": []}),
                json!([{"event": "next"}]),
            ),
        ],
        None,
    )
    .await;
    assert_eq!(path(&all)[1], triple("failed", "vars", "Ended"));
    assert!(
        all[1]["context"]["emulator"]
            .as_str()
            .unwrap()
            .contains("Liquid"),
        "{}",
        all[1]
    );
}

/// A split on `input` with one `match` transition holding `conditions`.
fn split_on(input: &str, conditions: Value) -> Vec<Value> {
    vec![
        state(
            "split",
            "split-based-on",
            json!({"input": input}),
            json!([
                {"event": "noMatch"},
                {"event": "match", "next": "yes", "conditions": conditions}
            ]),
        ),
        state(
            "yes",
            "set-variables",
            json!({"variables": []}),
            json!([{"event": "next"}]),
        ),
    ]
}

#[tokio::test]
async fn split_based_on_tests_every_condition_type_case_insensitively_and_trimmed() {
    let app = TestApp::spawn().await;
    let cases: &[(&str, &str, &str, bool)] = &[
        ("equal_to", "  YES ", "yes", true),
        ("not_equal_to", "yes", "no", true),
        ("matches_any_of", "Stop", "start, STOP", true),
        ("does_not_match_any_of", "stop", "start,stop", false),
        ("is_blank", "  ", "", true),
        ("is_not_blank", "", "", false),
        ("regex", "Order 42", "^order \\d+$", true),
        ("contains", "I want PIZZA", "pizza", true),
        ("does_not_contain", "I want PIZZA", "pizza", false),
        ("starts_with", "Hello there", "HELLO", true),
        ("does_not_start_with", "Hello", "bye", true),
        ("less_than", "9", "10", true),
        ("greater_than", "9", "10", false),
        ("is_before_time", "08:30", "09:00", true),
        ("is_after_time", "08:30", "09:00", false),
        ("is_before_date", "2024-01-31", "2024-02-01", true),
        ("is_after_date", "2024-03-01", "2024-02-01", true),
    ];
    for (kind, input, value, matches) in cases {
        let parameters = json!({"input": input}).to_string();
        let conditions = json!([{"friendly_name": "c", "arguments": ["{{flow.data.input}}"], "type": kind, "value": value}]);
        let (all, _) = run_states(
            &app,
            "split",
            split_on("{{flow.data.input}}", conditions),
            Some(&parameters),
        )
        .await;
        let want = if *matches {
            triple("match", "split", "yes")
        } else {
            triple("noMatch", "split", "Ended")
        };
        assert_eq!(path(&all)[1], want, "{kind} {input:?} {value:?}");
    }
    // Several conditions on one transition must all hold; the value is Liquid too.
    let conditions = json!([
        {"friendly_name": "a", "arguments": ["{{flow.data.input}}"], "type": "starts_with", "value": "{{flow.data.prefix}}"},
        {"friendly_name": "b", "arguments": ["{{flow.data.input}}"], "type": "contains", "value": "z"}
    ]);
    let (all, _) = run_states(
        &app,
        "split",
        split_on("{{flow.data.input}}", conditions.clone()),
        Some(r#"{"input": "abc", "prefix": "A"}"#),
    )
    .await;
    assert_eq!(all[1]["name"], "noMatch");
    let (all, _) = run_states(
        &app,
        "split",
        split_on("{{flow.data.input}}", conditions),
        Some(r#"{"input": "abz", "prefix": "A"}"#),
    )
    .await;
    assert_eq!(all[1]["name"], "match");
}

#[tokio::test]
async fn run_subflow_runs_the_subflow_in_process_and_flattens_its_variables() {
    let app = TestApp::spawn().await;
    let child = definition(
        "inner",
        vec![state(
            "inner",
            "set-variables",
            json!({"variables": [
                {"key": "doubled", "value": "{{trigger.parent.parameters.n | times: 2}}"},
                {"key": "data", "value": "{{flow.data.n}}"}
            ]}),
            json!([{"event": "next"}]),
        )],
    );
    let child_sid = create_flow(&app, &app.main(), "published", &child).await;
    let draft_only = create_flow(&app, &app.main(), "draft", &child).await;
    let parent = |flow: &str, revision: &str| {
        definition(
            "sub",
            vec![
                state(
                    "sub",
                    "run-subflow",
                    json!({"flow_sid": flow, "flow_revision": revision,
                           "parameters": [{"key": "n", "value": "{{flow.data.n}}"}]}),
                    json!([{"event": "completed", "next": "after"}, {"event": "failed"}]),
                ),
                state(
                    "after",
                    "set-variables",
                    json!({"variables": [{"key": "got", "value": "{{widgets.sub.doubled}}"}]}),
                    json!([{"event": "next"}]),
                ),
            ],
        )
    };
    let flow = create_flow(
        &app,
        &app.main(),
        "published",
        &parent(&child_sid, "LatestPublished"),
    )
    .await;
    let execution = run(&app, &flow, Some(r#"{"n": 21}"#)).await;
    let sid = execution["sid"].as_str().unwrap();
    let all = steps(&app, &flow, sid, 50).await;
    assert_eq!(
        path(&all),
        vec![
            triple("incomingRequest", "Trigger", "sub"),
            triple("incomingParent", "Trigger", "inner"),
            triple("next", "inner", "Ended"),
            triple("completed", "sub", "after"),
            triple("next", "after", "Ended"),
        ]
    );
    // The subflow's steps name the run-subflow widget's step as their parent.
    assert_eq!(all[1]["parent_step_sid"], all[3]["sid"]);
    assert_eq!(all[2]["parent_step_sid"], all[3]["sid"]);
    assert!(all[3]["parent_step_sid"].is_null());
    let ctx = context(&app, &flow, sid).await;
    assert_eq!(
        ctx["widgets"]["sub"],
        json!({"doubled": "42", "data": "21"})
    );
    assert_eq!(ctx["flow"]["variables"]["got"], "42");

    // Its own revision rule: a never-published subflow fails under LatestPublished and runs
    // under LatestDraft; an unknown flow fails.
    let flow = create_flow(
        &app,
        &app.main(),
        "published",
        &parent(&draft_only, "LatestPublished"),
    )
    .await;
    let all = steps(
        &app,
        &flow,
        run(&app, &flow, None).await["sid"].as_str().unwrap(),
        50,
    )
    .await;
    assert_eq!(path(&all)[1], triple("failed", "sub", "Ended"));
    let flow = create_flow(
        &app,
        &app.main(),
        "published",
        &parent(&draft_only, "LatestDraft"),
    )
    .await;
    let all = steps(
        &app,
        &flow,
        run(&app, &flow, None).await["sid"].as_str().unwrap(),
        50,
    )
    .await;
    assert_eq!(all.last().unwrap()["name"], "next");
    assert_eq!(all[3]["name"], "completed");
    let flow = create_flow(
        &app,
        &app.main(),
        "published",
        &parent("FW00000000000000000000000000000000", "1"),
    )
    .await;
    let all = steps(
        &app,
        &flow,
        run(&app, &flow, None).await["sid"].as_str().unwrap(),
        50,
    )
    .await;
    assert_eq!(all[1]["name"], "failed");
    assert!(all[1]["context"]["emulator"].is_string());
}

#[tokio::test]
async fn widgets_that_are_not_emulated_take_their_failure_transition_or_end_with_the_reason() {
    let app = TestApp::spawn().await;
    let (all, _) = run_states(
        &app,
        "call",
        vec![
            state("call", "make-outgoing-call-v2", json!({"to": "{{contact.channel.address}}"}),
                  json!([{"event": "answered"}, {"event": "busy"}, {"event": "noAnswer"}, {"event": "failed", "next": "after"}])),
            state("after", "say-play", json!({"say": "hi"}), json!([{"event": "audioComplete", "next": "call"}])),
        ],
        None,
    )
    .await;
    assert_eq!(
        path(&all),
        vec![
            triple("incomingRequest", "Trigger", "call"),
            triple("failed", "call", "after"),
            triple("failed", "after", "Ended"),
        ]
    );
    assert_eq!(all[2]["type"], "say-play");
    let reason = all[2]["context"]["emulator"].as_str().unwrap();
    assert!(reason.contains("say-play"), "{reason}");
}

#[tokio::test]
async fn http_widgets_are_off_by_default() {
    let app = TestApp::spawn().await;
    let (all, ctx) = run_states(
        &app,
        "http",
        vec![
            state(
                "http",
                "make-http-request",
                json!({"method": "GET", "url": "http://127.0.0.1:9/x"}),
                json!([{"event": "success"}, {"event": "failed", "next": "fn"}]),
            ),
            state(
                "fn",
                "run-function",
                json!({"url": "http://127.0.0.1:9/fn"}),
                json!([{"event": "success"}, {"event": "fail"}]),
            ),
        ],
        None,
    )
    .await;
    assert_eq!(path(&all)[1], triple("failed", "http", "fn"));
    assert_eq!(path(&all)[2], triple("fail", "fn", "Ended"));
    assert!(
        all[1]["context"]["emulator"]
            .as_str()
            .unwrap()
            .contains("LOCALTWILIO_STUDIO_HTTP_ALLOWED_HOSTS")
    );
    assert!(ctx["widgets"].get("http").is_none());
}

/// A local HTTP server answering `/ok` with JSON (echoing the query and body) and `/bad` 500.
async fn echo_server() -> String {
    use axum::{Json, Router, body::Bytes, extract::RawQuery, http::StatusCode, routing::any};
    let app = Router::new()
        .route(
            "/ok",
            any(|RawQuery(query): RawQuery, body: Bytes| async move {
                Json(json!({"query": query, "body": String::from_utf8_lossy(&body), "items": [1, 2]}))
            }),
        )
        .route("/bad", any(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "nope") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

#[tokio::test]
async fn http_widgets_call_allowed_hosts_for_real() {
    let app = TestApp::spawn_tuned(|c| c.studio_http_allowed_hosts = "127.0.0.1".into()).await;
    let server = echo_server().await;
    let (all, ctx) = run_states(
        &app,
        "get",
        vec![
            state("get", "make-http-request",
                  json!({"method": "GET", "url": format!("{server}/ok"), "parameters": [{"key": "who", "value": "{{flow.data.who}}"}]}),
                  json!([{"event": "success", "next": "post"}, {"event": "failed"}])),
            state("post", "make-http-request",
                  json!({"method": "POST", "url": format!("{server}/ok"), "content_type": "application/json", "body": "{\"n\": {{flow.data.n}}}"}),
                  json!([{"event": "success", "next": "bad"}, {"event": "failed"}])),
            state("bad", "make-http-request", json!({"method": "GET", "url": format!("{server}/bad")}),
                  json!([{"event": "success"}, {"event": "failed", "next": "fn"}])),
            state("fn", "run-function", json!({"url": format!("{server}/ok"), "parameters": [{"key": "a", "value": "b"}]}),
                  json!([{"event": "success", "next": "use"}, {"event": "fail"}])),
            state("use", "set-variables",
                  json!({"variables": [{"key": "n", "value": "{{widgets.get.parsed.items.size}}-{{widgets.post.parsed.body}}"}]}),
                  json!([{"event": "next"}])),
        ],
        Some(r#"{"who": "ann", "n": 7}"#),
    )
    .await;
    let events: Vec<String> = path(&all).into_iter().map(|(name, _, _)| name).collect();
    assert_eq!(
        events,
        [
            "incomingRequest",
            "success",
            "success",
            "failed",
            "success",
            "next"
        ]
    );
    assert_eq!(ctx["widgets"]["get"]["status_code"], 200);
    assert_eq!(ctx["widgets"]["get"]["parsed"]["query"], "who=ann");
    assert!(
        ctx["widgets"]["get"]["content_type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(ctx["widgets"]["post"]["parsed"]["body"], r#"{"n": 7}"#);
    assert_eq!(ctx["widgets"]["bad"]["status_code"], 500);
    assert_eq!(ctx["widgets"]["bad"]["body"], "nope");
    assert!(ctx["widgets"]["bad"].get("parsed").is_none());
    assert_eq!(ctx["widgets"]["fn"]["parsed"]["body"], "a=b");
    assert!(ctx["widgets"]["fn"]["headers"].is_object());
    assert_eq!(ctx["flow"]["variables"]["n"], r#"2-{"n": 7}"#);
    // A host off the list stays unreachable even when another is allowed.
    let (all, _) = run_states(
        &app,
        "get",
        vec![state(
            "get",
            "make-http-request",
            json!({"method": "GET", "url": "http://localhost:9/x"}),
            json!([{"event": "success"}, {"event": "failed"}]),
        )],
        None,
    )
    .await;
    assert_eq!(all[1]["name"], "failed");
}

#[tokio::test]
async fn an_execution_ends_after_1000_steps_and_its_steps_page_to_the_end() {
    let app = TestApp::spawn().await;
    let flow = create_flow(
        &app,
        &app.main(),
        "published",
        &definition(
            "a",
            vec![
                state(
                    "a",
                    "set-variables",
                    json!({"variables": [{"key": "i", "value": "{{flow.variables.i | plus: 1}}"}]}),
                    json!([{"event": "next", "next": "b"}]),
                ),
                state(
                    "b",
                    "split-based-on",
                    json!({"input": "x"}),
                    json!([{"event": "noMatch", "next": "a"}]),
                ),
            ],
        ),
    )
    .await;
    let execution = run(&app, &flow, None).await;
    assert_eq!(execution["status"], "ended");
    let sid = execution["sid"].as_str().unwrap();
    let all = steps(&app, &flow, sid, 1000).await;
    assert_eq!(all.len(), 1000);
    let paged = steps(&app, &flow, sid, 37).await;
    assert_eq!(paged.len(), 1000);
    assert_eq!(paged, all, "pages cover every step once, in order");
    let reason = all[999]["context"]["emulator"]["execution_ended"]
        .as_str()
        .unwrap();
    assert!(reason.contains("1000 steps"), "{reason}");
    let ctx = context(&app, &flow, sid).await;
    assert_eq!(ctx["flow"]["variables"]["i"], "500");
}

#[tokio::test]
async fn an_execution_stops_when_the_same_widget_runs_10_times_in_a_row() {
    let app = TestApp::spawn().await;
    let (all, ctx) = run_states(
        &app,
        "again",
        vec![state(
            "again",
            "set-variables",
            json!({"variables": [{"key": "i", "value": "{{flow.variables.i | plus: 1}}"}]}),
            json!([{"event": "next", "next": "again"}]),
        )],
        None,
    )
    .await;
    assert_eq!(all.len(), 11, "the trigger and 10 runs");
    assert_eq!(ctx["flow"]["variables"]["i"], "10");
    let reason = all[10]["context"]["emulator"]["execution_ended"]
        .as_str()
        .unwrap();
    assert!(reason.contains("10 times in a row"), "{reason}");
}

#[tokio::test]
async fn an_invalid_draft_never_runs_and_a_trigger_without_a_rest_transition_ends_at_once() {
    let app = TestApp::spawn().await;
    let broken = json!({"initial_state": "Trigger", "states": [
        {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": [{"event": "incomingRequest", "next": "nowhere"}]}]});
    let flow = create_flow(&app, &app.main(), "draft", &broken).await;
    set_test_users(&app, &flow, &[TO]).await;
    let (code, body) = start(&app, &app.main(), &flow, TO, None).await;
    assert_twilio_error(code, &body, 400, 81022);
    assert_eq!(app.count("studio_executions").await, 0);
    let bare = json!({"initial_state": "Trigger", "states": [
        {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": []}]});
    let flow = create_flow(&app, &app.main(), "published", &bare).await;
    let execution = run(&app, &flow, None).await;
    assert_eq!(execution["status"], "ended");
    let all = steps(&app, &flow, execution["sid"].as_str().unwrap(), 50).await;
    assert_eq!(
        path(&all),
        vec![triple("incomingRequest", "Trigger", "Ended")]
    );
}

#[tokio::test]
async fn send_message_falls_back_to_the_contact_and_fails_without_a_body() {
    let app = TestApp::spawn().await;
    let (all, ctx) = run_states(
        &app,
        "send",
        vec![state(
            "send",
            "send-message",
            json!({"body": "hi", "to": "{{flow.data.nobody}}"}),
            json!([{"event": "sent"}, {"event": "failed"}]),
        )],
        None,
    )
    .await;
    // An empty `to` falls back to the contact: sent.
    assert_eq!(all[1]["name"], "sent");
    assert_eq!(ctx["widgets"]["send"]["outbound"]["To"], TO);
    let (all, _) = run_states(
        &app,
        "send",
        vec![state(
            "send",
            "send-message",
            json!({"body": "", "to": "+15551112222"}),
            json!([{"event": "sent"}, {"event": "failed"}]),
        )],
        None,
    )
    .await;
    assert_eq!(path(&all)[1], triple("failed", "send", "Ended"));
}

/// The body the widget `widget` sent (from the execution's context).
async fn sent_body(app: &TestApp, flow: &str, execution: &Value, widget: &str) -> String {
    let ctx = context(app, flow, execution["sid"].as_str().unwrap()).await;
    ctx["widgets"][widget]["outbound"]["Body"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Definitions and templates are parsed once and kept (by their text): each run still renders
/// its own parameters, two flows with one definition stay apart, and an edited draft runs at
/// once for a test user while everyone else keeps the published revision.
#[tokio::test]
async fn kept_definitions_and_templates_render_each_run_and_an_edited_draft_at_once() {
    let app = TestApp::spawn().await;
    let flow = create_flow(&app, &app.main(), "published", &six_widget_flow()).await;
    let twin = create_flow(&app, &app.main(), "published", &six_widget_flow()).await;
    for (flow, parameters, widget, body) in [
        (&flow, r#"{"name":"Ann","n":1}"#, "english", "Hello Ann #2"),
        (&twin, r#"{"name":"Bo","lang":"es"}"#, "spanish", "Hola Bo"),
        (&flow, r#"{"name":"Cy","n":41}"#, "english", "Hello Cy #42"),
        (&flow, r#"{"name":"Di","lang":"es"}"#, "spanish", "Hola Di"),
        (&twin, r#"{}"#, "english", "Hello  #1"),
    ] {
        let execution = run(&app, flow, Some(parameters)).await;
        assert_eq!(sent_body(&app, flow, &execution, widget).await, body);
    }

    // A draft that changes the English template: the test user runs it at once, anyone
    // else the published revision still.
    let mut edited = six_widget_flow();
    for state in edited["states"].as_array_mut().unwrap() {
        if state["name"] == "english" {
            state["properties"]["body"] = json!("Edited {{flow.data.name | upcase}}");
        }
    }
    update_flow(&app, &flow, "draft", &edited).await;
    set_test_users(&app, &flow, &[TO]).await;
    let execution = run(&app, &flow, Some(r#"{"name":"Ed"}"#)).await;
    assert_eq!(execution["flow_version"], 2);
    assert_eq!(
        sent_body(&app, &flow, &execution, "english").await,
        "Edited ED"
    );
    let (code, other) = start(
        &app,
        &app.main(),
        &flow,
        "+15551230002",
        Some(r#"{"name":"Ed"}"#),
    )
    .await;
    assert_eq!(code, 201, "{other}");
    assert_eq!(other["flow_version"], 1);
    assert_eq!(
        sent_body(&app, &flow, &other, "english").await,
        "Hello Ed #1"
    );

    // A draft saved with problems refuses to run for the test user (81022), from the same
    // cache of what runs.
    let broken = json!({"initial_state": "Trigger", "states": [
        state("Trigger", "trigger", json!({}), json!([{"event": "incomingRequest", "next": "nowhere"}]))
    ]});
    update_flow(&app, &flow, "draft", &broken).await;
    let (code, body) = start(&app, &app.main(), &flow, TO, None).await;
    assert_twilio_error(code, &body, 400, 81022);
}

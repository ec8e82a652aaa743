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
            &[("FriendlyName", "f"), ("Status", status), ("Definition", &text)],
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
    let execution = run(&app, &flow, Some(r#"{"name": "Ann", "n": 41, "lang": " es "}"#)).await;
    let sid = execution["sid"].as_str().unwrap();
    assert!(sid.starts_with("FN"));
    assert_eq!(execution["status"], "ended");
    assert_eq!(execution["flow_version"], 1);
    assert_eq!(execution["contact_channel_address"], TO);
    assert_eq!(execution["context"], json!({}));
    assert!(execution["initiated_by"].as_str().unwrap().starts_with("RQ"));
    assert!(execution["contact_sid"].as_str().unwrap().starts_with("FC"));
    let url = format!("{}/v2/Flows/{flow}/Executions/{sid}", app.base);
    assert_eq!(execution["url"], url);
    assert_eq!(execution["links"]["steps"], format!("{url}/Steps"));
    assert_eq!(execution["links"]["execution_context"], format!("{url}/Context"));

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
    assert_eq!(types, ["trigger", "set-variables", "split-based-on", "send-message"]);
    for step in &all {
        assert_schema(STUDIO, "studio.v2.flow.execution.execution_step", step);
        assert!(step["parent_step_sid"].is_null());
    }
    assert_eq!(all[1]["context"], json!({"greeting": "Hello Ann", "count": "42"}));

    let ctx = context(&app, &flow, sid).await;
    assert_eq!(ctx["trigger"]["request"]["to"], TO);
    assert_eq!(ctx["trigger"]["request"]["from"], FROM);
    assert_eq!(ctx["trigger"]["request"]["parameters"]["name"], "Ann");
    assert_eq!(ctx["contact"]["channel"]["address"], TO);
    assert_eq!(ctx["flow"]["channel"]["address"], FROM);
    assert_eq!(ctx["flow"]["sid"], sid, "Twilio puts the execution SID in flow.sid");
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
            &format!("/2010-04-01/Accounts/{}/Messages.json?To=%2B15551230001", app.main().user),
            &app.main(),
        )
        .await;
    assert_eq!(code, 200, "{sent}");
    assert_eq!(sent["messages"].as_array().unwrap().len(), 1, "{sent}");
    assert_eq!(sent["messages"][0]["sid"], outbound["Sid"]);
    assert_eq!(sent["messages"][0]["body"], "Hola Ann");

    // The step and its context, fetched on their own.
    let step = &all[3];
    let step_url = format!("/v2/Flows/{flow}/Executions/{sid}/Steps/{}", step["sid"].as_str().unwrap());
    let (code, fetched) = app.get(&step_url, &app.main()).await;
    assert_eq!(code, 200);
    assert_eq!(&fetched, step);
    assert_eq!(fetched["links"]["step_context"], format!("{}{step_url}/Context", app.base));
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
    let (code, other) = start(&app, &app.main(), &flow, "+15551230002", Some(r#"{"name": "Bo", "lang": "en"}"#)).await;
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
    assert_eq!(body["message"], "Missing required parameter To in the post body");
    let (code, body) = app.post(&url, &app.main(), &[("To", TO)]).await;
    assert_twilio_error(code, &body, 400, 20001);
    assert_eq!(body["message"], "Missing required parameter From in the post body");
    for bad in ["[1,2]", "not json", "\"text\""] {
        let (code, body) = start(&app, &app.main(), &flow, TO, Some(bad)).await;
        assert_twilio_error(code, &body, 400, 20001);
    }
    // Unknown parameters (the spec's example sends ExternalId) are ignored.
    let (code, body) = app
        .post(&url, &app.main(), &[("To", TO), ("From", FROM), ("ExternalId", "x")])
        .await;
    assert_eq!(code, 201, "{body}");
    let missing = "FW00000000000000000000000000000000";
    let (code, body) = start(&app, &app.main(), missing, TO, None).await;
    assert_twilio_error(code, &body, 404, 20404);
    let (code, body) = app.post(&format!("/v2/Flows/{missing}/Executions"), &app.main(), &[]).await;
    assert_twilio_error(code, &body, 404, 20404);
    assert_eq!(app.count("studio_executions").await, 1);
}

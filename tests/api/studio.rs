use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{Creds, TestApp, assert_twilio_error},
    spec::{assert_schema, assert_v1_page},
};

const STUDIO: &str = "twilio_studio_v2.json";

pub fn definition() -> Value {
    json!({
        "description": "A New Flow",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": true},
        "states": [
            {"name": "Trigger", "type": "trigger", "properties": {"offset": {"x": 0, "y": 0}},
             "transitions": [{"event": "incomingMessage", "next": "reply"}, {"event": "incomingCall"}]},
            {"name": "reply", "type": "send-message", "properties": {"body": "Hi ✓"},
             "transitions": [{"event": "sent"}, {"event": "failed"}]}
        ]
    })
}

fn broken_definition() -> Value {
    json!({"initial_state": "Nowhere", "states": [{"name": "a", "type": "say-play", "properties": {}, "transitions": []}]})
}

async fn create(
    app: &TestApp,
    who: &Creds,
    status: &str,
    def: &Value,
) -> (reqwest::StatusCode, Value) {
    let text = def.to_string();
    app.post(
        "/v2/Flows",
        who,
        &[
            ("FriendlyName", "My flow"),
            ("Status", status),
            ("Definition", &text),
            ("CommitMessage", "first"),
        ],
    )
    .await
}

pub async fn new_flow(app: &TestApp, who: &Creds) -> String {
    let (status, body) = create(app, who, "published", &definition()).await;
    assert_eq!(status, 201, "{body}");
    body["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn create_returns_every_spec_field_with_the_definition_as_an_object() {
    let app = TestApp::spawn().await;
    let (status, body) = create(&app, &app.main(), "published", &definition()).await;
    assert_eq!(status, 201, "{body}");
    assert_schema(STUDIO, "studio.v2.flow", &body);
    let sid = body["sid"].as_str().unwrap();
    assert_eq!(body["definition"], definition());
    assert_eq!(body["revision"], 1);
    assert_eq!(body["status"], "published");
    assert_eq!(body["commit_message"], "first");
    assert_eq!(
        (
            body["valid"].as_bool(),
            body["errors"].clone(),
            body["warnings"].clone()
        ),
        (Some(true), json!([]), json!([]))
    );
    assert!(
        body["date_updated"].is_null(),
        "null until the first update, as in the spec example"
    );
    assert_eq!(body["url"], format!("{}/v2/Flows/{sid}", app.base));
    assert_eq!(
        body["links"]["test_users"],
        format!("{}/v2/Flows/{sid}/TestUsers", app.base)
    );
    assert_eq!(
        body["links"]["revisions"],
        format!("{}/v2/Flows/{sid}/Revisions", app.base)
    );
    assert_eq!(
        body["links"]["executions"],
        format!("{}/v2/Flows/{sid}/Executions", app.base)
    );
    // Every link resolves.
    for link in ["test_users", "revisions", "executions"] {
        let path = body["links"][link]
            .as_str()
            .unwrap()
            .trim_start_matches(&app.base)
            .to_owned();
        assert_eq!(app.get(&path, &app.main()).await.0, 200, "{link}");
    }
    let (status, fetched) = app.get(&format!("/v2/Flows/{sid}"), &app.main()).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, body);
}

#[tokio::test]
async fn create_checks_required_parameters_then_formats_and_writes_nothing_on_error() {
    let app = TestApp::spawn().await;
    let def = definition().to_string();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("Status", "draft"), ("Definition", &def)],
            "Missing required parameter FriendlyName in the post body",
        ),
        (
            vec![("FriendlyName", "x"), ("Definition", &def)],
            "Missing required parameter Status in the post body",
        ),
        (
            vec![("FriendlyName", "x"), ("Status", "draft")],
            "Missing required parameter Definition in the post body",
        ),
        (
            vec![
                ("FriendlyName", ""),
                ("Status", "draft"),
                ("Definition", &def),
            ],
            "Missing required parameter FriendlyName in the post body",
        ),
    ];
    for (form, message) in cases {
        let (status, body) = app.post("/v2/Flows", &app.main(), &form).await;
        assert_twilio_error(status, &body, 400, 20001);
        assert_eq!(body["message"], message);
    }
    for (status_value, definition) in [
        ("live", def.as_str()),
        ("draft", "{not json"),
        ("draft", "[1,2]"),
        ("draft", "\"text\""),
    ] {
        let (status, body) = app
            .post(
                "/v2/Flows",
                &app.main(),
                &[
                    ("FriendlyName", "x"),
                    ("Status", status_value),
                    ("Definition", definition),
                ],
            )
            .await;
        assert_twilio_error(status, &body, 400, 20001);
    }
    assert_eq!(app.count("flows").await, 0);
}

#[tokio::test]
async fn drafts_keep_their_problems_but_publishing_them_is_81022() {
    let app = TestApp::spawn().await;
    let (status, draft) = create(&app, &app.main(), "draft", &broken_definition()).await;
    assert_eq!(status, 201, "{draft}");
    assert_schema(STUDIO, "studio.v2.flow", &draft);
    assert_eq!(draft["valid"], false);
    assert!(!draft["errors"].as_array().unwrap().is_empty());

    let (status, body) = create(&app, &app.main(), "published", &broken_definition()).await;
    assert_twilio_error(status, &body, 400, 81022);
    let problems = body["details"]["errors"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["message"].as_str().unwrap().contains("trigger")),
        "{body}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["property_path"] == "#/initial_state"),
        "{body}"
    );
    assert_eq!(app.count("flows").await, 1);

    // Publishing the broken draft fails too, and leaves it at revision 1.
    let sid = draft["sid"].as_str().unwrap();
    let (status, body) = app
        .post(
            &format!("/v2/Flows/{sid}"),
            &app.main(),
            &[("Status", "published")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 81022);
    let (_, fetched) = app.get(&format!("/v2/Flows/{sid}"), &app.main()).await;
    assert_eq!(
        (fetched["revision"].as_i64(), fetched["status"].as_str()),
        (Some(1), Some("draft"))
    );
}

#[tokio::test]
async fn updates_add_revisions_and_old_revisions_keep_their_definition() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    let path = format!("/v2/Flows/{sid}");
    let mut second = definition();
    second["description"] = json!("second");
    let second_text = second.to_string();

    let (status, body) = app.post(&path, &app.main(), &[]).await;
    assert_twilio_error(status, &body, 400, 20001);
    assert_eq!(
        body["message"],
        "Missing required parameter Status in the post body"
    );

    let (status, updated) = app
        .post(
            &path,
            &app.main(),
            &[
                ("Status", "draft"),
                ("Definition", &second_text),
                ("CommitMessage", "two"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_schema(STUDIO, "studio.v2.flow", &updated);
    assert_eq!(
        (updated["revision"].as_i64(), updated["status"].as_str()),
        (Some(2), Some("draft"))
    );
    assert_eq!(updated["commit_message"], "two");
    assert_eq!(
        updated["friendly_name"], "My flow",
        "unchanged fields carry over"
    );
    assert!(updated["date_updated"].is_string());

    // Nothing changed: no new revision.
    let (_, same) = app.post(&path, &app.main(), &[("Status", "draft")]).await;
    assert_eq!(same["revision"], 2);
    let (_, renamed) = app
        .post(
            &path,
            &app.main(),
            &[("Status", "draft"), ("FriendlyName", "Renamed")],
        )
        .await;
    assert_eq!(
        (
            renamed["revision"].as_i64(),
            renamed["friendly_name"].as_str()
        ),
        (Some(3), Some("Renamed"))
    );

    let (status, list) = app.get(&format!("{path}/Revisions"), &app.main()).await;
    assert_eq!(status, 200);
    assert_v1_page(&list, "revisions");
    let revisions = list["revisions"].as_array().unwrap();
    assert_eq!(
        revisions
            .iter()
            .map(|r| r["revision"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    for r in revisions {
        assert_schema(STUDIO, "studio.v2.flow.flow_revision", r);
    }
    // List items carry null content, as the spec's list example does; the commit message stays.
    for field in ["definition", "valid", "errors"] {
        assert!(
            revisions.iter().all(|r| r[field].is_null()),
            "{field} in {list}"
        );
    }
    assert_eq!(revisions[1]["commit_message"], "two");
    let (_, one) = app.get(&format!("{path}/Revisions/1"), &app.main()).await;
    assert_schema(STUDIO, "studio.v2.flow.flow_revision", &one);
    assert_eq!(
        (one["definition"].clone(), one["status"].as_str()),
        (definition(), Some("published"))
    );
    assert_eq!(one["url"], format!("{}{path}/Revisions/1", app.base));
    assert_eq!(
        (one["valid"].clone(), one["errors"].clone()),
        (json!(true), json!([]))
    );
    let (_, two) = app.get(&format!("{path}/Revisions/2"), &app.main()).await;
    assert_eq!(
        (two["definition"].clone(), two["valid"].clone()),
        (second, json!(true))
    );
    let (_, latest) = app
        .get(&format!("{path}/Revisions/LatestRevision"), &app.main())
        .await;
    assert_eq!(latest["revision"], 3);
    let (_, published) = app
        .get(&format!("{path}/Revisions/LatestPublished"), &app.main())
        .await;
    assert_eq!(published["revision"], 1);
    for bad in ["0", "4", "x", "-1"] {
        let (status, body) = app
            .get(&format!("{path}/Revisions/{bad}"), &app.main())
            .await;
        assert_twilio_error(status, &body, 404, 20404);
    }
}

#[tokio::test]
async fn validate_answers_valid_true_or_81022_with_details() {
    let app = TestApp::spawn().await;
    let def = definition().to_string();
    let (status, body) = app
        .post(
            "/v2/Flows/Validate",
            &app.main(),
            &[
                ("FriendlyName", "v"),
                ("Status", "draft"),
                ("Definition", &def),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_schema(STUDIO, "studio.v2.flow_validate", &body);
    assert_eq!(body, json!({"valid": true}));
    let broken = broken_definition().to_string();
    let (status, body) = app
        .post(
            "/v2/Flows/Validate",
            &app.main(),
            &[
                ("FriendlyName", "v"),
                ("Status", "draft"),
                ("Definition", &broken),
            ],
        )
        .await;
    assert_twilio_error(status, &body, 400, 81022);
    assert!(
        body["details"]["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
    let (status, body) = app
        .post(
            "/v2/Flows/Validate",
            &app.main(),
            &[("FriendlyName", "v"), ("Status", "draft")],
        )
        .await;
    assert_twilio_error(status, &body, 400, 20001);
    assert_eq!(app.count("flows").await, 0, "validate stores nothing");
}

#[tokio::test]
async fn list_pages_through_flows_in_creation_order() {
    let app = TestApp::spawn().await;
    let mut sids = Vec::new();
    for _ in 0..5 {
        sids.push(new_flow(&app, &app.main()).await);
    }
    let (status, first) = app.get("/v2/Flows?PageSize=2", &app.main()).await;
    assert_eq!(status, 200);
    assert_v1_page(&first, "flows");
    assert_eq!(
        first["meta"]["first_page_url"],
        format!("{}/v2/Flows?PageSize=2&Page=0", app.base)
    );
    for item in first["flows"].as_array().unwrap() {
        assert_schema(STUDIO, "studio.v2.flow", item);
        assert!(
            item["definition"].is_null(),
            "list items omit the definition, as the spec example"
        );
    }
    let mut seen = Vec::new();
    let mut next = Some("/v2/Flows?PageSize=2".to_owned());
    while let Some(url) = next {
        let (_, page) = app.get(&url, &app.main()).await;
        seen.extend(
            page["flows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["sid"].as_str().unwrap().to_owned()),
        );
        next = page["meta"]["next_page_url"]
            .as_str()
            .map(|u| u.trim_start_matches(&app.base).to_owned());
    }
    assert_eq!(seen, sids);
}

#[tokio::test]
async fn delete_removes_the_flow_with_its_revisions_and_test_users() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    app.post(
        &format!("/v2/Flows/{sid}/TestUsers"),
        &app.main(),
        &[("TestUsers", "a"), ("TestUsers", "b")],
    )
    .await;
    let (status, text) = app.delete(&format!("/v2/Flows/{sid}"), &app.main()).await;
    assert_eq!((status.as_u16(), text.as_str()), (204, ""));
    for path in [
        format!("/v2/Flows/{sid}"),
        format!("/v2/Flows/{sid}/TestUsers"),
        format!("/v2/Flows/{sid}/Revisions"),
    ] {
        let (status, body) = app.get(&path, &app.main()).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    assert_eq!(
        (
            app.count("flows").await,
            app.count("flow_revisions").await,
            app.count("flow_test_users").await
        ),
        (0, 0, 0)
    );
    assert_eq!(
        app.delete(&format!("/v2/Flows/{sid}"), &app.main()).await.0,
        404
    );
}

#[tokio::test]
async fn another_account_gets_404_for_everything() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    let other = app.subaccount(&app.main(), "other").await;
    let def = definition().to_string();
    for (method, path, form) in [
        (Method::GET, format!("/v2/Flows/{sid}"), None),
        (
            Method::POST,
            format!("/v2/Flows/{sid}"),
            Some(vec![("Status", "draft"), ("Definition", def.as_str())]),
        ),
        (Method::DELETE, format!("/v2/Flows/{sid}"), None),
        (Method::GET, format!("/v2/Flows/{sid}/Revisions"), None),
        (Method::GET, format!("/v2/Flows/{sid}/Revisions/1"), None),
        (Method::GET, format!("/v2/Flows/{sid}/TestUsers"), None),
        (
            Method::POST,
            format!("/v2/Flows/{sid}/TestUsers"),
            Some(vec![("TestUsers", "intruder")]),
        ),
        (Method::GET, format!("/v2/Flows/{sid}/Executions"), None),
    ] {
        let response = app
            .request(method, &path, Some(&other), form.as_deref())
            .await;
        let (status, body) = crate::helpers::into_json(response).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    let (_, list) = app.get("/v2/Flows", &other).await;
    assert_eq!(list["flows"], json!([]));
    let (_, mine) = app.get(&format!("/v2/Flows/{sid}"), &app.main()).await;
    assert_eq!(mine["revision"], 1);
    let (_, users) = app
        .get(&format!("/v2/Flows/{sid}/TestUsers"), &app.main())
        .await;
    assert_eq!(users["test_users"], json!([]));
}

#[tokio::test]
async fn malformed_flow_sids_are_404() {
    let app = TestApp::spawn().await;
    for sid in [
        "FW123",
        "ISffffffffffffffffffffffffffffffff",
        "FWffffffffffffffffffffffffffffffff",
    ] {
        let (status, body) = app
            .get(&format!("/v2/Flows/{sid}/TestUsers"), &app.main())
            .await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    let response = app
        .request(Method::GET, "/v2/Flows/Validate", Some(&app.main()), None)
        .await;
    let (status, body) = crate::helpers::into_json(response).await;
    assert_twilio_error(status, &body, 405, 20004);
}

#[tokio::test]
async fn an_unknown_flow_is_404_before_its_parameters_are_judged() {
    let app = TestApp::spawn().await;
    let other = app.subaccount(&app.main(), "other").await;
    let sid = new_flow(&app, &app.main()).await;
    for (path, form) in [
        (format!("/v2/Flows/{sid}"), vec![]), // Status missing
        (format!("/v2/Flows/{sid}"), vec![("Status", "live")]), // bad Status
        (format!("/v2/Flows/{sid}/TestUsers"), vec![]), // TestUsers missing
        (
            format!("/v2/Flows/{sid}/TestUsers"),
            vec![("TestUsers", "")],
        ), // empty identity
        (
            "/v2/Flows/FWffffffffffffffffffffffffffffffff/TestUsers".to_owned(),
            vec![("TestUsers", "ok")],
        ),
    ] {
        let (status, body) = app.post(&path, &other, &form).await;
        assert_twilio_error(status, &body, 404, 20404);
    }
    // The owner gets the parameter errors.
    let (status, body) = app
        .post(&format!("/v2/Flows/{sid}/TestUsers"), &app.main(), &[])
        .await;
    assert_twilio_error(status, &body, 400, 20001);
}

#[tokio::test]
async fn a_stored_definition_that_does_not_parse_is_500_and_no_revision_is_built_on_it() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    app.execute(
        "update flow_revisions set definition = '{not json' where flow_sid = $1",
        &[&sid],
    )
    .await;
    let path = format!("/v2/Flows/{sid}");
    let (status, body) = app.get(&path, &app.main()).await;
    assert_twilio_error(status, &body, 500, 20500);
    // An update keeping the stored definition must not treat it as anything (null, say).
    let (status, body) = app
        .post(
            &path,
            &app.main(),
            &[("Status", "draft"), ("FriendlyName", "Renamed")],
        )
        .await;
    assert_twilio_error(status, &body, 500, 20500);
    assert_eq!(app.count("flow_revisions").await, 1, "no revision added");
    let (status, body) = app.get(&format!("{path}/Revisions"), &app.main()).await;
    assert_twilio_error(status, &body, 500, 20500);
}

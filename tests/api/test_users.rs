//! Studio TestUsers (seed page 000): the 300-byte rule, exact round-trips, atomic replacement.

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, assert_twilio_error},
    spec::assert_schema,
    studio::new_flow,
};

async fn post_users(app: &TestApp, sid: &str, users: &[&str]) -> (reqwest::StatusCode, Value) {
    let form: Vec<(&str, &str)> = users.iter().map(|u| ("TestUsers", *u)).collect();
    app.post(&format!("/v2/Flows/{sid}/TestUsers"), &app.main(), &form)
        .await
}

async fn stored(app: &TestApp, sid: &str) -> Value {
    app.get(&format!("/v2/Flows/{sid}/TestUsers"), &app.main())
        .await
        .1["test_users"]
        .clone()
}

#[tokio::test]
async fn fetch_and_replace_return_the_seed_page_shape() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    let (status, empty) = app
        .get(&format!("/v2/Flows/{sid}/TestUsers"), &app.main())
        .await;
    assert_eq!(status, 200);
    assert_schema("twilio_studio_v2.json", "studio.v2.flow.test_user", &empty);
    assert_eq!(
        empty,
        json!({"sid": sid, "test_users": [], "url": format!("{}/v2/Flows/{sid}/TestUsers", app.base)})
    );

    let (status, body) = post_users(&app, &sid, &["user1", "user2"]).await;
    assert_eq!(status, 200, "{body}");
    assert_schema("twilio_studio_v2.json", "studio.v2.flow.test_user", &body);
    assert_eq!(body["test_users"], json!(["user1", "user2"]));
    let (_, body) = post_users(&app, &sid, &["user3"]).await;
    assert_eq!(
        body["test_users"],
        json!(["user3"]),
        "the POST replaces the whole list"
    );
    assert_eq!(stored(&app, &sid).await, json!(["user3"]));
}

#[tokio::test]
async fn the_300_byte_limit_counts_utf8_bytes() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    let ascii_300 = "a".repeat(300);
    let cjk_300 = "中".repeat(100); // 3 bytes each
    let emoji_300 = "😀".repeat(75); // 4 bytes each
    let (status, body) = post_users(&app, &sid, &[&ascii_300, &cjk_300, &emoji_300]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["test_users"], json!([ascii_300, cjk_300, emoji_300]));

    let ascii_301 = "a".repeat(301);
    let cjk_303 = "中".repeat(101);
    let straddling = format!("{}😀", "a".repeat(297)); // 301 bytes: the emoji crosses the limit
    for too_long in [&ascii_301, &cjk_303, &straddling] {
        let (status, body) = post_users(&app, &sid, &["fine", too_long]).await;
        assert_twilio_error(status, &body, 400, 20001);
        assert_eq!(
            stored(&app, &sid).await,
            json!([ascii_300, cjk_300, emoji_300]),
            "a rejected list changes nothing"
        );
    }
}

#[tokio::test]
async fn identities_round_trip_exactly() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    let identities = [
        "+14155551212",
        "a b",
        "100%",
        "%2B",
        "emoji 🎉",
        "line\nbreak",
        "tab\tand&amp=",
        "client:alice",
    ];
    let (status, body) = post_users(&app, &sid, &identities).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["test_users"], json!(identities));
    assert_eq!(stored(&app, &sid).await, json!(identities));
}

#[tokio::test]
async fn missing_empty_and_duplicate_identities() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    post_users(&app, &sid, &["keep"]).await;
    let (status, body) = post_users(&app, &sid, &[]).await;
    assert_twilio_error(status, &body, 400, 20001);
    assert_eq!(
        body["message"],
        "Missing required parameter TestUsers in the post body"
    );
    let (status, body) = post_users(&app, &sid, &["a", ""]).await;
    assert_twilio_error(status, &body, 400, 20001);
    assert_eq!(stored(&app, &sid).await, json!(["keep"]));
    let (_, body) = post_users(&app, &sid, &["b", "a", "b", "c", "a"]).await;
    assert_eq!(
        body["test_users"],
        json!(["b", "a", "c"]),
        "first occurrences, in order"
    );
}

#[tokio::test]
async fn test_users_survive_flow_updates_and_restarts() {
    let mut app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    post_users(&app, &sid, &["x", "y"]).await;
    app.post(
        &format!("/v2/Flows/{sid}"),
        &app.main(),
        &[("Status", "draft"), ("FriendlyName", "changed")],
    )
    .await;
    assert_eq!(stored(&app, &sid).await, json!(["x", "y"]));
    let (_, before) = app.get(&format!("/v2/Flows/{sid}"), &app.main()).await;
    app.restart().await;
    assert_eq!(stored(&app, &sid).await, json!(["x", "y"]));
    let (_, after) = app.get(&format!("/v2/Flows/{sid}"), &app.main()).await;
    assert_eq!(after, before);
    let (_, revisions) = app
        .get(&format!("/v2/Flows/{sid}/Revisions"), &app.main())
        .await;
    assert_eq!(revisions["revisions"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn concurrent_replacements_leave_one_complete_list() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    let lists: Vec<Vec<String>> = (0..12)
        .map(|i| (0..20).map(|j| format!("list{i}-user{j}")).collect())
        .collect();
    let mut tasks = Vec::new();
    for list in lists.clone() {
        let client = app.client.clone();
        let url = format!("{}/v2/Flows/{sid}/TestUsers", app.base);
        let form: Vec<(String, String)> = list
            .into_iter()
            .map(|u| ("TestUsers".to_owned(), u))
            .collect();
        tasks.push(tokio::spawn(async move {
            let request = client
                .post(url)
                .basic_auth(crate::helpers::MAIN_SID, Some(crate::helpers::MAIN_TOKEN))
                .form(&form);
            crate::helpers::into_json(crate::helpers::send(request).await)
                .await
                .0
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let final_list: Vec<String> = serde_json::from_value(stored(&app, &sid).await).unwrap();
    assert!(
        lists.contains(&final_list),
        "one whole list, never a mix: {final_list:?}"
    );
    assert_eq!(app.count("flow_test_users").await, 20);
}

#[tokio::test]
async fn another_accounts_replacement_is_404_and_leaves_the_list() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    post_users(&app, &sid, &["a", "b"]).await;
    let other = app.subaccount(&app.main(), "other").await;
    let (status, body) = app
        .post(
            &format!("/v2/Flows/{sid}/TestUsers"),
            &other,
            &[("TestUsers", "intruder")],
        )
        .await;
    assert_twilio_error(status, &body, 404, 20404);
    assert_eq!(stored(&app, &sid).await, json!(["a", "b"]));
}

#[tokio::test]
async fn long_lists_keep_their_order_across_several_inserts() {
    let app = TestApp::spawn().await;
    let sid = new_flow(&app, &app.main()).await;
    let users: Vec<String> = (0..250).map(|i| format!("client:u{i}")).collect();
    let refs: Vec<&str> = users.iter().map(String::as_str).collect();
    let (status, body) = post_users(&app, &sid, &refs).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored(&app, &sid).await, json!(users));
    let (_, body) = post_users(&app, &sid, &refs[..3]).await;
    assert_eq!(body["test_users"], json!(users[..3]));
    assert_eq!(stored(&app, &sid).await, json!(users[..3]));
}

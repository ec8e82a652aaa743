use crate::{
    helpers::{Creds, MAIN_SID, TestApp, assert_twilio_error},
    spec::{assert_2010_page, assert_schema},
};

const API: &str = "twilio_api_v2010.json";

fn keys_path() -> String {
    format!("/2010-04-01/Accounts/{MAIN_SID}/Keys.json")
}

#[tokio::test]
async fn create_returns_the_secret_once_and_fetch_list_never_do() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .post(&keys_path(), &app.main(), &[("FriendlyName", "ci key")])
        .await;
    assert_eq!(status, 201, "{created}");
    assert_schema(API, "api.v2010.account.new_key", &created);
    assert_eq!(created["friendly_name"], "ci key");
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32);
    let sid = created["sid"].as_str().unwrap();

    let (status, fetched) = app
        .get(
            &format!("/2010-04-01/Accounts/{MAIN_SID}/Keys/{sid}.json"),
            &app.main(),
        )
        .await;
    assert_eq!(status, 200, "{fetched}");
    assert_schema(API, "api.v2010.account.key", &fetched);
    assert_eq!(fetched["date_created"], created["date_created"]);

    let (status, list) = app.get(&keys_path(), &app.main()).await;
    assert_eq!(status, 200);
    assert_2010_page(&list, "keys");
    assert_eq!(list["keys"].as_array().unwrap().len(), 1);
    assert_schema(API, "api.v2010.account.key", &list["keys"][0]);
    assert!(!list.to_string().contains(secret));
}

#[tokio::test]
async fn a_key_without_a_name_has_a_null_friendly_name() {
    let app = TestApp::spawn().await;
    let (status, created) = app.post(&keys_path(), &app.main(), &[]).await;
    assert_eq!(status, 201);
    assert!(created["friendly_name"].is_null());
}

#[tokio::test]
async fn update_renames_and_delete_stops_the_key_at_once() {
    let app = TestApp::spawn().await;
    let (_, created) = app
        .post(&keys_path(), &app.main(), &[("FriendlyName", "old")])
        .await;
    let sid = created["sid"].as_str().unwrap();
    let key = Creds::new(sid, created["secret"].as_str().unwrap());
    let path = format!("/2010-04-01/Accounts/{MAIN_SID}/Keys/{sid}.json");

    let (status, body) = app
        .post(&path, &app.main(), &[("FriendlyName", "new")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_schema(API, "api.v2010.account.key", &body);
    assert_eq!(body["friendly_name"], "new");

    // The key authenticates (twice: the second from the cache) …
    for _ in 0..2 {
        assert_eq!(app.get("/v1/Nothing", &key).await.0, 404);
    }
    let (status, text) = app.delete(&path, &app.main()).await;
    assert_eq!((status.as_u16(), text.as_str()), (204, ""));
    assert_eq!(app.count("api_keys").await, 0);
    // … and stops the moment it is deleted.
    let (status, body) = app.get("/v1/Nothing", &key).await;
    assert_twilio_error(status, &body, 401, 20003);
    let (status, body) = app.get(&path, &app.main()).await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, _) = app.delete(&path, &app.main()).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_standard_key_cannot_manage_accounts_or_keys() {
    let app = TestApp::spawn().await;
    let (_, created) = app.post(&keys_path(), &app.main(), &[]).await;
    let sid = created["sid"].as_str().unwrap();
    let key = Creds::new(sid, created["secret"].as_str().unwrap());
    let before = app.count("accounts").await;
    for (status, body) in [
        app.get("/2010-04-01/Accounts.json", &key).await,
        app.post("/2010-04-01/Accounts.json", &key, &[]).await,
        app.get(&format!("/2010-04-01/Accounts/{MAIN_SID}.json"), &key)
            .await,
        app.get(&keys_path(), &key).await,
        app.post(&keys_path(), &key, &[]).await,
        app.get(
            &format!("/2010-04-01/Accounts/{MAIN_SID}/Keys/{sid}.json"),
            &key,
        )
        .await,
    ] {
        assert_twilio_error(status, &body, 401, 20003);
    }
    assert_eq!(app.count("accounts").await, before);
    assert_eq!(app.count("api_keys").await, 1);
}

#[tokio::test]
async fn keys_of_other_accounts_are_404_but_a_parent_manages_its_subaccounts_keys() {
    let app = TestApp::spawn().await;
    let a = app.subaccount(&app.main(), "a").await;
    let b = app.subaccount(&app.main(), "b").await;
    let a_keys = format!("/2010-04-01/Accounts/{}/Keys.json", a.user);
    let (status, key) = app
        .post(&a_keys, &app.main(), &[("FriendlyName", "by parent")])
        .await;
    assert_eq!(status, 201, "{key}");
    let sid = key["sid"].as_str().unwrap();
    let a_key = format!("/2010-04-01/Accounts/{}/Keys/{sid}.json", a.user);
    assert_eq!(app.get(&a_key, &a).await.0, 200);

    // b cannot see a's key, not even through its own account path.
    let (status, body) = app.get(&a_key, &b).await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, body) = app
        .get(
            &format!("/2010-04-01/Accounts/{}/Keys/{sid}.json", b.user),
            &b,
        )
        .await;
    assert_twilio_error(status, &body, 404, 20404);
    let (status, _) = app
        .delete(
            &format!("/2010-04-01/Accounts/{}/Keys/{sid}.json", b.user),
            &b,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(app.count("api_keys").await, 1);
}

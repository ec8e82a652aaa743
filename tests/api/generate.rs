//! `localtwilio seed --generate` through the binary: the same numbers give the same data set,
//! every reference in it holds, the manifest's credentials and URLs work against the server,
//! and a second run into the same database is refused in one line.

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::helpers::{Creds, TestApp, skip_on_postgres};

const SIZES: &[&str] = &[
    "--accounts",
    "2",
    "--users",
    "60",
    "--flows",
    "6",
    "--end-users",
    "10",
    "--keys",
    "3",
    "--seed",
    "7",
];

fn generate(db: &Path, manifest: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_localtwilio"))
        .args([
            "seed",
            "--generate",
            "--manifest",
            manifest.to_str().unwrap(),
        ])
        .args(SIZES)
        .env("LOCALTWILIO_DATABASE", db)
        .env("LOCALTWILIO_LOG", "warn")
        .output()
        .unwrap()
}

fn manifest(path: &Path) -> Value {
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    value.as_object_mut().unwrap().remove("seconds");
    value
}

#[tokio::test]
async fn generated_data_sets_are_deterministic_consistent_and_usable() {
    if skip_on_postgres() {
        return;
    }
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let db = |dir: &tempfile::TempDir| dir.path().join("db/localtwilio.db");
    let (m1, m2) = (first.path().join("m.json"), second.path().join("m.json"));
    for (dir, path) in [(&first, &m1), (&second, &m2)] {
        let output = generate(&db(dir), path);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary = String::from_utf8_lossy(&output.stderr);
        assert!(summary.contains("generated 115 rows"), "{summary}");
        // Not on a terminal: no progress bar, just the one summary line.
        assert_eq!(summary.trim_end().lines().count(), 1, "{summary}");
    }
    let manifest = manifest(&m1);
    assert_eq!(manifest, self::manifest(&m2), "same numbers, same data set");

    // Again into the same database: refused, in one line.
    let again = generate(&db(&first), &first.path().join("m2.json"));
    assert_eq!(again.status.code(), Some(1));
    let line = String::from_utf8_lossy(&again.stderr);
    assert_eq!(line.trim_end().lines().count(), 1, "{line}");
    assert!(line.contains("already exists"), "{line}");

    // Every reference holds (the load checks foreign keys once, at the end).
    let url = format!("sqlite://{}?mode=ro", db(&first).display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let dangling: Vec<(String,)> = sqlx::query_as("select \"table\" from pragma_foreign_key_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert!(dangling.is_empty(), "{dangling:?}");
    let integrity: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");

    let app = TestApp::spawn_in(first).await;
    let account = &manifest["accounts"][1];
    let creds = Creds::new(
        account["sid"].as_str().unwrap(),
        account["auth_token"].as_str().unwrap(),
    );
    let (status, users) = app.get("/v1/Users?PageSize=50", &creds).await;
    assert_eq!(status, 200, "{users}");
    assert_eq!(users["users"].as_array().unwrap().len(), 30);
    let sample = account["sample_user_sids"][7].as_str().unwrap();
    let (_, user) = app.get(&format!("/v1/Users/{sample}"), &creds).await;
    assert_eq!(user["identity"], account["sample_identities"][7]);
    // The deep page URL is the last full page: users 21–30 of 30.
    let (status, page) = app
        .get(account["deep_users_page"].as_str().unwrap(), &creds)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["users"].as_array().unwrap().len(), 10);
    assert_eq!(page["users"][0]["identity"], "user-1-0000020");
    let flow = account["sample_flow_sids"][0].as_str().unwrap();
    let (_, test_users) = app
        .get(&format!("/v2/Flows/{flow}/TestUsers"), &creds)
        .await;
    assert_eq!(test_users["test_users"].as_array().unwrap().len(), 3);
    let (_, end_users) = app.get("/v1/EndUsers", &creds).await;
    assert_eq!(end_users["results"].as_array().unwrap().len(), 5);
    // Keys belong to the first account and authenticate with their secrets.
    let key = &manifest["keys"][2];
    assert_eq!(key["account_sid"], manifest["accounts"][0]["sid"]);
    let key_creds = Creds::new(
        key["sid"].as_str().unwrap(),
        key["secret"].as_str().unwrap(),
    );
    assert_eq!(app.get("/v1/Users", &key_creds).await.0, 200);
}

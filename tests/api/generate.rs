//! `localtwilio seed --generate` through the binary: the same numbers give the same data set,
//! every reference in it holds, the manifest's credentials and URLs work against the server,
//! and a second run into the same database is refused in one line.

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::helpers::{Creds, TestApp};

const SIZES: &[&str] = &[
    "--accounts",
    "2",
    "--users",
    "60",
    "--flows",
    "6",
    "--end-users",
    "10",
    "--conversations",
    "4",
    "--participants",
    "3",
    "--messages",
    "5",
    "--keys",
    "3",
    "--seed",
    "7",
];

fn generate(db: &Path, manifest: &Path) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_localtwilio"));
    if localtwilio::store::postgres_url(db).is_some() {
        command.env("LOCALTWILIO_SECRET_KEY", crate::helpers::TEST_SECRET_KEY);
    }
    command
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
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The SQLite file in the folder, or its PostgreSQL database (empty, migrated).
    let db = |dir: &tempfile::TempDir| crate::helpers::config(dir.path()).database;
    let (m1, m2) = (first.path().join("m.json"), second.path().join("m.json"));
    for (dir, path) in [(&first, &m1), (&second, &m2)] {
        let output = generate(&db(dir), path);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary = String::from_utf8_lossy(&output.stderr);
        // 115 rows, and 4 conversations with 3 participants and 5 messages each.
        assert!(summary.contains("generated 151 rows"), "{summary}");
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

    // Every reference holds (the load checks foreign keys once, at the end; PostgreSQL
    // checks each row).
    if !crate::helpers::postgres::enabled() {
        sqlite_is_consistent(&db(&first)).await;
    }
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
    // Conversations: 2 per account, each with 3 of its users and 5 messages by them in turn.
    let (_, conversations) = app.get("/v1/Conversations", &creds).await;
    assert_eq!(conversations["conversations"].as_array().unwrap().len(), 2);
    let conversation = account["sample_conversation_sids"][1].as_str().unwrap();
    let (status, found) = app
        .get("/v1/Conversations/conversation-1-0000001", &creds)
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["sid"], conversation);
    let (_, participants) = app
        .get(
            &format!("/v1/Conversations/{conversation}/Participants"),
            &creds,
        )
        .await;
    let identities: Vec<&str> = participants["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["identity"].as_str().unwrap())
        .collect();
    assert_eq!(
        identities,
        ["user-1-0000003", "user-1-0000004", "user-1-0000005"]
    );
    let (_, messages) = app
        .get(
            &format!("/v1/Conversations/{conversation}/Messages"),
            &creds,
        )
        .await;
    let messages = messages["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 5);
    for (i, message) in messages.iter().enumerate() {
        assert_eq!(message["index"], i);
        assert_eq!(message["author"], identities[i % 3]);
        assert_eq!(
            message["participant_sid"],
            participants["participants"][i % 3]["sid"]
        );
    }
    // The next message takes the next index; the participant's user sees its conversation.
    let (status, posted) = app
        .post(
            &format!("/v1/Conversations/{conversation}/Messages"),
            &creds,
            &[("Author", "user-1-0000004"), ("Body", "next")],
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    assert_eq!(posted["index"], 5);
    let (_, theirs) = app
        .get("/v1/Users/user-1-0000004/Conversations", &creds)
        .await;
    let theirs = theirs["conversations"].as_array().unwrap();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["conversation_sid"], conversation);
    // Keys belong to the first account and authenticate with their secrets.
    let key = &manifest["keys"][2];
    assert_eq!(key["account_sid"], manifest["accounts"][0]["sid"]);
    let key_creds = Creds::new(
        key["sid"].as_str().unwrap(),
        key["secret"].as_str().unwrap(),
    );
    assert_eq!(app.get("/v1/Users", &key_creds).await.0, 200);
    crate::helpers::postgres::drop_database_for(second.path());
}

/// `foreign_key_check` and `integrity_check` on a generated SQLite file.
async fn sqlite_is_consistent(db: &Path) {
    let url = format!("sqlite://{}?mode=ro", db.display());
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
}

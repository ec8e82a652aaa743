//! What the binary refuses at start, each in one line with exit code 1: a database whose sealed
//! auth tokens its key cannot open (a missing `secret.key` is never silently replaced), and a
//! second process on a SQLite file a server already uses.

use std::{
    path::Path,
    process::{Command, Output},
};

use serde_json::Value;

use crate::{
    binary::{self, Binary},
    helpers::{MAIN_SID, MAIN_TOKEN, into_json, send},
};

/// The only line of a refused start (stdout and stderr together): it starts with `error: `.
fn one_error_line(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {text}");
    assert!(lines[0].starts_with("error: "), "{text}");
    lines[0].to_owned()
}

async fn refused(mut server: Binary) -> String {
    let status = server
        .exit()
        .await
        .expect("the server started instead of refusing");
    assert_eq!(status.code(), Some(1), "{}", server.output());
    one_error_line(&server.output())
}

async fn account_token(server: &Binary) -> (u16, Value) {
    let request = reqwest::Client::new()
        .get(format!(
            "{}/2010-04-01/Accounts/{MAIN_SID}.json",
            server.base
        ))
        .basic_auth(MAIN_SID, Some(MAIN_TOKEN));
    let (status, body) = into_json(send(request).await).await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn a_missing_or_wrong_secret_key_is_refused_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("keys.db");
    let key_file = dir.path().join("secret.key");
    binary::spawn(&db, |_| {}).ready().await.stop().await;
    let original = std::fs::read_to_string(&key_file).unwrap();

    // Missing: refused, and no new key file appears.
    std::fs::rename(&key_file, dir.path().join("kept.key")).unwrap();
    let line = refused(binary::spawn(&db, |_| {})).await;
    assert!(line.contains("secret.key is missing"), "{line}");
    assert!(line.contains("holds 1 auth token sealed with it"), "{line}");
    assert!(!key_file.exists(), "a replacement key was written");

    // Another key, from the environment or the file: refused.
    let other = "ab".repeat(32);
    let line = refused(binary::spawn(&db, |c| {
        c.env("LOCALTWILIO_SECRET_KEY", &other);
    }))
    .await;
    assert!(
        line.contains("does not open 1 auth token of the 1 sealed"),
        "{line}"
    );
    std::fs::write(&key_file, &other).unwrap();
    let line = refused(binary::spawn(&db, |_| {})).await;
    assert!(line.contains("secret.key does not open"), "{line}");

    // The right key back: the stored token reads back as before.
    std::fs::write(&key_file, &original).unwrap();
    let server = binary::spawn(&db, |_| {}).ready().await;
    let (status, account) = account_token(&server).await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["auth_token"], MAIN_TOKEN);
    server.stop().await;
}

/// Runs a CLI command on `db`.
fn cli(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_localtwilio"))
        .args(args)
        .env("LOCALTWILIO_DATABASE", db)
        .env("LOCALTWILIO_LOG", "warn")
        .env_remove("LOCALTWILIO_SECRET_KEY")
        .env_remove("LOCALTWILIO_CONFIG")
        .output()
        .unwrap()
}

#[tokio::test]
async fn one_server_per_sqlite_file_and_the_lock_outlives_no_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("one.db");
    let first = binary::spawn(&db, |_| {}).ready().await;

    let line = refused(binary::spawn(&db, |_| {})).await;
    assert!(
        line.contains("in use by another localtwilio process"),
        "{line}"
    );

    // Writers that would change rows under the server's caches are refused too …
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.json");
    let seeded = cli(&db, &["seed", demo.to_str().unwrap()]);
    assert_eq!(seeded.status.code(), Some(1));
    let line = one_error_line(&String::from_utf8_lossy(&seeded.stderr));
    assert!(
        line.contains("in use by another localtwilio process"),
        "{line}"
    );
    let generated = cli(
        &db,
        &["seed", "--generate", "--accounts", "1", "--keys", "0"],
    );
    assert_eq!(generated.status.code(), Some(1));
    let line = one_error_line(&String::from_utf8_lossy(&generated.stderr));
    assert!(
        line.contains("in use by another localtwilio process"),
        "{line}"
    );
    // … nothing of the fixture reached the database …
    let (status, _) = account_token(&first).await;
    assert_eq!(status, 200);
    let (status, body) = into_json(
        send(
            reqwest::Client::new()
                .get(format!("{}/2010-04-01/Accounts.json", first.base))
                .basic_auth(
                    "AC00000000000000000000000000000de0",
                    Some("0123456789abcdef0123456789abcdef"),
                ),
        )
        .await,
    )
    .await;
    assert_eq!(status, 401, "{body}");

    // … while readers run beside it.
    let exported = cli(&db, &["export"]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let export: Value = serde_json::from_slice(&exported.stdout).unwrap();
    assert_eq!(export["accounts"][0]["sid"], MAIN_SID);
    let copy = dir.path().join("copy.db");
    let backed_up = cli(&db, &["backup", copy.to_str().unwrap()]);
    assert!(
        backed_up.status.success(),
        "{}",
        String::from_utf8_lossy(&backed_up.stderr)
    );

    // SIGKILL: the OS releases the lock, so the next server starts …
    first.kill();
    let second = binary::spawn(&db, |_| {}).ready().await;
    assert_eq!(account_token(&second).await.0, 200);
    // … and a clean stop releases it as well.
    second.stop().await;
    let third = binary::spawn(&db, |_| {}).ready().await;
    third.stop().await;
}

/// The lock follows the file, not the name it was reached by (a review found a second server
/// on a symlink to a served database starting and serving).
#[tokio::test]
async fn a_second_server_through_a_symlink_is_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    let db = dir.path().join("real").join("one.db");
    let first = binary::spawn(&db, |_| {}).ready().await;
    // A symlink to the file itself, and one to the folder it is in.
    let file_link = dir.path().join("link.db");
    std::os::unix::fs::symlink(&db, &file_link).unwrap();
    let folder_link = dir.path().join("elsewhere");
    std::os::unix::fs::symlink(dir.path().join("real"), &folder_link).unwrap();
    for other in [file_link, folder_link.join("one.db")] {
        let line = refused(binary::spawn(&other, |_| {})).await;
        assert!(
            line.contains("in use by another localtwilio process"),
            "{}: {line}",
            other.display()
        );
    }
    let (status, _) = account_token(&first).await;
    assert_eq!(status, 200);
}

/// `export` and `backup` only read: on a path with no database they create nothing (no file,
/// no folder, no key) and say so, rather than exporting an empty database "successfully".
#[tokio::test]
async fn export_and_backup_of_a_missing_database_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("typo").join("localtwilio.db");
    for args in [
        vec!["export"],
        vec!["backup", dir.path().join("copy.db").to_str().unwrap()],
    ] {
        let out = cli(&db, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let line = one_error_line(&String::from_utf8_lossy(&out.stderr));
        assert!(line.contains("there is no database at"), "{args:?}: {line}");
        assert!(
            !dir.path().join("typo").exists(),
            "{args:?} created the folder"
        );
        assert!(
            !dir.path().join("copy.db").exists(),
            "{args:?} wrote a copy"
        );
    }
}

//! `localtwilio backup PATH` while the server takes writes: the copy passes integrity_check,
//! and a server restored from it answers the same reads for everything acknowledged before
//! the backup began.

use std::{process::Command, time::Duration};

use crate::helpers::{MAIN_SID, MAIN_TOKEN, TestApp, skip_on_postgres};

#[tokio::test]
async fn a_backup_taken_under_write_load_restores_to_the_same_answers() {
    if skip_on_postgres() {
        return;
    }
    let mut app = TestApp::spawn().await;
    for i in 0..30 {
        app.post(
            "/v1/Users",
            &app.main(),
            &[("Identity", &format!("kept-{i}"))],
        )
        .await;
    }
    let (_, before) = app.get("/v1/Users?PageSize=50", &app.main()).await;
    // Writes keep coming while the backup runs.
    let (client, base) = (app.client.clone(), app.base.clone());
    let load = tokio::spawn(async move {
        for i in 0..200 {
            let _ = client
                .post(format!("{base}/v1/EndUsers"))
                .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
                .form(&[
                    ("FriendlyName", format!("during-{i}")),
                    ("Type", "individual".into()),
                ])
                .send()
                .await;
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let target = app.dir.path().join("backup.db");
    let output = Command::new(env!("CARGO_BIN_EXE_localtwilio"))
        .args(["backup", target.to_str().unwrap()])
        .env("LOCALTWILIO_DATABASE", app.db_path())
        .env("LOCALTWILIO_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    load.await.unwrap();
    let again = Command::new(env!("CARGO_BIN_EXE_localtwilio"))
        .args(["backup", target.to_str().unwrap()])
        .env("LOCALTWILIO_DATABASE", app.db_path())
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing target is never overwritten"
    );

    let url = format!("sqlite://{}?mode=ro", target.display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let check: String = sqlx::query_scalar("pragma integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);

    // Restore: stop, put the copy in place of the database (and its WAL files), start.
    app.stop().await;
    let db = app.db_path();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(&target, &db).unwrap();
    app.restart().await;
    let (status, after) = app.get("/v1/Users?PageSize=50", &app.main()).await;
    assert_eq!(status, 200);
    assert_eq!(
        after["users"], before["users"],
        "the same users, field for field"
    );
    assert_eq!(app.get("/v1/Users/kept-29", &app.main()).await.0, 200);
}

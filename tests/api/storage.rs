//! Storage faults: a database that cannot be written answers 503 20503 (Twilio-shaped), writes
//! nothing partial, `/healthz` reports it, and service comes back by itself once there is room.

use reqwest::Method;

use crate::{
    binary,
    helpers::{MAIN_SID, MAIN_TOKEN, TestApp, assert_twilio_error, into_json, skip_on_postgres},
};

/// The cap for the restarted server (`tune` is a plain fn, so it reads it from here).
static PAGES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

async fn page_count(app: &TestApp) -> u64 {
    let url = format!("sqlite://{}?mode=ro", app.db_path().display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let pages: i64 = sqlx::query_scalar("pragma page_count")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    pages as u64
}

#[tokio::test]
async fn a_full_database_answers_503_and_recovers_when_space_is_freed() {
    if skip_on_postgres() {
        return;
    }
    let mut app = TestApp::spawn().await;
    app.post("/v1/Users", &app.main(), &[("Identity", "before")])
        .await;
    app.stop().await;
    let pages = page_count(&app).await;
    PAGES.store(pages + 6, std::sync::atomic::Ordering::SeqCst);
    app.tune = |config| config.max_database_pages = PAGES.load(std::sync::atomic::Ordering::SeqCst);
    app.restart().await;

    let attributes = format!("{{\"padding\":\"{}\"}}", "p".repeat(3000));
    let mut created = Vec::new();
    let mut full = None;
    for i in 0..200 {
        let identity = format!("filler-{i}");
        let (status, body) = app
            .post(
                "/v1/Users",
                &app.main(),
                &[("Identity", &identity), ("Attributes", &attributes)],
            )
            .await;
        if status == 201 {
            created.push(identity);
        } else {
            full = Some((status, body, identity));
            break;
        }
    }
    let (status, body, refused) = full.expect("the capped database never filled up");
    assert_twilio_error(status, &body, 503, 20503);
    assert!(!created.is_empty());
    let (status, _) = app.get(&format!("/v1/Users/{refused}"), &app.main()).await;
    assert_eq!(status, 404, "the refused write left nothing behind");
    let response = app.request(Method::GET, "/healthz", None, None).await;
    let (status, health) = into_json(response).await;
    assert_eq!(
        (status.as_u16(), health["status"].as_str()),
        (503, Some("unavailable"))
    );
    // Reads go on.
    assert_eq!(app.get("/v1/Users/before", &app.main()).await.0, 200);

    // Free space: deletes need no new pages; the next write succeeds and health returns.
    for identity in &created {
        assert_eq!(
            app.delete(&format!("/v1/Users/{identity}"), &app.main())
                .await
                .0,
            204
        );
    }
    let (status, body) = app
        .post("/v1/Users", &app.main(), &[("Identity", "after")])
        .await;
    assert_eq!(status, 201, "{body}");
    let response = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(response.status(), 200);
}

/// RLIMIT_FSIZE of the process `pid`: its soft limit becomes `bytes`, the hard one stays.
fn set_file_size_limit(pid: libc::pid_t, bytes: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit(2) reads and writes only the two rlimit structs passed by pointer.
    unsafe {
        assert_eq!(
            libc::prlimit(pid, libc::RLIMIT_FSIZE, std::ptr::null(), &mut limit),
            0
        );
        limit.rlim_cur = bytes;
        assert_eq!(
            libc::prlimit(pid, libc::RLIMIT_FSIZE, &limit, std::ptr::null_mut()),
            0
        );
    }
}

/// A COMMIT that fails: the real binary runs with its file-size limit (RLIMIT_FSIZE) just above
/// the database file, with SIGXFSZ ignored, so once the WAL reaches the limit the append at
/// COMMIT gets EFBIG — SQLite's "disk I/O error", as on a full disk. The group commit (user
/// creates) must answer 503 20503 and leave nothing; `/healthz` stays 503 through a 2xx that
/// wrote nothing (`POST /v2/Flows/Validate`) and returns to 200 only once a write committed,
/// after the limit is raised again (the disk "has room").
#[tokio::test]
async fn a_commit_that_fails_answers_503_and_health_returns_only_after_a_committed_write() {
    use std::os::unix::process::CommandExt;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("commit.db");
    let server = binary::spawn(&db, |_| {}).ready().await;
    let (status, _) = binary_post(&server.base, "/v1/Users", &[("Identity", "before")]).await;
    assert_eq!(status, 201);
    server.stop().await;
    assert!(
        !db.with_extension("db-wal").exists(),
        "a clean stop checkpoints the WAL"
    );

    // Room for a few writes in the WAL, not for the whole run.
    let limit = std::fs::metadata(&db).unwrap().len() + 96 * 1024;
    let server = binary::spawn(&db, move |command| {
        // SAFETY: between fork and exec only async-signal-safe calls (setrlimit, signal).
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: libc::RLIM_INFINITY,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                Ok(())
            });
        }
    })
    .ready()
    .await;

    let attributes = format!("{{\"padding\":\"{}\"}}", "p".repeat(15_000));
    let mut refused = None;
    for i in 0..100 {
        let identity = format!("filler-{i}");
        let form = [("Identity", identity.as_str()), ("Attributes", &attributes)];
        let (status, body) = binary_post(&server.base, "/v1/Users", &form).await;
        if status != 201 {
            refused = Some((status, body, identity, i));
            break;
        }
    }
    let (status, body, identity, committed) =
        refused.expect("the WAL never reached the file-size limit");
    assert_twilio_error(status, &body, 503, 20503);
    assert!(committed > 0, "the limit left room for no write at all");
    assert!(
        server.output().contains("group commit failed"),
        "the fault was met at COMMIT: {}",
        server.output()
    );
    let (status, _) = binary_get(&server.base, &format!("/v1/Users/{identity}")).await;
    assert_eq!(status, 404, "the refused write left nothing behind");
    assert_eq!(binary_health(&server.base).await, 503);

    // A 2xx that writes nothing proves nothing about the disk.
    let definition = r#"{"initial_state":"Trigger","states":[{"name":"Trigger","type":"trigger","properties":{},"transitions":[]}]}"#;
    let (status, body) = binary_post(
        &server.base,
        "/v2/Flows/Validate",
        &[
            ("FriendlyName", "probe"),
            ("Status", "published"),
            ("Definition", definition),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(binary_health(&server.base).await, 503);

    // Room again: the next write commits and health returns, without a restart.
    set_file_size_limit(server.child.id() as libc::pid_t, libc::RLIM_INFINITY);
    let (status, body) = binary_post(&server.base, "/v1/Users", &[("Identity", "after")]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(binary_health(&server.base).await, 200);
    server.stop().await;
}

async fn binary_post(
    base: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (reqwest::StatusCode, serde_json::Value) {
    let response = crate::helpers::send(
        reqwest::Client::new()
            .post(format!("{base}{path}"))
            .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
            .form(form),
    )
    .await;
    into_json(response).await
}

async fn binary_get(base: &str, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
    let response = crate::helpers::send(
        reqwest::Client::new()
            .get(format!("{base}{path}"))
            .basic_auth(MAIN_SID, Some(MAIN_TOKEN)),
    )
    .await;
    into_json(response).await
}

async fn binary_health(base: &str) -> u16 {
    reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .status()
        .as_u16()
}

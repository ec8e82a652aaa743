//! Storage faults: a database that cannot be written answers 503 20503 (Twilio-shaped), writes
//! nothing partial, `/healthz` reports it, and service comes back by itself once there is room.

use reqwest::Method;

use crate::helpers::{TestApp, assert_twilio_error, into_json};

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

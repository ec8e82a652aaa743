//! `GET /metrics` in Prometheus text format.

use reqwest::Method;

use crate::helpers::{Creds, MAIN_SID, TestApp};

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.trim().parse().ok())
    })
}

#[tokio::test]
async fn metrics_count_requests_auth_and_storage() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.get(
            &format!("/2010-04-01/Accounts/{MAIN_SID}.json"),
            &app.main(),
        )
        .await;
    }
    app.get("/v1/Users/nobody", &app.main()).await;
    app.get(
        "/v1/Users",
        &Creds::new(MAIN_SID, "ffffffffffffffffffffffffffffffff"),
    )
    .await;
    let response = app.request(Method::GET, "/metrics", None, None).await; // no credentials needed
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    assert_eq!(
        value(
            &text,
            r#"localtwilio_http_requests_total{method="GET",route="/2010-04-01/Accounts/{Sid}",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"localtwilio_http_requests_total{method="GET",route="/v1/Users/{Sid}",status="404"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            r#"localtwilio_http_request_duration_seconds_count{route="/2010-04-01/Accounts/{Sid}"}"#
        ),
        Some(3.0)
    );
    assert_eq!(
        value(
            &text,
            r#"localtwilio_http_request_duration_seconds_bucket{route="/2010-04-01/Accounts/{Sid}",le="+Inf"}"#
        ),
        Some(3.0)
    );
    assert!(value(&text, "localtwilio_auth_cache_hits_total").unwrap() >= 3.0);
    assert!(value(&text, "localtwilio_auth_cache_misses_total").unwrap() >= 2.0);
    assert_eq!(value(&text, "localtwilio_auth_failures_total"), Some(1.0));
    assert_eq!(value(&text, "localtwilio_webhook_queue_depth"), Some(0.0));
    assert!(value(&text, "localtwilio_database_size_bytes").unwrap() > 0.0);
    assert!(!text.contains(MAIN_SID), "no account data in metrics");
}

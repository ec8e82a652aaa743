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
    // The refused request above is counted as one.
    assert_eq!(value(&text, "localtwilio_auth_refused_total"), Some(1.0));

    // A scraper asking for OpenMetrics (as Prometheus does) gets it, same series.
    let open = app
        .client
        .get(format!("{}/metrics", app.base))
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        open.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let open = open.text().await.unwrap();
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert!(
        value(&open, "localtwilio_auth_cache_hits_total").unwrap() >= 3.0,
        "{open}"
    );
}

/// Invented methods share one label value, so they cannot multiply the series.
#[tokio::test]
async fn unknown_methods_are_counted_under_one_label() {
    let app = TestApp::spawn().await;
    for method in ["BREW", "WHEN", "PROPFIND"] {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        app.request(method, "/v1/Users", None, None).await;
    }
    let text = app
        .request(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        value(
            &text,
            r#"localtwilio_http_requests_total{method="OTHER",route="/v1/Users",status="401"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert!(!text.contains("BREW"), "{text}");
}

/// Issue 15 F13: an unauthenticated flood wrote one log line per request (366 MB in 30 s). The
/// real binary takes 2,000 refused requests (wrong token, then rate limited; and no credentials
/// at all): its log holds a bounded number of lines, every refusal is either logged or counted
/// in a later line's `unlogged_refusals`, and `/metrics` counts all of them.
#[tokio::test]
async fn a_flood_of_refused_credentials_is_logged_at_a_bounded_rate_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::binary::spawn(&dir.path().join("flood.db"), |c| {
        c.env("LOCALTWILIO_LOG", "info");
    })
    .ready()
    .await;
    let base = server.base.clone();
    let client = reqwest::Client::new();

    const FLOOD: usize = 2_000;
    const WORKERS: usize = 8;
    let started = std::time::Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..FLOOD / WORKERS {
                    let request = client.get(format!("{base}/v1/Users"));
                    // Half with a wrong token for a real account, half with no credentials.
                    let request = if (worker + i) % 2 == 0 {
                        request.basic_auth(MAIN_SID, Some("feedfacefeedfacefeedfacefeedface"))
                    } else {
                        request
                    };
                    statuses.push(request.send().await.unwrap().status().as_u16());
                }
                statuses
            })
        })
        .collect();
    let mut refused = 0;
    for worker in workers {
        let statuses = worker.await.unwrap();
        assert!(
            statuses.iter().all(|s| *s == 401 || *s == 429),
            "{statuses:?}"
        );
        refused += statuses.len();
    }
    assert_eq!(refused, FLOOD);
    let flood_seconds = started.elapsed().as_secs_f64();
    // One more after a quiet second: its line reports what the flood's suppression left out.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let last = client.get(format!("{base}/v1/Users")).send().await.unwrap();
    assert_eq!(last.status(), 401);
    let total = FLOOD + 1;

    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        value(&text, "localtwilio_auth_refused_total"),
        Some(total as f64),
        "{text}"
    );

    let logs = server.kill_and_read_output();
    let refused_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("status=401") || l.contains("status=429"))
        .collect();
    let unlogged: u64 = refused_lines
        .iter()
        .filter_map(|l| {
            let (_, rest) = l.split_once("unlogged_refusals=")?;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum();
    // The bound the server promises: 10 lines per started second of flood, plus the last one.
    let allowed = 10 * (flood_seconds.ceil() as usize + 1) + 1;
    eprintln!(
        "{total} refused requests in {flood_seconds:.2} s: {} log lines ({} bytes of log in all), {unlogged} counted as unlogged",
        refused_lines.len(),
        logs.len()
    );
    assert!(
        refused_lines.len() <= allowed,
        "{} refused-request lines for {total} requests in {flood_seconds:.1} s (at most {allowed})",
        refused_lines.len()
    );
    assert!(
        refused_lines.len() < total / 4,
        "the log is not bounded: {} lines",
        refused_lines.len()
    );
    assert_eq!(
        refused_lines.len() as u64 + unlogged,
        total as u64,
        "every refusal is either logged or counted as unlogged:\n{}",
        refused_lines.join("\n")
    );
    assert_eq!(
        value(&text, "localtwilio_auth_refused_unlogged_total"),
        Some(unlogged as f64),
    );
}

/// Issue 15 F13, the probes: `/healthz` and `/metrics` need no credentials, and each used to
/// write a log line (65 lines for 100 requests), so a flood of them filled the log as refused
/// requests did. The real binary at `info` takes 200 of each: none reaches the log, an
/// authenticated request still does, and `/metrics` counts every probe.
#[tokio::test]
async fn health_and_metrics_probes_are_not_logged_at_info_but_counted() {
    use crate::{binary, helpers::MAIN_TOKEN};

    let dir = tempfile::tempdir().unwrap();
    let server = binary::spawn(&dir.path().join("probes.db"), |command| {
        command.env("LOCALTWILIO_LOG", "info");
    })
    .ready()
    .await;
    let client = reqwest::Client::new();
    const PROBES: usize = 200;
    for _ in 0..PROBES {
        let health = client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let metrics = client
            .get(format!("{}/metrics", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(metrics.status(), 200);
    }
    let account = client
        .get(format!(
            "{}/2010-04-01/Accounts/{MAIN_SID}.json",
            server.base
        ))
        .basic_auth(MAIN_SID, Some(MAIN_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), 200);
    let text = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // `ready` polled /healthz as well, so at least PROBES.
    let counted = |route: &str| {
        value(
            &text,
            &format!(
                r#"localtwilio_http_requests_total{{method="GET",route="{route}",status="200"}}"#
            ),
        )
        .unwrap_or(0.0)
    };
    assert!(counted("/healthz") >= PROBES as f64, "{text}");
    assert!(counted("/metrics") >= PROBES as f64, "{text}");

    let output = server.output.clone();
    server.stop().await;
    let logs = std::fs::read_to_string(output).unwrap();
    let request_lines: Vec<&str> = logs.lines().filter(|l| l.contains("status=")).collect();
    assert!(
        request_lines
            .iter()
            .all(|l| !l.contains("/healthz") && !l.contains("/metrics")),
        "probes reached the info log:\n{logs}"
    );
    assert_eq!(
        request_lines.len(),
        1,
        "only the authenticated request is logged:\n{logs}"
    );
    assert!(
        request_lines[0].contains(r#"route="/2010-04-01/Accounts/{Sid}""#),
        "{logs}"
    );
}

/// The same bound for 413: a declared body over the limit is answered before authentication,
/// so without the bound anyone could draw one log line per request with it.
#[tokio::test]
async fn oversized_bodies_without_credentials_are_logged_at_a_bounded_rate() {
    use crate::binary;

    let dir = tempfile::tempdir().unwrap();
    let server = binary::spawn(&dir.path().join("oversized.db"), |command| {
        command
            .env("LOCALTWILIO_LOG", "info")
            .env("LOCALTWILIO_MAX_BODY_BYTES", "16");
    })
    .ready()
    .await;
    let client = reqwest::Client::new();
    const REQUESTS: usize = 300;
    let started = std::time::Instant::now();
    for _ in 0..REQUESTS {
        let response = client
            .post(format!("{}/v1/Users", server.base))
            .body("x".repeat(100))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413);
    }
    let seconds = started.elapsed().as_secs_f64();
    let output = server.output.clone();
    server.stop().await;
    let logs = std::fs::read_to_string(output).unwrap();
    let lines = logs.lines().filter(|l| l.contains("status=413")).count();
    let allowed = 10 * (seconds.ceil() as usize + 1);
    assert!(
        lines <= allowed && lines < REQUESTS / 4,
        "{lines} log lines for {REQUESTS} oversized requests in {seconds:.1} s (at most {allowed}):\n{logs}"
    );
}

//! `GET /metrics`: Prometheus text format (version 0.0.4). No authentication, like `/healthz`:
//! it holds counts by route template and status only — never a SID, identity or parameter.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{Mutex, atomic::Ordering},
    time::Duration,
};

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use super::state::AppState;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request counters, filled by the request-span middleware.
#[derive(Default)]
pub struct HttpMetrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl HttpMetrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let h = latency.entry(route.to_owned()).or_default();
            let secs = elapsed.as_secs_f64();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }
}

/// Label values are route templates and methods; escape anyway.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP localtwilio_http_requests_total HTTP requests by method, route template and status."
    );
    let _ = writeln!(out, "# TYPE localtwilio_http_requests_total counter");
    if let Ok(requests) = state.metrics.requests.lock() {
        for ((method, route, status), n) in requests.iter() {
            let _ = writeln!(
                out,
                "localtwilio_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(method),
                label(route)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP localtwilio_http_request_duration_seconds Time from request to response, by route template."
    );
    let _ = writeln!(
        out,
        "# TYPE localtwilio_http_request_duration_seconds histogram"
    );
    if let Ok(latency) = state.metrics.latency.lock() {
        for (route, h) in latency.iter() {
            let route = label(route);
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "localtwilio_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "localtwilio_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "localtwilio_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "localtwilio_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
    }
    let auth = state.core.auth.stats();
    for (name, help, value) in [
        (
            "auth_cache_hits_total",
            "Requests whose credential was already verified.",
            auth.hits,
        ),
        (
            "auth_cache_misses_total",
            "Requests whose credential was not in the cache (each takes one argon2 check).",
            auth.misses,
        ),
        (
            "auth_failures_total",
            "Failed authentications.",
            auth.failures,
        ),
        (
            "auth_rate_limited_total",
            "Requests refused with 429 for too many failures.",
            auth.limited,
        ),
        (
            "argon2_checks_total",
            "argon2 credential checks run by the pool (unknown SIDs are checked against a dummy hash).",
            auth.argon2_checks,
        ),
        (
            "argon2_hashes_total",
            "argon2 hashes of new credentials run by the pool.",
            auth.argon2_hashes,
        ),
        (
            "webhook_attempts_delivered_total",
            "Webhook attempts answered 2xx.",
            state.core.delivery.delivered.load(Ordering::Relaxed),
        ),
        (
            "webhook_attempts_failed_total",
            "Webhook attempts that failed (retried or given up).",
            state.core.delivery.failed.load(Ordering::Relaxed),
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP localtwilio_{name} {help}\n# TYPE localtwilio_{name} counter\nlocaltwilio_{name} {value}"
        );
    }
    let (depth, size) = state.core.store.gauges().await.unwrap_or((-1, -1));
    let _ = writeln!(
        out,
        "# HELP localtwilio_webhook_queue_depth Webhook deliveries waiting to be sent.\n# TYPE localtwilio_webhook_queue_depth gauge\nlocaltwilio_webhook_queue_depth {depth}"
    );
    let _ = writeln!(
        out,
        "# HELP localtwilio_database_size_bytes Size of the SQLite database (pages in use).\n# TYPE localtwilio_database_size_bytes gauge\nlocaltwilio_database_size_bytes {size}"
    );
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

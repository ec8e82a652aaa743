//! One span per request: method, matched route (never the raw path, which may hold identities),
//! account SID once authenticated, status and latency. No header, query or body is recorded.
//!
//! Refusals anyone can draw without credentials are logged at a bounded rate: those of
//! authentication (401, 429) and a declared body over the limit (413, answered before
//! authentication). An unauthenticated flood otherwise writes one line per request (issue 15
//! F13: 366 MB in 30 s). At most [`REFUSED_LINES_PER_SECOND`] such lines are written per second;
//! the first line after a suppression says how many were left out, and `/metrics` counts every
//! request (authentication refusals also on their own, logged or not).
//!
//! The unauthenticated probes, `/healthz` and `/metrics`, are logged at debug level only: a load
//! balancer polls them every second and a flood of them is as free as one of refusals, so at
//! the default `info` they write nothing; `/metrics` still counts each one.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::StatusCode,
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use super::metrics::{Metrics, UNMATCHED};

/// Log lines for refused requests per one-second window (ours; enough to see an attack and
/// its source route, small enough that a flood writes kilobytes, not megabytes, per second).
pub const REFUSED_LINES_PER_SECOND: u32 = 10;

/// The request log's state: this server's metrics and the refused-request log budget.
pub struct RequestLog {
    metrics: Arc<Metrics>,
    refused: Mutex<RefusedWindow>,
}

struct RefusedWindow {
    started: Instant,
    logged: u32,
    /// Refused requests not logged since the last refused line that was.
    unlogged: u64,
}

/// What to do with one refused request's log line.
enum Refused {
    /// Write it; `unlogged_before` refused requests since the previous such line were not.
    Log {
        unlogged_before: u64,
    },
    Suppress,
}

impl RequestLog {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            metrics,
            refused: Mutex::new(RefusedWindow {
                started: Instant::now(),
                logged: 0,
                unlogged: 0,
            }),
        }
    }

    fn admit_refused(&self) -> Refused {
        let Ok(mut window) = self.refused.lock() else {
            // A poisoned lock (a panic elsewhere) must not turn into one line per request.
            return Refused::Suppress;
        };
        let now = Instant::now();
        if now.duration_since(window.started) >= Duration::from_secs(1) {
            window.started = now;
            window.logged = 0;
        }
        if window.logged < REFUSED_LINES_PER_SECOND {
            window.logged += 1;
            Refused::Log {
                unlogged_before: std::mem::take(&mut window.unlogged),
            }
        } else {
            window.unlogged += 1;
            Refused::Suppress
        }
    }
}

/// 401 is only ever 20003 (credentials refused) and 429 only 20429 (the failed-authentication
/// limit): both are authentication refusals, whichever layer answered.
fn refused_by_authentication(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
    )
}

/// Those, and 413: `edge::refuse_oversized_bodies` answers a declared `Content-Length` over the
/// limit before authentication runs, so it is as free to draw as a 401.
fn refused_without_credentials(status: StatusCode) -> bool {
    refused_by_authentication(status) || status == StatusCode::PAYLOAD_TOO_LARGE
}

fn is_probe(request: &Request) -> bool {
    super::auth::is_probe(request.uri().path())
}

pub async fn request_span(
    State(log): State<Arc<RequestLog>>,
    request: Request,
    next: Next,
) -> Response {
    // Both are cheap clones (an inline method, an `Arc<str>` route): nothing allocated per request.
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let probe = is_probe(&request);
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str),
        account_sid = tracing::field::Empty,
    );
    let started = Instant::now();
    async move {
        let response = next.run(request).await;
        let elapsed = started.elapsed();
        let status = response.status().as_u16();
        let latency_us = elapsed.as_micros() as u64;
        if refused_without_credentials(response.status()) {
            let logged = match log.admit_refused() {
                Refused::Log { unlogged_before: 0 } => {
                    tracing::info!(status, latency_us, "done");
                    true
                }
                Refused::Log { unlogged_before } => {
                    tracing::info!(
                        status,
                        latency_us,
                        unlogged_refusals = unlogged_before,
                        "done (and {unlogged_before} more refused requests since the last such line, not logged)"
                    );
                    true
                }
                Refused::Suppress => false,
            };
            if refused_by_authentication(response.status()) {
                log.metrics.record_auth_refused(logged);
            }
        } else if probe {
            tracing::debug!(status, latency_us, "done");
        } else {
            tracing::info!(status, latency_us, "done");
        }
        log.metrics
            .record(&method, route.as_ref(), status, elapsed);
        response
    }
    .instrument(span)
    .await
}

//! One span per request: method, matched route (never the raw path, which may hold identities),
//! account SID once authenticated, status and latency. No header, query or body is recorded.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use super::metrics::HttpMetrics;

pub async fn request_span(
    State(metrics): State<Arc<HttpMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route,
        account_sid = tracing::field::Empty,
    );
    let started = Instant::now();
    async move {
        let response = next.run(request).await;
        let elapsed = started.elapsed();
        tracing::info!(
            status = response.status().as_u16(),
            latency_us = elapsed.as_micros() as u64,
            "done"
        );
        metrics.record(&method, &route, response.status().as_u16(), elapsed);
        response
    }
    .instrument(span)
    .await
}

//! `GET /metrics` in the Prometheus text format (0.0.4), or OpenMetrics when the scraper asks
//! for it (`Accept: application/openmetrics-text`). No authentication, like `/healthz`: it holds
//! counts by route template and status only — never a SID, identity or parameter.
//!
//! Each server owns one [`Metrics`] (its own `prometheus_client` registry), so two servers in
//! one process (the tests) never mix counts. Imports nothing from `http` but axum types: the
//! state hands it over through `FromRef`, so `state.rs` → `metrics.rs` is the only direction.

use std::{fmt, sync::Arc, time::Duration};

use axum::{
    extract::{MatchedPath, State},
    http::{HeaderMap, HeaderValue, Method, header},
    response::{IntoResponse, Response},
};
use prometheus_client::{
    collector::Collector,
    encoding::{
        DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder,
    },
    metrics::{
        counter::{ConstCounter, Counter},
        family::Family,
        gauge::Gauge,
        histogram::Histogram,
    },
    registry::{Metric, Registry, Unit},
};

use crate::{
    domain::{Core, DeliveryStats, auth::Authenticator},
    error::Error,
    store::Store,
};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "(unmatched)";

/// A route template label. Holds the router's own `MatchedPath` (an `Arc<str>`), so labelling a
/// request clones a pointer instead of allocating a string.
#[derive(Clone, Debug)]
struct RouteLabel(Option<MatchedPath>);

impl RouteLabel {
    fn as_str(&self) -> &str {
        self.0.as_ref().map_or(UNMATCHED, MatchedPath::as_str)
    }
}

impl PartialEq for RouteLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteLabel {}

impl std::hash::Hash for RouteLabel {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), fmt::Error> {
        fmt::Write::write_str(encoder, self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: RouteLabel,
    status: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LatencyLabels {
    route: RouteLabel,
}

/// The method label: the standard methods by name, anything else as `OTHER`, so a client
/// inventing methods cannot grow the series without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// One server's metrics: its registry and the handles the request path updates.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram, fn() -> Histogram>,
    auth_refused: Counter,
    auth_refused_unlogged: Counter,
    webhook_queue_depth: Gauge,
    database_size: Gauge,
    /// Read at scrape time for the two gauges.
    store: Store,
}

impl Metrics {
    pub fn new(core: &Core) -> Self {
        let mut registry = Registry::with_prefix("localtwilio");
        let requests = registered(
            &mut registry,
            "http_requests",
            "HTTP requests by method, route template and status",
            None,
            Family::<RequestLabels, Counter>::default(),
        );
        let latency = registered(
            &mut registry,
            "http_request_duration",
            "Time from request to response, by route template",
            Some(Unit::Seconds),
            Family::<LatencyLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            ),
        );
        registry.register_collector(Box::new(CoreCounters {
            auth: Arc::clone(&core.auth),
            delivery: Arc::clone(&core.delivery),
        }));
        let auth_refused = registered(
            &mut registry,
            "auth_refused",
            "Requests refused by authentication (401 or 429), every one whether logged or not",
            None,
            Counter::default(),
        );
        let auth_refused_unlogged = registered(
            &mut registry,
            "auth_refused_unlogged",
            "Refused requests whose log line was suppressed by the log rate bound",
            None,
            Counter::default(),
        );
        let webhook_queue_depth = registered(
            &mut registry,
            "webhook_queue_depth",
            "Webhook deliveries waiting to be sent",
            None,
            Gauge::default(),
        );
        let database_size = registered(
            &mut registry,
            "database_size",
            "Size of the SQLite database (pages in use)",
            Some(Unit::Bytes),
            Gauge::default(),
        );
        Self {
            registry,
            requests,
            latency,
            auth_refused,
            auth_refused_unlogged,
            webhook_queue_depth,
            database_size,
            store: core.store.clone(),
        }
    }

    /// Counts one request. Allocates only the first time a (method, route, status) is seen.
    pub fn record(
        &self,
        method: &Method,
        route: Option<&MatchedPath>,
        status: u16,
        elapsed: Duration,
    ) {
        let route = RouteLabel(route.cloned());
        self.latency
            .get_or_create(&LatencyLabels {
                route: route.clone(),
            })
            .observe(elapsed.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method: method_label(method),
                route,
                status,
            })
            .inc();
    }

    /// Counts one request refused by authentication; `logged` says whether its log line was
    /// written or suppressed by the rate bound (http::trace).
    pub fn record_auth_refused(&self, logged: bool) {
        self.auth_refused.inc();
        if !logged {
            self.auth_refused_unlogged.inc();
        }
    }
}

/// `metric` registered in `registry` as `name` (in `unit`, if it has one), and its handle: a
/// clone sharing the registered metric's value.
fn registered<M: Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    metric: M,
) -> M {
    match unit {
        Some(unit) => registry.register_with_unit(name, help, unit, metric.clone()),
        None => registry.register(name, help, metric.clone()),
    }
    metric
}

/// The counters the domain keeps (authentication, webhook delivery), read at each scrape.
struct CoreCounters {
    auth: Arc<Authenticator>,
    delivery: Arc<DeliveryStats>,
}

impl fmt::Debug for CoreCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoreCounters").finish_non_exhaustive()
    }
}

impl Collector for CoreCounters {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        use std::sync::atomic::Ordering;
        let auth = self.auth.stats();
        for (name, help, value) in [
            (
                "auth_cache_hits",
                "Requests whose credential was already verified.",
                auth.hits,
            ),
            (
                "auth_cache_misses",
                "Requests whose credential was not in the cache (each takes one argon2 check).",
                auth.misses,
            ),
            ("auth_failures", "Failed authentications.", auth.failures),
            (
                "auth_rate_limited",
                "Requests refused with 429 for too many failures.",
                auth.limited,
            ),
            (
                "argon2_checks",
                "argon2 credential checks run by the pool (unknown SIDs are checked against a dummy hash).",
                auth.argon2_checks,
            ),
            (
                "argon2_hashes",
                "argon2 hashes of new credentials run by the pool.",
                auth.argon2_hashes,
            ),
            (
                "webhook_attempts_delivered",
                "Webhook attempts answered 2xx.",
                self.delivery.delivered.load(Ordering::Relaxed),
            ),
            (
                "webhook_attempts_failed",
                "Webhook attempts that failed (retried or given up).",
                self.delivery.failed.load(Ordering::Relaxed),
            ),
        ] {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        Ok(())
    }
}

/// The OpenMetrics content type, served when the scraper's `Accept` names it.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn metrics(
    State(metrics): State<Arc<Metrics>>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    // A gauge the database cannot answer shows -1 rather than failing the whole scrape.
    let (depth, size) = metrics.store.gauges().await.unwrap_or((-1, -1));
    metrics.webhook_queue_depth.set(depth);
    metrics.database_size.set(size);
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("application/openmetrics-text"));
    let mut text = String::new();
    let (encoded, content_type) = if openmetrics {
        (
            prometheus_client::encoding::text::encode(&mut text, &metrics.registry),
            OPENMETRICS,
        )
    } else {
        (
            prometheus_client::encoding::prometheus_text::encode(&mut text, &metrics.registry),
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        )
    };
    // Writing into a String cannot fail; a collector that did is a bug (500, logged).
    encoded.map_err(|_| Error::Internal(anyhow::anyhow!("encoding /metrics failed")))?;
    let mut response = text.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

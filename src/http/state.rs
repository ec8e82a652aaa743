//! Shared state handed to every handler.

use crate::domain::Core;

#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    /// `LOCALTWILIO_PUBLIC_URL` without a trailing slash, when set.
    pub public_url: Option<String>,
    /// Largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// How long a client may take to send its body.
    pub body_read_timeout: std::time::Duration,
    /// Request counters for `/metrics`.
    pub metrics: std::sync::Arc<super::metrics::HttpMetrics>,
}

//! Shared state handed to every handler. Imports the pieces it holds; none of them imports it
//! back (`/metrics` and the request log take their part through `FromRef`).

use std::sync::Arc;

use axum::extract::FromRef;

use super::metrics::Metrics;
use crate::domain::{Core, console::ConsoleSettings};

/// Cloned for every request by axum (each handler and middleware call takes the state by
/// value), so it is one `Arc`: a plain struct copied its strings (`public_url`, the console's
/// token) and every reference count inside `Core` on each of those clones.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    pub core: Core,
    /// `LOCALTWILIO_PUBLIC_URL` without a trailing slash, when set.
    pub public_url: Option<String>,
    /// Largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// How long a client may take to send its body.
    pub body_read_timeout: std::time::Duration,
    /// This server's metrics registry (`/metrics`).
    pub metrics: Arc<Metrics>,
    /// Whether the console is served, and its operator token.
    pub console: ConsoleSettings,
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        Arc::clone(&state.metrics)
    }
}

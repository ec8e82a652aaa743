//! Product rules, free of HTTP types. May import `store` and `error`, never `http`.

pub mod accounts;
pub mod auth;
pub mod conversations;
pub mod keys;
pub mod paging;
pub mod secrets;
pub mod seed;
pub mod sid;
pub mod studio;
pub mod time;
pub mod trusthub;
pub mod webhooks;

use std::sync::Arc;

use crate::error::{Error, Result};

/// Webhook attempts by outcome, counted by the delivery worker.
#[derive(Default)]
pub struct DeliveryStats {
    pub delivered: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
}

/// A required parameter: absent or empty → 400 20001 "Missing required parameter X in the post
/// body" (present-but-empty counts as missing, DESIGN.md).
pub fn required(value: Option<String>, name: &str) -> Result<String> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::missing(name))
}

/// A parameter limited to `max` characters; longer → 400 20001 naming it.
pub fn check_chars(value: Option<&str>, name: &str, max: usize) -> Result<()> {
    match value {
        Some(v) if v.chars().count() > max => Err(Error::invalid(format!(
            "Invalid parameter {name}: must be at most {max} characters"
        ))),
        _ => Ok(()),
    }
}

/// A parameter limited to `max` bytes of UTF-8; longer → 400 20001 naming it.
pub fn check_bytes(value: Option<&str>, name: &str, max: usize) -> Result<()> {
    match value {
        Some(v) if v.len() > max => Err(Error::invalid(format!(
            "Invalid parameter {name}: must be at most {max} bytes"
        ))),
        _ => Ok(()),
    }
}

use crate::store::Store;

/// What every domain operation needs: the store, the key that seals tokens, and the
/// verified-credential cache (which writes must invalidate).
#[derive(Clone)]
pub struct Core {
    pub store: Store,
    pub server_key: secrets::ServerKey,
    pub auth: Arc<auth::Authenticator>,
    /// Resolved Conversations services (see `conversations::ServiceCache`).
    pub services: Arc<conversations::ServiceCache>,
    /// Webhook attempt counters (for `/metrics`).
    pub delivery: Arc<DeliveryStats>,
    /// Woken after a commit that queued webhook deliveries.
    pub webhook_wake: Arc<tokio::sync::Notify>,
}

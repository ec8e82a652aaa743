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

use crate::store::{
    Store,
    query::{Deletable, Owned},
};

use paging::{Page, PageRequest};

/// The owner's row `sid` (an account's key, a service's role …) made a domain value by
/// `convert`; 404 when the owner has none, another owner's row included.
pub async fn fetch_owned<R: Owned, T>(
    core: &Core,
    owner: impl AsRef<str>,
    sid: impl AsRef<str>,
    convert: impl FnOnce(R) -> Result<T>,
) -> Result<T> {
    let row = core
        .store
        .fetch_owned::<R>(owner.as_ref(), sid.as_ref())
        .await?;
    convert(row.ok_or(Error::NotFound)?)
}

/// The page `request` asks for of the owner's rows, each made a domain value by `convert`.
pub async fn list_owned<R: Owned, T>(
    core: &Core,
    owner: impl AsRef<str>,
    request: PageRequest,
    convert: impl FnMut(R) -> Result<T>,
) -> Result<Page<T>> {
    let rows = core
        .store
        .list_owned::<R>(owner.as_ref(), request.keyset())
        .await?;
    Page::from_rows(request, rows, R::seq).try_map(convert)
}

/// Deletes the owner's row `sid`; 404 when the owner has none.
pub async fn delete_owned<R: Deletable>(
    core: &Core,
    owner: impl AsRef<str>,
    sid: impl AsRef<str>,
) -> Result<()> {
    found(
        core.store
            .delete_owned::<R>(owner.as_ref(), sid.as_ref())
            .await?,
    )
}

/// `Ok` when the row a write or check named was there, 404 otherwise.
pub fn found(present: bool) -> Result<()> {
    if present {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

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

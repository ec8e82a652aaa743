//! Product rules, free of HTTP types. May import `store` and `error`, never `http`.

pub mod accounts;
pub mod auth;
pub mod console;
pub mod conversations;
pub mod emulator;
pub mod instances;
pub mod keys;
pub mod messages;
pub mod paging;
pub mod secrets;
pub mod seed;
pub mod sid;
pub mod studio;
pub mod time;
pub mod trusthub;
pub mod webhooks;

use std::sync::Arc;

/// A domain value read back from its store row: `impl TryFrom<Row> for Value`, field by field
/// by kind. `parsed` fields are typed text (SIDs) read with `FromStr`, `optional` the same in a
/// nullable column, `json` JSON text, `copied` taken as they are, and `computed` fields are
/// whatever their expression (over the row, named in the `|row: Row|` head) makes. A stored
/// value that does not read back is a bug in what was written: 500, logged with the field's name.
macro_rules! read_back {
    (|$row:ident: $from:ty| -> $to:ident {
        $(parsed: $($parsed:ident),+;)?
        $(optional: $($optional:ident),+;)?
        $(json: $($json:ident),+;)?
        $(computed: $($computed:ident = $value:expr),+;)?
        $(copied: $($copied:ident),+;)?
    }) => {
        impl TryFrom<$from> for $to {
            type Error = $crate::error::Error;

            fn try_from($row: $from) -> $crate::error::Result<Self> {
                Ok(Self {
                    $($($parsed: $crate::domain::stored(
                        &$row.$parsed,
                        concat!(stringify!($to), " ", stringify!($parsed)),
                    )?,)+)?
                    $($($optional: $crate::domain::stored_opt(
                        $row.$optional.as_deref(),
                        concat!(stringify!($to), " ", stringify!($optional)),
                    )?,)+)?
                    $($($json: $crate::domain::stored_json(
                        &$row.$json,
                        concat!(stringify!($to), " ", stringify!($json)),
                    )?,)+)?
                    $($($computed: $value,)+)?
                    $($($copied: $row.$copied,)+)?
                })
            }
        }
    };
}
pub(crate) use read_back;

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

/// The owner's row `sid` (an account's key, a service's role …) as a domain value; 404 when
/// the owner has none, another owner's row included.
pub async fn fetch_owned<R: Owned, T: TryFrom<R, Error = Error>>(
    core: &Core,
    owner: impl AsRef<str>,
    sid: impl AsRef<str>,
) -> Result<T> {
    found_value(
        core.store
            .fetch_owned::<R>(owner.as_ref(), sid.as_ref())
            .await?,
    )
}

/// The page `request` asks for of the owner's rows, as domain values.
pub async fn list_owned<R: Owned, T: TryFrom<R, Error = Error>>(
    core: &Core,
    owner: impl AsRef<str>,
    request: PageRequest,
) -> Result<Page<T>> {
    let rows = core
        .store
        .list_owned::<R>(owner.as_ref(), request.keyset())
        .await?;
    Page::from_rows(request, rows, R::seq).try_map(T::try_from)
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

/// A stored SID (or other typed text) read back; one that does not parse is a bug in what was
/// written: 500, logged.
pub(crate) fn stored<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T> {
    raw.parse()
        .map_err(|_| Error::internal(anyhow::anyhow!("stored {what} is malformed: {raw:?}")))
}

/// `stored` for an optional column.
pub(crate) fn stored_opt<T: std::str::FromStr>(raw: Option<&str>, what: &str) -> Result<Option<T>> {
    raw.map(|r| stored(r, what)).transpose()
}

/// A stored JSON column read back (permissions, filters, attributes, a flow definition); one
/// that does not parse is a bug: 500, logged.
pub(crate) fn stored_json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw)
        .map_err(|e| Error::internal(anyhow::anyhow!("stored {what} is not valid JSON: {e}")))
}

/// The row a read or write returned, made a domain value; `None` (no such row, or it went away
/// meanwhile) is 404.
pub fn found_value<R, T: TryFrom<R, Error = Error>>(row: Option<R>) -> Result<T> {
    T::try_from(row.ok_or(Error::NotFound)?)
}

/// `Ok` when the row a write or check named was there, 404 otherwise.
pub fn found(present: bool) -> Result<()> {
    if present {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// What every domain operation needs (see [`CoreParts`]), behind one `Arc`: every request
/// takes its own copy (`http::call::ApiCall`), which is then one reference count rather than
/// a dozen (each `Arc` inside the parts, the store's own) — a copy and a drop that were 3–4 %
/// of a fetch's CPU (bench/RESULTS.md, session 7).
#[derive(Clone)]
pub struct Core(Arc<CoreParts>);

impl Core {
    pub fn new(parts: CoreParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for Core {
    type Target = CoreParts;
    fn deref(&self) -> &CoreParts {
        &self.0
    }
}

/// The store, the key that seals tokens, and the verified-credential cache (which writes must
/// invalidate), and the rest every operation may reach.
pub struct CoreParts {
    pub store: Store,
    pub server_key: secrets::ServerKey,
    pub auth: Arc<auth::Authenticator>,
    /// Resolved Conversations services (see `conversations::ServiceCache`).
    pub services: Arc<conversations::ServiceCache>,
    /// Webhook attempt counters (for `/metrics`).
    pub delivery: Arc<DeliveryStats>,
    /// Woken after a commit that queued webhook deliveries.
    pub webhook_wake: Arc<tokio::sync::Notify>,
    /// How the simulated TrustHub review runs (see `trusthub::review`).
    pub review: trusthub::review::Settings,
    /// Woken after a bundle was submitted for review.
    pub review_wake: Arc<tokio::sync::Notify>,
    /// The Studio engine's HTTP client, allow-list and timeout wake-up.
    pub studio: Arc<studio::engine::StudioRuntime>,
}

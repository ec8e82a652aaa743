//! Several instances on one PostgreSQL database behave as one server (issue 16). What each
//! instance caches in memory — verified credentials (`auth`), resolved services
//! (`conversations::ServiceCache`) — is forgotten in-process by the instance that made a
//! change; the others learn of it from the cache epoch (`store::shared`), which the change's
//! own transaction moves. Each instance polls it every [`EPOCH_POLL`] and forgets both caches
//! when it moved, so a deleted key, a suspended or closed account, or a deleted or
//! reconfigured service is refused or seen anew by every instance within that interval (plus
//! one query). LISTEN/NOTIFY is not used: it is lost on reconnect and absent behind PgBouncer's
//! transaction mode and on some PostgreSQL-compatible engines.

use std::time::Duration;

use super::Core;

/// How often each instance reads the cache epoch (one primary-key read).
pub const EPOCH_POLL: Duration = Duration::from_millis(250);

/// Follows the cache epoch until the task is aborted (the server's shutdown).
pub async fn follow_cache_epoch(core: Core) {
    let mut seen: Option<i64> = None;
    loop {
        match core.store.cache_epoch().await {
            Ok(epoch) => {
                if seen.is_some_and(|seen| seen != epoch) {
                    core.auth.forget_all();
                    core.services.forget_all();
                }
                seen = Some(epoch);
            }
            Err(e) => {
                // Unknown whether anything changed: forget, and read again next time.
                tracing::warn!(error = %e, "cannot read the cache epoch");
                core.auth.forget_all();
                core.services.forget_all();
                seen = None;
            }
        }
        tokio::time::sleep(EPOCH_POLL).await;
    }
}

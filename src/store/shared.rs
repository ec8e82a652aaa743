//! `shared_state`: what several instances on one database share beyond the resources — the
//! cache epoch every instance polls (the `bootstrap` lock row is `accounts`').

use super::{Conn, Store, StoreResult, db::sql};

/// Moves the cache epoch, on the transaction that makes the change the caches depend on (so
/// the epoch moves exactly when the change commits).
pub(crate) async fn bump_cache_epoch(conn: &mut Conn<'_>) -> StoreResult<()> {
    sql("update shared_state set value = value + 1 where name = 'caches'")
        .execute(conn)
        .await?;
    Ok(())
}

impl Store {
    /// The cache epoch: it moves whenever a credential or a service changes (see
    /// `bump_cache_epoch`).
    pub async fn cache_epoch(&self) -> StoreResult<i64> {
        Ok(sql("select value from shared_state where name = 'caches'")
            .fetch_scalar(self)
            .await?)
    }
}

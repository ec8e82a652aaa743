//! `shared_state`: what several instances on one database share beyond the resources — the
//! cache epoch every instance polls, and the lock row the main account is created under.

use super::{
    Conn, Store, StoreResult,
    accounts::{NewAccount, insert_main_account_in},
    db::sql,
    dialect::lock_parent,
};

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

    /// Inserts the main account unless the database already has an account: `false` when it
    /// had one. Under the `bootstrap` lock row, so of several instances starting at the same
    /// moment on one database exactly one creates it.
    pub async fn insert_main_account_once(&self, new: NewAccount<'_>) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        lock_parent(&mut tx, "shared_state", "name", "bootstrap").await?;
        let accounts: i64 = sql("select count(*) from accounts")
            .fetch_scalar(&mut tx)
            .await?;
        if accounts > 0 {
            return Ok(false);
        }
        insert_main_account_in(&mut tx.conn(), new).await?;
        tx.commit().await?;
        Ok(true)
    }
}

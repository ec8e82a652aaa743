//! Rows of `flow_test_users`: a flow's TestUsers list, in order (`position`).

use super::flows::flow_exists_in;
use crate::store::{
    Conn, Sql, Store, StoreResult,
    db::{On, sql},
    dialect::lock_parent,
};

impl Store {
    /// The flow's test users in order; `None` when the flow is not the account's.
    pub async fn test_users(
        &self,
        account_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        // One snapshot: the flow's existence and its list are read together.
        let mut tx = self.begin_read().await?;
        if !flow_exists_in(&mut tx.conn(), account_sid, sid).await? {
            return Ok(None);
        }
        Ok(Some(select_test_users(&mut tx.conn(), sid).await?))
    }

    /// A flow's test users, in order, read without its flow (an execution's create, which
    /// reads the revision through the flow's owner next).
    pub async fn flow_test_users(&self, sid: &str) -> StoreResult<Vec<String>> {
        select_test_users(self, sid).await
    }

    /// Replaces the whole list in one transaction (through the group-commit writer): readers
    /// see the old list or the new one, never a mix. `false` when the flow is not the account's.
    pub async fn replace_test_users(
        &self,
        account_sid: &str,
        sid: &str,
        identities: &[String],
    ) -> StoreResult<bool> {
        let (account_sid, sid, identities) =
            (account_sid.to_owned(), sid.to_owned(), identities.to_vec());
        self.write(move |mut conn| {
            let (account_sid, sid, identities) =
                (account_sid.clone(), sid.clone(), identities.clone());
            Box::pin(async move {
                // Two replacements of one list run one after the other (PostgreSQL).
                lock_parent(&mut conn, "flows", "sid", &sid).await?;
                if !flow_exists_in(&mut conn, &account_sid, &sid).await? {
                    return Ok(false);
                }
                // A delete and one multi-row insert (not one insert per identity). Guarding
                // both with the flow's row instead of the look-up above (`insert … select …
                // where exists`) made SQLite re-prepare the insert on every call: more
                // instructions than the look-up it saved (bench/RESULTS.md, session 5).
                write_test_users(&mut conn, &sid, &identities).await?;
                Ok(true)
            })
        })
        .await
    }
}

/// A flow's test users, in order.
pub(in crate::store) async fn select_test_users<'a>(
    on: impl Into<On<'a>>,
    sid: &str,
) -> StoreResult<Vec<String>> {
    Ok(
        sql("select identity from flow_test_users where flow_sid = $1 order by position")
            .bind(sid)
            .fetch_all_scalar(on)
            .await?,
    )
}

/// Makes the flow's test users exactly `identities` (on an open transaction).
pub(in crate::store) async fn write_test_users(
    conn: &mut Conn<'_>,
    sid: &str,
    identities: &[String],
) -> StoreResult<()> {
    sql("delete from flow_test_users where flow_sid = $1")
        .bind(sid)
        .execute(&mut *conn)
        .await?;
    insert_test_users(conn, sid, identities).await
}

/// Rows per insert: 3 bound values each, within the ≤ 300 values per statement that keep
/// SQLite's binding cheap (see `bulk`).
const TEST_USERS_PER_INSERT: usize = 100;

/// Inserts `identities` at positions 0… in multi-row inserts.
async fn insert_test_users(
    conn: &mut Conn<'_>,
    sid: &str,
    identities: &[String],
) -> StoreResult<()> {
    for (chunk_index, chunk) in identities.chunks(TEST_USERS_PER_INSERT).enumerate() {
        let first = chunk_index * TEST_USERS_PER_INSERT;
        let mut qb = Sql::new("insert into flow_test_users (flow_sid, position, identity) ");
        let rows = chunk
            .iter()
            .enumerate()
            .map(|(i, identity)| (first + i, identity));
        qb.push_values(rows, |mut values, (position, identity)| {
            values
                .push_bind(sid.to_owned())
                .push_bind(position as i64)
                .push_bind(identity.clone());
        });
        qb.execute(&mut *conn).await?;
    }
    Ok(())
}

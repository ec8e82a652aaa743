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
                // Two statements, both guarded by the account's flow row instead of a look-up
                // of their own: the list is never empty (`test_users::normalize`), so an insert
                // of no rows means the flow is not the account's (and the delete removed none).
                sql("delete from flow_test_users where flow_sid = $1 \
                     and exists (select 1 from flows where sid = $1 and account_sid = $2)")
                .bind(&sid)
                .bind(&account_sid)
                .execute(&mut conn)
                .await?;
                let inserted =
                    insert_test_users(&mut conn, &sid, &identities, Some(&account_sid)).await?;
                Ok(inserted > 0)
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
    insert_test_users(conn, sid, identities, None).await?;
    Ok(())
}

/// Rows per insert: 3 bound values each, within the ≤ 300 values per statement that keep
/// SQLite's binding cheap (see `bulk`).
const TEST_USERS_PER_INSERT: usize = 100;

/// Inserts `identities` at positions 0… in multi-row inserts; with `owner`, only if the flow is
/// that account's. Returns the rows inserted.
async fn insert_test_users(
    conn: &mut Conn<'_>,
    sid: &str,
    identities: &[String],
    owner: Option<&str>,
) -> StoreResult<u64> {
    let mut inserted = 0;
    for (chunk_index, chunk) in identities.chunks(TEST_USERS_PER_INSERT).enumerate() {
        let first = chunk_index * TEST_USERS_PER_INSERT;
        let mut qb = Sql::new("insert into flow_test_users (flow_sid, position, identity) ");
        let rows = chunk
            .iter()
            .enumerate()
            .map(|(i, identity)| (first + i, identity));
        match owner {
            None => {
                qb.push_values(rows, |mut values, (position, identity)| {
                    values
                        .push_bind(sid.to_owned())
                        .push_bind(position as i64)
                        .push_bind(identity.clone());
                });
            }
            Some(account_sid) => {
                // `insert … select … where exists`: nothing when the flow is not the account's.
                qb.push("select t.column1, t.column2, t.column3 from (");
                qb.push_values(rows, |mut values, (position, identity)| {
                    values
                        .push_bind(sid.to_owned())
                        .push_bind(position as i64)
                        .push_bind(identity.clone());
                });
                qb.push(") t where exists (select 1 from flows where sid = ")
                    .push_bind(sid.to_owned())
                    .push(" and account_sid = ")
                    .push_bind(account_sid.to_owned())
                    .push(")");
            }
        }
        let count = qb.execute(&mut *conn).await?;
        if count == 0 {
            break;
        }
        inserted += count;
    }
    Ok(inserted)
}

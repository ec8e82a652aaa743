//! Rows of `flow_test_users`: a flow's TestUsers list, in order (`position`).

use sqlx::SqliteConnection;

use super::flows::flow_exists_in;
use crate::store::{Store, StoreResult};

impl Store {
    /// The flow's test users in order; `None` when the flow is not the account's.
    pub async fn test_users(
        &self,
        account_sid: &str,
        sid: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        let mut conn = self.pool.acquire().await?;
        if !flow_exists_in(&mut conn, account_sid, sid).await? {
            return Ok(None);
        }
        Ok(Some(select_test_users(&mut conn, sid).await?))
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
        self.writer
            .write(move |conn| {
                Box::pin(async move {
                    if !flow_exists_in(conn, &account_sid, &sid).await? {
                        return Ok(false);
                    }
                    write_test_users(conn, &sid, &identities).await?;
                    Ok(true)
                })
            })
            .await
    }
}

/// A flow's test users, in order.
pub(in crate::store) async fn select_test_users(
    conn: &mut SqliteConnection,
    sid: &str,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "select identity from flow_test_users where flow_sid = $1 order by position",
    )
    .bind(sid)
    .fetch_all(conn)
    .await?)
}

/// Makes the flow's test users exactly `identities` (on an open transaction).
pub(in crate::store) async fn write_test_users(
    conn: &mut SqliteConnection,
    sid: &str,
    identities: &[String],
) -> StoreResult<()> {
    sqlx::query("delete from flow_test_users where flow_sid = $1")
        .bind(sid)
        .execute(&mut *conn)
        .await?;
    for (position, identity) in identities.iter().enumerate() {
        sqlx::query(
            "insert into flow_test_users (flow_sid, position, identity) values ($1, $2, $3)",
        )
        .bind(sid)
        .bind(position as i64)
        .bind(identity)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

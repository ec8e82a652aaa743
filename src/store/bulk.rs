//! Bulk inserts for generated data sets (`localtwilio seed --generate`): one transaction per
//! call, many rows each, prepared statements reused.

use super::{Store, StoreResult, conversations::UserRow, end_users::EndUserRow};

/// A generated flow: one published revision and its test users.
pub struct BulkFlow {
    pub sid: String,
    pub friendly_name: String,
    pub definition: String,
    pub test_users: Vec<String>,
}

impl Store {
    pub async fn bulk_users(&self, rows: &[UserRow]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for r in rows {
            sqlx::query(
                "insert into conversation_users (sid, service_sid, account_sid, identity, friendly_name, \
                 attributes, role_sid, date_created, date_updated) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&r.sid)
            .bind(&r.service_sid)
            .bind(&r.account_sid)
            .bind(&r.identity)
            .bind(&r.friendly_name)
            .bind(&r.attributes)
            .bind(&r.role_sid)
            .bind(r.date_created)
            .bind(r.date_updated)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn bulk_end_users(&self, rows: &[EndUserRow]) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for r in rows {
            sqlx::query(
                "insert into end_users (sid, account_sid, friendly_name, type, attributes, date_created, \
                 date_updated) values (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&r.sid)
            .bind(&r.account_sid)
            .bind(&r.friendly_name)
            .bind(&r.r#type)
            .bind(&r.attributes)
            .bind(r.date_created)
            .bind(r.date_updated)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn bulk_flows(
        &self,
        account_sid: &str,
        flows: &[BulkFlow],
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        for f in flows {
            sqlx::query(
                "insert into flows (sid, account_sid, revision, date_created) values (?, ?, 1, ?)",
            )
            .bind(&f.sid)
            .bind(account_sid)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into flow_revisions (flow_sid, revision, friendly_name, status, definition, \
                 commit_message, errors, date_created) values (?, 1, ?, 'published', ?, null, '[]', ?)",
            )
            .bind(&f.sid)
            .bind(&f.friendly_name)
            .bind(&f.definition)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for (position, identity) in f.test_users.iter().enumerate() {
                sqlx::query(
                    "insert into flow_test_users (flow_sid, position, identity) values (?, ?, ?)",
                )
                .bind(&f.sid)
                .bind(position as i64)
                .bind(identity)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The `seq` of a user, for building page tokens of generated data.
    pub async fn user_seq(&self, sid: &str) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("select seq from conversation_users where sid = ?")
                .bind(sid)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

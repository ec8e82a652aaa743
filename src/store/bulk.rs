//! Bulk inserts for generated data sets (`localtwilio seed --generate`): one transaction per
//! call, many rows each, multi-row statements where the rows are uniform.

use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};

use super::{Store, StoreResult, conversations::UserRow, end_users::EndUserRow};

/// A generated flow: one published revision and its test users.
pub struct BulkFlow {
    pub sid: String,
    pub friendly_name: String,
    pub definition: String,
    pub test_users: Vec<String>,
}

/// A connection of its own for loading generated data: a 64 MiB page cache (index pages of
/// 100k-row tables stay in memory) and `synchronous=NORMAL` (each batch's commit skips its
/// fsync; WAL mode keeps the file consistent). `finish` checkpoints the whole WAL into the
/// database with fsyncs, so the data is durable before the command reports success. Nothing
/// else uses this connection, so its settings never reach API requests.
pub struct BulkSession {
    conn: SqliteConnection,
}

impl Store {
    pub async fn bulk_session(&self) -> StoreResult<BulkSession> {
        let mut conn = SqliteConnection::connect_with(&self.options).await?;
        for pragma in [
            "pragma cache_size = -65536",
            "pragma synchronous = normal",
            "pragma wal_autocheckpoint = 0",
        ] {
            sqlx::query(pragma).execute(&mut conn).await?;
        }
        Ok(BulkSession { conn })
    }
}

impl BulkSession {
    async fn begin(&mut self) -> StoreResult<sqlx::Transaction<'_, Sqlite>> {
        Ok(self.conn.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Copies everything loaded into the database file and syncs it.
    pub async fn finish(mut self) -> StoreResult<()> {
        sqlx::query("pragma synchronous = full")
            .execute(&mut self.conn)
            .await?;
        sqlx::query("pragma wal_checkpoint(truncate)")
            .execute(&mut self.conn)
            .await?;
        self.conn.close().await?;
        Ok(())
    }

    pub async fn bulk_users(&mut self, rows: &[UserRow]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        // Multi-row INSERTs: one statement per chunk instead of one per row (each statement is a
        // round trip to sqlx's worker thread). 9 values × 500 rows stays under SQLite's limit.
        for chunk in rows.chunks(500) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "insert into conversation_users (sid, service_sid, account_sid, identity, friendly_name, \
                 attributes, role_sid, date_created, date_updated) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.sid.clone())
                    .push_bind(r.service_sid.clone())
                    .push_bind(r.account_sid.clone())
                    .push_bind(r.identity.clone())
                    .push_bind(r.friendly_name.clone())
                    .push_bind(r.attributes.clone())
                    .push_bind(r.role_sid.clone())
                    .push_bind(r.date_created)
                    .push_bind(r.date_updated);
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn bulk_end_users(&mut self, rows: &[EndUserRow]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for chunk in rows.chunks(500) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "insert into end_users (sid, account_sid, friendly_name, type, attributes, date_created, date_updated) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.sid.clone())
                    .push_bind(r.account_sid.clone())
                    .push_bind(r.friendly_name.clone())
                    .push_bind(r.r#type.clone())
                    .push_bind(r.attributes.clone())
                    .push_bind(r.date_created)
                    .push_bind(r.date_updated);
            });
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn bulk_flows(
        &mut self,
        account_sid: &str,
        flows: &[BulkFlow],
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for chunk in flows.chunks(500) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "insert into flows (sid, account_sid, revision, date_created) ",
            );
            qb.push_values(chunk, |mut b, f| {
                b.push_bind(f.sid.clone())
                    .push_bind(account_sid.to_owned())
                    .push_bind(1i64)
                    .push_bind(now);
            });
            qb.build().execute(&mut *tx).await?;
            let mut qb = QueryBuilder::<Sqlite>::new(
                "insert into flow_revisions (flow_sid, revision, friendly_name, status, definition, \
                 commit_message, errors, date_created) ",
            );
            qb.push_values(chunk, |mut b, f| {
                b.push_bind(f.sid.clone())
                    .push_bind(1i64)
                    .push_bind(f.friendly_name.clone())
                    .push_bind("published")
                    .push_bind(f.definition.clone())
                    .push_bind(None::<String>)
                    .push_bind("[]")
                    .push_bind(now);
            });
            qb.build().execute(&mut *tx).await?;
            let test_users: Vec<(&str, i64, &str)> = chunk
                .iter()
                .flat_map(|f| {
                    f.test_users
                        .iter()
                        .enumerate()
                        .map(|(i, u)| (f.sid.as_str(), i as i64, u.as_str()))
                })
                .collect();
            for users in test_users.chunks(1000) {
                let mut qb = QueryBuilder::<Sqlite>::new(
                    "insert into flow_test_users (flow_sid, position, identity) ",
                );
                qb.push_values(users, |mut b, (sid, position, identity)| {
                    b.push_bind(sid.to_string())
                        .push_bind(*position)
                        .push_bind(identity.to_string());
                });
                qb.build().execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
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

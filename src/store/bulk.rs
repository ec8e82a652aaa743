//! Bulk inserts for generated data sets (`localtwilio seed --generate`): one transaction per
//! call, many rows each, multi-row statements where the rows are uniform.

use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection};

use super::{
    Store, StoreResult,
    accounts::{NewAccount, insert_main_account_in},
    conversations::UserRow,
    keys::KeyRecord,
    query::{Columns, Owned},
    trusthub::end_users::EndUserRow,
};

/// A generated API key with its secret's hash.
pub struct BulkKey {
    pub sid: String,
    pub friendly_name: String,
    pub secret_hash: String,
}

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
    /// Copies committed batches from the WAL into the database file on another connection
    /// (and core) while the next batches load, so little is left for `finish`.
    checkpointer: tokio::task::JoinHandle<()>,
}

impl Store {
    pub async fn bulk_session(&self) -> StoreResult<BulkSession> {
        let mut conn = SqliteConnection::connect_with(&self.options).await?;
        for pragma in [
            "pragma cache_size = -262144",
            "pragma temp_store = memory",
            "pragma foreign_keys = off",
            "pragma synchronous = normal",
            "pragma wal_autocheckpoint = 0",
        ] {
            sqlx::query(pragma).execute(&mut conn).await?;
        }
        let pool = self.pool.clone();
        let checkpointer = tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                // PASSIVE never blocks the loader; a failure here only leaves more for `finish`.
                let _ = sqlx::query("pragma wal_checkpoint(passive)")
                    .execute(&pool)
                    .await;
            }
        });
        Ok(BulkSession { conn, checkpointer })
    }
}

impl BulkSession {
    /// A load transaction. Its inserts are `insert or rollback` and its foreign keys are checked
    /// at commit (`defer_foreign_keys`): no statement can then fail half-way, so SQLite keeps no
    /// statement journal — which copied every touched page once more (a fifth of the load time
    /// in a profile). Any violation still fails the whole batch.
    async fn begin(&mut self) -> StoreResult<sqlx::Transaction<'_, Sqlite>> {
        let mut tx = self.conn.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("pragma defer_foreign_keys = on")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// A main account with its default service, in its own transaction.
    pub async fn main_account(&mut self, new: NewAccount<'_>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_main_account_in(&mut tx, new).await?;
        tx.commit().await?;
        Ok(())
    }

    /// API keys of one account, in one transaction.
    pub async fn keys(&mut self, account_sid: &str, keys: &[BulkKey], now: i64) -> StoreResult<()> {
        let rows = keys
            .iter()
            .map(|key| KeyRecord {
                seq: 0,
                sid: key.sid.clone(),
                account_sid: account_sid.to_owned(),
                friendly_name: Some(key.friendly_name.clone()),
                secret_hash: key.secret_hash.clone(),
                date_created: now,
                date_updated: now,
            })
            .collect();
        self.insert_rows::<KeyRecord>(rows).await
    }

    /// Checks the references the load did not check row by row, then copies everything loaded
    /// into the database file and syncs it.
    pub async fn finish(mut self) -> StoreResult<()> {
        self.checkpointer.abort();
        let dangling: Vec<(String, Option<i64>)> =
            sqlx::query_as("select \"table\", rowid from pragma_foreign_key_check limit 1")
                .fetch_all(&mut self.conn)
                .await?;
        if let Some((table, rowid)) = dangling.first() {
            return Err(sqlx::Error::Protocol(format!(
                "generated row {rowid:?} of {table} references a missing row"
            ))
            .into());
        }
        sqlx::query("pragma synchronous = full")
            .execute(&mut self.conn)
            .await?;
        sqlx::query("pragma wal_checkpoint(truncate)")
            .execute(&mut self.conn)
            .await?;
        self.conn.close().await?;
        Ok(())
    }

    pub async fn bulk_users(&mut self, rows: Vec<UserRow>) -> StoreResult<()> {
        self.insert_rows(rows).await
    }

    pub async fn bulk_end_users(&mut self, rows: Vec<EndUserRow>) -> StoreResult<()> {
        self.insert_rows(rows).await
    }

    /// Every row (each column it writes), in one transaction. Multi-row INSERTs: one statement
    /// per 500 rows instead of one per row (each statement is a round trip to sqlx's worker
    /// thread); 9 values × 500 rows stays under SQLite's limit.
    async fn insert_rows<R: Owned + Columns>(&mut self, rows: Vec<R>) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for chunk in chunks(rows, 500) {
            let mut qb = QueryBuilder::<Sqlite>::new("insert or rollback into ");
            R::TABLE.push_into::<R>(&mut qb);
            qb.push(" ");
            qb.push_values(chunk, |mut values, row| row.into_written(&mut values));
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
                "insert or rollback into flows (sid, account_sid, revision, date_created) ",
            );
            qb.push_values(chunk, |mut b, f| {
                b.push_bind(f.sid.clone())
                    .push_bind(account_sid.to_owned())
                    .push_bind(1i64)
                    .push_bind(now);
            });
            qb.build().execute(&mut *tx).await?;
            let mut qb = QueryBuilder::<Sqlite>::new(
                "insert or rollback into flow_revisions (flow_sid, revision, friendly_name, status, definition, \
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
                    "insert or rollback into flow_test_users (flow_sid, position, identity) ",
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
            sqlx::query_scalar("select seq from conversation_users where sid = $1")
                .bind(sid)
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

/// `rows` in owned chunks of `size` (their strings move into the statements, no copies).
fn chunks<T>(rows: Vec<T>, size: usize) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        rows.peek()?;
        Some(rows.by_ref().take(size).collect())
    })
}

//! Bulk inserts for generated data sets (`localtwilio seed --generate`): one transaction per
//! call, many rows each, multi-row statements where the rows are uniform.

use std::sync::Arc;

use sqlx::{Connection, PgConnection, SqliteConnection};

use super::{
    Backend, Conn, Sql, Store, StoreResult,
    accounts::{NewAccount, insert_main_account_in},
    conversations::{ConversationRow, MessageRow, ParticipantRow, UserRow},
    db::{Db, On, sql},
    dialect,
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

/// Generated conversations with their participants and messages.
#[derive(Default)]
pub struct BulkConversations {
    pub conversations: Vec<ConversationRow>,
    pub participants: Vec<ParticipantRow>,
    pub messages: Vec<MessageRow>,
}

impl BulkConversations {
    pub fn rows(&self) -> usize {
        self.conversations.len() + self.participants.len() + self.messages.len()
    }
}

/// A connection of its own for loading generated data: a 64 MiB page cache (index pages of
/// 100k-row tables stay in memory) and `synchronous=NORMAL` (each batch's commit skips its
/// fsync; WAL mode keeps the file consistent). `finish` checkpoints the whole WAL into the
/// database with fsyncs, so the data is durable before the command reports success. Nothing
/// else uses this connection, so its settings never reach API requests.
///
/// On PostgreSQL it is a plain connection of its own: rows go in foreign-key order and every
/// batch is a normal transaction.
pub struct BulkSession {
    conn: BulkConn,
    /// Copies committed batches from the WAL into the database file on another connection
    /// (and core) while the next batches load, so little is left for `finish` (SQLite).
    checkpointer: Option<tokio::task::JoinHandle<()>>,
    /// Held by a checkpoint while it runs: SQLite lets one run at a time and answers another
    /// "busy" without waiting, so the loader's restarting checkpoint waits here for the
    /// background one instead.
    checkpointing: Arc<tokio::sync::Mutex<()>>,
    /// Rows committed since the WAL last started over, and how many make it start over (see
    /// [`RESTART_WAL_EVERY`]).
    rows_since_restart: usize,
    restart_wal_every: usize,
}

enum BulkConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Store {
    pub async fn bulk_session(&self) -> StoreResult<BulkSession> {
        let (options, pool) = match &*self.db {
            Db::Sqlite { options, pool, .. } => (options, pool),
            Db::Postgres { options, .. } => {
                return Ok(BulkSession {
                    conn: BulkConn::Postgres(PgConnection::connect_with(options).await?),
                    checkpointer: None,
                    checkpointing: Arc::default(),
                    rows_since_restart: 0,
                    restart_wal_every: RESTART_WAL_EVERY,
                });
            }
        };
        let mut conn = SqliteConnection::connect_with(options).await?;
        for pragma in [
            "pragma cache_size = -262144",
            "pragma temp_store = memory",
            "pragma foreign_keys = off",
            "pragma synchronous = normal",
            "pragma wal_autocheckpoint = 0",
        ] {
            sqlx::query(pragma).execute(&mut conn).await?;
        }
        let pool = pool.clone();
        let checkpointing = Arc::new(tokio::sync::Mutex::new(()));
        let running = Arc::clone(&checkpointing);
        let checkpointer = tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                let _running = running.lock().await;
                // PASSIVE never blocks the loader; a failure here only leaves more for `finish`.
                let _ = sqlx::query("pragma wal_checkpoint(passive)")
                    .execute(&pool)
                    .await;
            }
        });
        Ok(BulkSession {
            conn: BulkConn::Sqlite(conn),
            checkpointer: Some(checkpointer),
            checkpointing,
            rows_since_restart: 0,
            restart_wal_every: RESTART_WAL_EVERY,
        })
    }
}

impl BulkSession {
    /// A load transaction. Its inserts are `insert or rollback` and its foreign keys are checked
    /// at commit (`defer_foreign_keys`): no statement can then fail half-way, so SQLite keeps no
    /// statement journal — which copied every touched page once more (a fifth of the load time
    /// in a profile). Any violation still fails the whole batch.
    ///
    /// The batch is committed by `commit`; a failed batch fails the whole load, and the
    /// connection (with its open transaction) is dropped with the session.
    async fn begin(&mut self) -> StoreResult<()> {
        match self.conn {
            BulkConn::Sqlite(_) => {
                sql("BEGIN IMMEDIATE").execute(self.on()).await?;
                sql("pragma defer_foreign_keys = on")
                    .execute(self.on())
                    .await?;
            }
            BulkConn::Postgres(_) => {
                sql("begin").execute(self.on()).await?;
            }
        }
        Ok(())
    }

    async fn commit(&mut self) -> StoreResult<()> {
        sql("commit").execute(self.on()).await?;
        if matches!(self.conn, BulkConn::Sqlite(_))
            && self.rows_since_restart >= self.restart_wal_every
        {
            self.restart_wal().await?;
        }
        Ok(())
    }

    /// Copies the rest of the WAL into the database and empties it, so the next batch writes
    /// the WAL from its start (SQLite). The background PASSIVE checkpoints alone never let it
    /// start over: that needs every frame copied when a write begins, and the next batch always
    /// began before the last one was copied, so a 10-million-user load grew an 8.5 GB WAL
    /// beside its 2.4 GB database. Between batches nothing else writes, so this never waits for
    /// a writer; it waits for a background checkpoint to end (one runs at a time).
    async fn restart_wal(&mut self) -> StoreResult<()> {
        let checkpointing = Arc::clone(&self.checkpointing);
        let _running = checkpointing.lock().await;
        let (busy, _, _): (i64, i64, i64) = sql("pragma wal_checkpoint(truncate)")
            .fetch_one(self.on())
            .await?;
        // Busy (a reader held an old snapshot): the WAL starts over at a later restart.
        if busy == 0 {
            self.rows_since_restart = 0;
        }
        Ok(())
    }

    fn conn(&mut self) -> Conn<'_> {
        match &mut self.conn {
            BulkConn::Sqlite(c) => Conn::Sqlite(c),
            BulkConn::Postgres(c) => Conn::Postgres(c),
        }
    }

    fn on(&mut self) -> On<'_> {
        match &mut self.conn {
            BulkConn::Sqlite(c) => On::Sqlite(c),
            BulkConn::Postgres(c) => On::Postgres(c),
        }
    }

    fn backend(&self) -> Backend {
        match self.conn {
            BulkConn::Sqlite(_) => Backend::Sqlite,
            BulkConn::Postgres(_) => Backend::Postgres,
        }
    }

    /// How many rows of `columns` values one multi-row INSERT takes (see [`SQLITE_PARAMETERS`]).
    fn rows_per_statement(&self, columns: usize) -> usize {
        match self.backend() {
            Backend::Sqlite => (SQLITE_PARAMETERS / columns.max(1)).max(1),
            Backend::Postgres => POSTGRES_ROWS,
        }
    }

    /// `insert into` (SQLite: `insert or rollback into`, see `begin`).
    fn insert_into(&self, rest: &str) -> Sql {
        let mut qb = dialect::bulk_insert(self.backend());
        qb.push(rest);
        qb
    }

    /// A main account with its default service, in its own transaction.
    pub async fn main_account(&mut self, new: NewAccount<'_>) -> StoreResult<()> {
        self.begin().await?;
        insert_main_account_in(&mut self.conn(), new).await?;
        self.commit().await
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
        if let Some(checkpointer) = self.checkpointer.take() {
            checkpointer.abort();
        }
        let conn = match self.conn {
            BulkConn::Postgres(conn) => {
                // Every batch committed durably, foreign keys checked row by row.
                conn.close().await?;
                return Ok(());
            }
            BulkConn::Sqlite(conn) => conn,
        };
        self.conn = BulkConn::Sqlite(conn);
        let dangling: Vec<(String, Option<i64>)> =
            sql("select \"table\", rowid from pragma_foreign_key_check limit 1")
                .fetch_all(self.on())
                .await?;
        if let Some((table, rowid)) = dangling.first() {
            return Err(sqlx::Error::Protocol(format!(
                "generated row {rowid:?} of {table} references a missing row"
            ))
            .into());
        }
        sql("pragma synchronous = full").execute(self.on()).await?;
        sql("pragma wal_checkpoint(truncate)")
            .execute(self.on())
            .await?;
        if let BulkConn::Sqlite(conn) = self.conn {
            conn.close().await?;
        }
        Ok(())
    }

    pub async fn bulk_users(&mut self, rows: Vec<UserRow>) -> StoreResult<()> {
        self.insert_rows(rows).await
    }

    pub async fn bulk_end_users(&mut self, rows: Vec<EndUserRow>) -> StoreResult<()> {
        self.insert_rows(rows).await
    }

    /// Conversations with their participants and messages, in one transaction (in that order:
    /// PostgreSQL checks each row's references as it goes in).
    pub async fn bulk_conversations(&mut self, batch: BulkConversations) -> StoreResult<()> {
        self.begin().await?;
        self.push_rows(batch.conversations).await?;
        self.push_rows(batch.participants).await?;
        self.push_rows(batch.messages).await?;
        self.commit().await
    }

    /// Every row (each column it writes), in one transaction. Multi-row INSERTs: one statement
    /// per many rows instead of one per row (each statement is a round trip to sqlx's worker
    /// thread).
    async fn insert_rows<R: Owned + Columns>(&mut self, rows: Vec<R>) -> StoreResult<()> {
        self.begin().await?;
        self.push_rows(rows).await?;
        self.commit().await
    }

    /// `rows` on the open load transaction, as many to a statement as [`PARAMETERS`] allows.
    async fn push_rows<R: Owned + Columns>(&mut self, rows: Vec<R>) -> StoreResult<()> {
        let per_statement = self.rows_per_statement(R::COLUMNS.split(',').count());
        self.rows_since_restart += rows.len();
        for chunk in chunks(rows, per_statement) {
            let mut qb = self.insert_into("");
            R::TABLE.push_into::<R>(&mut qb);
            qb.push(" ");
            qb.push_values(chunk, |mut values, row| row.into_written(&mut values));
            qb.execute(self.on()).await?;
        }
        Ok(())
    }

    pub async fn bulk_flows(
        &mut self,
        account_sid: &str,
        flows: &[BulkFlow],
        now: i64,
    ) -> StoreResult<()> {
        self.begin().await?;
        self.rows_since_restart += flows.iter().map(|f| 2 + f.test_users.len()).sum::<usize>();
        // A revision binds 8 values (the widest of the three statements).
        let per_statement = self.rows_per_statement(8);
        for chunk in flows.chunks(per_statement) {
            let mut qb = self.insert_into("flows (sid, account_sid, revision, date_created) ");
            qb.push_values(chunk, |mut b, f| {
                b.push_bind(f.sid.clone())
                    .push_bind(account_sid.to_owned())
                    .push_bind(1i64)
                    .push_bind(now);
            });
            qb.execute(self.on()).await?;
            let mut qb = self.insert_into(
                "flow_revisions (flow_sid, revision, friendly_name, status, definition, \
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
            qb.execute(self.on()).await?;
            let test_users: Vec<(&str, i64, &str)> = chunk
                .iter()
                .flat_map(|f| {
                    f.test_users
                        .iter()
                        .enumerate()
                        .map(|(i, u)| (f.sid.as_str(), i as i64, u.as_str()))
                })
                .collect();
            for users in test_users.chunks(self.rows_per_statement(3)) {
                let mut qb = self.insert_into("flow_test_users (flow_sid, position, identity) ");
                qb.push_values(users, |mut b, (sid, position, identity)| {
                    b.push_bind(sid.to_string())
                        .push_bind(*position)
                        .push_bind(identity.to_string());
                });
                qb.execute(self.on()).await?;
            }
        }
        self.commit().await
    }
}

impl Store {
    /// The `seq` of a user, for building page tokens of generated data.
    pub async fn user_seq(&self, sid: &str) -> StoreResult<Option<i64>> {
        Ok(sql("select seq from conversation_users where sid = $1")
            .bind(sid)
            .fetch_optional_scalar(self)
            .await?)
    }
}

/// Bound values per multi-row INSERT on SQLite. With `$n` placeholders binding cost the square
/// of a statement's parameters (sqlx asks SQLite each parameter's name, and SQLite finds it by a
/// walk of the statement's list: 78% of a profile of 500-row statements of 18 columns), so rows
/// went in 300 values at a time. The bulk statements now use anonymous `?`
/// (`dialect::bulk_insert`), bound in one step each: a statement takes close to SQLite's limit
/// of 32,766 variables, and a load makes a hundredth of the statements (each a round trip to
/// sqlx's worker thread, and a parse when its text is new). PostgreSQL binds by position: 500
/// rows a statement there.
const SQLITE_PARAMETERS: usize = 32_000;

/// Rows loaded between two restarts of the WAL (SQLite; see [`BulkSession::restart_wal`]): the
/// WAL then peaks at a few hundred MB whatever the data set's size.
const RESTART_WAL_EVERY: usize = 500_000;
const POSTGRES_ROWS: usize = 500;

/// `rows` in owned chunks of `size` (their strings move into the statements, no copies).
fn chunks<T>(rows: Vec<T>, size: usize) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        rows.peek()?;
        Some(rows.by_ref().take(size).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end_users(from: usize, count: usize) -> Vec<EndUserRow> {
        (from..from + count)
            .map(|i| EndUserRow {
                seq: 0,
                sid: format!("IT{i:032x}"),
                account_sid: format!("AC{:032x}", 1),
                friendly_name: format!("End user {i} with a name long enough to fill pages"),
                r#type: "individual".into(),
                attributes: "{}".into(),
                date_created: 0,
                date_updated: 0,
            })
            .collect()
    }

    /// Session 4 saw an 8.5 GB WAL beside a 2.4 GB database during a 10-million-user load: the
    /// WAL never started over. Past `restart_wal_every` rows it is emptied between batches, so
    /// it stays as small as one stretch of batches whatever the load's size.
    #[tokio::test]
    async fn the_wal_starts_over_between_batches_so_a_large_load_does_not_grow_it() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("bulk.db");
        let wal = folder.path().join("bulk.db-wal");
        let wal_size = || std::fs::metadata(&wal).map_or(0, |m| m.len());
        let store = Store::open_exclusive(&path, 0).await.unwrap();
        let mut bulk = store.bulk_session().await.unwrap();
        bulk.restart_wal_every = 5_000;
        bulk.bulk_end_users(end_users(0, 3_000)).await.unwrap();
        let grown = wal_size();
        assert!(grown > 0, "a batch below the threshold stays in the WAL");
        bulk.bulk_end_users(end_users(3_000, 3_000)).await.unwrap();
        assert_eq!(wal_size(), 0, "past the threshold the WAL was emptied");
        for batch in 0..4 {
            bulk.bulk_end_users(end_users(6_000 + batch * 3_000, 3_000))
                .await
                .unwrap();
            assert!(
                wal_size() <= 2 * grown + 4096 * 64,
                "the WAL holds at most two batches' worth: {} after batch {batch} (one: {grown})",
                wal_size()
            );
        }
        let loaded: i64 = sql("select count(*) from end_users")
            .fetch_scalar(&store)
            .await
            .unwrap();
        assert_eq!(loaded, 18_000);
    }
}

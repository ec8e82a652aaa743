//! Bulk inserts for generated data sets (`localtwilio seed --generate`): one transaction per
//! call, many rows each, multi-row statements where the rows are uniform.

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
        let checkpointer = tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                // PASSIVE never blocks the loader; a failure here only leaves more for `finish`.
                let _ = sqlx::query("pragma wal_checkpoint(passive)")
                    .execute(&pool)
                    .await;
            }
        });
        Ok(BulkSession {
            conn: BulkConn::Sqlite(conn),
            checkpointer: Some(checkpointer),
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
        let mut qb = Sql::new(dialect::bulk_insert(self.backend()));
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

/// Bound values per multi-row INSERT on SQLite. Binding there costs the square of a statement's
/// parameters (sqlx asks SQLite each parameter's name, and SQLite finds it by a walk of the
/// statement's list: 78% of a profile of 500-row statements of 18 columns), so rows go in a few
/// hundred values at a time: 300 loaded users and conversations 1.5–4× faster than 4,500–9,000
/// (debug build, same machine). PostgreSQL binds by position: 500 rows a statement there.
const SQLITE_PARAMETERS: usize = 300;
const POSTGRES_ROWS: usize = 500;

/// `rows` in owned chunks of `size` (their strings move into the statements, no copies).
fn chunks<T>(rows: Vec<T>, size: usize) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        rows.peek()?;
        Some(rows.by_ref().take(size).collect())
    })
}

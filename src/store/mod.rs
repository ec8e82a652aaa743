//! SQLite or PostgreSQL through sqlx (see `db`: every statement written once, run on either).
//! All SQL of the service lives below this module; it imports nothing from `domain` or `http`.
//! Every multi-statement write is one transaction inside one fn here.

pub mod account_data;
pub mod accounts;
pub mod arg;
pub mod bulk;
pub mod conversations;
pub mod db;
pub mod dialect;
#[allow(unsafe_code)]
pub mod direct;
pub mod emulator;
pub mod error;
pub mod faults;
pub mod health;
pub mod keys;
pub mod messages;
pub mod packed;
pub mod pg_writer;
pub mod query;
pub mod seed;
pub mod shared;
pub mod studio;
pub mod trusthub;
pub mod webhooks;
pub mod writer;

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub use db::{Arg, Backend, Conn, On, Row, Scalar, Sql, Tx, sql};
pub use error::{StoreError, StoreResult};
pub use health::StorageHealth;

use db::Db;
use writer::BoxFuture;

#[derive(Clone)]
pub struct Store {
    pub(crate) db: Arc<Db>,
    /// This process's id in claims it takes (`webhooks`), random per open.
    pub(crate) instance: Arc<str>,
    /// Whether writes go through (`/healthz`): see `health`.
    health: Arc<StorageHealth>,
    /// This process's exclusive use of the file, when opened with `open_exclusive`; released
    /// by `close` (and by the OS when the process dies, SIGKILL included).
    lock: Arc<std::sync::Mutex<Option<std::fs::File>>>,
}

/// A second process on the same file, refused by `Store::open_exclusive`.
#[derive(Debug, thiserror::Error)]
#[error(
    "the database {} is in use by another localtwilio process ({} is locked): stop it first — \
     one SQLite file serves one server at a time",
    database.display(),
    lock.display()
)]
pub struct InUse {
    pub database: std::path::PathBuf,
    pub lock: std::path::PathBuf,
}

/// Creates the folders a database file is to live in.
fn create_parent(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::create_dir_all(parent),
        None => Ok(()),
    }
}

/// How `open_holding` treats the file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    /// `serve`, `seed`: create the file if needed and apply the embedded migrations.
    CreateAndMigrate,
    /// `export`, `backup`: the file must exist at this binary's schema; nothing is written.
    Existing,
}

/// `{database}.lock`, beside the database file — named after the file's canonical path, so a
/// second server that reaches the same file through a symlink (to the file or to a folder on
/// its path) finds the same lock. The file may not exist yet on a first start: then its folder
/// is canonicalised and the name appended.
fn lock_path(database: &Path) -> std::io::Result<std::path::PathBuf> {
    let canonical = match std::fs::canonicalize(database) {
        Ok(path) => path,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let folder = match database.parent().filter(|p| !p.as_os_str().is_empty()) {
                Some(folder) => std::fs::canonicalize(folder)?,
                None => std::env::current_dir()?,
            };
            folder.join(database.file_name().unwrap_or(database.as_os_str()))
        }
        Err(e) => return Err(e),
    };
    let mut name = canonical.into_os_string();
    name.push(".lock");
    Ok(name.into())
}

impl Store {
    /// Opens a database that already exists, for commands that only read and may run beside a
    /// server (`backup`, `export`): it creates nothing (no file, no folder) and migrates nothing,
    /// so a mistyped path is an error rather than an empty database exported "successfully",
    /// and a newer binary never migrates a file an older server is serving. Its schema must be
    /// the one this binary expects. Takes no lock.
    pub async fn open_existing(path: &Path, max_pages: u64) -> anyhow::Result<Self> {
        if let Some(url) = postgres_url(path) {
            return Self::open_postgres(url, Open::Existing).await;
        }
        anyhow::ensure!(path.is_file(), "there is no database at {}", path.display());
        Self::open_holding(path, max_pages, None, Open::Existing).await
    }

    /// `open`, as the only process on the file: an exclusive lock on `{database}.lock` is taken
    /// first (before any migration), and a second server, seed or generation on the same file
    /// is refused with [`InUse`]. Several servers on one SQLite file would each trust their own
    /// caches (verified credentials, services) while the other changes the rows underneath.
    ///
    /// A `postgres://`/`postgresql://` URL opens PostgreSQL instead, shared by any number of
    /// servers (no lock: the database itself keeps them consistent).
    pub async fn open_exclusive(path: &Path, max_pages: u64) -> anyhow::Result<Self> {
        if let Some(url) = postgres_url(path) {
            return Self::open_postgres(url, Open::CreateAndMigrate).await;
        }
        create_parent(path)?;
        let lock = lock_path(path)
            .map_err(|e| anyhow::anyhow!("cannot resolve {}: {e}", path.display()))?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|e| anyhow::anyhow!("cannot open the lock file {}: {e}", lock.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(InUse {
                    database: path.to_owned(),
                    lock,
                }
                .into());
            }
            Err(std::fs::TryLockError::Error(e)) => {
                anyhow::bail!("cannot lock {}: {e}", lock.display());
            }
        }
        Self::open_holding(path, max_pages, Some(file), Open::CreateAndMigrate).await
    }

    /// Opens the file; `lock` (the exclusive lock, if any) lives as long as the store.
    async fn open_holding(
        path: &Path,
        max_pages: u64,
        lock: Option<std::fs::File>,
        open: Open,
    ) -> anyhow::Result<Self> {
        let create = open == Open::CreateAndMigrate;
        if create {
            create_parent(path)?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // The writer's batch savepoint journals every page the batch touches before it
            // changes it (SQLite's statement journal); past 64 KiB that journal spilled to a
            // temporary file created, written and unlinked for every batch (strace: an
            // openat/unlink per fsync and thousands of pwrites a second). In memory it is a
            // few hundred KiB at most (128 writes a batch).
            .pragma("temp_store", "memory")
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        let options = if max_pages > 0 {
            options.pragma("max_page_count", max_pages.to_string())
        } else {
            options
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        let migrator = sqlx::migrate!("./migrations/sqlite");
        if open == Open::CreateAndMigrate {
            migrator.run(&pool).await?;
        }
        let writer = writer::Writer::start(sqlx::ConnectOptions::connect(&options).await?);
        let health = StorageHealth::sqlite(sqlx::ConnectOptions::connect(&options).await?);
        // One reader per core and one more: reads run on the request runtime's threads.
        let readers = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
        let readers = direct::Readers::open(path, readers.min(8), SQLITE_BUSY_TIMEOUT)?;
        let store = Self {
            db: Arc::new(Db::Sqlite {
                pool,
                writer,
                options,
                readers,
            }),
            health: Arc::new(health),
            lock: Arc::new(std::sync::Mutex::new(lock)),
            instance: new_instance_id(),
        };
        if open == Open::Existing {
            store
                .check_schema(&path.display().to_string(), &migrator)
                .await?;
        }
        Ok(store)
    }

    /// Opens PostgreSQL at `url`. Migrations take PostgreSQL's advisory lock (sqlx), so several
    /// instances starting at once apply each migration exactly once.
    async fn open_postgres(url: &str, open: Open) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(dialect::PG_POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let migrator = sqlx::migrate!("./migrations/postgres");
        if open == Open::CreateAndMigrate {
            migrator.run(&pool).await?;
        }
        let writer = pg_writer::PgWriter::start(options.clone()).await?;
        let health = StorageHealth::postgres(pool.clone());
        let store = Self {
            db: Arc::new(Db::Postgres {
                pool,
                writer,
                options,
            }),
            health: Arc::new(health),
            lock: Arc::new(std::sync::Mutex::new(None)),
            instance: new_instance_id(),
        };
        if open == Open::Existing {
            store
                .check_schema(&dialect::redacted_url(url), &migrator)
                .await?;
        }
        Ok(store)
    }

    /// Refuses a database whose schema is not the one this binary expects (`export`, `backup`
    /// never migrate).
    async fn check_schema(
        &self,
        name: &str,
        migrator: &sqlx::migrate::Migrator,
    ) -> anyhow::Result<()> {
        let expected = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> = sql("select max(version) from _sqlx_migrations where success")
            .fetch_scalar(self)
            .await
            .map_err(|e| anyhow::anyhow!("{name} is not a localtwilio database: {e}"))?;
        let applied = applied.unwrap_or(0);
        anyhow::ensure!(
            applied == expected,
            "{name} is at schema version {applied}, this localtwilio expects {expected}: {}",
            if applied < expected {
                "start a server of this version on it once to upgrade it"
            } else {
                "it was written by a newer localtwilio"
            }
        );
        Ok(())
    }

    /// Which backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Writes a consistent copy of the database to `target` (which must not exist) with
    /// `VACUUM INTO`: it reads one snapshot, so writers go on while it runs, and the copy is a
    /// compact, self-contained database file (no WAL needed).
    ///
    /// SQLite only: on PostgreSQL the caller refuses first (`dialect::BACKUP_ON_POSTGRES`).
    pub async fn backup_into(&self, target: &Path) -> StoreResult<()> {
        let target = target.to_string_lossy().into_owned();
        sql(dialect::backup_statement(self.backend())?)
            .bind(target)
            .execute(self)
            .await?;
        Ok(())
    }

    /// (pending webhook deliveries, database size in bytes) for `/metrics`.
    pub async fn gauges(&self) -> StoreResult<(i64, i64)> {
        let depth: i64 = sql("select count(*) from webhook_deliveries where status = 'pending'")
            .fetch_scalar(self)
            .await?;
        let size: i64 = sql(dialect::database_size(self.backend()))
            .fetch_scalar(self)
            .await?;
        Ok((depth, size))
    }

    /// Closes every connection (checkpointing the WAL), then gives up the exclusive lock, so
    /// a restart on the same file can take it.
    pub async fn close(&self) {
        match &*self.db {
            Db::Sqlite {
                pool,
                writer,
                readers,
                ..
            } => {
                readers.close();
                writer.close().await;
                self.health.close().await;
                pool.close().await;
            }
            Db::Postgres { pool, writer, .. } => {
                writer.close().await;
                self.health.close().await;
                pool.close().await;
            }
        }
        if let Ok(mut lock) = self.lock.lock() {
            // Dropping the file releases the lock.
            lock.take();
        }
    }

    /// Whether the database takes writes: storage faults are reported here, and it clears
    /// itself once a write really committed.
    pub fn health(&self) -> Arc<StorageHealth> {
        Arc::clone(&self.health)
    }

    /// A cheap liveness query for `/healthz`.
    pub async fn ping(&self) -> StoreResult<()> {
        sql("select 1").execute(self).await?;
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once, so a
    /// read-then-write cannot fail half-way with SQLITE_BUSY; on PostgreSQL it is a plain
    /// READ COMMITTED transaction, and a read-then-write locks the row it depends on first
    /// (`dialect::lock_parent`).
    ///
    /// On PostgreSQL the BEGIN runs on a task of its own (see [`pg_begin`]), and so does the
    /// COMMIT (`Tx::commit`), so a request abandoned while either is on the wire cannot leave a
    /// pooled connection inside a transaction; abandoned anywhere else, the transaction is
    /// rolled back whole (as on SQLite) and the client, who hung up, had no answer.
    pub(crate) async fn begin_write(&self) -> StoreResult<Tx> {
        Ok(match &*self.db {
            Db::Sqlite { pool, .. } => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres { pool, .. } => Tx::Postgres(pg_begin(pool, "begin").await?),
        })
    }

    /// A read transaction: every read through it sees one snapshot.
    pub(crate) async fn begin_read(&self) -> StoreResult<Tx> {
        let mut tx = match &*self.db {
            Db::Sqlite { pool, .. } => Tx::Sqlite(pool.begin().await?),
            Db::Postgres { pool, .. } => Tx::Postgres(
                pg_begin(pool, "begin isolation level repeatable read read only").await?,
            ),
        };
        // A deferred SQLite transaction takes its snapshot at the first read; take it now.
        sql("select count(*) from accounts")
            .execute(&mut tx)
            .await?;
        Ok(tx)
    }

    /// Runs `work` as one write and returns its result once committed: on SQLite inside the
    /// group-commit writer's next batch (run again when a neighbour in the batch fails: see
    /// `writer::run_batch`), on PostgreSQL inside the PostgreSQL writer's next batch (see
    /// `pg_writer::run_batch`: run again when a neighbour fails, and — at most
    /// [`dialect::WRITE_RETRIES`] times, after a short random pause — when PostgreSQL aborts it
    /// with a serialization failure or a deadlock) — so `work` may run more than once and
    /// clones what it moves into its future. Either writer owns the write once it is queued, so
    /// it runs to its end even when the request is abandoned.
    /// The hot write paths go through here.
    pub(crate) async fn write<T, F>(&self, mut work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnMut(Conn<'c>) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        match &*self.db {
            Db::Sqlite { writer, .. } => writer.write(move |c| work(Conn::SqliteDirect(c))).await,
            Db::Postgres { writer, .. } => writer.write(work).await,
        }
    }
}

/// Begins a PostgreSQL transaction with `statement` on a task of its own. sqlx's `begin`
/// dropped between sending BEGIN and reading its answer (a request abandoned by its client)
/// counts no transaction, so nothing rolls it back: the connection went back to the pool
/// inside it, and the next borrower's statements ran in that stale transaction — plain writes
/// answered as done but not committed, or refused as read-only after a `begin_read`. On a task
/// the BEGIN always completes; if nobody waits for the transaction any more, dropping it rolls
/// it back before the connection is reused.
async fn pg_begin(
    pool: &sqlx::PgPool,
    statement: &'static str,
) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
    let pool = pool.clone();
    tokio::spawn(async move { pool.begin_with(statement).await })
        .await
        .map_err(|_| StoreError::Db(sqlx::Error::WorkerCrashed))?
        .map_err(StoreError::from)
}

/// How long a SQLite connection waits for a lock before giving up (`SQLITE_BUSY`: 503).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn new_instance_id() -> Arc<str> {
    uuid::Uuid::new_v4().simple().to_string().into()
}

/// The URL when `LOCALTWILIO_DATABASE` names PostgreSQL (`postgres://`, `postgresql://`).
pub fn postgres_url(database: &Path) -> Option<&str> {
    database
        .to_str()
        .filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

/// Which slice of a list to read, in `seq` order (see `domain::paging`).
#[derive(Debug, Clone, Copy)]
pub struct Keyset {
    after: Option<i64>,
    before: Option<i64>,
    limit: i64,
}

impl Keyset {
    pub fn after(seq: Option<i64>, limit: i64) -> Self {
        Self {
            after: seq,
            before: None,
            limit,
        }
    }

    pub fn before(seq: i64, limit: i64) -> Self {
        Self {
            after: None,
            before: Some(seq),
            limit,
        }
    }

    /// Appends ` AND seq > ? ORDER BY seq LIMIT ?` (or the `before` mirror, descending) to a
    /// query that already has a WHERE clause. `column` is the table's seq column.
    pub(crate) fn push(&self, qb: &mut Sql, column: &'static str) {
        if let Some(after) = self.after {
            qb.push(" and ").push(column).push(" > ").push_bind(after);
        }
        if let Some(before) = self.before {
            qb.push(" and ").push(column).push(" < ").push_bind(before);
        }
        qb.push(" order by ").push(column);
        qb.push(if self.before.is_some() {
            " desc"
        } else {
            " asc"
        });
        qb.push(" limit ").push_bind(self.limit);
    }

    /// The direction `push` (`mirrored` false) or `push_mirrored` (true) reads rows in: a
    /// `before` page walks back from its anchor.
    pub(crate) fn direction(&self, mirrored: bool) -> &'static str {
        if self.before.is_some() != mirrored {
            "desc"
        } else {
            "asc"
        }
    }

    /// [`Keyset::push`] for a list shown newest first (2010 Messages). Its page tokens carry
    /// the position `NEWEST_FIRST - seq`, which grows down the list as `seq` falls, so the
    /// cursors and `domain::paging::Page` work unchanged; here they become `seq` ranges, read
    /// in descending `seq` order (ascending for a `before` page, which `Page` reverses).
    pub(crate) fn push_newest_first(&self, qb: &mut Sql, column: &'static str) {
        self.push_mirrored(qb, column, NEWEST_FIRST);
    }

    /// `push` for a list read newest first: the keys the page machinery sees are
    /// `mirror - column` (so they still grow page by page), while the query walks `column`
    /// down its own index (2010 Messages with `mirror` = [`NEWEST_FIRST`]; Conversations
    /// messages with `Order=desc`).
    pub(crate) fn push_mirrored(&self, qb: &mut Sql, column: &'static str, mirror: i64) {
        if let Some(after) = self.after {
            qb.push(" and ")
                .push(column)
                .push(" < ")
                .push_bind(mirror - after);
        }
        if let Some(before) = self.before {
            qb.push(" and ")
                .push(column)
                .push(" > ")
                .push_bind(mirror - before);
        }
        qb.push(" order by ").push(column);
        qb.push(if self.before.is_some() {
            " asc"
        } else {
            " desc"
        });
        qb.push(" limit ").push_bind(self.limit);
    }
}

/// The origin of newest-first positions (see [`Keyset::push_newest_first`]): above any `seq`
/// a table will reach, and small enough that the position fits a page token (15 hex digits).
pub const NEWEST_FIRST: i64 = 1 << 56;

#[cfg(test)]
mod tests {
    use super::*;

    /// A database of its own on the server `LOCALTWILIO_TEST_POSTGRES` names (scripts/pg-temp.sh),
    /// its URL and the admin connection that drops it; `None` without the variable.
    async fn postgres_database() -> Option<(String, sqlx::PgConnection, String)> {
        let admin_url = std::env::var("LOCALTWILIO_TEST_POSTGRES").ok()?;
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .unwrap();
        let name = format!("lt_store_{}", uuid::Uuid::new_v4().simple());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let (server, _) = admin_url.rsplit_once('/').unwrap();
        Some((format!("{server}/{name}"), admin, name))
    }

    /// Requests abandoned at every moment of their BEGIN (a client that hung up) leave no
    /// pooled connection inside a transaction: each plain write after them, answered as done,
    /// is committed (visible from another connection). Before BEGIN ran on a task of its own, a
    /// BEGIN dropped on the wire left its connection in the pool inside the transaction, where
    /// the next plain writes waited uncommitted.
    #[tokio::test]
    async fn an_abandoned_begin_leaves_no_connection_inside_a_transaction() {
        let Some((url, mut admin, name)) = postgres_database().await else {
            eprintln!("skipped: LOCALTWILIO_TEST_POSTGRES is not set");
            return;
        };
        let store = Store::open_exclusive(Path::new(&url), 0).await.unwrap();
        sql("create table begin_probe (id bigint primary key)")
            .execute(&store)
            .await
            .unwrap();
        let tries = 300;
        for i in 0..tries {
            // Cut at a moment that sweeps through the acquire, the BEGIN and its answer.
            let cut = Duration::from_micros((i * 7 % 400) as u64);
            let begun = tokio::time::timeout(cut, store.begin_write()).await;
            drop(begun);
            let read = tokio::time::timeout(cut, store.begin_read()).await;
            drop(read);
            sql("insert into begin_probe (id) values ($1)")
                .bind(i)
                .execute(&store)
                .await
                .unwrap();
        }
        let mut other = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        let committed: i64 = sqlx::query_scalar("select count(*) from begin_probe")
            .fetch_one(&mut other)
            .await
            .unwrap();
        drop(other);
        store.close().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "drop database {name} with (force)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        assert_eq!(
            committed, tries,
            "every write answered as done is committed"
        );
    }
}

//! Whether the database takes writes. A storage fault (disk full, read-only file, I/O error)
//! marks the store unhealthy; only a write that really committed afterwards marks it healthy
//! again — not a 2xx that wrote nothing (`POST /v2/Flows/Validate`, an update that changed
//! nothing), and not a transaction that committed no page.
//!
//! "Really committed" is read from SQLite itself: `PRAGMA data_version` on a connection of its
//! own changes exactly when another connection of the file committed a change
//! (<https://sqlite.org/pragma.html#pragma_data_version>); in WAL mode that is when a commit
//! frame reached the WAL. So every write path counts — group commit, transactions, single
//! statements, the webhook worker — without each of them reporting its outcome.
//!
//! On PostgreSQL the same role is played by the server's WAL insert position
//! (`pg_current_wal_insert_lsn()`): it moves when any transaction writes, and reading it fails
//! on a read-only standby (a failover that left us on one stays a fault).

use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::{Connection, PgPool, SqliteConnection};
use tokio::sync::Mutex;

/// Where the "something committed" counter is read.
enum Observer {
    Sqlite(SqliteConnection),
    Postgres(PgPool),
}

pub struct StorageHealth {
    /// Mirrors `fault.is_some()`, so a healthy `/healthz` (the benchmarks' ceiling) takes no lock.
    faulted: AtomicBool,
    /// `None` while healthy; else the observer's `data_version` read when the fault was seen
    /// (`None` inside when it could not be read: the next check takes it).
    fault: Mutex<Option<Option<String>>>,
    /// The observing connection; taken out by `close`.
    observer: Mutex<Option<Observer>>,
}

impl StorageHealth {
    pub(crate) fn sqlite(observer: SqliteConnection) -> Self {
        Self::new(Observer::Sqlite(observer))
    }

    pub(crate) fn postgres(pool: PgPool) -> Self {
        Self::new(Observer::Postgres(pool))
    }

    fn new(observer: Observer) -> Self {
        Self {
            faulted: AtomicBool::new(false),
            fault: Mutex::new(None),
            observer: Mutex::new(Some(observer)),
        }
    }

    /// A write met a storage fault: unhealthy until a later write commits.
    pub async fn report_fault(&self) {
        // The fault lock is held while the baseline is read, so a concurrent check cannot
        // clear this fault with a commit that happened before it.
        let mut fault = self.fault.lock().await;
        *fault = Some(self.data_version().await);
        self.faulted.store(true, Ordering::Release);
    }

    /// True unless a storage fault was reported and no write has committed since.
    pub async fn takes_writes(&self) -> bool {
        if !self.faulted.load(Ordering::Acquire) {
            return true;
        }
        let mut fault = self.fault.lock().await;
        let Some(baseline) = fault.clone() else {
            return true;
        };
        let now = self.data_version().await;
        match (baseline, now) {
            (Some(then), Some(now)) if now != then => {
                *fault = None;
                self.faulted.store(false, Ordering::Release);
                true
            }
            (None, Some(now)) => {
                *fault = Some(Some(now));
                false
            }
            _ => false,
        }
    }

    async fn data_version(&self) -> Option<String> {
        let mut observer = self.observer.lock().await;
        let read = match observer.as_mut()? {
            Observer::Sqlite(conn) => sqlx::query_scalar::<_, i64>("pragma data_version")
                .fetch_one(conn)
                .await
                .map(|v| v.to_string()),
            Observer::Postgres(pool) => {
                sqlx::query_scalar::<_, String>("select pg_current_wal_insert_lsn()::text")
                    .fetch_one(&*pool)
                    .await
            }
        };
        match read {
            Ok(version) => Some(version),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the database's data_version");
                None
            }
        }
    }

    pub(crate) async fn close(&self) {
        if let Some(Observer::Sqlite(conn)) = self.observer.lock().await.take() {
            let _ = conn.close().await;
        }
    }
}

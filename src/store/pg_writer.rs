//! Group commit on PostgreSQL: one connection per instance runs the hot write paths
//! (`Store::write`). It takes every write queued while the previous batch was committing, runs
//! them in one transaction, commits once and only then answers each caller — so a 2xx still
//! means "committed and durable" (`synchronous_commit` stays on), but N concurrent writes cost
//! one BEGIN, one COMMIT and one WAL flush instead of N of each: a create is one round trip
//! (its INSERT … RETURNING) instead of three (BEGIN, INSERT, COMMIT), each of which woke both
//! our task and a PostgreSQL backend on the same cores.
//!
//! The SQLite writer (`writer`) has the same shape; this one differs where PostgreSQL does:
//! - A failed statement aborts the whole transaction, even when the write handles the error
//!   and goes on (there is no statement-level rollback). Each write's connection is a
//!   [`Conn::PgBatch`], whose flag a failed statement sets; the first write of a batch that
//!   fails or sets it undoes the batch, which then runs again with a savepoint per write, so
//!   that write alone is undone (a handled error keeps its `Ok` answer, as its own transaction's
//!   silent rollback at COMMIT did before).
//! - A serialization failure or deadlock (`faults::is_retryable`) undoes the batch, releasing
//!   every lock it held (the other transaction may be waiting for one of them), and runs it
//!   again after a pause, at most `faults::WRITE_RETRIES` times; past that the write that met
//!   it answers with it (503).
//! - The connection may be lost (a restart, a failover): a batch whose BEGIN, savepoint or
//!   COMMIT fails answers every write with the cause (a storage fault: 503 20503), and the next
//!   batch connects again.
//!
//! Several instances each have their own writer; uniqueness across them is the database's
//! (unique indexes, `dialect::lock_parent`), as before.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection, PgConnection, postgres::PgConnectOptions};
use tokio::sync::{mpsc, oneshot};

use super::{Conn, StoreError, StoreResult, faults, writer::BoxFuture};

/// How one run of a write went.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ran {
    /// It succeeded and every statement it ran succeeded: the transaction is healthy.
    Clean,
    /// It returned a result, but a statement failed on the way (it handled the error, or it
    /// failed): PostgreSQL aborted the transaction, so what it wrote must be undone.
    Tainted,
    /// It failed with a serialization failure or deadlock: the batch may run again.
    Retryable,
}

/// One queued write.
trait Job: Send {
    /// Runs the write (again, when the batch was undone), keeping its result for the answer.
    fn run<'a>(&'a mut self, conn: &'a mut PgConnection) -> BoxFuture<'a, Ran>;
    /// Answers with the kept result, given the batch's commit error if any.
    fn finish(self: Box<Self>, commit_error: Option<&Arc<sqlx::Error>>);
    /// Answers without (or regardless of) running: the batch failed as a whole.
    fn refuse(self: Box<Self>, cause: Arc<sqlx::Error>);
    /// Replaces the kept result with `cause`: the write reported success, but PostgreSQL had
    /// aborted the transaction under it, so what it wrote is undone.
    fn fail(&mut self, cause: Arc<sqlx::Error>);
    /// Whether the kept result is a storage fault (the connection is then replaced).
    fn storage_fault(&self) -> bool;
}

struct Queued<T, F> {
    work: F,
    result: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Queued<T, F>
where
    T: Send + 'static,
    F: for<'c> FnMut(Conn<'c>) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    fn run<'a>(&'a mut self, conn: &'a mut PgConnection) -> BoxFuture<'a, Ran> {
        Box::pin(async move {
            let mut failed = false;
            let result = (self.work)(Conn::PgBatch(conn, &mut failed)).await;
            let ran = match &result {
                Err(e) if e.is_retryable() => Ran::Retryable,
                Ok(_) if !failed => Ran::Clean,
                _ => Ran::Tainted,
            };
            self.result = Some(result);
            ran
        })
    }

    fn finish(self: Box<Self>, commit_error: Option<&Arc<sqlx::Error>>) {
        let outcome = match (commit_error, self.result) {
            // A failed write's own refusal may rest on a neighbour's write ("already exists",
            // "already active") that the failed COMMIT just undid: every caller of the batch
            // gets the storage fault (as in the SQLite writer).
            (Some(cause), _) => Err(StoreError::Batch(Arc::clone(cause))),
            (None, Some(result)) => result,
            // Never run and no commit error: cannot happen (run before finish), but answer
            // with a failure rather than a success nothing backs.
            (None, None) => Err(StoreError::Db(sqlx::Error::WorkerCrashed)),
        };
        let _ = self.reply.send(outcome);
    }

    fn refuse(self: Box<Self>, cause: Arc<sqlx::Error>) {
        let _ = self.reply.send(Err(StoreError::Batch(cause)));
    }

    fn fail(&mut self, cause: Arc<sqlx::Error>) {
        self.result = Some(Err(StoreError::Batch(cause)));
    }

    fn storage_fault(&self) -> bool {
        matches!(&self.result, Some(Err(e)) if e.is_storage_fault())
    }
}

enum Message {
    Job(Box<dyn Job>),
    /// Close the connection and answer; later writes fail.
    Close(oneshot::Sender<()>),
}

/// Writes queued at most per batch.
const MAX_BATCH: usize = 128;

#[derive(Clone)]
pub struct PgWriter {
    jobs: mpsc::Sender<Message>,
}

impl PgWriter {
    /// Connects the writer's own connection and starts it on a thread of its own with a
    /// single-threaded runtime (as the SQLite writer: on the request runtime the one serial
    /// write path would wait behind every HTTP task at each round trip). The connection is
    /// opened on that runtime, so its socket is driven there too.
    pub async fn start(options: PgConnectOptions) -> anyhow::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Message>(4096);
        let (ready, connected) = oneshot::channel::<Result<(), sqlx::Error>>();
        std::thread::Builder::new()
            .name("pg-writer".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(sqlx::Error::Io(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match connect(&options).await {
                        Ok(conn) => {
                            let _ = ready.send(Ok(()));
                            run(Some(conn), options, queue).await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                        }
                    }
                });
            })?;
        connected
            .await
            .map_err(|_| anyhow::anyhow!("the PostgreSQL writer thread ended"))??;
        Ok(Self { jobs })
    }

    /// Runs `work` inside the next batch and returns its result once the batch committed. The
    /// write runs to its end (commit or rollback) even when the caller stops waiting (a client
    /// that hung up): the writer owns it.
    pub async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnMut(Conn<'c>) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<T>>();
        self.jobs
            .send(Message::Job(Box::new(Queued {
                work,
                result: None,
                reply,
            })))
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?
    }

    /// Finishes the writes already queued, then closes the writer's connection.
    pub async fn close(&self) {
        // Bounded: a writer stalled on a connection that answers nothing must not hold up
        // shutdown (its batch times out by then anyway).
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
            let (done, closed) = oneshot::channel();
            if self.jobs.send(Message::Close(done)).await.is_ok() {
                let _ = closed.await;
            }
        })
        .await;
    }
}

/// The writer session's server-side limits (sent at connect, as startup parameters): a write
/// waiting on a row lock another transaction holds, or a statement that runs away, stalls
/// every hot write of the instance, so it fails after 10 s — the pool's acquire timeout, the
/// longest a request already waits for storage — with 55P03 / 57014, a storage fault (503).
const SESSION_LIMITS: [(&str, &str); 2] = [("lock_timeout", "10s"), ("statement_timeout", "10s")];

/// Connecting (TCP, TLS, startup) may take at most this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A whole batch may take at most this long (a half-open TCP connection answers nothing, and
/// the session limits do not cover it): two statement timeouts (a write that waited out its
/// lock, then again in the savepoint replay) and some. On expiry the connection is closed hard
/// and every write of the batch gets a storage fault (503); the outcome of a COMMIT in flight
/// is then unknown to us, which a 503 does not contradict.
const BATCH_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection idle longer than this is pinged before its next batch (an idle-connection drop
/// by a proxy or firewall, a restarted server), and replaced when the ping fails — so the
/// batch does not find out at its BEGIN.
const IDLE_PING: Duration = Duration::from_secs(60);

/// `close` waits at most this long for the queued writes and the connection's close.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(35);

fn timed_out(what: &'static str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, what))
}

/// Opens the writer's connection, with its session limits, within [`CONNECT_TIMEOUT`].
async fn connect(options: &PgConnectOptions) -> Result<PgConnection, sqlx::Error> {
    let options = options.clone().options(SESSION_LIMITS);
    tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .unwrap_or_else(|_| Err(timed_out("connecting to PostgreSQL timed out")))
}

async fn exec(conn: &mut PgConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(&mut *conn).await.map(|_| ())
}

/// 25P02: a statement sent in a transaction PostgreSQL has already aborted.
fn is_aborted(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db)
        if db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some_and(|pg| pg.code() == "25P02"))
}

async fn run(
    mut conn: Option<PgConnection>,
    options: PgConnectOptions,
    mut queue: mpsc::Receiver<Message>,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    let mut closing: Option<oneshot::Sender<()>> = None;
    let mut last_used = Instant::now();
    while closing.is_none() {
        match queue.recv().await {
            Some(Message::Job(first)) => batch.push(first),
            Some(Message::Close(done)) => {
                closing = Some(done);
                continue;
            }
            None => break,
        }
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Message::Job(job)) => batch.push(job),
                Ok(Message::Close(done)) => {
                    closing = Some(done);
                    break;
                }
                Err(_) => break,
            }
        }
        if last_used.elapsed() > IDLE_PING
            && let Some(c) = conn.as_mut()
            && !matches!(
                tokio::time::timeout(CONNECT_TIMEOUT, c.ping()).await,
                Ok(Ok(()))
            )
            && let Some(lost) = conn.take()
        {
            tracing::warn!("the PostgreSQL writer's idle connection was lost; reconnecting");
            let _ = lost.close_hard().await;
        }
        if conn.is_none() {
            match connect(&options).await {
                Ok(fresh) => conn = Some(fresh),
                Err(e) => {
                    tracing::error!(error = %e, "the PostgreSQL writer could not reconnect");
                    let cause = Arc::new(e);
                    for job in batch.drain(..) {
                        job.refuse(Arc::clone(&cause));
                    }
                    continue;
                }
            }
        }
        if let Some(c) = conn.as_mut() {
            let healthy =
                match tokio::time::timeout(BATCH_TIMEOUT, run_batch(c, &options, &mut batch)).await
                {
                    Ok(healthy) => healthy,
                    // What the batch did is undone when the connection closes (or, for a COMMIT
                    // in flight, unknown): answer with a storage fault.
                    Err(_) => refuse(
                        &mut batch,
                        timed_out("the PostgreSQL group commit timed out"),
                        "group commit timed out",
                    ),
                };
            if !healthy && let Some(lost) = conn.take() {
                // Failed under a control statement, timed out, or a write met a storage fault:
                // open a new connection next time.
                let _ = lost.close_hard().await;
            }
        }
        last_used = Instant::now();
    }
    queue.close();
    if let Some(conn) = conn
        && tokio::time::timeout(CONNECT_TIMEOUT, conn.close())
            .await
            .is_err()
    {
        tracing::warn!("closing the PostgreSQL writer's connection timed out");
    }
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// BEGIN; when the connection turns out to be lost (a PostgreSQL restart,
/// `pg_terminate_backend`, a failover), nothing has run yet, so the writer connects again and
/// tries once more before failing the batch — the database may be fine.
async fn begin(
    conn: &mut PgConnection,
    options: &PgConnectOptions,
    reconnected: &mut bool,
) -> Result<(), sqlx::Error> {
    match exec(conn, "begin").await {
        Err(e) if !*reconnected && faults::is_connection_lost(&e) => {
            *reconnected = true;
            tracing::warn!(error = %e, "the PostgreSQL writer's connection was lost; reconnecting");
            let fresh = connect(options).await?;
            let lost = std::mem::replace(conn, fresh);
            let _ = lost.close_hard().await;
            exec(conn, "begin").await
        }
        begun => begun,
    }
}

/// One transaction, one commit, then every caller is answered; false when the connection is
/// in doubt (it failed under one of the batch's own statements, or a write met a storage
/// fault) and is to be replaced.
///
/// The writes run back to back without a savepoint each (a savepoint and its release would be
/// two more round trips per write: the BEGIN and COMMIT saved). The first write that fails, or
/// runs a failing statement, sends the batch back (ROLLBACK), and the batch runs again from
/// its first write with a savepoint per write, where a failing write is rolled back to its own
/// savepoint and keeps its answer. Every caller, the failed ones too, is answered after the
/// COMMIT: a refusal that rests on a neighbour's write ("already exists") is only sent once that
/// write is durable and visible.
async fn run_batch(
    conn: &mut PgConnection,
    options: &PgConnectOptions,
    batch: &mut Vec<Box<dyn Job>>,
) -> bool {
    let mut savepoints = false;
    let mut attempt = 0;
    let mut reconnected = false;
    'batch: loop {
        if let Err(e) = begin(conn, options, &mut reconnected).await {
            return refuse(batch, e, "group commit could not begin");
        }
        let last_attempt = attempt >= faults::WRITE_RETRIES;
        let mut index = 0;
        while index < batch.len() {
            index += 1;
            if !savepoints {
                let ran = batch[index - 1].run(conn).await;
                if ran == Ran::Clean {
                    continue;
                }
                if let Err(e) = exec(conn, "rollback").await {
                    return refuse(batch, e, "group commit could not roll back");
                }
                savepoints = true;
                if ran == Ran::Retryable {
                    attempt += 1;
                    tokio::time::sleep(faults::retry_pause(attempt)).await;
                }
                continue 'batch;
            }
            if let Err(e) = exec(conn, "savepoint write").await {
                return refuse(batch, e, "savepoint failed");
            }
            let ran = batch[index - 1].run(conn).await;
            if ran == Ran::Retryable && !last_attempt {
                // Undo the whole batch: the transaction we collided with may wait for a lock
                // an earlier write of this batch holds.
                if let Err(e) = exec(conn, "rollback").await {
                    return refuse(batch, e, "group commit could not roll back");
                }
                attempt += 1;
                tokio::time::sleep(faults::retry_pause(attempt)).await;
                continue 'batch;
            }
            let closed = if ran == Ran::Clean {
                match exec(conn, "release savepoint write").await {
                    // The write reported success, yet a statement of it failed unseen and
                    // PostgreSQL aborted the transaction: undo it alone and fail it, never
                    // answering 2xx for what is not committed.
                    Err(e) if is_aborted(&e) => {
                        // A fault of the storage path, not of the request: 503 (25P02 itself
                        // would be a 500).
                        tracing::error!(error = %e, "a write reported success in an aborted transaction");
                        batch[index - 1].fail(Arc::new(sqlx::Error::Io(std::io::Error::other(
                            "the transaction was aborted under a write that reported success",
                        ))));
                        match exec(conn, "rollback to savepoint write").await {
                            Ok(()) => exec(conn, "release savepoint write").await,
                            Err(e) => Err(e),
                        }
                    }
                    released => released,
                }
            } else {
                match exec(conn, "rollback to savepoint write").await {
                    Ok(()) => exec(conn, "release savepoint write").await,
                    Err(e) => Err(e),
                }
            };
            if let Err(e) = closed {
                return refuse(batch, e, "closing a savepoint failed");
            }
        }
        // PostgreSQL answers the COMMIT of an aborted transaction with a ROLLBACK and no error
        // (its manual, COMMIT), which sqlx's result does not tell apart: the `select 1` in the
        // same message fails (25P02) when the transaction is aborted, and the COMMIT is then
        // not run. Without savepoints, a write reported success over a statement that failed
        // unseen: run the batch again with a savepoint each, which finds it.
        let committed = exec(conn, "select 1; commit").await;
        match committed {
            Err(e) if is_aborted(&e) && !savepoints => {
                if let Err(e) = exec(conn, "rollback").await {
                    return refuse(batch, e, "group commit could not roll back");
                }
                savepoints = true;
                continue 'batch;
            }
            Err(e) if faults::is_retryable(&e) && attempt < faults::WRITE_RETRIES => {
                attempt += 1;
                tokio::time::sleep(faults::retry_pause(attempt)).await;
                continue 'batch;
            }
            Err(e) => {
                tracing::error!(error = %e, "group commit failed");
                let healthy = !faults::is_storage_fault(&e) && exec(conn, "rollback").await.is_ok();
                let cause = Arc::new(e);
                for job in batch.drain(..) {
                    job.finish(Some(&cause));
                }
                return healthy;
            }
            Ok(()) => {
                // A write that met a storage fault (a read-only session after a failover, a
                // lost connection under it) leaves the connection in doubt.
                let healthy = !batch.iter().any(|job| job.storage_fault());
                for job in batch.drain(..) {
                    job.finish(None);
                }
                return healthy;
            }
        }
    }
}

/// Answers every write of the batch with `cause` (its own statements failed: the connection is
/// in doubt, so it is replaced).
fn refuse(batch: &mut Vec<Box<dyn Job>>, cause: sqlx::Error, what: &str) -> bool {
    tracing::error!(error = %cause, "{what}");
    let cause = Arc::new(cause);
    for job in batch.drain(..) {
        job.refuse(Arc::clone(&cause));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write inserting `id` into `table`; then, as `after` says, it succeeds, fails (leaving
    /// its insert behind, which must not be committed) or — for an insert that collides —
    /// handles the unique violation and succeeds, as writes that report "orphaned" do.
    async fn insert(writer: &PgWriter, table: &str, id: i64, after: After) -> StoreResult<i64> {
        let text = format!("insert into {table} (id) values ($1)");
        writer
            .write(move |mut conn| {
                let text = text.clone();
                Box::pin(async move {
                    if after == After::Pause {
                        // Holds the writer, so the writes queued meanwhile form one batch.
                        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    }
                    let inserted = super::super::Sql::new(text)
                        .bind(id)
                        .execute(&mut conn)
                        .await;
                    match (inserted, after) {
                        (Err(e), After::Handle) if e.as_database_error().is_some() => Ok(-id),
                        (Err(e), _) => Err(e.into()),
                        (Ok(_), After::Fail) => Err(StoreError::Refused("fails after writing")),
                        (Ok(_), _) => Ok(id),
                    }
                })
            })
            .await
    }

    #[derive(Clone, Copy, PartialEq, Eq)]
    enum After {
        Succeed,
        Pause,
        Fail,
        Handle,
    }

    /// The PostgreSQL twin of the SQLite writer's test: in one batch, a write that fails after
    /// writing, one that collides, and one that handles its collision leave nothing, and their
    /// neighbours commit. Needs `LOCALTWILIO_TEST_POSTGRES` (scripts/pg-temp.sh); skipped
    /// without it.
    #[tokio::test]
    async fn a_failing_write_leaves_nothing_and_its_neighbours_in_the_batch_commit() {
        let Ok(url) = std::env::var("LOCALTWILIO_TEST_POSTGRES") else {
            eprintln!("skipped: LOCALTWILIO_TEST_POSTGRES is not set");
            return;
        };
        let options: PgConnectOptions = url.parse().unwrap();
        let table = format!("pg_writer_{}", uuid::Uuid::new_v4().simple());
        let mut admin = options.connect().await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "create table {table} (id bigint primary key)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        let writer = PgWriter::start(options).await.unwrap();
        let t = table.as_str();
        let (first, results) = tokio::join!(insert(&writer, t, 1, After::Pause), async {
            // Queued while the first write holds the writer: one batch.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            tokio::join!(
                insert(&writer, t, 2, After::Succeed),
                // Handled, but PostgreSQL aborted the transaction: without undoing it, the
                // next write would fail ("current transaction is aborted").
                insert(&writer, t, 2, After::Handle),
                insert(&writer, t, 6, After::Succeed),
                insert(&writer, t, 3, After::Fail),
                insert(&writer, t, 1, After::Succeed),
            )
        });
        assert_eq!(first.unwrap(), 1);
        assert_eq!(results.0.unwrap(), 2);
        assert_eq!(results.1.unwrap(), -2, "the collision was handled");
        assert_eq!(results.2.unwrap(), 6);
        assert!(matches!(results.3, Err(StoreError::Refused(_))));
        assert!(results.4.is_err(), "1 is taken by the first write");
        writer.close().await;
        let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select id from {table} order by id"
        )))
        .fetch_all(&mut admin)
        .await
        .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop table {table}")))
            .execute(&mut admin)
            .await
            .unwrap();
        assert_eq!(
            ids,
            [1, 2, 6],
            "exactly the writes answered Ok are committed"
        );
    }
}

#[cfg(test)]
mod connection_tests {
    use super::*;

    async fn admin_and_table() -> Option<(PgConnectOptions, PgConnection, String)> {
        let url = std::env::var("LOCALTWILIO_TEST_POSTGRES").ok()?;
        let options: PgConnectOptions = url.parse().unwrap();
        let mut admin = options.connect().await.unwrap();
        let table = format!("pg_writer_{}", uuid::Uuid::new_v4().simple());
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "create table {table} (id bigint primary key)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        Some((options, admin, table))
    }

    /// A write inserting `id`; with `unseen_failure`, it also runs a failing statement straight
    /// on the connection, past the flag `Conn::PgBatch` keeps, and reports success anyway.
    async fn write(
        writer: &PgWriter,
        table: &str,
        id: i64,
        unseen_failure: bool,
    ) -> StoreResult<i64> {
        let text = format!("insert into {table} (id) values ($1)");
        writer
            .write(move |mut conn| {
                let text = text.clone();
                Box::pin(async move {
                    if unseen_failure {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        if let Conn::PgBatch(c, _) = &mut conn {
                            let _ = sqlx::raw_sql("select 1/0").execute(&mut **c).await;
                        }
                        return Ok(id);
                    }
                    super::super::Sql::new(text)
                        .bind(id)
                        .execute(&mut conn)
                        .await?;
                    Ok(id)
                })
            })
            .await
    }

    async fn committed(admin: &mut PgConnection, table: &str) -> Vec<i64> {
        let ids = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select id from {table} order by id"
        )))
        .fetch_all(&mut *admin)
        .await
        .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("drop table {table}")))
            .execute(&mut *admin)
            .await
            .unwrap();
        ids
    }

    /// After `pg_terminate_backend` of the writer's connection (as a PostgreSQL restart or a
    /// failover does), the next write still commits: its BEGIN finds the connection lost, and
    /// the writer connects again before failing anything.
    #[tokio::test]
    async fn a_write_after_the_writer_connection_was_terminated_commits() {
        let Some((options, mut admin, table)) = admin_and_table().await else {
            eprintln!("skipped: LOCALTWILIO_TEST_POSTGRES is not set");
            return;
        };
        let name = format!("w{}", uuid::Uuid::new_v4().simple());
        let writer = PgWriter::start(options.application_name(&name))
            .await
            .unwrap();
        assert_eq!(write(&writer, &table, 1, false).await.unwrap(), 1);
        let killed: Vec<bool> = sqlx::query_scalar(
            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
        )
        .bind(&name)
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert_eq!(killed, [true]);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(write(&writer, &table, 2, false).await.unwrap(), 2);
        writer.close().await;
        assert_eq!(committed(&mut admin, &table).await, [1, 2]);
    }

    /// A write that reports success over a statement that failed unseen (PostgreSQL aborted the
    /// transaction, and would answer its COMMIT with ROLLBACK and no error) is not answered Ok;
    /// its neighbour in the batch commits.
    #[tokio::test]
    async fn a_write_over_an_aborted_transaction_is_never_answered_ok() {
        let Some((options, mut admin, table)) = admin_and_table().await else {
            eprintln!("skipped: LOCALTWILIO_TEST_POSTGRES is not set");
            return;
        };
        let writer = PgWriter::start(options).await.unwrap();
        let (unseen, neighbour) = tokio::join!(write(&writer, &table, 9, true), async {
            // Queued while the first write holds the writer: one batch.
            tokio::time::sleep(Duration::from_millis(50)).await;
            write(&writer, &table, 1, false).await
        });
        assert!(
            matches!(&unseen, Err(e) if e.is_storage_fault()),
            "{unseen:?}"
        );
        assert_eq!(neighbour.unwrap(), 1);
        writer.close().await;
        assert_eq!(committed(&mut admin, &table).await, [1]);
    }
}

//! Group commit: one writer connection runs the hot write paths. It takes every write queued
//! while the previous batch was committing, runs them in one transaction (a failing write
//! rolls back alone; its neighbours commit: see `run_batch`), then commits the batch with one
//! fsync and only then answers each caller. A 2xx therefore still means "committed and durable"
//! (`synchronous=FULL`), but N concurrent writes cost one fsync instead of N, and writers queue
//! on a channel instead of busy-waiting on SQLite's lock.
//!
//! When the batch itself fails — its BEGIN, a savepoint, or its COMMIT (in WAL mode a full disk
//! often fails exactly there, when the pages are appended to the WAL) — every caller whose write
//! it held gets SQLite's own error as `StoreError::Batch`, so a storage fault is a storage fault
//! (503 20503) whichever statement met it.

use std::{future::Future, pin::Pin, sync::Arc};

use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, StoreResult, direct::Direct};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One queued write.
trait Job: Send {
    /// Runs the write (again, if the batch was undone and is being replayed), keeping its result
    /// for the answer: whether it succeeded.
    fn run<'a>(&'a mut self, conn: &'a mut Direct) -> BoxFuture<'a, bool>;
    /// Answers with the kept result, given the batch's commit error if any.
    fn finish(self: Box<Self>, commit_error: Option<&Arc<sqlx::Error>>);
    /// Answers without (or regardless of) running: the batch failed before this write could
    /// start.
    fn refuse(self: Box<Self>, cause: Arc<sqlx::Error>);
}

struct Queued<T, F> {
    work: F,
    result: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Queued<T, F>
where
    T: Send + 'static,
    F: for<'c> FnMut(&'c mut Direct) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    fn run<'a>(&'a mut self, conn: &'a mut Direct) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let result = (self.work)(conn).await;
            let ok = result.is_ok();
            self.result = Some(result);
            ok
        })
    }

    fn finish(self: Box<Self>, commit_error: Option<&Arc<sqlx::Error>>) {
        let outcome = match (commit_error, self.result) {
            // A failed write's own refusal may rest on a neighbour's write ("already exists",
            // "already active") that the failed COMMIT just undid: every caller of the batch
            // gets the storage fault.
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
}

enum Message {
    Job(Box<dyn Job>),
    /// Close the connection (checkpointing its WAL) and answer; later writes fail.
    Close(oneshot::Sender<()>),
}

/// Writes queued at most per batch.
const MAX_BATCH: usize = 128;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Message>,
}

impl Writer {
    /// Starts the writer task on its own connection; it ends on `close` or when every `Writer`
    /// is dropped.
    pub fn start(conn: SqliteConnection) -> Self {
        let (jobs, queue) = mpsc::channel::<Message>(4096);
        // The writer is the one serial path every durable write goes through: on the request
        // runtime its task would wait behind every HTTP task. A thread with its own
        // single-threaded runtime, stepping the statements itself (`direct`), never waits for
        // another thread between two statements.
        let spawned = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run(conn, queue)),
                    Err(e) => tracing::error!(error = %e, "writer runtime could not start"),
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "writer thread could not start");
        }
        Self { jobs }
    }

    /// Runs `work` inside the next batch and returns its result once the batch committed.
    pub async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnMut(&'c mut Direct) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
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

    /// Finishes the writes already queued, closes the writer's connection and waits until it is
    /// closed, so nothing touches the database file afterwards (shutdown, restore from backup).
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Message::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }
}

async fn exec(conn: &mut Direct, sql: &'static str) -> Result<(), sqlx::Error> {
    conn.exec(sql)
}

async fn run(mut conn: SqliteConnection, queue: mpsc::Receiver<Message>) {
    // The writer steps its statements itself on this thread (see `direct`): sqlx's worker
    // thread for the connection waits on its lock until the writer ends.
    let closing = match super::direct::with_direct(&mut conn, async |direct| {
        serve(direct, queue).await
    })
    .await
    {
        Ok(closing) => closing,
        Err(e) => {
            tracing::error!(error = %e, "the writer could not take its connection");
            None
        }
    };
    let _ = conn.close().await;
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// Runs batches until `close` or until every `Writer` is dropped; the close's answer, if any.
async fn serve(
    conn: &mut Direct,
    mut queue: mpsc::Receiver<Message>,
) -> Option<oneshot::Sender<()>> {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    let mut closing: Option<oneshot::Sender<()>> = None;
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
        run_batch(conn, &mut batch).await;
    }
    // Whatever is still queued is refused (its callers get an error), then the file is closed.
    queue.close();
    closing
}

/// One transaction, one commit, then every caller is answered.
///
/// The jobs run back to back without a savepoint each (a savepoint and its release are two more
/// statements for every write): a job that succeeds keeps
/// what it wrote, and a statement that fails inside a job that still succeeds (a conflict it
/// handles) was undone by SQLite itself, which rolls back only the failing statement. Only a
/// job that *fails* may have left part of its work behind: then the batch goes back to the one
/// savepoint taken after `BEGIN IMMEDIATE` (the transaction and its write lock stay held, so
/// no other writer slips in between), that job is set aside, and the jobs before it run again
/// (writes are re-runnable: see `Store::write`), this time with a savepoint per job, so further
/// failures cost no replay. Every caller, the failed ones too, is answered after the COMMIT:
/// a refusal that rests on a neighbour's write ("already exists", "already active") is only
/// sent once that write is durable and visible.
async fn run_batch(conn: &mut Direct, batch: &mut Vec<Box<dyn Job>>) {
    let mut failed: Vec<Box<dyn Job>> = Vec::new();
    let mut savepoints = false;
    let mut begun = false;
    'batch: loop {
        if !begun {
            let begin = match exec(conn, "BEGIN IMMEDIATE").await {
                Ok(()) => exec(conn, "SAVEPOINT batch").await,
                Err(e) => Err(e),
            };
            if let Err(e) = begin {
                tracing::error!(error = %e, "group commit could not begin");
                let _ = exec(conn, "ROLLBACK").await;
                // Nothing ran, or what ran was rolled back: every caller gets the cause (a lock
                // wait exhausted, a read-only file …), the writes set aside too (their refusal
                // may rest on a neighbour that is now undone).
                fail_all(batch, &mut failed, Arc::new(e));
                return;
            }
            begun = true;
        }
        let mut index = 0;
        while index < batch.len() {
            let job = &mut batch[index];
            if !savepoints {
                if !job.run(conn).await {
                    failed.push(batch.remove(index));
                    savepoints = true;
                    if exec(conn, "ROLLBACK TO batch").await.is_err() {
                        // SQLite already rolled the whole transaction back (some I/O errors
                        // do): start a new one.
                        let _ = exec(conn, "ROLLBACK").await;
                        begun = false;
                    }
                    continue 'batch;
                }
            } else {
                if let Err(e) = exec(conn, "SAVEPOINT job").await {
                    tracing::error!(error = %e, "savepoint failed");
                    batch.remove(index).refuse(Arc::new(e));
                    continue;
                }
                let keep = job.run(conn).await;
                let closed = if keep {
                    exec(conn, "RELEASE job").await
                } else {
                    match exec(conn, "ROLLBACK TO job").await {
                        Ok(()) => exec(conn, "RELEASE job").await,
                        Err(e) => Err(e),
                    }
                };
                if let Err(e) = closed {
                    tracing::error!(error = %e, "closing a savepoint failed");
                }
            }
            if !conn.in_transaction() {
                // SQLite rolled the whole transaction back during this job (an I/O error, a
                // full disk, out of memory), undoing the jobs before it. Running on would
                // commit each later job on its own (a `SAVEPOINT` outside a transaction opens
                // one, its `RELEASE` commits it) while the final `COMMIT` fails and answers
                // them with an error: the batch ends here, nothing of it committed, and every
                // caller gets the storage fault.
                tracing::error!("SQLite rolled the group commit's transaction back");
                let cause = sqlx::Error::Io(std::io::Error::other(
                    "SQLite rolled the transaction back (an I/O error, a full disk or out of memory)",
                ));
                fail_all(batch, &mut failed, Arc::new(cause));
                return;
            }
            index += 1;
        }
        break;
    }
    // COMMIT ends the transaction with the batch savepoint still open, which commits it too.
    let committed = exec(conn, "COMMIT").await;
    if let Err(e) = &committed {
        tracing::error!(error = %e, "group commit failed");
        // SQLite may already have rolled the transaction back; then this fails harmlessly.
        let _ = exec(conn, "ROLLBACK").await;
    }
    let error = committed.err().map(Arc::new);
    for job in batch.drain(..) {
        job.finish(error.as_ref());
    }
    // Their own errors, unless the commit failed (see `finish`).
    for job in failed.drain(..) {
        job.finish(error.as_ref());
    }
}

/// The batch failed as a whole: every caller gets `cause`, the writes set aside with their own
/// error too (their refusal may rest on a neighbour that is now undone).
fn fail_all(
    batch: &mut Vec<Box<dyn Job>>,
    failed: &mut Vec<Box<dyn Job>>,
    cause: Arc<sqlx::Error>,
) {
    for job in batch.drain(..) {
        job.refuse(Arc::clone(&cause));
    }
    for job in failed.drain(..) {
        job.finish(Some(&cause));
    }
}

#[cfg(test)]
mod tests {
    use sqlx::ConnectOptions;

    use super::*;

    /// A write inserting `id` into `t` that fails afterwards when `then_fail`: a failure that
    /// leaves part of its work behind, which must not be committed.
    async fn insert(writer: &Writer, id: i64, then_fail: bool) -> StoreResult<i64> {
        writer
            .write(move |conn| {
                Box::pin(async move {
                    crate::store::db::sql("insert into t (id) values ($1)")
                        .bind(id)
                        .execute(crate::store::db::On::SqliteDirect(conn))
                        .await?;
                    if then_fail {
                        return Err(StoreError::Conflict(format!("{id} fails")));
                    }
                    Ok(id)
                })
            })
            .await
    }

    /// A writer on a fresh database with one table `t (id)`; the folder lives as long as it.
    async fn started() -> (
        tempfile::TempDir,
        sqlx::sqlite::SqliteConnectOptions,
        Writer,
    ) {
        let folder = tempfile::tempdir().unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(folder.path().join("w.db"))
            .create_if_missing(true);
        let mut conn = options.connect().await.unwrap();
        sqlx::query("create table t (id integer primary key)")
            .execute(&mut conn)
            .await
            .unwrap();
        (folder, options, Writer::start(conn))
    }

    /// The ids committed to `t`, read on a connection of its own once the writer closed.
    async fn committed(options: &sqlx::sqlite::SqliteConnectOptions) -> Vec<i64> {
        let mut conn = options.connect().await.unwrap();
        sqlx::query_scalar("select id from t order by id")
            .fetch_all(&mut conn)
            .await
            .unwrap()
    }

    /// A write that meets what SQLite does at some I/O errors and a full disk: the whole
    /// transaction rolled back under it (here by a `ROLLBACK` of its own), then an answer of Ok.
    async fn loses_the_transaction(writer: &Writer) -> StoreResult<i64> {
        writer
            .write(move |conn| {
                Box::pin(async move {
                    conn.exec("ROLLBACK")?;
                    Ok(0)
                })
            })
            .await
    }

    #[tokio::test]
    async fn a_transaction_sqlite_rolled_back_fails_the_whole_batch_and_commits_nothing() {
        let (_folder, options, writer) = started().await;
        // The writer thread takes what is queued when it looks: a write that keeps it busy
        // makes the next ones one batch.
        let hold = |writer: &Writer| {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .write(|_| {
                        Box::pin(async {
                            std::thread::sleep(std::time::Duration::from_millis(300));
                            Ok(())
                        })
                    })
                    .await
            })
        };
        let settle = || tokio::time::sleep(std::time::Duration::from_millis(100));
        // The first batch loses its transaction in the first pass; the second in the replay
        // pass (with a savepoint per job) that 12's failure starts. In both, the writes after
        // the loss would otherwise commit on their own.
        let held = hold(&writer);
        settle().await;
        let first = tokio::join!(
            insert(&writer, 1, false),
            loses_the_transaction(&writer),
            insert(&writer, 3, false),
        );
        assert!(held.await.unwrap().is_ok());
        let held = hold(&writer);
        settle().await;
        let second = tokio::join!(
            insert(&writer, 11, false),
            insert(&writer, 12, true),
            loses_the_transaction(&writer),
            insert(&writer, 14, false),
        );
        assert!(held.await.unwrap().is_ok());
        let storage_fault = |r: &StoreResult<i64>| matches!(r, Err(e @ StoreError::Batch(_)) if e.is_storage_fault());
        assert!(storage_fault(&first.0) && storage_fault(&first.1) && storage_fault(&first.2));
        assert!(
            storage_fault(&second.0)
                && storage_fault(&second.1)
                && storage_fault(&second.2)
                && storage_fault(&second.3),
            "{second:?}"
        );
        // The writer goes on: the next batch commits.
        assert_eq!(insert(&writer, 21, false).await.unwrap(), 21);
        writer.close().await;
        let ids = committed(&options).await;
        assert_eq!(
            ids,
            [21],
            "nothing of a batch whose transaction was lost commits"
        );
    }

    #[tokio::test]
    async fn a_failing_write_leaves_nothing_and_its_neighbours_in_the_batch_commit() {
        let (_folder, options, writer) = started().await;
        // Queued together (the writer task runs only once all six wait), so they share a batch;
        // 3 fails after its insert, 5 after its own, and 4 collides with 1.
        let results = tokio::join!(
            insert(&writer, 1, false),
            insert(&writer, 2, false),
            insert(&writer, 3, true),
            insert(&writer, 1, false),
            insert(&writer, 5, true),
            insert(&writer, 6, false),
        );
        assert_eq!(results.0.unwrap(), 1);
        assert_eq!(results.1.unwrap(), 2);
        assert!(matches!(results.2, Err(StoreError::Conflict(_))));
        assert!(results.3.is_err(), "1 is taken by the first write");
        assert!(matches!(results.4, Err(StoreError::Conflict(_))));
        assert_eq!(results.5.unwrap(), 6);
        writer.close().await;
        let ids = committed(&options).await;
        assert_eq!(
            ids,
            [1, 2, 6],
            "exactly the writes answered Ok are committed"
        );
    }
}

//! Group commit: one writer connection runs the hot write paths. It takes every write queued
//! while the previous batch was committing, runs each in its own SAVEPOINT (a failing write
//! rolls back alone; its neighbours commit), then commits the batch with one fsync and only
//! then answers each caller. A 2xx therefore still means "committed and durable"
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

use super::{StoreError, StoreResult};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a job leaves for after the commit: how to answer, given the commit's error if any.
type Finish = Box<dyn FnOnce(Option<&Arc<sqlx::Error>>) + Send>;

/// One queued write.
trait Job: Send {
    /// Runs the write inside its savepoint: whether the savepoint is kept, and how to answer.
    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)>;
    /// Answers without running: the batch failed before this write could start.
    fn refuse(self: Box<Self>, cause: Arc<sqlx::Error>);
}

struct Queued<T, F> {
    work: F,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Queued<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)> {
        let Queued { work, reply } = *self;
        Box::pin(async move {
            let result = work(conn).await;
            let keep = result.is_ok();
            let finish: Finish = Box::new(move |commit_error| {
                let outcome = match (commit_error, result) {
                    (Some(cause), Ok(_)) => Err(StoreError::Batch(Arc::clone(cause))),
                    (_, result) => result,
                };
                let _ = reply.send(outcome);
            });
            (keep, finish)
        })
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
        tokio::spawn(run(conn, queue));
        Self { jobs }
    }

    /// Runs `work` inside the next batch and returns its result once the batch committed.
    pub async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel::<StoreResult<T>>();
        self.jobs
            .send(Message::Job(Box::new(Queued { work, reply })))
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

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(&mut *conn).await.map(|_| ())
}

async fn run(mut conn: SqliteConnection, mut queue: mpsc::Receiver<Message>) {
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
        run_batch(&mut conn, &mut batch).await;
    }
    // Whatever is still queued is refused (its callers get an error), then the file is closed.
    queue.close();
    let _ = conn.close().await;
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// One transaction: a savepoint per job, one commit, then every caller is answered.
async fn run_batch(conn: &mut SqliteConnection, batch: &mut Vec<Box<dyn Job>>) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE").await {
        tracing::error!(error = %e, "group commit could not begin");
        // Nothing ran: every caller gets the cause (a lock wait exhausted, a read-only file …).
        let cause = Arc::new(e);
        for job in batch.drain(..) {
            job.refuse(Arc::clone(&cause));
        }
        return;
    }
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        if let Err(e) = exec(conn, "SAVEPOINT job").await {
            tracing::error!(error = %e, "savepoint failed");
            job.refuse(Arc::new(e));
            continue;
        }
        let (keep, finish) = job.run(conn).await;
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
        finishes.push(finish);
    }
    let committed = exec(conn, "COMMIT").await;
    if let Err(e) = &committed {
        tracing::error!(error = %e, "group commit failed");
        // SQLite may already have rolled the transaction back; then this fails harmlessly.
        let _ = exec(conn, "ROLLBACK").await;
    }
    let error = committed.err().map(Arc::new);
    for finish in finishes {
        finish(error.as_ref());
    }
}

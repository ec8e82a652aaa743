//! Group commit: one writer connection runs the hot write paths. It takes every write queued
//! while the previous batch was committing, runs each in its own SAVEPOINT (a failing write
//! rolls back alone; its neighbours commit), then commits the batch with one fsync and only
//! then answers each caller. A 2xx therefore still means "committed and durable"
//! (`synchronous=FULL`), but N concurrent writes cost one fsync instead of N, and writers queue
//! on a channel instead of busy-waiting on SQLite's lock.

use std::{future::Future, pin::Pin};

use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, StoreResult};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a job leaves for after the commit: whether its savepoint is kept, and how to answer.
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
type Job =
    Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Finish)> + Send>;

enum Message {
    Job(Job),
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
        let job: Job = Box::new(move |conn| {
            Box::pin(async move {
                let result = work(conn).await;
                let keep = result.is_ok();
                let finish: Finish = Box::new(move |commit_error: Option<&str>| {
                    let outcome = match (commit_error, result) {
                        (Some(e), Ok(_)) => Err(StoreError::Db(sqlx::Error::Protocol(format!(
                            "batch commit failed: {e}"
                        )))),
                        (_, result) => result,
                    };
                    let _ = reply.send(outcome);
                });
                (keep, finish)
            })
        });
        self.jobs
            .send(Message::Job(job))
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

async fn exec(conn: &mut SqliteConnection, sql: &'static str) -> Result<(), String> {
    sqlx::query(sql)
        .execute(&mut *conn)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn run(mut conn: SqliteConnection, mut queue: mpsc::Receiver<Message>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
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
async fn run_batch(conn: &mut SqliteConnection, batch: &mut Vec<Job>) {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE").await {
        tracing::error!(error = %e, "group commit could not begin");
        // Nothing ran: dropping the jobs fails their callers.
        batch.clear();
        return;
    }
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        if let Err(e) = exec(conn, "SAVEPOINT job").await {
            tracing::error!(error = %e, "savepoint failed");
            continue;
        }
        let (keep, finish) = job(conn).await;
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
        let _ = exec(conn, "ROLLBACK").await;
    }
    let error = committed.err();
    for finish in finishes {
        finish(error.as_deref());
    }
}

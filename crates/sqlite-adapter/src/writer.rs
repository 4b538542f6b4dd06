use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use rusqlite::Connection;
use storage_port::StorageError;

use crate::convert::storage_error;

/// Tells a job how its write ended, after the batch it was in committed or failed.
type Finish = Box<dyn FnOnce(Option<String>) + Send>;
/// One write: runs on the writer's connection, says whether it succeeded, and how to answer.
type Work = Box<dyn FnOnce(&Connection) -> (bool, Finish) + Send>;

struct Job {
    work: Work,
    /// One SQL statement: SQLite undoes a failed statement by itself, so no savepoint is needed.
    single_statement: bool,
}

/// The handle to the writer thread. Dropping the last one lets the thread finish what it has
/// and close the database.
#[derive(Debug)]
pub struct Writer {
    jobs: SyncSender<Job>,
    thread: Option<JoinHandle<()>>,
}

/// Writes waiting beyond this make callers wait in `write` (back-pressure) instead of piling up.
const QUEUE_DEPTH: usize = 4096;

impl Writer {
    pub fn start(connection: Connection, max_batch: usize) -> std::io::Result<Self> {
        let (jobs, queue) = sync_channel::<Job>(QUEUE_DEPTH);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(connection, queue, max_batch.max(1)))?;
        Ok(Self {
            jobs,
            thread: Some(thread),
        })
    }

    /// Runs `work` in the writer's transaction, in a savepoint of its own, and answers once it
    /// is committed.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.submit(work, false).await
    }

    /// The same for `work` that runs exactly one SQL statement (the hot upsert), which needs no
    /// savepoint: a failing statement leaves the transaction as it was.
    pub async fn write_one_statement<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.submit(work, true).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
        single_statement: bool,
    ) -> Result<T, StorageError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = Job {
            single_statement,
            work: Box::new(move |connection| {
                let result = work(connection);
                let succeeded = result.is_ok();
                let finish: Finish = Box::new(move |commit_error| {
                    let outcome = match commit_error {
                        None => result,
                        Some(message) => Err(StorageError::unavailable(message)),
                    };
                    let _ = answer.send(outcome);
                });
                (succeeded, finish)
            }),
        };
        let mut job = job;
        loop {
            match self.jobs.try_send(job) {
                Ok(()) => break,
                Err(TrySendError::Full(returned)) => {
                    job = returned;
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                Err(TrySendError::Disconnected(_)) => {
                    return Err(StorageError::unavailable("the SQLite writer has stopped"));
                }
            }
        }
        answered
            .await
            .map_err(|_| StorageError::unavailable("the SQLite writer has stopped"))?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Close the queue, then wait for the thread to commit what it holds.
        let (closed, _) = sync_channel(0);
        drop(std::mem::replace(&mut self.jobs, closed));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(connection: Connection, queue: Receiver<Job>, max_batch: usize) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&connection, batch);
    }
    tracing::debug!("SQLite writer stopped");
}

fn commit_batch(connection: &Connection, batch: Vec<Job>) {
    // Outside a transaction (BEGIN failed), each savepoint commits on its own release.
    let in_transaction = control(connection, "BEGIN IMMEDIATE").is_ok();
    let mut finishers = Vec::with_capacity(batch.len());
    for job in batch {
        if job.single_statement && in_transaction {
            let (_, finish) = (job.work)(connection);
            finishers.push((finish, None));
            continue;
        }
        if let Err(error) = control(connection, "SAVEPOINT job") {
            let message = storage_error(error).to_string();
            let (_, finish) = (job.work)(connection);
            finishers.push((finish, Some(message)));
            continue;
        }
        let (succeeded, finish) = (job.work)(connection);
        if !succeeded {
            let _ = control(connection, "ROLLBACK TO job");
        }
        let released = control(connection, "RELEASE job")
            .err()
            .map(|e| e.to_string());
        finishers.push((finish, released));
    }
    let commit_error = if in_transaction {
        control(connection, "COMMIT").err().map(|error| {
            tracing::error!(%error, "SQLite commit failed");
            let _ = control(connection, "ROLLBACK");
            error.to_string()
        })
    } else {
        None
    };
    for (finish, own_error) in finishers {
        finish(commit_error.clone().or(own_error));
    }
}

/// Runs a transaction-control statement from the statement cache: these run several times per
/// batch, and parsing them each time was a measurable share of the writer's time.
fn control(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use storage_port::StorageError;
use tokio::sync::oneshot;

use crate::CommitObserver;
use crate::convert::storage_error;

/// One write waiting for the writer thread.
trait Job: Send {
    /// Runs the write on the writer's connection and says whether it succeeded.
    fn run(&mut self, connection: &Connection) -> bool;
    /// Answers the caller once the batch is committed; `Some` says why the write did not last.
    fn finish(self: Box<Self>, failure: Option<String>);
    /// A failure of the job cannot leave a change behind, so it needs no savepoint.
    fn without_savepoint(&self) -> bool;
}

/// A write and the channel its answer goes back on: one allocation per write.
struct Pending<T, W> {
    work: Option<W>,
    outcome: Option<Result<T, StorageError>>,
    answer: oneshot::Sender<Result<T, StorageError>>,
    without_savepoint: bool,
}

impl<T, W> Job for Pending<T, W>
where
    T: Send,
    W: FnOnce(&Connection) -> Result<T, StorageError> + Send,
{
    fn run(&mut self, connection: &Connection) -> bool {
        let outcome = match self.work.take() {
            Some(work) => work(connection),
            None => Err(StorageError::unexpected("a write was run twice")),
        };
        let succeeded = outcome.is_ok();
        self.outcome = Some(outcome);
        succeeded
    }

    fn finish(self: Box<Self>, failure: Option<String>) {
        let outcome = match (failure, self.outcome) {
            (None, Some(outcome)) => outcome,
            // This write's own failure (a full disk) is why the batch did not commit.
            (Some(_), Some(Err(own @ StorageError::Unavailable(_)))) => Err(own),
            (Some(message), _) => Err(StorageError::unavailable(message)),
            (None, None) => Err(StorageError::unexpected("a write was never run")),
        };
        let _ = self.answer.send(outcome);
    }

    fn without_savepoint(&self) -> bool {
        self.without_savepoint
    }
}

/// Writes waiting for the writer thread. The writer takes everything waiting at once (one
/// lock per batch, not per write), and is woken only when it sleeps.
#[derive(Default)]
struct Inbox {
    state: Mutex<InboxState>,
    arrived: Condvar,
}

#[derive(Default)]
struct InboxState {
    jobs: Vec<Box<dyn Job>>,
    writer_asleep: bool,
    /// A submitter will wake the sleeping writer once the requests being handled with it
    /// have queued their writes too.
    wake_promised: bool,
    closed: bool,
}

enum Offer {
    Taken,
    /// Taken, and the writer sleeps: this submitter must wake it (see `WakeWriter`).
    TakenWakeWriter,
    /// The queue is full: try again a little later.
    Full(Box<dyn Job>),
    Closed,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, InboxState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn offer(&self, job: Box<dyn Job>) -> Offer {
        let mut state = self.lock();
        if state.closed {
            return Offer::Closed;
        }
        if state.jobs.len() >= QUEUE_DEPTH {
            return Offer::Full(job);
        }
        state.jobs.push(job);
        if state.writer_asleep && !state.wake_promised {
            state.wake_promised = true;
            return Offer::TakenWakeWriter;
        }
        Offer::Taken
    }

    /// Yields to the other tasks of this thread (each `yield_now` also lets the runtime poll
    /// for new network input first) for as long as they keep queueing writes, at most
    /// `GATHER_ROUNDS` times. A lone write waits one round; under load the batch grows until
    /// a round brings nothing new. Measured on the sign-up benchmark: one fixed round gave
    /// batches small enough that the writer's per-commit cost and the wake-ups showed.
    async fn gather(&self) {
        let mut waiting = self.lock().jobs.len();
        for _ in 0..GATHER_ROUNDS {
            tokio::task::yield_now().await;
            let now = self.lock().jobs.len();
            if now == waiting {
                break;
            }
            waiting = now;
        }
    }

    fn wake_writer(&self) {
        let mut state = self.lock();
        state.wake_promised = false;
        let asleep = std::mem::take(&mut state.writer_asleep);
        drop(state);
        if asleep {
            self.arrived.notify_one();
        }
    }
}

/// Group commit: the first write to reach a sleeping writer wakes it only after letting the
/// other requests of its thread queue their writes too (see `Inbox::gather`), so that they
/// share one transaction. Woken on drop, so a request that is cancelled while it waits still
/// wakes the writer.
struct WakeWriter<'a>(&'a Inbox);

impl Drop for WakeWriter<'_> {
    fn drop(&mut self) {
        self.0.wake_writer();
    }
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("waiting", &self.lock().jobs.len())
            .finish()
    }
}

/// The handle to the writer thread. Dropping it lets the thread commit what it has and close
/// the database.
#[derive(Debug)]
pub struct Writer {
    inbox: std::sync::Arc<Inbox>,
    thread: Option<JoinHandle<()>>,
}

/// Rounds of `Inbox::gather` at most, which bounds the latency it adds.
const GATHER_ROUNDS: usize = 8;

/// Writes waiting beyond this make callers wait in `write` (back-pressure) instead of piling up.
const QUEUE_DEPTH: usize = 4096;

impl Writer {
    pub fn start(
        connection: Connection,
        max_batch: usize,
        on_commit: Option<CommitObserver>,
    ) -> std::io::Result<Self> {
        let inbox = std::sync::Arc::new(Inbox::default());
        let thread = {
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name("sqlite-writer".into())
                .spawn(move || run(connection, &inbox, max_batch.max(1), on_commit))?
        };
        Ok(Self {
            inbox,
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

    /// The same for `work` that needs no savepoint because a failure cannot leave a change
    /// behind: it runs one SQL statement (SQLite undoes a failed statement by itself), or
    /// several of which only the last changes anything (the hot upsert).
    pub async fn write_without_savepoint<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.submit(work, true).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
        without_savepoint: bool,
    ) -> Result<T, StorageError> {
        let stopped = || StorageError::unavailable("the SQLite writer has stopped");
        let (answer, answered) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending {
            work: Some(work),
            outcome: None,
            answer,
            without_savepoint,
        });
        let mut job = job;
        loop {
            match self.inbox.offer(job) {
                Offer::Taken => break,
                Offer::TakenWakeWriter => {
                    let _wake = WakeWriter(&self.inbox);
                    self.inbox.gather().await;
                    break;
                }
                Offer::Closed => return Err(stopped()),
                Offer::Full(returned) => {
                    job = returned;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
        answered.await.map_err(|_| stopped())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Close the inbox, then wait for the thread to commit what it holds.
        self.inbox.lock().closed = true;
        self.inbox.wake_writer();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(connection: Connection, inbox: &Inbox, max_batch: usize, on_commit: Option<CommitObserver>) {
    let mut batch: Vec<Box<dyn Job>> = Vec::new();
    loop {
        {
            let mut state = inbox.lock();
            while state.jobs.is_empty() && !state.closed {
                state.writer_asleep = true;
                state = inbox
                    .arrived
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            state.writer_asleep = false;
            if state.jobs.is_empty() {
                break; // closed, and nothing left
            }
            if state.jobs.len() <= max_batch {
                std::mem::swap(&mut state.jobs, &mut batch);
            } else {
                batch.extend(state.jobs.drain(..max_batch));
            }
        }
        // Before the commit answers the writers, so that an answered write is counted.
        if let Some(observer) = &on_commit {
            observer.committed(batch.len());
        }
        commit_batch(&connection, &mut batch);
    }
    tracing::debug!("SQLite writer stopped");
}

/// Runs the jobs in one transaction, each failed one undone on its own, then answers them all.
fn commit_batch(connection: &Connection, batch: &mut Vec<Box<dyn Job>>) {
    // Outside a transaction (BEGIN failed), each savepoint commits on its own release.
    let in_transaction = control(connection, "BEGIN IMMEDIATE").is_ok();
    let mut failures: Vec<Option<String>> = Vec::with_capacity(batch.len());
    // SQLite may roll the whole transaction back by itself after a full disk, an I/O error or
    // a lack of memory. Nothing of the batch lasts then, and a later job must not run either:
    // outside the transaction it would commit on its own although it is answered as failed.
    let mut rolled_back = false;
    for job in batch.iter_mut() {
        if rolled_back {
            failures.push(None);
            continue;
        }
        if job.without_savepoint() && in_transaction {
            job.run(connection);
            failures.push(None);
            rolled_back = connection.is_autocommit();
            continue;
        }
        if let Err(error) = control(connection, "SAVEPOINT job") {
            failures.push(Some(storage_error(error).to_string()));
            continue;
        }
        if !job.run(connection) {
            let _ = control(connection, "ROLLBACK TO job");
        }
        failures.push(
            control(connection, "RELEASE job")
                .err()
                .map(|e| e.to_string()),
        );
        rolled_back = in_transaction && connection.is_autocommit();
    }
    let commit_error = if rolled_back {
        tracing::error!("SQLite rolled the write transaction back; its writes are reported failed");
        Some("the database rolled the write transaction back (full disk or I/O error)".to_owned())
    } else if in_transaction {
        control(connection, "COMMIT").err().map(|error| {
            tracing::error!(%error, "SQLite commit failed");
            let _ = control(connection, "ROLLBACK");
            error.to_string()
        })
    } else {
        None
    };
    for (job, failure) in batch.drain(..).zip(failures) {
        job.finish(commit_error.clone().or(failure));
    }
}

/// Runs a transaction-control statement from the statement cache: these run several times per
/// batch, and parsing them each time was a measurable share of the writer's time.
fn control(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, Writer, Connection) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("w.db");
        let connection = Connection::open(&path).expect("open");
        connection
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (v TEXT NOT NULL);")
            .expect("schema");
        let writer = Writer::start(connection, 64, None).expect("writer");
        let reader = Connection::open(&path).expect("reader");
        (dir, writer, reader)
    }

    fn insert(value: &'static str) -> impl FnOnce(&Connection) -> Result<(), StorageError> {
        move |connection| {
            connection
                .execute("INSERT INTO t (v) VALUES (?1)", [value])
                .map(|_| ())
                .map_err(storage_error)
        }
    }

    /// A job that ends the transaction the way SQLite does after a full disk, then writes that
    /// queued behind it: none may be committed while it is answered as failed.
    #[tokio::test]
    async fn writes_after_sqlite_rolls_the_batch_back_neither_run_nor_last() {
        let (_dir, writer, reader) = open();
        let first = writer.write(insert("before"));
        let rollback = writer.write(|connection: &Connection| {
            connection
                .execute_batch("ROLLBACK")
                .map_err(storage_error)?;
            Err::<(), _>(StorageError::unavailable("the disk is full"))
        });
        let later = writer.write_without_savepoint(insert("after"));
        let (first, rollback, later) = tokio::join!(first, rollback, later);
        assert!(first.is_err(), "its transaction was rolled back");
        assert!(rollback.is_err());
        assert!(later.is_err(), "answered as failed");
        let stored: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .expect("count");
        assert_eq!(stored, 0, "no write of the rolled-back batch lasts");

        writer
            .write(insert("next"))
            .await
            .expect("the next batch commits");
        let stored: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .expect("count");
        assert_eq!(stored, 1);
    }
}

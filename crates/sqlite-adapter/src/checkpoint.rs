use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use storage_port::StorageError;

use crate::convert::storage_error;

/// Copies the write-ahead log back into the database file from a thread of its own, so that
/// the writer does not stop taking writes while a checkpoint copies pages and syncs files.
///
/// Left to the writer (SQLite's default, every 1,000 pages), checkpoints stalled every write
/// waiting behind them: on the sign-up benchmark a few milliseconds, many times a second,
/// which set the p99. A passive checkpoint never blocks the writer. The log can start over
/// only when a checkpoint has caught up with it just before a write begins, which under a
/// steady stream of writes this thread rarely manages; so the writer keeps a much higher
/// automatic checkpoint (`WRITER_AUTOCHECKPOINT_PAGES`). When that runs, this thread has
/// already copied nearly everything: the writer copies the last frames, syncs, and the log
/// starts over. The log file therefore grows to about 40 MiB under load.
#[derive(Debug)]
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// How often the log is checked; a check with nothing to copy costs microseconds.
const INTERVAL: Duration = Duration::from_millis(20);

/// Checkpoints in a row at most before the thread sleeps again.
const CATCH_UP_ROUNDS: usize = 16;

/// The writer's own automatic checkpoint, in pages of log (about 40 MiB).
pub const WRITER_AUTOCHECKPOINT_PAGES: u32 = 10_000;

impl Checkpointer {
    /// Opens a connection of its own to `path` (`synchronous` as the writer's) and starts.
    pub fn start(path: &Path, synchronous: &str) -> Result<Self, StorageError> {
        let connection = Connection::open(path).map_err(storage_error)?;
        connection
            .execute_batch(&format!(
                "PRAGMA synchronous = {synchronous}; PRAGMA wal_autocheckpoint = 0;"
            ))
            .map_err(storage_error)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&connection, &stopped))
            .map_err(StorageError::unavailable)?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(connection: &Connection, stopped: &mpsc::Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
        // Rounds until the log is all copied: the log can start over only once a checkpoint
        // has caught up with it, and the writer keeps adding to it meanwhile.
        for _ in 0..CATCH_UP_ROUNDS {
            let outcome = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
            });
            match outcome {
                Ok((log, copied)) if copied < log => {
                    tracing::trace!(log, copied, "SQLite checkpoint behind the log")
                }
                Ok(_) => break,
                // Busy or failed: the next round (or the writer's backstop) tries again.
                Err(error) => {
                    tracing::debug!(%error, "SQLite checkpoint did not run");
                    break;
                }
            }
        }
    }
}

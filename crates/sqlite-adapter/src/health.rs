//! What the readiness check knows beyond its own probe: whether the last writes failed, and
//! whether SQLite ever reported damaged data.
//!
//! The probe (`SqliteStorage::ping`) commits a one-page change through the writer, which
//! finds a read-only file or mount, I/O errors, a lock held by another process and a stopped
//! writer. It cannot vouch for larger writes: a full disk still takes one page into the
//! reused log, and a database at its size limit can rewrite a page it has. So a write of a
//! request that failed for a storage reason holds readiness at 503 until a request's write
//! succeeds, or for `FAILED_WRITE_HOLD` when no write comes (a load balancer that took the
//! instance out of rotation must see it recover once the probe passes again). Damaged data
//! does not heal: SQLITE_CORRUPT keeps readiness at 503 until a restart.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use storage_port::{Fault, StorageError};

use crate::pool::ReaderPool;
use crate::writer::Writer;

/// How long a failed write keeps readiness at 503 when no later write succeeds.
pub const FAILED_WRITE_HOLD: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Health {
    state: Mutex<HealthState>,
    hold: Duration,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            hold: FAILED_WRITE_HOLD,
        }
    }
}

#[derive(Debug, Default)]
struct HealthState {
    /// The public reason of the last failed write and when it failed; `None` after a success.
    failed_write: Option<(String, Instant)>,
    /// What SQLite said the first time it reported damaged data.
    corruption: Option<String>,
}

impl Health {
    fn lock(&self) -> MutexGuard<'_, HealthState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn saw_write<T>(&self, outcome: &Result<T, StorageError>) {
        self.saw_corruption(outcome);
        let reason = match outcome {
            // A duplicate or a missing record still means the transaction committed.
            Ok(_) | Err(StorageError::Duplicate(_) | StorageError::NotFound(_)) => {
                self.lock().failed_write = None;
                return;
            }
            Err(error @ StorageError::Unavailable(_)) => error.public_reason(),
            Err(StorageError::Corrupt(_)) => Some("the database reports damaged data"),
            // A bug in one statement says nothing about the store.
            Err(_) => return,
        };
        let mut state = self.lock();
        // The other writes of a failed batch only know that it did not commit: keep the reason
        // of the write that made it fail.
        let reason = match (reason, state.failed_write.take()) {
            (Some(reason), _) => reason.to_owned(),
            (None, Some((known, at))) if at.elapsed() < self.hold => known,
            (None, _) => "writes to the database fail".to_owned(),
        };
        state.failed_write = Some((reason, Instant::now()));
    }

    fn saw_corruption<T>(&self, outcome: &Result<T, StorageError>) {
        if let Err(StorageError::Corrupt(what)) = outcome {
            let mut state = self.lock();
            if state.corruption.is_none() {
                tracing::error!(%what, "SQLite reports damaged data; /ready answers 503 until a restart");
                state.corruption = Some(what.clone());
            }
        }
    }

    /// Fails when SQLite reported damaged data, or a recent write failed and none succeeded
    /// since.
    pub fn check(&self) -> Result<(), StorageError> {
        let state = self.lock();
        if let Some(what) = &state.corruption {
            return Err(StorageError::Corrupt(what.clone()));
        }
        match &state.failed_write {
            Some((reason, at)) if at.elapsed() < self.hold => {
                Err(StorageError::unavailable(Fault::new(reason.clone())))
            }
            _ => Ok(()),
        }
    }
}

/// The writer, with every request's outcome noted in `Health`.
#[derive(Debug)]
pub struct WatchedWriter {
    writer: Writer,
    health: Arc<Health>,
}

impl WatchedWriter {
    pub fn new(writer: Writer, health: Arc<Health>) -> Self {
        Self { writer, health }
    }

    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let outcome = self.writer.write(work).await;
        self.health.saw_write(&outcome);
        outcome
    }

    pub async fn write_without_savepoint<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let outcome = self.writer.write_without_savepoint(work).await;
        self.health.saw_write(&outcome);
        outcome
    }

    /// A write of the readiness probe: its failure is answered directly and its success does
    /// not clear a request's failure (see the module's comment); damaged data is still noted.
    pub async fn probe(
        &self,
        work: impl FnOnce(&Connection) -> Result<(), StorageError> + Send + 'static,
    ) -> Result<(), StorageError> {
        let outcome = self.writer.write(work).await;
        self.health.saw_corruption(&outcome);
        outcome
    }
}

/// The reader pool, with damaged data noted in `Health`.
#[derive(Debug)]
pub struct WatchedReaders {
    pool: Arc<ReaderPool>,
    health: Arc<Health>,
}

impl WatchedReaders {
    pub fn new(pool: ReaderPool, health: Arc<Health>) -> Self {
        Self {
            pool: Arc::new(pool),
            health,
        }
    }

    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StorageError> {
        let outcome = self.pool.read(work).await;
        self.health.saw_corruption(&outcome);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Result<(), StorageError> {
        Err(StorageError::unavailable(Fault::new(
            "the disk or the database is full",
        )))
    }

    #[test]
    fn a_failed_write_holds_until_a_write_succeeds_or_the_hold_ends() {
        let health = Health {
            hold: Duration::from_millis(50),
            ..Health::default()
        };
        health.saw_write(&full());
        let held = health.check().expect_err("held");
        assert_eq!(
            held.public_reason(),
            Some("the disk or the database is full")
        );
        // The other writes of the failed batch only know it did not commit.
        health.saw_write(&Err::<(), _>(StorageError::unavailable("cannot commit")));
        let held = health.check().expect_err("still held");
        assert_eq!(
            held.public_reason(),
            Some("the disk or the database is full")
        );
        health.saw_write(&Ok(()));
        health.check().expect("a write succeeded");

        health.saw_write(&full());
        std::thread::sleep(Duration::from_millis(80));
        health.check().expect("no write for longer than the hold");
        // A statement's own bug says nothing about the store.
        health.saw_write(&Err::<(), _>(StorageError::unexpected("syntax error")));
        health.check().expect("ready");
    }

    #[test]
    fn damaged_data_holds_until_a_restart() {
        let health = Health {
            hold: Duration::ZERO,
            ..Health::default()
        };
        health.saw_corruption(&Err::<(), _>(StorageError::Corrupt("malformed".into())));
        health.saw_write(&Ok(()));
        assert!(matches!(health.check(), Err(StorageError::Corrupt(_))));
    }
}

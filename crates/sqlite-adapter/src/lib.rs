//! The embedded default store: one SQLite file in WAL mode.
//!
//! Writes go to one dedicated writer thread, which takes every write waiting for it and
//! commits them in one transaction (group commit), each in its own savepoint so that one
//! failing write does not undo the others. A third thread copies the write-ahead log back
//! into the database file (checkpoints), so the writer never waits for that. Reads run on a
//! small pool of read-only connections through `spawn_blocking`. No SQLite call ever runs on
//! an async worker.

mod accounts;
mod backup;
mod checkpoint;
mod convert;
mod health;
mod mail;
mod migrations;
mod organizations;
mod pool;
mod store;
mod writer;

use std::path::PathBuf;
use std::sync::Arc;

pub use backup::backup;
pub use store::SqliteStorage;

/// Told the number of writes in each transaction the writer commits (group commit), for
/// metrics. It runs on the writer thread between commits, so it must be quick (an atomic
/// add); it sees plain numbers, so whoever observes needs to know nothing of SQLite.
#[derive(Clone)]
pub struct CommitObserver(Arc<dyn Fn(usize) + Send + Sync>);

impl CommitObserver {
    pub fn new(observe: impl Fn(usize) + Send + Sync + 'static) -> Self {
        Self(Arc::new(observe))
    }

    pub(crate) fn committed(&self, writes: usize) {
        (self.0)(writes);
    }
}

impl std::fmt::Debug for CommitObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommitObserver")
    }
}

/// Where and how to keep the database.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    /// The database file; its folder is created when missing.
    pub path: PathBuf,
    /// `true`: fsync at every commit (survives power loss). `false` (default): WAL with
    /// `synchronous=NORMAL`, which survives a crash or `kill -9` of the process but may lose the
    /// last commits on power loss.
    pub sync_every_commit: bool,
    /// Read connections open at once.
    pub max_readers: usize,
    /// Writes committed together at most.
    pub max_batch: usize,
    /// Told each batch's size; `None` by default.
    pub on_commit: Option<CommitObserver>,
    /// Files up to this size get `PRAGMA quick_check` at start-up (it reads every page; the
    /// default, 64 MiB, takes under a second).
    pub quick_check_max_bytes: u64,
}

impl SqliteSettings {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            sync_every_commit: false,
            max_readers: 4,
            max_batch: 512,
            on_commit: None,
            quick_check_max_bytes: 64 * 1024 * 1024,
        }
    }
}

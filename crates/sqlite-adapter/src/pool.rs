use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use storage_port::StorageError;
use tokio::sync::Semaphore;

use crate::convert::storage_error;

/// Read-only connections, used on the blocking thread pool.
#[derive(Debug)]
pub struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl ReaderPool {
    pub fn new(path: PathBuf, max_readers: usize) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_readers.max(1)),
        }
    }

    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StorageError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(StorageError::unavailable)?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let connection = match pool.take() {
                Some(connection) => connection,
                None => open_reader(&pool.path).map_err(storage_error)?,
            };
            let result = work(&connection).map_err(storage_error);
            pool.give_back(connection);
            result
        })
        .await
        .map_err(StorageError::unexpected)?
    }

    fn take(&self) -> Option<Connection> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    fn give_back(&self, connection: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(connection);
    }
}

fn open_reader(path: &PathBuf) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    // The 16 variants of the user listing, the 24 of the account listing, the 4 of the member
    // listing and the other reads all stay prepared. Without the query planner stability
    // guarantee, SQLite (built with STAT4) re-prepares a statement whenever a bound LIMIT is
    // rebound, about 15% of a listing request's CPU.
    connection.set_prepared_statement_cache_capacity(128);
    connection.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(connection)
}

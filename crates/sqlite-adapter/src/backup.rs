use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use storage_port::StorageError;

/// Copies the database at `source` to a new file `destination` with SQLite's online backup,
/// safe while the service is writing to it: the copy is one consistent state, taken in one
/// read transaction (readers do not block the writer in WAL mode, nor it them). The copy goes
/// to a temporary file beside `destination`, is checked with `PRAGMA quick_check`, and only
/// then takes its name, so a failed or interrupted backup never leaves a file there. Refuses
/// to replace an existing file. Blocking. Returns the size of the copy in bytes.
pub fn backup(source: &Path, destination: &Path) -> Result<u64, StorageError> {
    let failed = |what: String| StorageError::unavailable(what);
    if destination.exists() {
        return Err(failed(format!(
            "{} already exists; back up to a new file",
            destination.display()
        )));
    }
    if !source.is_file() {
        return Err(failed(format!(
            "there is no SQLite database at {}",
            source.display()
        )));
    }
    // Read-write but never written through: a read-only connection cannot open a database in
    // WAL mode whose shared-memory file is missing (the service is not running).
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .and_then(|connection| {
            connection.busy_timeout(Duration::from_secs(5))?;
            Ok(connection)
        })
        .map_err(|e| failed(format!("cannot open {}: {e}", source.display())))?;
    crate::migrations::check_ours(&from, source)?;
    let partial = partial_name(destination);
    let copied = copy(&from, &partial).and_then(|()| {
        std::fs::rename(&partial, destination).map_err(|e| {
            failed(format!(
                "cannot rename {} to {}: {e}",
                partial.display(),
                destination.display()
            ))
        })
    });
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied?;
    Ok(std::fs::metadata(destination).map_or(0, |m| m.len()))
}

fn partial_name(destination: &Path) -> PathBuf {
    let mut name = destination.as_os_str().to_owned();
    name.push(format!(".partial-{}", std::process::id()));
    PathBuf::from(name)
}

fn copy(from: &Connection, partial: &Path) -> Result<(), StorageError> {
    let failed = |e: rusqlite::Error| {
        StorageError::unavailable(format!("backing up to {}: {e}", partial.display()))
    };
    let mut to = Connection::open(partial).map_err(failed)?;
    {
        let backup = Backup::new(from, &mut to).map_err(failed)?;
        // All pages in one step: one read transaction, so writes meanwhile cannot restart it.
        loop {
            match backup.step(-1).map_err(failed)? {
                StepResult::Done => break,
                StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {}
            }
        }
    }
    let problems: Vec<String> = to
        .prepare("PRAGMA quick_check(5)")
        .and_then(|mut query| query.query_map([], |row| row.get(0))?.collect())
        .map_err(failed)?;
    if problems != ["ok"] {
        return Err(StorageError::Corrupt(format!(
            "the copy in {} fails SQLite's quick check: {}",
            partial.display(),
            problems.join("; ")
        )));
    }
    to.close().map_err(|(_, e)| failed(e))
}

use std::path::Path;

use rusqlite::Connection;
use storage_port::StorageError;

/// `PRAGMA application_id` of our databases ("UAPI"), set when the schema is created, so that
/// another program's SQLite file is never mistaken for ours (`file` shows it too).
pub const APPLICATION_ID: i32 = 0x5541_5049;

/// The tables of our first migration: a database of ours from before the marking has them all.
const OUR_TABLES: [&str; 4] = ["admins", "apps", "schema_versions", "users"];

/// Schema changes in order; `PRAGMA user_version` records how many have run. Append only.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE apps (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    allowed_origins    TEXT NOT NULL,
    honeypot_field     TEXT,
    thank_you_url      TEXT,
    password_hash      TEXT NOT NULL,
    credential_version INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE schema_versions (
    app_id     TEXT NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, version)
) WITHOUT ROWID;

CREATE TABLE users (
    app_id         TEXT NOT NULL,
    id             TEXT NOT NULL,
    email          TEXT NOT NULL,
    data           TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (app_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_by_email ON users (app_id, email);
CREATE INDEX users_by_creation ON users (app_id, created_at);

CREATE TABLE admins (
    email              TEXT PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    password_hash      TEXT NOT NULL,
    credential_version INTEGER NOT NULL,
    created_at         INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // Every app gets a random incarnation, so that sessions of a deleted app never count for a
    // later app of the same id. Apps stored before this get one here.
    r#"
ALTER TABLE apps ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';
UPDATE apps SET incarnation = lower(hex(randomblob(16)));
"#,
    // App ids are unique ignoring case: `id_folded` is the lower-cased id under a unique index.
    // Apps stored before this whose ids differ only in case keep working; the first of them by
    // id holds the folded id (which is all the index needs), the others keep NULL.
    r#"
ALTER TABLE apps ADD COLUMN id_folded TEXT;
UPDATE apps SET id_folded = lower(id)
 WHERE NOT EXISTS (SELECT 1 FROM apps AS twin WHERE lower(twin.id) = lower(apps.id) AND twin.id < apps.id);
CREATE UNIQUE INDEX apps_by_folded_id ON apps (id_folded);
"#,
    // Where a failed plain HTML form is sent; none for existing apps.
    "ALTER TABLE apps ADD COLUMN error_url TEXT;",
];

/// Refuses, before anything is written to it, a file that is not a database of ours or that a
/// newer release wrote: a non-empty database with another `application_id`, or without ours
/// and without our tables, or with a `user_version` beyond our migrations.
pub fn check_ours(connection: &Connection, path: &Path) -> Result<(), StorageError> {
    let read = |error: rusqlite::Error| {
        StorageError::Incompatible(format!(
            "cannot read the SQLite database {}: {error}",
            path.display()
        ))
    };
    let application_id: i32 = connection
        .query_row("PRAGMA application_id", [], |row| row.get(0))
        .map_err(read)?;
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(read)?;
    let tables: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut query| query.query_map([], |row| row.get(0))?.collect())
        .map_err(read)?;
    let known = MIGRATIONS.len() as i64;
    let ours = match application_id {
        APPLICATION_ID => true,
        // A new, empty file, or one of ours from before the marking.
        0 => {
            tables.is_empty()
                || (version >= 1 && OUR_TABLES.iter().all(|t| tables.iter().any(|n| n == t)))
        }
        _ => false,
    };
    if !ours {
        return Err(StorageError::Incompatible(format!(
            "{} is not a Users API database (application_id {application_id:#010x}, user_version {version}, tables: {}); refusing to change it",
            path.display(),
            tables.join(", ")
        )));
    }
    if version > known {
        return Err(StorageError::Incompatible(format!(
            "the SQLite database {} has schema version {version}, newer than this release knows (up to {known}); run the newer release or restore a backup",
            path.display()
        )));
    }
    Ok(())
}

/// Brings the database up to date, in one transaction per migration, and marks it as ours.
/// Call `check_ours` first.
pub fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let application_id: i32 =
        connection.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    if application_id != APPLICATION_ID {
        connection.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    let applied: usize = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
        tracing::info!(version = index + 1, "applied SQLite migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database as the first release left it, with two apps.
    fn first_release_database() -> Connection {
        let connection = Connection::open_in_memory().expect("open");
        connection.execute_batch(MIGRATIONS[0]).expect("schema");
        connection
            .pragma_update(None, "user_version", 1)
            .expect("version");
        for id in ["site-a", "site-b"] {
            connection
                .execute(
                    "INSERT INTO apps VALUES (?1, 'App', '[]', NULL, NULL, 'hash', 3, 1, 2)",
                    [id],
                )
                .expect("insert");
        }
        connection
    }

    #[test]
    fn apps_stored_before_incarnations_get_distinct_random_ones() {
        let mut connection = first_release_database();
        migrate(&mut connection).expect("migrate");
        let incarnations: Vec<String> = connection
            .prepare("SELECT incarnation FROM apps ORDER BY id")
            .expect("prepare")
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(incarnations.len(), 2);
        for incarnation in &incarnations {
            assert_eq!(incarnation.len(), 32, "{incarnation}");
            assert!(incarnation.bytes().all(|b| b.is_ascii_hexdigit()));
        }
        assert_ne!(incarnations[0], incarnations[1]);
        let version: i64 = connection
            .query_row(
                "SELECT credential_version FROM apps WHERE id = 'site-a'",
                [],
                |row| row.get(0),
            )
            .expect("version");
        assert_eq!(version, 3, "existing columns keep their values");
    }

    #[test]
    fn apps_stored_before_folded_ids_keep_working_and_hold_their_folded_id() {
        let mut connection = first_release_database();
        for id in ["SITE-A", "Site-A"] {
            connection
                .execute(
                    "INSERT INTO apps VALUES (?1, 'App', '[]', NULL, NULL, 'hash', 1, 1, 2)",
                    [id],
                )
                .expect("insert");
        }
        migrate(&mut connection).expect("migrate despite ids that differ only in case");
        let folded: Vec<(String, Option<String>)> = connection
            .prepare("SELECT id, id_folded FROM apps ORDER BY id")
            .expect("prepare")
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let expected = [
            ("SITE-A", Some("site-a")),
            ("Site-A", None),
            ("site-a", None),
            ("site-b", Some("site-b")),
        ];
        let expected: Vec<(String, Option<String>)> = expected
            .iter()
            .map(|(id, f)| ((*id).to_owned(), f.map(str::to_owned)))
            .collect();
        assert_eq!(folded, expected);
        let taken = connection.execute(
            "INSERT INTO apps (id, name, allowed_origins, password_hash, credential_version, created_at, updated_at, id_folded)
             VALUES ('sItE-a', 'App', '[]', 'hash', 1, 1, 2, 'site-a')",
            [],
        );
        assert!(taken.is_err(), "the folded id is still taken");
    }
}

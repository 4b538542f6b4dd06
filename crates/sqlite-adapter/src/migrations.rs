use rusqlite::Connection;

/// Schema changes in order; `PRAGMA user_version` records how many have run. Append only.
const MIGRATIONS: &[&str] = &[r#"
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
"#];

/// Brings the database up to date, in one transaction per migration.
pub fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
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

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
    // End-user accounts (ACCOUNTS.md): the account lives on the user row it grew from, so a
    // lead keeps its id and data when it registers; `registered_at` NULL marks a lead, and
    // every existing row is one. Sessions and signing keys get tables of their own.
    r#"
ALTER TABLE users ADD COLUMN account_name TEXT;
ALTER TABLE users ADD COLUMN bio TEXT;
ALTER TABLE users ADD COLUMN avatar_url TEXT;
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_login_at INTEGER;
ALTER TABLE users ADD COLUMN registered_at INTEGER;
ALTER TABLE users ADD COLUMN lead_keys TEXT NOT NULL DEFAULT '[]';

CREATE TABLE sessions (
    id                  TEXT PRIMARY KEY,
    app_id              TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    organization_id     TEXT,
    refresh_hash        TEXT NOT NULL,
    previous_hash       TEXT,
    rotated_at          INTEGER,
    sealed_refresh      TEXT,
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER NOT NULL,
    idle_expires_at     INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL,
    user_agent          TEXT,
    client_ip           TEXT,
    revoked_at          INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (app_id, user_id);

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    algorithm          TEXT NOT NULL,
    public_key         TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    created_at         INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // Organizations, memberships and API keys (ACCOUNTS.md §1, §2). An app's account settings
    // are one JSON column, so later settings need no migration; an account gains the app-wide
    // `tenant_admin` role and extra permissions. Existing apps and accounts get the defaults.
    //
    // A membership's primary key serves an organization's member pages (seek to the cursor,
    // already in user id order); `memberships_by_role` serves the last-admin check and pages of
    // one role without reading the other members of a large organization, and
    // `memberships_by_user` an account's own organizations. `users_accounts` holds accounts
    // only, so a page of an app's accounts does not read through its leads.
    r#"
ALTER TABLE apps ADD COLUMN account_settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN tenant_admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]';
CREATE INDEX users_accounts ON users (app_id, id) WHERE registered_at IS NOT NULL;

CREATE TABLE organizations (
    id                    TEXT PRIMARY KEY,
    app_id                TEXT NOT NULL,
    name                  TEXT NOT NULL,
    slug                  TEXT NOT NULL,
    allowed_email_domains TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    UNIQUE (app_id, slug)
) WITHOUT ROWID;
CREATE INDEX organizations_by_app ON organizations (app_id, id);

CREATE TABLE memberships (
    app_id          TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    role            TEXT NOT NULL,
    permissions     TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (app_id, organization_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (app_id, user_id);
CREATE INDEX memberships_by_role ON memberships (app_id, organization_id, role, user_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    role         TEXT,
    permissions  TEXT NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX api_keys_by_app ON api_keys (app_id);
"#,
    // One-time tokens and the durable outbox (issue 15). `one_time_tokens_by_address` finds
    // the unused tokens a new one replaces; the outbox's ids are UUIDv7, so `id` order is
    // creation order: `outbox_due` serves a sender's claim, `outbox_by_app` an app's pages.
    r#"
CREATE TABLE one_time_tokens (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    user_id         TEXT,
    email           TEXT NOT NULL,
    organization_id TEXT,
    role            TEXT,
    invited_by      TEXT,
    message         TEXT,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
) WITHOUT ROWID;
CREATE INDEX one_time_tokens_by_address ON one_time_tokens (app_id, purpose, email);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    from_address    TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    token_id        TEXT,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) WITHOUT ROWID;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_app ON outbox (app_id, id);
"#,
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

    /// A database as migration 4 (the last before accounts) left it: an app and a sign-up.
    #[test]
    fn a_database_at_migration_4_keeps_its_rows_which_become_leads() {
        let mut connection = Connection::open_in_memory().expect("open");
        for sql in &MIGRATIONS[..4] {
            connection.execute_batch(sql).expect("old schema");
        }
        connection
            .pragma_update(None, "user_version", 4)
            .expect("version");
        connection
            .execute_batch(
                "INSERT INTO apps (id, name, allowed_origins, password_hash, credential_version, created_at, updated_at, incarnation, id_folded, error_url)
                 VALUES ('site-a', 'App', '[]', 'hash', 2, 1, 2, 'inc', 'site-a', NULL);
                 INSERT INTO users VALUES ('site-a', 'u1', 'ada@example.com', '{\"age\":40}', 1, 10, 20);",
            )
            .expect("old rows");
        migrate(&mut connection).expect("migrate");
        let version: usize = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len());
        type Row = (String, String, i64, i64, Option<i64>, String, i64, i64);
        let row: Row = connection
            .query_row(
                "SELECT email, data, created_at, updated_at, registered_at, lead_keys, credential_version, email_verified
                 FROM users WHERE app_id = 'site-a' AND id = 'u1'",
                [],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                        row.get(7)?,
                    ))
                },
            )
            .expect("the sign-up is still there");
        assert_eq!(
            row,
            (
                "ada@example.com".to_owned(),
                r#"{"age":40}"#.to_owned(),
                10,
                20,
                None,
                "[]".to_owned(),
                1,
                0
            ),
            "kept as it was, and a lead"
        );
        for table in ["sessions", "signing_keys"] {
            let rows: i64 = connection
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get(0)
                })
                .expect("the new table exists");
            assert_eq!(rows, 0);
        }
    }

    /// A database as migration 6 (the last before e-mail) left it: an app, an account, an
    /// organization with its member and an API key, all kept; the mail tables come empty.
    #[test]
    fn a_database_at_migration_6_keeps_its_rows_and_gains_empty_mail_tables() {
        let mut connection = Connection::open_in_memory().expect("open");
        for sql in &MIGRATIONS[..6] {
            connection.execute_batch(sql).expect("old schema");
        }
        connection
            .pragma_update(None, "user_version", 6)
            .expect("version");
        connection
            .execute_batch(
                "INSERT INTO apps (id, name, allowed_origins, password_hash, credential_version, created_at, updated_at, incarnation, id_folded, error_url, account_settings)
                 VALUES ('site-a', 'App', '[]', 'hash', 2, 1, 2, 'inc', 'site-a', NULL, '{}');
                 INSERT INTO users (app_id, id, email, data, schema_version, created_at, updated_at, registered_at, password_hash)
                 VALUES ('site-a', 'u1', 'ada@example.com', '{}', 1, 10, 20, 30, 'pw');
                 INSERT INTO organizations VALUES ('o1', 'site-a', 'Org', 'org', '[]', 40, 50);
                 INSERT INTO memberships VALUES ('site-a', 'o1', 'u1', 'admin', '[]', 60, 70);
                 INSERT INTO api_keys VALUES ('k1', 'site-a', 'Key', 'pre', 'khash', NULL, '[]', NULL, NULL, 80, NULL);",
            )
            .expect("old rows");
        migrate(&mut connection).expect("migrate");
        let version: usize = connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len());
        let account: (String, i64, String) = connection
            .query_row(
                "SELECT email, registered_at, password_hash FROM users WHERE app_id = 'site-a' AND id = 'u1'",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .expect("the account is still there");
        assert_eq!(account, ("ada@example.com".to_owned(), 30, "pw".to_owned()));
        let role: String = connection
            .query_row(
                "SELECT role FROM memberships WHERE organization_id = 'o1' AND user_id = 'u1'",
                [],
                |row| row.get(0),
            )
            .expect("the membership is still there");
        assert_eq!(role, "admin");
        for (table, expected) in [
            ("apps", 1),
            ("organizations", 1),
            ("api_keys", 1),
            ("one_time_tokens", 0),
            ("outbox", 0),
        ] {
            let rows: i64 = connection
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get(0)
                })
                .expect("the table exists");
            assert_eq!(rows, expected, "{table}");
        }
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

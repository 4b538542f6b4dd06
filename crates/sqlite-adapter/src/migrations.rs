use rusqlite::Connection;

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

use std::path::Path;
use std::sync::Arc;
use storage_port::Entity;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use schema_validation::Schema;
use storage_port::*;

use crate::SqliteSettings;
use crate::checkpoint::{Checkpointer, WRITER_AUTOCHECKPOINT_PAGES};
use crate::convert::*;
use crate::health::{Health, WatchedReaders, WatchedWriter};
use crate::pool::ReaderPool;
use crate::writer::Writer;

/// The SQLite store. Cheap to share behind an `Arc`; dropping it commits pending writes and
/// closes the file.
#[derive(Debug)]
pub struct SqliteStorage {
    // Dropped in this order: the writer commits what it holds, then checkpoints stop.
    pub(crate) writer: WatchedWriter,
    _checkpointer: Checkpointer,
    pub(crate) readers: WatchedReaders,
    health: Arc<Health>,
}

impl SqliteStorage {
    /// Opens (creating when missing) and migrates the database. Blocking: call it before
    /// serving, or from `spawn_blocking`. Refuses, without writing to it, a file that is not a
    /// database of ours, one of a newer release, or one that fails SQLite's quick check.
    pub fn open(settings: &SqliteSettings) -> Result<Self, StorageError> {
        let path = &settings.path;
        let mut connection = open_file(path)?;
        crate::migrations::check_ours(&connection, path)?;
        check_integrity(&connection, path, settings.quick_check_max_bytes)?;
        let cannot_open = |error: rusqlite::Error| {
            StorageError::unavailable(format!(
                "cannot open the SQLite database {}: {error}",
                path.display()
            ))
        };
        let synchronous = if settings.sync_every_commit {
            "FULL"
        } else {
            "NORMAL"
        };
        connection
            .execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;"
            ))
            .map_err(cannot_open)?;
        crate::migrations::migrate(&mut connection).map_err(cannot_open)?;
        connection
            .pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)
            .map_err(cannot_open)?;
        // Every statement the writer runs stays prepared.
        connection.set_prepared_statement_cache_capacity(64);
        let health = Arc::new(Health::default());
        Ok(Self {
            writer: WatchedWriter::new(
                Writer::start(connection, settings.max_batch, settings.on_commit.clone())
                    .map_err(StorageError::unavailable)?,
                health.clone(),
            ),
            _checkpointer: Checkpointer::start(path, synchronous)?,
            readers: WatchedReaders::new(
                ReaderPool::new(path.clone(), settings.max_readers),
                health.clone(),
            ),
            health,
        })
    }

    pub(crate) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<Result<T, StorageError>> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.writer
            .write(move |connection| work(connection).map_err(storage_error)?)
            .await
    }

    /// For `work` whose failure cannot leave a change behind (see `Writer::write_without_savepoint`).
    pub(crate) async fn write_without_savepoint<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<Result<T, StorageError>> + Send + 'static,
    ) -> Result<T, StorageError> {
        self.writer
            .write_without_savepoint(move |connection| work(connection).map_err(storage_error)?)
            .await
    }
}

/// Opens `path` for writing, creating it and its folder when missing, with errors that name the
/// path and the operating system's reason (SQLite's own say only "unable to open database file").
fn open_file(path: &Path) -> Result<Connection, StorageError> {
    let failed = |what: &str, target: &Path, error: std::io::Error| {
        StorageError::unavailable(format!("{what} {}: {error}", target.display()))
    };
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !folder.exists()
    {
        std::fs::create_dir_all(folder)
            .map_err(|e| failed("cannot create the folder of the SQLite database", folder, e))?;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| failed("cannot open the SQLite database", path, e))?;
    let connection = Connection::open(path).map_err(|e| {
        StorageError::unavailable(format!(
            "cannot open the SQLite database {}: {e}",
            path.display()
        ))
    })?;
    connection
        .busy_timeout(std::time::Duration::from_secs(5))
        .map_err(storage_error)?;
    Ok(connection)
}

/// `PRAGMA quick_check` on files up to `max_bytes`: it reads every page (2.2 s for 190 MiB, on
/// a busy two-core machine with the file cached). Damage in a larger file, or damage that
/// comes later, is reported by SQLite as it is met (see `health`).
fn check_integrity(
    connection: &Connection,
    path: &Path,
    max_bytes: u64,
) -> Result<(), StorageError> {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size > max_bytes {
        tracing::info!(
            size,
            max_bytes,
            "SQLite database too large for a quick check at start-up; skipped"
        );
        return Ok(());
    }
    let damaged = |problem: String| {
        StorageError::Corrupt(format!(
            "the SQLite database {} is damaged ({problem}); restore a backup or try `sqlite3 FILE .recover`",
            path.display()
        ))
    };
    let problems: Vec<String> = connection
        .prepare("PRAGMA quick_check(5)")
        .and_then(|mut query| query.query_map([], |row| row.get(0))?.collect())
        .map_err(|e| damaged(e.to_string()))?;
    if problems != ["ok"] {
        return Err(damaged(problems.join("; ")));
    }
    Ok(())
}

fn app_exists(connection: &Connection, app_id: &str) -> rusqlite::Result<bool> {
    connection
        .prepare_cached("SELECT 1 FROM apps WHERE id = ?1")?
        .exists([app_id])
}

#[async_trait]
impl AppStore for SqliteStorage {
    async fn insert_app(&self, app: &AppRecord) -> Result<(), StorageError> {
        let app = app.clone();
        self.writer
            .write(move |connection| {
                connection
                    .prepare_cached(&format!("INSERT INTO apps ({APP_COLUMNS}, id_folded) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"))
                    .and_then(|mut insert| {
                        insert.execute(params![
                            app.id,
                            app.name,
                            json_text(&app.allowed_origins),
                            app.honeypot_field,
                            app.thank_you_url,
                            app.password_hash,
                            app.credential_version,
                            app.created_at.as_unix_millis(),
                            app.updated_at.as_unix_millis(),
                            app.incarnation,
                            app.error_url,
                            json_text(&app.account_settings.to_json()),
                            // The unique index on it makes ids unique regardless of case.
                            app.id.to_ascii_lowercase()
                        ])
                    })
                    .map(|_| ())
                    .map_err(|error| match storage_error(error) {
                        StorageError::Duplicate(_) => StorageError::Duplicate(Entity::App),
                        other => other,
                    })
            })
            .await
    }

    async fn find_app(&self, app_id: &str) -> Result<Option<AppRecord>, StorageError> {
        let app_id = app_id.to_owned();
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!("SELECT {APP_COLUMNS} FROM apps WHERE id = ?1"))?
                    .query_row([app_id], app_from_row)
                    .optional()
            })
            .await
    }

    async fn list_apps(&self) -> Result<Vec<AppSummary>, StorageError> {
        self.readers
            .read(|connection| {
                let mut query = connection.prepare_cached(&format!(
                    "SELECT {APP_COLUMNS}, (SELECT count(*) FROM users WHERE users.app_id = apps.id) FROM apps ORDER BY id"
                ))?;
                let rows = query.query_map([], |row| {
                    Ok(AppSummary { app: app_from_row(row)?, user_count: row.get::<_, i64>(APP_COLUMN_COUNT)?.max(0) as u64 })
                })?;
                rows.collect()
            })
            .await
    }

    async fn update_app(
        &self,
        app_id: &str,
        changes: &AppChanges,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError> {
        let (app_id, changes) = (app_id.to_owned(), changes.clone());
        self.write(move |connection| {
            let updated = connection.execute(
                "UPDATE apps SET
                    name = coalesce(?2, name),
                    allowed_origins = coalesce(?3, allowed_origins),
                    honeypot_field = CASE WHEN ?4 THEN ?5 ELSE honeypot_field END,
                    thank_you_url = CASE WHEN ?6 THEN ?7 ELSE thank_you_url END,
                    updated_at = ?8,
                    error_url = CASE WHEN ?9 THEN ?10 ELSE error_url END,
                    account_settings = coalesce(?11, account_settings)
                 WHERE id = ?1",
                params![
                    app_id,
                    changes.name,
                    changes.allowed_origins.as_ref().map(json_text),
                    changes.honeypot_field.is_some(),
                    changes.honeypot_field.clone().flatten(),
                    changes.thank_you_url.is_some(),
                    changes.thank_you_url.clone().flatten(),
                    now.as_unix_millis(),
                    changes.error_url.is_some(),
                    changes.error_url.clone().flatten(),
                    changes
                        .account_settings
                        .as_ref()
                        .map(|settings| json_text(&settings.to_json()))
                ],
            )?;
            if updated == 0 {
                return Ok(Err(StorageError::NotFound(Entity::App)));
            }
            connection
                .query_row(
                    &format!("SELECT {APP_COLUMNS} FROM apps WHERE id = ?1"),
                    [&app_id],
                    app_from_row,
                )
                .map(Ok)
        })
        .await
    }

    async fn replace_app_password(
        &self,
        app_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError> {
        let (app_id, password_hash) = (app_id.to_owned(), password_hash.to_owned());
        self.write(move |connection| {
            connection
                .query_row(
                    &format!(
                        "UPDATE apps SET password_hash = ?2, credential_version = credential_version + 1, updated_at = ?3
                         WHERE id = ?1 RETURNING {APP_COLUMNS}"
                    ),
                    params![app_id, password_hash, now.as_unix_millis()],
                    app_from_row,
                )
                .optional()
                .map(|app| app.ok_or(StorageError::NotFound(Entity::App)))
        })
        .await
    }

    async fn delete_app(&self, app_id: &str) -> Result<(), StorageError> {
        let app_id = app_id.to_owned();
        self.write(move |connection| {
            if connection.execute("DELETE FROM apps WHERE id = ?1", [&app_id])? == 0 {
                return Ok(Err(StorageError::NotFound(Entity::App)));
            }
            connection.execute("DELETE FROM schema_versions WHERE app_id = ?1", [&app_id])?;
            connection.execute("DELETE FROM users WHERE app_id = ?1", [&app_id])?;
            connection.execute("DELETE FROM sessions WHERE app_id = ?1", [&app_id])?;
            connection.execute("DELETE FROM organizations WHERE app_id = ?1", [&app_id])?;
            connection.execute("DELETE FROM memberships WHERE app_id = ?1", [&app_id])?;
            connection.execute("DELETE FROM api_keys WHERE app_id = ?1", [&app_id])?;
            Ok(Ok(()))
        })
        .await
    }
}

#[async_trait]
impl SchemaStore for SqliteStorage {
    async fn current_schema(&self, app_id: &str) -> Result<Option<SchemaVersion>, StorageError> {
        let app_id = app_id.to_owned();
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {SCHEMA_COLUMNS} FROM schema_versions WHERE app_id = ?1 ORDER BY version DESC LIMIT 1"
                    ))?
                    .query_row([app_id], schema_from_row)
                    .optional()
            })
            .await
    }

    async fn save_schema(
        &self,
        app_id: &str,
        schema: &Schema,
        now: Timestamp,
    ) -> Result<SchemaVersion, StorageError> {
        let (app_id, schema) = (app_id.to_owned(), schema.clone());
        self.write(move |connection| {
            if !app_exists(connection, &app_id)? {
                return Ok(Err(StorageError::NotFound(Entity::App)));
            }
            // The single writer makes read-then-insert safe: no other write runs in between.
            let version: i64 = connection.query_row(
                "INSERT INTO schema_versions (app_id, version, definition, created_at)
                 SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3 FROM schema_versions WHERE app_id = ?1
                 RETURNING version",
                params![app_id, json_text(&schema), now.as_unix_millis()],
                |row| row.get(0),
            )?;
            Ok(Ok(SchemaVersion { app_id, version, schema, created_at: now }))
        })
        .await
    }

    async fn list_schema_versions(&self, app_id: &str) -> Result<Vec<SchemaVersion>, StorageError> {
        let app_id = app_id.to_owned();
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {SCHEMA_COLUMNS} FROM schema_versions WHERE app_id = ?1 ORDER BY version DESC"
                    ))?
                    .query_map([app_id], schema_from_row)?
                    .collect()
            })
            .await
    }
}

#[async_trait]
impl UserStore for SqliteStorage {
    async fn upsert_user_by_email(
        &self,
        app_id: &str,
        upsert: &UserUpsert,
    ) -> Result<Upserted, StorageError> {
        // Only what the statement binds moves to the writer; the data goes as JSON text.
        let app_id = app_id.to_owned();
        let (new_id, email, data) = (
            upsert.new_id.clone(),
            upsert.email.clone(),
            json_text(&upsert.data),
        );
        let (schema_version, now) = (upsert.schema_version, upsert.now.as_unix_millis());
        // Neither RETURNING nor a conflict clause that updates: either makes SQLite keep a
        // statement journal and a temporary table for every sign-up, a measurable share of the
        // writer's time. The writer runs one job at a time, so nothing comes between the
        // statements; only one of them changes anything, so no savepoint is needed. Neither
        // names an account column: a sign-up to an account's email merges data, nothing more.
        self.write_without_savepoint(move |connection| {
            let inserted = connection
                .prepare_cached(
                    "INSERT INTO users (app_id, id, email, data, schema_version, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                     ON CONFLICT (app_id, email) DO NOTHING",
                )?
                .execute(params![app_id, new_id, email, data, schema_version, now])?;
            if inserted == 1 {
                let at = Timestamp::from_unix_millis(now);
                return Ok(Ok(Upserted { id: new_id, created: true, created_at: at, updated_at: at }));
            }
            let (id, created_at): (String, i64) = connection
                .prepare_cached("SELECT id, created_at FROM users WHERE app_id = ?1 AND email = ?2")?
                .query_row(params![app_id, email], |row| Ok((row.get(0)?, row.get(1)?)))?;
            // json_patch merges key by key; validated data never holds null, which it would
            // read as "delete this key".
            connection
                .prepare_cached(
                    "UPDATE users SET data = json_patch(data, ?3), schema_version = ?4, updated_at = ?5
                     WHERE app_id = ?1 AND id = ?2",
                )?
                .execute(params![app_id, id, data, schema_version, now])?;
            Ok(Ok(Upserted {
                id,
                created: false,
                created_at: Timestamp::from_unix_millis(created_at),
                updated_at: Timestamp::from_unix_millis(now),
            }))
        })
        .await
    }

    async fn find_user(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StorageError> {
        let (app_id, user_id) = (app_id.to_owned(), user_id.to_owned());
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE app_id = ?1 AND id = ?2"
                    ))?
                    .query_row([app_id, user_id], user_from_row)
                    .optional()
            })
            .await
    }

    async fn find_user_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<UserRecord>, StorageError> {
        let (app_id, email) = (app_id.to_owned(), email.to_owned());
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE app_id = ?1 AND email = ?2"
                    ))?
                    .query_row([app_id, email], user_from_row)
                    .optional()
            })
            .await
    }

    async fn list_users(&self, app_id: &str, query: &UserQuery) -> Result<UserPage, StorageError> {
        let (app_id, query) = (app_id.to_owned(), query.clone());
        self.readers
            .read(move |connection| {
                let mut statement = connection.prepare_cached(&user_listing_sql(&query))?;
                let limit = i64::from(query.limit);
                let mut users: Vec<UserRecord> = statement
                    .query_map(
                        params![
                            app_id,
                            query.after_id,
                            query.email_contains,
                            query.created_from.map(Timestamp::as_unix_millis),
                            query.created_before.map(Timestamp::as_unix_millis),
                            limit + 1
                        ],
                        user_from_row,
                    )?
                    .collect::<rusqlite::Result<_>>()?;
                let more = users.len() as i64 > limit;
                users.truncate(query.limit as usize);
                let next_cursor = if more {
                    users.last().map(|u| u.id.clone())
                } else {
                    None
                };
                Ok(UserPage { users, next_cursor })
            })
            .await
    }

    async fn delete_user(&self, app_id: &str, user_id: &str) -> Result<bool, StorageError> {
        let (app_id, user_id) = (app_id.to_owned(), user_id.to_owned());
        // The account's fields are on the row; its sessions and memberships go in the same
        // savepoint, even the last admin's of an organization (erasure always wins).
        self.write(move |connection| {
            let deleted = connection.execute(
                "DELETE FROM users WHERE app_id = ?1 AND id = ?2",
                [&app_id, &user_id],
            )? > 0;
            if deleted {
                connection
                    .prepare_cached("DELETE FROM sessions WHERE app_id = ?1 AND user_id = ?2")?
                    .execute([&app_id, &user_id])?;
                connection
                    .prepare_cached(crate::organizations::DELETE_USER_MEMBERSHIPS_SQL)?
                    .execute([&app_id, &user_id])?;
            }
            Ok(Ok(deleted))
        })
        .await
    }

    async fn count_users(&self, app_id: &str) -> Result<u64, StorageError> {
        let app_id = app_id.to_owned();
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached("SELECT count(*) FROM users WHERE app_id = ?1")?
                    .query_row([app_id], |row| row.get::<_, i64>(0))
                    .map(|count| count.max(0) as u64)
            })
            .await
    }
}

/// The listing's SQL with only the filters `query` has: a `?2 IS NULL OR id > ?2` form would
/// keep SQLite from seeking to the cursor, and every page (and every step of an export) would
/// read the app's records from the first. Unused numbered parameters may still be bound, so
/// one parameter list serves every variant.
fn user_listing_sql(query: &UserQuery) -> String {
    let mut sql = format!("SELECT {USER_COLUMNS} FROM users WHERE app_id = ?1");
    for (present, condition) in [
        (query.after_id.is_some(), " AND id > ?2"),
        (query.email_contains.is_some(), " AND instr(email, ?3) > 0"),
        (query.created_from.is_some(), " AND created_at >= ?4"),
        (query.created_before.is_some(), " AND created_at < ?5"),
    ] {
        if present {
            sql.push_str(condition);
        }
    }
    sql.push_str(" ORDER BY id LIMIT ?6");
    sql
}

#[async_trait]
impl AdminStore for SqliteStorage {
    async fn insert_admin(&self, admin: &AdminRecord) -> Result<(), StorageError> {
        let admin = admin.clone();
        self.writer
            .write(move |connection| {
                connection
                    .execute(
                        &format!(
                            "INSERT INTO admins ({ADMIN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
                        ),
                        params![
                            admin.id,
                            admin.email,
                            admin.password_hash,
                            admin.credential_version,
                            admin.created_at.as_unix_millis()
                        ],
                    )
                    .map(|_| ())
                    .map_err(|error| match storage_error(error) {
                        StorageError::Duplicate(_) => StorageError::Duplicate(Entity::Admin),
                        other => other,
                    })
            })
            .await
    }

    async fn find_admin_by_email(&self, email: &str) -> Result<Option<AdminRecord>, StorageError> {
        let email = email.to_owned();
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {ADMIN_COLUMNS} FROM admins WHERE email = ?1"
                    ))?
                    .query_row([email], admin_from_row)
                    .optional()
            })
            .await
    }

    async fn count_admins(&self) -> Result<u64, StorageError> {
        self.readers
            .read(|connection| {
                connection.query_row("SELECT count(*) FROM admins", [], |row| {
                    row.get::<_, i64>(0)
                })
            })
            .await
            .map(|count| count.max(0) as u64)
    }

    async fn list_admins(&self) -> Result<Vec<AdminRecord>, StorageError> {
        self.readers
            .read(|connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {ADMIN_COLUMNS} FROM admins ORDER BY email"
                    ))?
                    .query_map([], admin_from_row)?
                    .collect()
            })
            .await
    }

    async fn replace_admin_password(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<AdminRecord, StorageError> {
        let (email, password_hash) = (email.to_owned(), password_hash.to_owned());
        self.write(move |connection| {
            connection
                .query_row(
                    &format!(
                        "UPDATE admins SET password_hash = ?2, credential_version = credential_version + 1
                         WHERE email = ?1 RETURNING {ADMIN_COLUMNS}"
                    ),
                    params![email, password_hash],
                    admin_from_row,
                )
                .optional()
                .map(|admin| admin.ok_or(StorageError::NotFound(Entity::Admin)))
        })
        .await
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    /// Reads, then commits a one-page write through the writer (setting `application_id` to
    /// the value it has rewrites the database header), then asks `Health` about the writes of
    /// requests and damaged data.
    async fn ping(&self) -> Result<(), StorageError> {
        self.health.check()?;
        self.readers
            .read(|connection| connection.query_row("SELECT 1", [], |_| Ok(())))
            .await?;
        self.writer
            .probe(|connection| {
                connection
                    .pragma_update(None, "application_id", crate::migrations::APPLICATION_ID)
                    .map_err(storage_error)
            })
            .await?;
        self.health.check()
    }
}

/// Writes that fail show in the readiness check until a write succeeds again. Tests run as
/// root, where file modes stop nothing: a full disk is a database at its page limit, and a
/// read-only one a writer connection in `query_only` mode.
#[cfg(test)]
mod write_health {
    use super::*;

    async fn fresh() -> (SqliteStorage, tempfile::TempDir) {
        let folder = tempfile::tempdir().expect("temp dir");
        let store =
            SqliteStorage::open(&SqliteSettings::at(folder.path().join("users.db"))).expect("open");
        storage_port::conformance::upsert_creates_then_merges(&store).await;
        (store, folder)
    }

    fn big_sign_up(email: &str) -> UserUpsert {
        UserUpsert {
            new_id: format!("id-{email}"),
            email: email.to_owned(),
            data: serde_json::Map::from_iter([(
                "note".to_owned(),
                serde_json::Value::String("x".repeat(64 * 1024)),
            )]),
            schema_version: 1,
            now: Timestamp::from_unix_millis(2_000),
        }
    }

    async fn on_writer(store: &SqliteStorage, sql: &'static str) {
        store
            .writer
            .write(move |connection| connection.execute_batch(sql).map_err(storage_error))
            .await
            .expect("runs on the writer");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_database_fails_readiness_with_the_reason_until_a_write_succeeds() {
        let (store, _folder) = fresh().await;
        store.ping().await.expect("ready");
        // No page beyond those the file has: a write needing more fails with SQLITE_FULL.
        store
            .writer
            .write(|connection| {
                let pages: i64 = connection
                    .query_row("PRAGMA page_count", [], |row| row.get(0))
                    .map_err(storage_error)?;
                connection
                    .pragma_update(None, "max_page_count", pages)
                    .map_err(storage_error)
            })
            .await
            .expect("limit");
        let failed = store
            .upsert_user_by_email("site-a", &big_sign_up("big@example.com"))
            .await;
        assert!(
            matches!(failed, Err(StorageError::Unavailable(_))),
            "{failed:?}"
        );
        for _ in 0..2 {
            let ping = store.ping().await.expect_err("not ready while writes fail");
            assert_eq!(
                ping.public_reason(),
                Some("the disk or the database is full"),
                "{ping:?}"
            );
        }
        on_writer(&store, "PRAGMA max_page_count = 1073741823").await;
        store
            .upsert_user_by_email("site-a", &big_sign_up("big@example.com"))
            .await
            .expect("room again");
        store.ping().await.expect("ready again");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_probe_finds_a_database_that_cannot_be_written() {
        let (store, _folder) = fresh().await;
        on_writer(&store, "PRAGMA query_only = 1").await;
        let ping = store.ping().await.expect_err("not ready");
        assert_eq!(
            ping.public_reason(),
            Some("the database file is read-only"),
            "{ping:?}"
        );
        on_writer(&store, "PRAGMA query_only = 0").await;
        store.ping().await.expect("ready again");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page after a cursor seeks to it in the primary key instead of reading from the start.
    #[test]
    fn a_cursor_page_seeks_to_the_cursor() {
        let mut connection = Connection::open_in_memory().expect("open");
        crate::migrations::migrate(&mut connection).expect("migrate");
        let mut query = UserQuery::first(50);
        query.after_id = Some("cursor".into());
        let plan: Vec<String> = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {}", user_listing_sql(&query)))
            .expect("prepare")
            .query_map(
                params![
                    "app",
                    "cursor",
                    None::<String>,
                    None::<i64>,
                    None::<i64>,
                    51
                ],
                |row| row.get::<_, String>(3),
            )
            .expect("plan")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(plan.len(), 1, "{plan:?}");
        assert!(plan[0].contains("id>?"), "{plan:?}");
    }
}

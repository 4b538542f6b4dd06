//! Accounts, sessions and signing keys. An account is the account columns of its user row
//! (`registered_at` NULL: a lead). Every change that reads before it writes runs as one job on
//! the writer thread, so nothing comes between the read and the write: registering, a profile
//! change and a refresh-token rotation are each one atomic step, applied by the port's own
//! rules (`ProfileChanges::apply_to`, `Rotation::apply_to`).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use storage_port::*;

use crate::SqliteStorage;
use crate::convert::*;

/// The account with this id, read on any connection; `None` for no record or a lead.
fn account_by_id(
    connection: &Connection,
    app_id: &str,
    user_id: &str,
) -> rusqlite::Result<Option<AccountRecord>> {
    connection
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS}, {ACCOUNT_COLUMNS} FROM users WHERE app_id = ?1 AND id = ?2"
        ))?
        .query_row([app_id, user_id], account_from_row)
        .optional()
        .map(Option::flatten)
}

/// Writes the record's data and every account column of `record`'s row.
fn write_account(connection: &Connection, record: &AccountRecord) -> rusqlite::Result<()> {
    let (user, account) = (&record.user, &record.account);
    connection
        .prepare_cached(
            "UPDATE users SET data = ?3, schema_version = ?4, updated_at = ?5,
                account_name = ?6, bio = ?7, avatar_url = ?8, password_hash = ?9,
                email_verified = ?10, credential_version = ?11, disabled = ?12,
                last_login_at = ?13, registered_at = ?14, lead_keys = ?15,
                tenant_admin = ?16, permissions = ?17
             WHERE app_id = ?1 AND id = ?2",
        )?
        .execute(params![
            user.app_id,
            user.id,
            json_text(&user.data),
            user.schema_version,
            user.updated_at.as_unix_millis(),
            account.name,
            account.bio,
            account.avatar_url,
            account.password_hash,
            account.email_verified,
            account.credential_version,
            account.disabled,
            account.last_login_at.map(Timestamp::as_unix_millis),
            account.registered_at.as_unix_millis(),
            json_text(&account.lead_keys),
            account.tenant_admin,
            json_text(&account.permissions),
        ])
        .map(|_| ())
}

/// Registers on the writer's connection: the lead for the email becomes the account, or a new
/// row is inserted; an email that is an account already is `Duplicate(Account)`. The
/// membership of `new.joining` is inserted with it; an unknown organization is
/// `NotFound(Organization)` before anything is written.
fn register(
    connection: &Connection,
    app_id: &str,
    new: &NewAccount,
) -> rusqlite::Result<Result<Registered, StorageError>> {
    if let Some(joining) = &new.joining
        && !crate::organizations::organization_exists(connection, app_id, &joining.organization_id)?
    {
        return Ok(Err(StorageError::NotFound(Entity::Organization)));
    }
    let registered = match register_row(connection, app_id, new)? {
        Ok(registered) => registered,
        Err(error) => return Ok(Err(error)),
    };
    if let Some(joining) = &new.joining {
        let user_id = match &registered {
            Registered::Created(record) | Registered::FromLead(record) => record.user.id.clone(),
        };
        let membership = MembershipRecord {
            app_id: app_id.to_owned(),
            organization_id: joining.organization_id.clone(),
            user_id,
            role: joining.role,
            permissions: joining.permissions.clone(),
            created_at: new.now,
            updated_at: new.now,
        };
        if let Err(error) = crate::organizations::insert_membership(connection, &membership)? {
            return Ok(Err(error));
        }
    }
    Ok(Ok(registered))
}

/// The user row of a registration: the lead's, or a new one.
fn register_row(
    connection: &Connection,
    app_id: &str,
    new: &NewAccount,
) -> rusqlite::Result<Result<Registered, StorageError>> {
    let found = connection
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS}, registered_at FROM users WHERE app_id = ?1 AND email = ?2"
        ))?
        .query_row([app_id, &new.email], |row| {
            Ok((user_from_row(row)?, row.get::<_, Option<i64>>(7)?))
        })
        .optional()?;
    let account = |lead_keys: Vec<String>| AccountFields {
        name: new.name.clone(),
        password_hash: new.password_hash.clone(),
        tenant_admin: new.tenant_admin,
        registered_at: new.now,
        lead_keys,
        ..AccountFields::default()
    };
    match found {
        Some((_, Some(_))) => Ok(Err(StorageError::Duplicate(Entity::Account))),
        Some((mut lead, None)) => {
            let lead_keys = lead
                .data
                .keys()
                .filter(|key| !new.data.contains_key(*key))
                .cloned()
                .collect();
            lead.data
                .extend(new.data.iter().map(|(k, v)| (k.clone(), v.clone())));
            lead.schema_version = new.schema_version;
            lead.updated_at = new.now;
            let record = AccountRecord {
                user: lead,
                account: account(lead_keys),
            };
            write_account(connection, &record)?;
            Ok(Ok(Registered::FromLead(record)))
        }
        None => {
            let record = AccountRecord {
                user: UserRecord {
                    id: new.new_id.clone(),
                    app_id: app_id.to_owned(),
                    email: new.email.clone(),
                    data: new.data.clone(),
                    schema_version: new.schema_version,
                    created_at: new.now,
                    updated_at: new.now,
                },
                account: account(Vec::new()),
            };
            connection
                .prepare_cached(
                    "INSERT INTO users (app_id, id, email, data, schema_version, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                )?
                .execute(params![
                    app_id,
                    record.user.id,
                    record.user.email,
                    json_text(&record.user.data),
                    record.user.schema_version,
                    new.now.as_unix_millis()
                ])?;
            write_account(connection, &record)?;
            Ok(Ok(Registered::Created(record)))
        }
    }
}

#[async_trait]
impl AccountStore for SqliteStorage {
    /// One job in its own savepoint: the organization's and the email's lookups, then the insert
    /// or the lead's update, and the membership.
    async fn register_account(
        &self,
        app_id: &str,
        new: &NewAccount,
    ) -> Result<Registered, StorageError> {
        let (app_id, new) = (app_id.to_owned(), new.clone());
        self.write(move |connection| register(connection, &app_id, &new))
            .await
    }

    async fn find_account(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<AccountRecord>, StorageError> {
        let (app_id, user_id) = (app_id.to_owned(), user_id.to_owned());
        self.readers
            .read(move |connection| account_by_id(connection, &app_id, &user_id))
            .await
    }

    async fn find_account_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<AccountRecord>, StorageError> {
        let (app_id, email) = (app_id.to_owned(), email.to_owned());
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS}, {ACCOUNT_COLUMNS} FROM users WHERE app_id = ?1 AND email = ?2"
                    ))?
                    .query_row([app_id, email], account_from_row)
                    .optional()
                    .map(Option::flatten)
            })
            .await
    }

    async fn update_profile(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &ProfileChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        let (app_id, user_id, changes) = (app_id.to_owned(), user_id.to_owned(), changes.clone());
        self.write(move |connection| {
            let Some(mut record) = account_by_id(connection, &app_id, &user_id)? else {
                return Ok(Err(StorageError::NotFound(Entity::Account)));
            };
            changes.apply_to(&mut record.user, &mut record.account, now);
            write_account(connection, &record)?;
            Ok(Ok(record))
        })
        .await
    }

    async fn replace_account_password(
        &self,
        app_id: &str,
        user_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        let (app_id, user_id, password_hash) = (
            app_id.to_owned(),
            user_id.to_owned(),
            password_hash.to_owned(),
        );
        self.write(move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE users SET password_hash = ?3, credential_version = credential_version + 1, updated_at = ?4
                     WHERE app_id = ?1 AND id = ?2 AND registered_at IS NOT NULL",
                )?
                .execute(params![app_id, user_id, password_hash, now.as_unix_millis()])?;
            if changed == 0 {
                return Ok(Err(StorageError::NotFound(Entity::Account)));
            }
            account_by_id(connection, &app_id, &user_id)
                .map(|account| account.ok_or(StorageError::NotFound(Entity::Account)))
        })
        .await
    }

    /// One job in its own savepoint: the read, the account's row, and when it disables the
    /// account, the revocation of its sessions.
    async fn update_account(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &AccountChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        let (app_id, user_id, changes) = (app_id.to_owned(), user_id.to_owned(), changes.clone());
        self.write(move |connection| {
            let Some(mut record) = account_by_id(connection, &app_id, &user_id)? else {
                return Ok(Err(StorageError::NotFound(Entity::Account)));
            };
            changes.apply_to(&mut record.user, &mut record.account, now);
            write_account(connection, &record)?;
            if changes.disables() {
                connection
                    .prepare_cached(
                        "UPDATE sessions SET revoked_at = ?3
                         WHERE app_id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
                    )?
                    .execute(params![app_id, user_id, now.as_unix_millis()])?;
            }
            Ok(Ok(record))
        })
        .await
    }

    async fn list_accounts(
        &self,
        app_id: &str,
        query: &AccountQuery,
    ) -> Result<AccountPage, StorageError> {
        let (app_id, query) = (app_id.to_owned(), query.clone());
        self.readers
            .read(move |connection| {
                let limit = i64::from(query.limit);
                let mut accounts: Vec<AccountRecord> = connection
                    .prepare_cached(&account_listing_sql(&query))?
                    .query_map(
                        params![
                            app_id,
                            query.after_id,
                            query.text,
                            query.tenant_admin,
                            query.organization_id,
                            query.role.map(MemberRole::as_str),
                            limit + 1
                        ],
                        |row| {
                            account_from_row(row)?
                                .ok_or_else(|| corrupt("account listing", "a lead was listed"))
                        },
                    )?
                    .collect::<rusqlite::Result<_>>()?;
                let more = accounts.len() as i64 > limit;
                accounts.truncate(query.limit as usize);
                let next_cursor = if more {
                    accounts.last().map(|a| a.user.id.clone())
                } else {
                    None
                };
                Ok(AccountPage {
                    accounts,
                    next_cursor,
                })
            })
            .await
    }

    async fn record_login(
        &self,
        app_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let (app_id, user_id) = (app_id.to_owned(), user_id.to_owned());
        // One statement: SQLite undoes it by itself if it fails.
        self.write_without_savepoint(move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE users SET last_login_at = ?3
                     WHERE app_id = ?1 AND id = ?2 AND registered_at IS NOT NULL",
                )?
                .execute(params![app_id, user_id, now.as_unix_millis()])?;
            Ok(if changed == 0 {
                Err(StorageError::NotFound(Entity::Account))
            } else {
                Ok(())
            })
        })
        .await
    }
}

/// The account listing's SQL with only the filters `query` has (as `user_listing_sql`, so
/// that a page seeks to its cursor). Accounts only, through the partial index
/// `users_accounts`, so an app's leads are never read; with an organization, the listing walks
/// that organization's memberships in user id order instead (`CROSS JOIN` keeps them the outer
/// loop). SQLite without statistics prefers the primary key to either index, so `INDEXED BY`
/// names them. `text` is matched literally: `instr`, never `LIKE` or `GLOB`.
pub(crate) fn account_listing_sql(query: &AccountQuery) -> String {
    let (mut sql, id) = if query.organization_id.is_some() {
        (
            format!(
                "SELECT {}, {} FROM memberships AS m{} CROSS JOIN users AS u
                  ON u.app_id = m.app_id AND u.id = m.user_id
                 WHERE m.app_id = ?1 AND m.organization_id = ?5 AND u.registered_at IS NOT NULL",
                qualified("u", USER_COLUMNS),
                qualified("u", ACCOUNT_COLUMNS),
                if query.role.is_some() {
                    " INDEXED BY memberships_by_role"
                } else {
                    ""
                }
            ),
            "m.user_id",
        )
    } else {
        (
            format!(
                "SELECT {}, {} FROM users AS u INDEXED BY users_accounts
                 WHERE u.app_id = ?1 AND u.registered_at IS NOT NULL",
                qualified("u", USER_COLUMNS),
                qualified("u", ACCOUNT_COLUMNS)
            ),
            "u.id",
        )
    };
    if query.after_id.is_some() {
        sql.push_str(&format!(" AND {id} > ?2"));
    }
    if query.text.is_some() {
        sql.push_str(
            " AND (instr(lower(u.email), ?3) > 0 OR instr(lower(u.account_name), ?3) > 0)",
        );
    }
    if query.tenant_admin.is_some() {
        sql.push_str(" AND u.tenant_admin = ?4");
    }
    if query.organization_id.is_some() && query.role.is_some() {
        sql.push_str(" AND m.role = ?6");
    }
    sql.push_str(&format!(" ORDER BY {id} LIMIT ?7"));
    sql
}

fn session_by_id(
    connection: &Connection,
    app_id: &str,
    session_id: &str,
) -> rusqlite::Result<Option<SessionRecord>> {
    connection
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1 AND app_id = ?2"
        ))?
        .query_row([session_id, app_id], session_from_row)
        .optional()
}

/// Writes what a rotation may change: the refresh hashes, the successor, the times, the
/// revocation.
fn write_rotation(connection: &Connection, session: &SessionRecord) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            "UPDATE sessions SET refresh_hash = ?3, previous_hash = ?4, rotated_at = ?5,
                sealed_refresh = ?6, last_used_at = ?7, idle_expires_at = ?8, revoked_at = ?9
             WHERE id = ?1 AND app_id = ?2",
        )?
        .execute(params![
            session.id,
            session.app_id,
            session.refresh_hash,
            session.previous_hash,
            session.rotated_at.map(Timestamp::as_unix_millis),
            session.sealed_refresh,
            session.last_used_at.as_unix_millis(),
            session.idle_expires_at.as_unix_millis(),
            session.revoked_at.map(Timestamp::as_unix_millis),
        ])
        .map(|_| ())
}

#[async_trait]
impl SessionStore for SqliteStorage {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StorageError> {
        let session = session.clone();
        self.writer
            .write_without_savepoint(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "INSERT INTO sessions ({SESSION_COLUMNS})
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                    ))
                    .and_then(|mut insert| {
                        insert.execute(params![
                            session.id,
                            session.app_id,
                            session.user_id,
                            session.organization_id,
                            session.refresh_hash,
                            session.previous_hash,
                            session.rotated_at.map(Timestamp::as_unix_millis),
                            session.sealed_refresh,
                            session.created_at.as_unix_millis(),
                            session.last_used_at.as_unix_millis(),
                            session.idle_expires_at.as_unix_millis(),
                            session.absolute_expires_at.as_unix_millis(),
                            session.user_agent,
                            session.client_ip,
                            session.revoked_at.map(Timestamp::as_unix_millis),
                        ])
                    })
                    .map(|_| ())
                    .map_err(|error| match storage_error(error) {
                        StorageError::Duplicate(_) => StorageError::Duplicate(Entity::Session),
                        other => other,
                    })
            })
            .await
    }

    async fn find_session(
        &self,
        app_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StorageError> {
        let (app_id, session_id) = (app_id.to_owned(), session_id.to_owned());
        self.readers
            .read(move |connection| session_by_id(connection, &app_id, &session_id))
            .await
    }

    /// Read, decide and write in one writer job: concurrent rotations queue behind each other,
    /// so the first sees the presented token as current and the rest see it as the previous.
    async fn rotate_refresh(
        &self,
        app_id: &str,
        session_id: &str,
        rotation: &Rotation,
    ) -> Result<RotationOutcome, StorageError> {
        let (app_id, session_id, rotation) =
            (app_id.to_owned(), session_id.to_owned(), rotation.clone());
        self.write(move |connection| {
            let Some(mut session) = session_by_id(connection, &app_id, &session_id)? else {
                return Ok(Ok(RotationOutcome::Unknown));
            };
            let outcome = rotation.apply_to(&mut session);
            if matches!(
                outcome,
                RotationOutcome::Rotated(_) | RotationOutcome::Reused(_)
            ) {
                write_rotation(connection, &session)?;
            }
            Ok(Ok(outcome))
        })
        .await
    }

    async fn set_session_organization(
        &self,
        app_id: &str,
        session_id: &str,
        organization_id: Option<&str>,
    ) -> Result<bool, StorageError> {
        let (app_id, session_id, organization_id) = (
            app_id.to_owned(),
            session_id.to_owned(),
            organization_id.map(str::to_owned),
        );
        self.write_without_savepoint(move |connection| {
            connection
                .prepare_cached(
                    "UPDATE sessions SET organization_id = ?3
                     WHERE id = ?1 AND app_id = ?2 AND revoked_at IS NULL",
                )?
                .execute(params![session_id, app_id, organization_id])
                .map(|changed| Ok(changed > 0))
        })
        .await
    }

    async fn revoke_session(
        &self,
        app_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let (app_id, session_id) = (app_id.to_owned(), session_id.to_owned());
        self.write_without_savepoint(move |connection| {
            connection
                .prepare_cached(
                    "UPDATE sessions SET revoked_at = ?3
                     WHERE id = ?1 AND app_id = ?2 AND revoked_at IS NULL",
                )?
                .execute(params![session_id, app_id, now.as_unix_millis()])
                .map(|changed| Ok(changed > 0))
        })
        .await
    }

    async fn revoke_user_sessions(
        &self,
        app_id: &str,
        user_id: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let (app_id, user_id, keep) = (
            app_id.to_owned(),
            user_id.to_owned(),
            keep.map(str::to_owned),
        );
        self.write_without_savepoint(move |connection| {
            connection
                .prepare_cached(
                    "UPDATE sessions SET revoked_at = ?4
                     WHERE app_id = ?1 AND user_id = ?2 AND revoked_at IS NULL
                       AND (?3 IS NULL OR id <> ?3)",
                )?
                .execute(params![app_id, user_id, keep, now.as_unix_millis()])
                .map(|changed| Ok(changed as u64))
        })
        .await
    }

    async fn list_user_sessions(
        &self,
        app_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, StorageError> {
        let (app_id, user_id) = (app_id.to_owned(), user_id.to_owned());
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions
                         WHERE app_id = ?1 AND user_id = ?2 AND revoked_at IS NULL
                           AND idle_expires_at > ?3 AND absolute_expires_at > ?3
                         ORDER BY created_at DESC, id DESC"
                    ))?
                    .query_map(
                        params![app_id, user_id, now.as_unix_millis()],
                        session_from_row,
                    )?
                    .collect()
            })
            .await
    }
}

#[async_trait]
impl SigningKeyStore for SqliteStorage {
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StorageError> {
        let key = key.clone();
        self.writer
            .write_without_savepoint(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "INSERT INTO signing_keys ({SIGNING_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
                    ))
                    .and_then(|mut insert| {
                        insert.execute(params![
                            key.kid,
                            key.algorithm,
                            key.public_key,
                            key.sealed_private_key,
                            key.created_at.as_unix_millis(),
                        ])
                    })
                    .map(|_| ())
                    .map_err(|error| match storage_error(error) {
                        StorageError::Duplicate(_) => StorageError::Duplicate(Entity::SigningKey),
                        other => other,
                    })
            })
            .await
    }

    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
        self.readers
            .read(|connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys ORDER BY created_at DESC, kid DESC"
                    ))?
                    .query_map([], signing_key_from_row)?
                    .collect()
            })
            .await
    }
}

use rusqlite::{ErrorCode, Row};
use serde_json::{Map, Value};
use storage_port::Entity;
use storage_port::{
    AccountFields, AccountRecord, AccountSettings, AdminRecord, ApiKeyRecord, AppRecord, Fault,
    MemberRole, MembershipRecord, OrganizationRecord, SchemaVersion, SessionRecord,
    SigningKeyRecord, StorageError, Timestamp, UserRecord,
};

/// Driver errors in port terms: constraint violations by their code, never by message text.
pub fn storage_error(error: rusqlite::Error) -> StorageError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _) => match failure.code {
            ErrorCode::ConstraintViolation => StorageError::Duplicate(Entity::Record),
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                unavailable("the database is locked by another connection", error)
            }
            ErrorCode::CannotOpen => unavailable("the database file cannot be opened", error),
            ErrorCode::DiskFull => unavailable("the disk or the database is full", error),
            ErrorCode::SystemIoFailure => unavailable(
                "reading or writing the database file fails (I/O error)",
                error,
            ),
            ErrorCode::ReadOnly => unavailable("the database file is read-only", error),
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StorageError::Corrupt(error.to_string())
            }
            _ => StorageError::unexpected(error),
        },
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
            StorageError::Corrupt(error.to_string())
        }
        _ => StorageError::unexpected(error),
    }
}

/// A unique key (or another constraint) refused the statement, which SQLite undid by itself.
pub fn is_constraint_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _) if failure.code == ErrorCode::ConstraintViolation)
}

/// Our own words for the client (a [`Fault`]); SQLite's error stays the source, for the log.
fn unavailable(reason: &str, error: rusqlite::Error) -> StorageError {
    StorageError::unavailable(Fault::caused_by(reason, error))
}

/// A JSON text column, parsed (any JSON value).
fn json_column(row: &Row<'_>, index: usize, what: &str) -> rusqlite::Result<Value> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| corrupt(what, e))
}

/// A JSON text column holding an array of strings (permissions, domains, keys).
fn strings_column(row: &Row<'_>, index: usize, what: &str) -> rusqlite::Result<Vec<String>> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| corrupt(what, e))
}

pub fn corrupt(what: &str, error: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("{what}: {error}").into(),
    )
}

pub fn json_text(value: &impl serde::Serialize) -> String {
    // Serializing maps, strings and checked schemas cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

pub const APP_COLUMNS: &str = "id, name, allowed_origins, honeypot_field, thank_you_url, password_hash, credential_version, created_at, updated_at, incarnation, error_url, account_settings";

/// How many columns `APP_COLUMNS` names (a summary's count follows them).
pub const APP_COLUMN_COUNT: usize = 12;

pub fn app_from_row(row: &Row<'_>) -> rusqlite::Result<AppRecord> {
    let origins: String = row.get(2)?;
    Ok(AppRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        allowed_origins: serde_json::from_str(&origins)
            .map_err(|e| corrupt("allowed_origins", e))?,
        honeypot_field: row.get(3)?,
        thank_you_url: row.get(4)?,
        password_hash: row.get(5)?,
        credential_version: row.get(6)?,
        created_at: Timestamp::from_unix_millis(row.get(7)?),
        updated_at: Timestamp::from_unix_millis(row.get(8)?),
        incarnation: row.get(9)?,
        error_url: row.get(10)?,
        account_settings: AccountSettings::from_json(&json_column(row, 11, "account_settings")?),
    })
}

pub const SCHEMA_COLUMNS: &str = "app_id, version, definition, created_at";

pub fn schema_from_row(row: &Row<'_>) -> rusqlite::Result<SchemaVersion> {
    let definition: String = row.get(2)?;
    Ok(SchemaVersion {
        app_id: row.get(0)?,
        version: row.get(1)?,
        schema: serde_json::from_str(&definition).map_err(|e| corrupt("schema definition", e))?,
        created_at: Timestamp::from_unix_millis(row.get(3)?),
    })
}

pub const USER_COLUMNS: &str = "app_id, id, email, data, schema_version, created_at, updated_at";

pub fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let data: String = row.get(3)?;
    let data: Map<String, Value> =
        serde_json::from_str(&data).map_err(|e| corrupt("user data", e))?;
    Ok(UserRecord {
        app_id: row.get(0)?,
        id: row.get(1)?,
        email: row.get(2)?,
        data,
        schema_version: row.get(4)?,
        created_at: Timestamp::from_unix_millis(row.get(5)?),
        updated_at: Timestamp::from_unix_millis(row.get(6)?),
    })
}

pub const ADMIN_COLUMNS: &str = "id, email, password_hash, credential_version, created_at";

pub fn admin_from_row(row: &Row<'_>) -> rusqlite::Result<AdminRecord> {
    Ok(AdminRecord {
        id: row.get(0)?,
        email: row.get(1)?,
        password_hash: row.get(2)?,
        credential_version: row.get(3)?,
        created_at: Timestamp::from_unix_millis(row.get(4)?),
    })
}

/// The account part of a user row; `registered_at` is NULL for a lead.
pub const ACCOUNT_COLUMNS: &str = "account_name, bio, avatar_url, password_hash, email_verified, credential_version, disabled, last_login_at, registered_at, lead_keys, tenant_admin, permissions";

/// How many columns `USER_COLUMNS, ACCOUNT_COLUMNS` name together (what follows starts there).
pub const ACCOUNT_ROW_COLUMNS: usize = 19;

/// A row of `SELECT {USER_COLUMNS}, {ACCOUNT_COLUMNS}`; `None` for a lead.
pub fn account_from_row(row: &Row<'_>) -> rusqlite::Result<Option<AccountRecord>> {
    let user = user_from_row(row)?;
    let Some(registered_at) = row.get::<_, Option<i64>>(15)? else {
        return Ok(None);
    };
    Ok(Some(AccountRecord {
        account: AccountFields {
            name: row.get(7)?,
            bio: row.get(8)?,
            avatar_url: row.get(9)?,
            password_hash: row.get(10)?,
            email_verified: row.get(11)?,
            credential_version: row.get(12)?,
            disabled: row.get(13)?,
            last_login_at: row
                .get::<_, Option<i64>>(14)?
                .map(Timestamp::from_unix_millis),
            registered_at: Timestamp::from_unix_millis(registered_at),
            lead_keys: strings_column(row, 16, "lead_keys")?,
            tenant_admin: row.get(17)?,
            permissions: strings_column(row, 18, "account permissions")?,
        },
        user,
    }))
}

pub const SESSION_COLUMNS: &str = "id, app_id, user_id, organization_id, refresh_hash, previous_hash, rotated_at, sealed_refresh, created_at, last_used_at, idle_expires_at, absolute_expires_at, user_agent, client_ip, revoked_at";

pub fn session_from_row(row: &Row<'_>) -> rusqlite::Result<SessionRecord> {
    let at = |index: usize| row.get(index).map(Timestamp::from_unix_millis);
    let maybe_at = |index: usize| {
        row.get::<_, Option<i64>>(index)
            .map(|at| at.map(Timestamp::from_unix_millis))
    };
    Ok(SessionRecord {
        id: row.get(0)?,
        app_id: row.get(1)?,
        user_id: row.get(2)?,
        organization_id: row.get(3)?,
        refresh_hash: row.get(4)?,
        previous_hash: row.get(5)?,
        rotated_at: maybe_at(6)?,
        sealed_refresh: row.get(7)?,
        created_at: at(8)?,
        last_used_at: at(9)?,
        idle_expires_at: at(10)?,
        absolute_expires_at: at(11)?,
        user_agent: row.get(12)?,
        client_ip: row.get(13)?,
        revoked_at: maybe_at(14)?,
    })
}

pub const SIGNING_KEY_COLUMNS: &str = "kid, algorithm, public_key, sealed_private_key, created_at";

pub fn signing_key_from_row(row: &Row<'_>) -> rusqlite::Result<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: row.get(0)?,
        algorithm: row.get(1)?,
        public_key: row.get(2)?,
        sealed_private_key: row.get(3)?,
        created_at: Timestamp::from_unix_millis(row.get(4)?),
    })
}

/// `columns` (a list like `USER_COLUMNS`) with each name qualified by the table alias `alias`.
pub fn qualified(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|column| format!("{alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub const ORGANIZATION_COLUMNS: &str =
    "id, app_id, name, slug, allowed_email_domains, created_at, updated_at";

/// How many columns `ORGANIZATION_COLUMNS` names.
pub const ORGANIZATION_COLUMN_COUNT: usize = 7;

/// The organization in the columns of `ORGANIZATION_COLUMNS` from `first` on.
pub fn organization_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<OrganizationRecord> {
    Ok(OrganizationRecord {
        id: row.get(first)?,
        app_id: row.get(first + 1)?,
        name: row.get(first + 2)?,
        slug: row.get(first + 3)?,
        allowed_email_domains: strings_column(row, first + 4, "allowed_email_domains")?,
        created_at: Timestamp::from_unix_millis(row.get(first + 5)?),
        updated_at: Timestamp::from_unix_millis(row.get(first + 6)?),
    })
}

pub const MEMBERSHIP_COLUMNS: &str =
    "app_id, organization_id, user_id, role, permissions, created_at, updated_at";

/// The membership in the columns of `MEMBERSHIP_COLUMNS` from `first` on.
pub fn membership_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<MembershipRecord> {
    let role: String = row.get(first + 3)?;
    Ok(MembershipRecord {
        app_id: row.get(first)?,
        organization_id: row.get(first + 1)?,
        user_id: row.get(first + 2)?,
        role: MemberRole::parse(&role).ok_or_else(|| corrupt("membership role", &role))?,
        permissions: strings_column(row, first + 4, "membership permissions")?,
        created_at: Timestamp::from_unix_millis(row.get(first + 5)?),
        updated_at: Timestamp::from_unix_millis(row.get(first + 6)?),
    })
}

pub const API_KEY_COLUMNS: &str = "id, app_id, name, prefix, key_hash, role, permissions, expires_at, last_used_at, created_at, revoked_at";

pub fn api_key_from_row(row: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    let maybe_at = |index: usize| {
        row.get::<_, Option<i64>>(index)
            .map(|at| at.map(Timestamp::from_unix_millis))
    };
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        app_id: row.get(1)?,
        name: row.get(2)?,
        prefix: row.get(3)?,
        key_hash: row.get(4)?,
        role: row.get(5)?,
        permissions: strings_column(row, 6, "API key permissions")?,
        expires_at: maybe_at(7)?,
        last_used_at: maybe_at(8)?,
        created_at: Timestamp::from_unix_millis(row.get(9)?),
        revoked_at: maybe_at(10)?,
    })
}

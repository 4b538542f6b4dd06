//! What the routes answer, as the OpenAPI document describes it (what clients send is in
//! `requests`).

use serde::Serialize;
use serde_json::{Map, Value};
use storage_port::Timestamp;
use utoipa::ToSchema;

/// The stored record's id and times. The same shape whether the email was new or known.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmittedResponse {
    #[schema(example = "01936f3c-6b1e-7cc2-9a51-3f0c2d1e4b5a")]
    pub id: String,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub created_at: Timestamp,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub updated_at: Timestamp,
}

/// One field of a schema. Which rules apply depends on `kind`.
#[derive(Debug, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct FieldDoc {
    /// `^[A-Za-z][A-Za-z0-9_]{0,63}$`, unique within the schema.
    #[schema(example = "fullName")]
    pub key: String,
    #[schema(example = "Full name")]
    pub label: String,
    #[schema(example = "text")]
    pub kind: FieldKindDoc,
    pub required: bool,
    /// text: minimum length in Unicode characters.
    pub min_length: Option<u64>,
    /// text: maximum length in Unicode characters.
    pub max_length: Option<u64>,
    /// text: a regular expression the whole value must match (linear-time engine).
    pub regex: Option<String>,
    /// number: a number; date: `YYYY-MM-DD`.
    #[schema(value_type = Option<Object>)]
    pub min: Option<Value>,
    /// number: a number; date: `YYYY-MM-DD`.
    #[schema(value_type = Option<Object>)]
    pub max: Option<Value>,
    /// number: only whole numbers.
    pub integer: Option<bool>,
    /// select: the options.
    #[schema(rename = "enum")]
    pub options: Option<Vec<String>>,
}

#[derive(Debug, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum FieldKindDoc {
    Text,
    Number,
    Select,
    Date,
    Checkbox,
}

/// An app's current schema; version 0 is the empty schema of an app that has none yet.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaResponse {
    #[schema(example = 3)]
    pub version: i64,
    pub reject_unknown: bool,
    #[schema(value_type = Vec<FieldDoc>)]
    pub fields: Vec<schema_validation::FieldDraft>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    #[schema(example = "ok")]
    pub status: &'static str,
}

// ---- Dashboard: sessions and management ----

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub ok: bool,
    /// `owner` or `admin`.
    #[schema(example = "owner")]
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_app_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionResponse {
    #[schema(example = "admin")]
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `GET /auth/setup`: whether the platform still has no admin (a fresh install).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetupResponse {
    /// `true` only while no admin exists: nobody can log in until one is created on the
    /// server with `users-api admin create --email …`. Never `true` again afterwards.
    #[schema(example = true)]
    pub needs_admin: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OkResponse {
    pub ok: bool,
}

/// An app's settings (never its password or hash).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "sourceAppId": "my-marketing-site",
    "name": "My marketing site",
    "allowedOrigins": ["http://localhost:5173", "https://www.example.com"],
    "honeypotField": "website",
    "thankYouUrl": "https://www.example.com/thanks",
    "errorUrl": "https://www.example.com/signup-problem",
    "createdAt": "2026-11-23T10:53:49.123Z",
    "updatedAt": "2026-11-23T10:53:49.123Z",
    "userCount": 1284
}))]
pub struct AppResponse {
    #[schema(example = "my-marketing-site")]
    pub source_app_id: String,
    pub name: String,
    pub allowed_origins: Vec<String>,
    pub honeypot_field: Option<String>,
    pub thank_you_url: Option<String>,
    /// Where a failed plain HTML form is sent: `303` to this URL with `error=<code>` and one
    /// `field=<key>` per field at fault added to its query.
    #[schema(example = "https://my-site.example/signup-problem")]
    pub error_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The app's number of user records: in `GET /v1/apps` and `GET /v1/apps/{appId}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_count: Option<u64>,
}

impl AppResponse {
    pub fn from_record(app: storage_port::AppRecord, user_count: Option<u64>) -> Self {
        Self {
            source_app_id: app.id,
            name: app.name,
            allowed_origins: app.allowed_origins,
            honeypot_field: app.honeypot_field,
            thank_you_url: app.thank_you_url,
            error_url: app.error_url,
            created_at: app.created_at.to_rfc3339(),
            updated_at: app.updated_at.to_rfc3339(),
            user_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"apps": [{
    "sourceAppId": "my-marketing-site",
    "name": "My marketing site",
    "allowedOrigins": ["http://localhost:5173", "https://www.example.com"],
    "honeypotField": "website",
    "thankYouUrl": "https://www.example.com/thanks",
    "errorUrl": "https://www.example.com/signup-problem",
    "createdAt": "2026-11-23T10:53:49.123Z",
    "updatedAt": "2026-11-23T10:53:49.123Z",
    "userCount": 42
}]}))]
pub struct AppListResponse {
    pub apps: Vec<AppResponse>,
}

/// A new app and its password, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedAppResponse {
    pub app: AppResponse,
    /// Shown once; only its argon2id hash is stored.
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResponse {
    /// The new password, shown once.
    pub password: String,
}

/// One stored schema version.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaVersionResponse {
    pub version: i64,
    pub reject_unknown: bool,
    #[schema(value_type = Vec<FieldDoc>)]
    pub fields: Vec<schema_validation::FieldDraft>,
    /// Absent for version 0 (no schema saved yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl From<storage_port::SchemaVersion> for SchemaVersionResponse {
    fn from(saved: storage_port::SchemaVersion) -> Self {
        let draft = saved.schema.to_draft();
        Self {
            version: saved.version,
            reject_unknown: draft.reject_unknown,
            fields: draft.fields,
            created_at: Some(saved.created_at.to_rfc3339()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchemaVersionsResponse {
    pub versions: Vec<SchemaVersionResponse>,
}

/// How the records already stored fit a schema: they are kept either way.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaImpactResponse {
    /// Records checked.
    pub checked: u64,
    /// Records the schema would reject.
    pub failing: u64,
    /// Up to 5 ids of such records.
    pub examples: Vec<String>,
}

/// `PUT .../schema`: the saved version (absent on a dry run) and the impact report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchemaSaveResponse {
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaVersionResponse>,
    pub impact: SchemaImpactResponse,
}

/// One user record.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserResponse {
    pub id: String,
    pub email: String,
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    pub schema_version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<storage_port::UserRecord> for UserResponse {
    fn from(user: storage_port::UserRecord) -> Self {
        Self {
            id: user.id,
            email: user.email,
            data: user.data,
            schema_version: user.schema_version,
            created_at: user.created_at.to_rfc3339(),
            updated_at: user.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPageResponse {
    pub users: Vec<UserResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

// ---- End-user accounts: `{"success": true, "data": …}` ----

/// The accounts routes' answer: `{"success": true, "data": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Success<T> {
    /// Always `true`.
    pub success: bool,
    pub data: T,
}

impl<T> Success<T> {
    pub fn of(data: T) -> Self {
        Self {
            success: true,
            data,
        }
    }
}

/// An account, as it sees itself. Until its email is verified, data collected for its email
/// before it registered is left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountUser {
    #[schema(example = "01936f3c-6b1e-7cc2-9a51-3f0c2d1e4b5a")]
    pub id: String,
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub email_verified: bool,
    /// The active organization (none until organizations exist).
    pub organization_id: Option<String>,
    pub role: Option<String>,
    /// The organizations the account belongs to (none until organizations exist).
    #[schema(value_type = Vec<Object>)]
    pub organizations: Vec<Value>,
    /// The app's schema fields.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub created_at: Timestamp,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>)]
    pub last_login_at: Option<Timestamp>,
}

impl From<domain::OwnAccount> for AccountUser {
    fn from(own: domain::OwnAccount) -> Self {
        let record = own.0;
        Self {
            id: record.user.id,
            email: record.user.email,
            name: record.account.name,
            bio: record.account.bio,
            avatar_url: record.account.avatar_url,
            email_verified: record.account.email_verified,
            organization_id: None,
            role: None,
            organizations: Vec::new(),
            data: record.user.data,
            created_at: record.user.created_at,
            updated_at: record.user.updated_at,
            last_login_at: record.account.last_login_at,
        }
    }
}

/// What register and login answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthData {
    pub user: AccountUser,
    /// The access token (a JWT, EdDSA): `Authorization: Bearer <token>`.
    pub token: String,
    /// When the access token expires.
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
    /// Spent at its first use by `POST /v1/auth/refresh`, which answers the next one.
    pub refresh_token: String,
}

/// What a refresh answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokensData {
    pub token: String,
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
    pub refresh_token: String,
}

/// One of the account's sessions (a login, on one device).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSession {
    pub id: String,
    /// The session of the token that asked.
    pub current: bool,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub last_used_at: Timestamp,
    /// When it ends unless used again (never past 90 days after login, by default).
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSessions {
    pub sessions: Vec<AccountSession>,
}

/// What a logout answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedOut {
    /// Whether every session of the account ended.
    pub all: bool,
}

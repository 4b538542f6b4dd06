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
    "organizationCreation": "verified_accounts",
    "requireVerifiedEmail": false,
    "accessTokenMinutes": 5,
    "sessionIdleDays": null,
    "sessionAbsoluteDays": null,
    "lifetimeLimits": {"accessTokenMinutes": 15, "sessionIdleDays": 30, "sessionAbsoluteDays": 90},
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
    /// Who may create organizations: `verified_accounts`, `any_account` or `tenant_admins`.
    #[schema(example = "verified_accounts")]
    pub organization_creation: String,
    /// Login answers 403 `email_not_verified` until the address is verified.
    pub require_verified_email: bool,
    /// The app's own access-token lifetime in minutes; `null`: the service's.
    pub access_token_minutes: Option<u32>,
    /// The app's own idle session lifetime in days; `null`: the service's.
    pub session_idle_days: Option<u32>,
    /// The app's own absolute session lifetime in days; `null`: the service's.
    pub session_absolute_days: Option<u32>,
    /// The service's lifetimes: what an app follows by default, and the most it may choose.
    pub lifetime_limits: LifetimeLimitsBody,
    pub created_at: String,
    pub updated_at: String,
    /// The app's number of user records: in `GET /v1/apps` and `GET /v1/apps/{appId}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_count: Option<u64>,
}

/// The service's token and session lifetimes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"accessTokenMinutes": 15, "sessionIdleDays": 30, "sessionAbsoluteDays": 90}))]
pub struct LifetimeLimitsBody {
    pub access_token_minutes: u32,
    pub session_idle_days: u32,
    pub session_absolute_days: u32,
}

impl AppResponse {
    pub fn from_record(
        app: storage_port::AppRecord,
        user_count: Option<u64>,
        limits: domain::LifetimeLimits,
    ) -> Self {
        let lifetimes = app.account_settings.lifetimes;
        Self {
            source_app_id: app.id,
            name: app.name,
            allowed_origins: app.allowed_origins,
            honeypot_field: app.honeypot_field,
            thank_you_url: app.thank_you_url,
            error_url: app.error_url,
            organization_creation: app
                .account_settings
                .organization_creation
                .as_str()
                .to_owned(),
            require_verified_email: app.account_settings.require_verified_email,
            access_token_minutes: lifetimes.access_token_minutes,
            session_idle_days: lifetimes.session_idle_days,
            session_absolute_days: lifetimes.session_absolute_days,
            lifetime_limits: LifetimeLimitsBody {
                access_token_minutes: limits.access_token_minutes,
                session_idle_days: limits.session_idle_days,
                session_absolute_days: limits.session_absolute_days,
            },
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
    /// The active organization: chosen at login, else the first joined.
    pub organization_id: Option<String>,
    /// The role there (`tenant_admin` for an app-wide administrator).
    #[schema(example = "member")]
    pub role: Option<String>,
    /// The effective permissions there.
    pub permissions: Vec<String>,
    /// Every organization the account belongs to, with its role in each.
    pub organizations: Vec<UserOrganization>,
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
        let record = own.record;
        Self {
            id: record.user.id,
            email: record.user.email,
            name: record.account.name,
            bio: record.account.bio,
            avatar_url: record.account.avatar_url,
            email_verified: record.account.email_verified,
            organization_id: own.organization_id,
            role: own.role.map(|role| role.as_str().to_owned()),
            permissions: own.permissions,
            organizations: own
                .memberships
                .into_iter()
                .map(UserOrganization::from)
                .collect(),
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

impl AccountSession {
    /// `current`: whether it is the session of the token that asked.
    pub fn of(session: storage_port::SessionRecord, current: bool) -> Self {
        Self {
            current,
            id: session.id,
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            // Whichever end comes first: the idle one moves with each use, the absolute one not.
            expires_at: session.idle_expires_at.min(session.absolute_expires_at),
            user_agent: session.user_agent,
            ip_address: session.client_ip,
        }
    }
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

/// An organization a user belongs to, with the user's role and extra permissions there.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOrganization {
    #[schema(example = "org_3gM1c2L0bq2kX8w1Yw4Hqg")]
    pub id: String,
    pub name: String,
    pub slug: String,
    #[schema(example = "admin")]
    pub role: String,
    /// Extra permissions beyond the role's defaults.
    pub permissions: Vec<String>,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub joined_at: Timestamp,
}

impl From<storage_port::Joined> for UserOrganization {
    fn from(joined: storage_port::Joined) -> Self {
        Self {
            id: joined.organization.id,
            name: joined.organization.name,
            slug: joined.organization.slug,
            role: joined.membership.role.as_str().to_owned(),
            permissions: joined.membership.permissions,
            joined_at: joined.membership.created_at,
        }
    }
}

/// An organization. `role` and `permissions` are the caller's there (absent for a tenant admin
/// or an API key that is not a member).
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationBody {
    #[schema(example = "org_3gM1c2L0bq2kX8w1Yw4Hqg")]
    pub id: String,
    #[schema(example = "Acme, Inc.")]
    pub name: String,
    #[schema(example = "acme-inc")]
    pub slug: String,
    pub allowed_email_domains: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub created_at: Timestamp,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub updated_at: Timestamp,
}

impl From<domain::OrganizationView> for OrganizationBody {
    fn from(view: domain::OrganizationView) -> Self {
        let organization = view.organization;
        Self {
            id: organization.id,
            name: organization.name,
            slug: organization.slug,
            allowed_email_domains: organization.allowed_email_domains,
            role: view.membership.as_ref().map(|m| m.role.as_str().to_owned()),
            permissions: view.membership.map(|m| m.permissions),
            created_at: organization.created_at,
            updated_at: organization.updated_at,
        }
    }
}

/// A page of organizations; `next_cursor` goes into `cursor` for the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationsPage {
    pub organizations: Vec<OrganizationBody>,
    pub next_cursor: Option<String>,
}

/// A member of an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberBody {
    #[schema(example = "01936f3c-6b1e-7cc2-9a51-3f0c2d1e4b5a")]
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    pub email_verified: bool,
    pub disabled: bool,
    /// `admin`, `member` or `guest`.
    #[schema(example = "member")]
    pub role: String,
    /// Extra permissions beyond the role's defaults.
    pub permissions: Vec<String>,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub joined_at: Timestamp,
}

impl From<storage_port::Member> for MemberBody {
    fn from(member: storage_port::Member) -> Self {
        Self {
            id: member.account.user.id,
            email: member.account.user.email,
            name: member.account.account.name,
            avatar_url: member.account.account.avatar_url,
            email_verified: member.account.account.email_verified,
            disabled: member.account.account.disabled,
            role: member.membership.role.as_str().to_owned(),
            permissions: member.membership.permissions,
            joined_at: member.membership.created_at,
        }
    }
}

/// A page of an organization's members.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersPage {
    pub users: Vec<MemberBody>,
    pub next_cursor: Option<String>,
}

/// An account as its admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ManagedUserBody {
    #[schema(example = "01936f3c-6b1e-7cc2-9a51-3f0c2d1e4b5a")]
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub email_verified: bool,
    pub disabled: bool,
    /// `tenant_admin` for an app-wide administrator, else none (roles in organizations are in
    /// `organizations`).
    pub role: Option<String>,
    /// App-wide extra permissions.
    pub permissions: Vec<String>,
    /// False for an account created by an admin that has not set its password yet.
    pub has_password: bool,
    /// The organizations the caller may see it in (all of them for a tenant admin).
    pub organizations: Vec<UserOrganization>,
    /// The app's schema fields (all of them: admins see what a sign-up collected).
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub created_at: Timestamp,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>)]
    pub last_login_at: Option<Timestamp>,
}

impl ManagedUserBody {
    pub fn of(record: storage_port::AccountRecord, memberships: Vec<storage_port::Joined>) -> Self {
        Self {
            id: record.user.id,
            email: record.user.email,
            name: record.account.name,
            bio: record.account.bio,
            avatar_url: record.account.avatar_url,
            email_verified: record.account.email_verified,
            disabled: record.account.disabled,
            role: record
                .account
                .tenant_admin
                .then(|| "tenant_admin".to_owned()),
            permissions: record.account.permissions,
            has_password: record.account.password_hash.is_some(),
            organizations: memberships
                .into_iter()
                .map(UserOrganization::from)
                .collect(),
            data: record.user.data,
            created_at: record.user.created_at,
            updated_at: record.user.updated_at,
            last_login_at: record.account.last_login_at,
        }
    }
}

impl From<domain::ManagedUser> for ManagedUserBody {
    fn from(user: domain::ManagedUser) -> Self {
        Self::of(user.record, user.memberships)
    }
}

/// `{"user": …}`, as `POST /v1/users` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: ManagedUserBody,
}

/// A page of the app's accounts (without their organizations; read one for those).
#[derive(Debug, Serialize, ToSchema)]
pub struct UsersPage {
    pub users: Vec<ManagedUserBody>,
    pub next_cursor: Option<String>,
}

/// An API key as listed: never the key itself.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyResponse {
    #[schema(example = "key_V1StGXR8Z5jdHi6B")]
    pub id: String,
    pub name: String,
    /// The key's first characters.
    #[schema(example = "uak_Xy3k9QpL")]
    pub prefix: String,
    pub role: Option<String>,
    pub permissions: Vec<String>,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The key itself: only in the answer that created it, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl From<storage_port::ApiKeyRecord> for ApiKeyResponse {
    fn from(key: storage_port::ApiKeyRecord) -> Self {
        Self {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            role: key.role,
            permissions: key.permissions,
            expires_at: key.expires_at.map(|at| at.to_rfc3339()),
            last_used_at: key.last_used_at.map(|at| at.to_rfc3339()),
            created_at: key.created_at.to_rfc3339(),
            revoked_at: key.revoked_at.map(|at| at.to_rfc3339()),
            key: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    pub keys: Vec<ApiKeyResponse>,
}

/// A deletion's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// Always `true`.
    pub deleted: bool,
}

/// A membership's removal's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Removed {
    /// Always `true`.
    pub removed: bool,
}

/// `POST /v1/auth/verify-email`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailVerifiedBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// Always `true`.
    pub email_verified: bool,
    /// Organizations joined on the way (the email's domain, or the one named at registration).
    pub joined_organizations: Vec<String>,
}

/// The answer of a request that queues mail (or, for an unknown address, pretends to).
#[derive(Debug, Serialize, ToSchema)]
pub struct MailQueued {
    /// `POST /v1/auth/verify-email/resend`: `false` when the address was verified already.
    pub sent: bool,
    #[schema(example = "If an account exists for this address, a link is on its way.")]
    pub message: String,
}

/// `POST /v1/auth/password/reset`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    /// Always `true`; every session of the account has ended: log in with the new password.
    pub password_reset: bool,
}

/// A pending invitation, as its organization's admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationBody {
    /// What `DELETE /v1/organizations/{org}/invites/{id}` takes.
    pub id: String,
    pub organization_id: Option<String>,
    #[schema(example = "grace@example.com")]
    pub email: String,
    #[schema(example = "member")]
    pub role: String,
    /// The inviting account's id (absent for an API key).
    pub invited_by: Option<String>,
    pub message: Option<String>,
    #[schema(value_type = String, example = "2026-11-23T10:53:49.123Z")]
    pub created_at: Timestamp,
    #[schema(value_type = String, example = "2026-11-30T10:53:49.123Z")]
    pub expires_at: Timestamp,
}

impl From<storage_port::OneTimeToken> for InvitationBody {
    fn from(token: storage_port::OneTimeToken) -> Self {
        Self {
            id: token.id,
            organization_id: token.organization_id,
            email: token.email,
            role: token
                .role
                .unwrap_or(storage_port::MemberRole::Member)
                .as_str()
                .to_owned(),
            invited_by: token.invited_by,
            message: token.message,
            created_at: token.created_at,
            expires_at: token.expires_at,
        }
    }
}

/// `GET /v1/organizations/{org}/invites`.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationList {
    pub invites: Vec<InvitationBody>,
}

/// `GET /v1/invites/{token}`: what an accept page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationInfo {
    pub app_id: String,
    pub app_name: String,
    pub organization_id: Option<String>,
    pub organization_name: Option<String>,
    pub email: String,
    pub role: String,
    /// The inviter's name or address.
    pub inviter: Option<String>,
    pub message: Option<String>,
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
    /// `pending`, `accepted` or `expired`.
    pub status: String,
    /// The address has an account with a password: accept while logged in as it.
    pub account_exists: bool,
}

impl From<domain::InvitationView> for InvitationInfo {
    fn from(view: domain::InvitationView) -> Self {
        let token = view.token;
        Self {
            app_id: token.app_id,
            app_name: view.app_name,
            organization_id: token.organization_id,
            organization_name: view.organization_name,
            email: token.email,
            role: token
                .role
                .unwrap_or(storage_port::MemberRole::Member)
                .as_str()
                .to_owned(),
            inviter: view.inviter,
            message: token.message,
            expires_at: token.expires_at,
            status: view.status.as_str().to_owned(),
            account_exists: view.account_exists,
        }
    }
}

/// A template variable.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateVariable {
    pub name: String,
    pub description: String,
}

/// `GET`/`PUT /v1/apps/{appId}/mail-settings`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailSettingsResponse {
    pub sender_name: Option<String>,
    pub verify_email_url: Option<String>,
    pub reset_password_url: Option<String>,
    pub accept_invite_url: Option<String>,
    /// The app's own templates, by kind.
    pub templates: std::collections::BTreeMap<String, crate::requests::TemplateBody>,
    /// The built-in templates and link targets, used where the app has none.
    pub defaults: MailDefaults,
    /// What a template may use.
    pub variables: Vec<TemplateVariable>,
    /// The sender's address (the service's `mail.from`).
    pub from_address: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailDefaults {
    pub templates: std::collections::BTreeMap<String, crate::requests::TemplateBody>,
    pub verify_email_url: String,
    pub reset_password_url: String,
    pub accept_invite_url: String,
}

fn template_body(template: storage_port::MailTemplate) -> crate::requests::TemplateBody {
    crate::requests::TemplateBody {
        subject: template.subject,
        text: template.text,
        html: template.html,
    }
}

impl MailSettingsResponse {
    pub fn of(settings: storage_port::MailSettings, config: &domain::MailConfig) -> Self {
        use storage_port::TokenPurpose;
        Self {
            sender_name: settings.sender_name,
            verify_email_url: settings.verify_email_url,
            reset_password_url: settings.reset_password_url,
            accept_invite_url: settings.accept_invite_url,
            templates: settings
                .templates
                .into_iter()
                .map(|(kind, template)| (kind, template_body(template)))
                .collect(),
            defaults: MailDefaults {
                templates: TokenPurpose::ALL
                    .into_iter()
                    .map(|p| {
                        (
                            p.as_str().to_owned(),
                            template_body(domain::default_template(p)),
                        )
                    })
                    .collect(),
                verify_email_url: config.default_link_target(TokenPurpose::VerifyEmail),
                reset_password_url: config.default_link_target(TokenPurpose::ResetPassword),
                accept_invite_url: config.default_link_target(TokenPurpose::Invitation),
            },
            variables: domain::TEMPLATE_VARIABLES
                .iter()
                .map(|(name, description)| TemplateVariable {
                    name: (*name).to_owned(),
                    description: (*description).to_owned(),
                })
                .collect(),
            from_address: config.from.clone(),
        }
    }
}

/// A rendered message (a preview).
#[derive(Debug, Serialize, ToSchema)]
pub struct RenderedMail {
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A test send's answer: find the message in the e-mail log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestQueued {
    pub message_id: String,
}

/// A message of the outbox (the e-mail log).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessageBody {
    pub id: String,
    /// `verify_email`, `reset_password`, `invitation` or `test`.
    pub kind: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub sent_at: Option<String>,
}

impl From<storage_port::OutboxMessage> for OutboxMessageBody {
    fn from(message: storage_port::OutboxMessage) -> Self {
        let pending = message.status == storage_port::MailStatus::Pending;
        Self {
            id: message.id,
            kind: message.kind,
            from: message.from,
            to: message.to,
            subject: message.subject,
            text: message.text,
            html: message.html,
            status: message.status.as_str().to_owned(),
            attempts: message.attempts,
            last_error: message.last_error,
            created_at: message.created_at.to_rfc3339(),
            next_attempt_at: pending.then(|| message.next_attempt_at.to_rfc3339()),
            sent_at: message.sent_at.map(|at| at.to_rfc3339()),
        }
    }
}

/// `GET /v1/apps/{appId}/mail/messages`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxPage {
    pub messages: Vec<OutboxMessageBody>,
    /// Pass as `cursor` for the next (older) page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// `DELETE /v1/users/{id}/sessions`'s answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsEnded {
    /// How many active sessions ended.
    pub ended: u64,
}

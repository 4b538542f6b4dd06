//! The stored documents, one typed struct per collection, and their conversions to the port's
//! records. `_id` is always our own id; timestamps are BSON dates (milliseconds).

use mongodb::bson::{self, Bson, DateTime, Document};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use storage_port::{
    AccountFields, AccountRecord, AccountSettings, AdminRecord, ApiKeyRecord, AppRecord,
    MemberRole, MembershipRecord, OrganizationRecord, SchemaVersion, SessionRecord,
    SigningKeyRecord, StorageError, Timestamp, UserRecord,
};

use crate::values::{document_to_json_object, json_object_to_document};

pub(crate) const APPS: &str = "apps";
pub(crate) const SCHEMA_VERSIONS: &str = "schema_versions";
pub(crate) const USERS: &str = "users";
pub(crate) const ADMINS: &str = "admins";
pub(crate) const SESSIONS: &str = "sessions";
pub(crate) const SIGNING_KEYS: &str = "signing_keys";
pub(crate) const ORGANIZATIONS: &str = "organizations";
pub(crate) const MEMBERSHIPS: &str = "memberships";
pub(crate) const API_KEYS: &str = "api_keys";

pub(crate) fn to_bson_date(at: Timestamp) -> DateTime {
    DateTime::from_millis(at.as_unix_millis())
}

pub(crate) fn to_timestamp(at: DateTime) -> Timestamp {
    Timestamp::from_unix_millis(at.timestamp_millis())
}

/// Decodes a raw document into its typed form; a failure names the collection and the `_id`
/// so an operator can find the record.
pub(crate) fn decode<T: DeserializeOwned>(
    raw: Document,
    collection: &str,
) -> Result<T, StorageError> {
    let id = raw
        .get("_id")
        .map_or_else(|| "(no _id)".to_owned(), ToString::to_string);
    bson::from_document(raw)
        .map_err(|error| StorageError::Corrupt(format!("{collection} document {id}: {error}")))
}

/// An app. `revision` counts every write to the document: updates are compare-and-swap on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AppDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub honeypot_field: Option<String>,
    #[serde(default)]
    pub thank_you_url: Option<String>,
    #[serde(default)]
    pub error_url: Option<String>,
    pub password_hash: String,
    pub credential_version: i64,
    /// Missing in documents written before incarnations existed; see [`AppDoc::record`].
    #[serde(default)]
    pub incarnation: Option<String>,
    /// The lower-cased id, under a unique sparse index: ids are unique regardless of case.
    /// Missing only in an app stored before this field whose id differs from an older app's
    /// only in case (see `indexes::fold_app_ids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_folded: Option<String>,
    /// `AccountSettings::to_json` as a subdocument; missing in apps stored before it existed
    /// (the defaults), and read leniently so that a newer release's members are no error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_settings: Option<Document>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    pub revision: i64,
}

impl AppDoc {
    pub fn new(app: &AppRecord, revision: i64) -> Result<Self, StorageError> {
        Ok(Self {
            id: app.id.clone(),
            id_folded: Some(app.id.to_ascii_lowercase()),
            name: app.name.clone(),
            allowed_origins: app.allowed_origins.clone(),
            honeypot_field: app.honeypot_field.clone(),
            thank_you_url: app.thank_you_url.clone(),
            error_url: app.error_url.clone(),
            password_hash: app.password_hash.clone(),
            credential_version: app.credential_version,
            incarnation: Some(app.incarnation.clone()),
            account_settings: Some(settings_document(&app.account_settings)?),
            created_at: to_bson_date(app.created_at),
            updated_at: to_bson_date(app.updated_at),
            revision,
        })
    }

    /// A document without an incarnation (written by an older version) stands for the app
    /// created at its `createdAt`: an app deleted and created again by an older instance
    /// still differs from its predecessor. The next write of the document stores the value.
    pub fn record(&self) -> AppRecord {
        let incarnation = self
            .incarnation
            .clone()
            .unwrap_or_else(|| format!("created-{}", self.created_at.timestamp_millis()));
        AppRecord {
            id: self.id.clone(),
            name: self.name.clone(),
            allowed_origins: self.allowed_origins.clone(),
            honeypot_field: self.honeypot_field.clone(),
            thank_you_url: self.thank_you_url.clone(),
            error_url: self.error_url.clone(),
            password_hash: self.password_hash.clone(),
            credential_version: self.credential_version,
            incarnation,
            account_settings: self.account_settings().unwrap_or_default(),
            created_at: to_timestamp(self.created_at),
            updated_at: to_timestamp(self.updated_at),
        }
    }

    /// The stored settings; `None` when the document has none (an app from before them).
    pub fn account_settings(&self) -> Option<AccountSettings> {
        self.account_settings.as_ref().map(|settings| {
            AccountSettings::from_json(&Bson::Document(settings.clone()).into_relaxed_extjson())
        })
    }
}

fn settings_document(settings: &AccountSettings) -> Result<Document, StorageError> {
    match settings.to_json() {
        serde_json::Value::Object(object) => json_object_to_document(&object),
        _ => Err(StorageError::unexpected(
            "account settings serialize to a JSON object",
        )),
    }
}

/// One schema version; `_id` is `"{appId}:{version}"` (app ids hold no `:`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub app_id: String,
    pub version: i64,
    pub schema: Document,
    pub created_at: DateTime,
}

impl SchemaDoc {
    pub fn new(
        app_id: &str,
        version: i64,
        schema: &schema_validation::Schema,
        now: Timestamp,
    ) -> Result<Self, StorageError> {
        let as_json = serde_json::to_value(schema).map_err(StorageError::unexpected)?;
        let object = as_json
            .as_object()
            .ok_or_else(|| StorageError::unexpected("a schema serializes to a JSON object"))?;
        Ok(Self {
            id: format!("{app_id}:{version}"),
            app_id: app_id.to_owned(),
            version,
            schema: json_object_to_document(object)?,
            created_at: to_bson_date(now),
        })
    }

    pub fn record(&self) -> Result<SchemaVersion, StorageError> {
        let what = format!("{SCHEMA_VERSIONS} document {}", self.id);
        let object = document_to_json_object(&self.schema, &what)?;
        let schema = serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|error| StorageError::Corrupt(format!("{what}: {error}")))?;
        Ok(SchemaVersion {
            app_id: self.app_id.clone(),
            version: self.version,
            schema,
            created_at: to_timestamp(self.created_at),
        })
    }
}

/// A user record; `data` is an embedded document of the schema's fields. `account` is there
/// once the record is an account; documents without it (every one written before accounts)
/// are leads. Every write of the document, the phase-1 merge included, is a replace guarded
/// by `revision` that carries `account` over, so no write can drop or resurrect it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub app_id: String,
    pub email: String,
    pub data: Document,
    pub schema_version: i64,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    pub revision: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountDoc>,
}

/// The account part of a user document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountDoc {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub bio: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub password_hash: Option<String>,
    pub email_verified: bool,
    pub credential_version: i64,
    pub disabled: bool,
    /// Missing (false) in accounts stored before app-wide roles existed.
    #[serde(default)]
    pub tenant_admin: bool,
    /// Missing (none) in accounts stored before app-wide permissions existed.
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub last_login_at: Option<DateTime>,
    pub registered_at: DateTime,
    #[serde(default)]
    pub lead_keys: Vec<String>,
}

impl AccountDoc {
    pub fn new(account: &AccountFields) -> Self {
        Self {
            name: account.name.clone(),
            bio: account.bio.clone(),
            avatar_url: account.avatar_url.clone(),
            password_hash: account.password_hash.clone(),
            email_verified: account.email_verified,
            credential_version: account.credential_version,
            disabled: account.disabled,
            tenant_admin: account.tenant_admin,
            permissions: account.permissions.clone(),
            last_login_at: account.last_login_at.map(to_bson_date),
            registered_at: to_bson_date(account.registered_at),
            lead_keys: account.lead_keys.clone(),
        }
    }

    pub fn fields(&self) -> AccountFields {
        AccountFields {
            name: self.name.clone(),
            bio: self.bio.clone(),
            avatar_url: self.avatar_url.clone(),
            password_hash: self.password_hash.clone(),
            email_verified: self.email_verified,
            credential_version: self.credential_version,
            disabled: self.disabled,
            tenant_admin: self.tenant_admin,
            permissions: self.permissions.clone(),
            last_login_at: self.last_login_at.map(to_timestamp),
            registered_at: to_timestamp(self.registered_at),
            lead_keys: self.lead_keys.clone(),
        }
    }
}

impl UserDoc {
    /// The document of `user`, with `account` when it is one, at `revision`.
    pub fn new(
        user: &UserRecord,
        account: Option<&AccountFields>,
        revision: i64,
    ) -> Result<Self, StorageError> {
        Ok(Self {
            id: user.id.clone(),
            app_id: user.app_id.clone(),
            email: user.email.clone(),
            data: json_object_to_document(&user.data)?,
            schema_version: user.schema_version,
            created_at: to_bson_date(user.created_at),
            updated_at: to_bson_date(user.updated_at),
            revision,
            account: account.map(AccountDoc::new),
        })
    }

    /// The record and its account; `None` for a lead.
    pub fn account_record(&self) -> Result<Option<AccountRecord>, StorageError> {
        self.account
            .as_ref()
            .map(|account| {
                Ok(AccountRecord {
                    user: self.record()?,
                    account: account.fields(),
                })
            })
            .transpose()
    }

    pub fn record(&self) -> Result<UserRecord, StorageError> {
        Ok(UserRecord {
            id: self.id.clone(),
            app_id: self.app_id.clone(),
            email: self.email.clone(),
            data: document_to_json_object(&self.data, &format!("{USERS} document {}", self.id))?,
            schema_version: self.schema_version,
            created_at: to_timestamp(self.created_at),
            updated_at: to_timestamp(self.updated_at),
        })
    }

    pub fn created_at(&self) -> Timestamp {
        to_timestamp(self.created_at)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdminDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub credential_version: i64,
    pub created_at: DateTime,
}

impl AdminDoc {
    pub fn new(admin: &AdminRecord) -> Self {
        Self {
            id: admin.id.clone(),
            email: admin.email.clone(),
            password_hash: admin.password_hash.clone(),
            credential_version: admin.credential_version,
            created_at: to_bson_date(admin.created_at),
        }
    }

    pub fn record(&self) -> AdminRecord {
        AdminRecord {
            id: self.id.clone(),
            email: self.email.clone(),
            password_hash: self.password_hash.clone(),
            credential_version: self.credential_version,
            created_at: to_timestamp(self.created_at),
        }
    }
}

/// A login session; `_id` is the session id. Changed only by replaces guarded by `revision`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub app_id: String,
    pub user_id: String,
    #[serde(default)]
    pub organization_id: Option<String>,
    pub refresh_hash: String,
    #[serde(default)]
    pub previous_hash: Option<String>,
    #[serde(default)]
    pub rotated_at: Option<DateTime>,
    #[serde(default)]
    pub sealed_refresh: Option<String>,
    pub created_at: DateTime,
    pub last_used_at: DateTime,
    pub idle_expires_at: DateTime,
    pub absolute_expires_at: DateTime,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub client_ip: Option<String>,
    /// Always written (null while active), so that `{revokedAt: null}` finds active sessions.
    #[serde(default)]
    pub revoked_at: Option<DateTime>,
    pub revision: i64,
}

impl SessionDoc {
    pub fn new(session: &SessionRecord, revision: i64) -> Self {
        Self {
            id: session.id.clone(),
            app_id: session.app_id.clone(),
            user_id: session.user_id.clone(),
            organization_id: session.organization_id.clone(),
            refresh_hash: session.refresh_hash.clone(),
            previous_hash: session.previous_hash.clone(),
            rotated_at: session.rotated_at.map(to_bson_date),
            sealed_refresh: session.sealed_refresh.clone(),
            created_at: to_bson_date(session.created_at),
            last_used_at: to_bson_date(session.last_used_at),
            idle_expires_at: to_bson_date(session.idle_expires_at),
            absolute_expires_at: to_bson_date(session.absolute_expires_at),
            user_agent: session.user_agent.clone(),
            client_ip: session.client_ip.clone(),
            revoked_at: session.revoked_at.map(to_bson_date),
            revision,
        }
    }

    pub fn record(&self) -> SessionRecord {
        SessionRecord {
            id: self.id.clone(),
            app_id: self.app_id.clone(),
            user_id: self.user_id.clone(),
            organization_id: self.organization_id.clone(),
            refresh_hash: self.refresh_hash.clone(),
            previous_hash: self.previous_hash.clone(),
            rotated_at: self.rotated_at.map(to_timestamp),
            sealed_refresh: self.sealed_refresh.clone(),
            created_at: to_timestamp(self.created_at),
            last_used_at: to_timestamp(self.last_used_at),
            idle_expires_at: to_timestamp(self.idle_expires_at),
            absolute_expires_at: to_timestamp(self.absolute_expires_at),
            user_agent: self.user_agent.clone(),
            client_ip: self.client_ip.clone(),
            revoked_at: self.revoked_at.map(to_timestamp),
        }
    }
}

/// A key that signs access tokens; `_id` is its `kid`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SigningKeyDoc {
    #[serde(rename = "_id")]
    pub kid: String,
    pub algorithm: String,
    pub public_key: String,
    pub sealed_private_key: String,
    pub created_at: DateTime,
}

impl SigningKeyDoc {
    pub fn new(key: &SigningKeyRecord) -> Self {
        Self {
            kid: key.kid.clone(),
            algorithm: key.algorithm.clone(),
            public_key: key.public_key.clone(),
            sealed_private_key: key.sealed_private_key.clone(),
            created_at: to_bson_date(key.created_at),
        }
    }

    pub fn record(&self) -> SigningKeyRecord {
        SigningKeyRecord {
            kid: self.kid.clone(),
            algorithm: self.algorithm.clone(),
            public_key: self.public_key.clone(),
            sealed_private_key: self.sealed_private_key.clone(),
            created_at: to_timestamp(self.created_at),
        }
    }
}

/// An organization; `_id` is its id. `adminCount` is a conservative count of its `admin`
/// memberships, never above the real number (see `organizations.rs`): demoting or removing an
/// admin first takes one from it with `{$gt: 1}`, which is what refuses the last admin.
/// `revision` counts every write, the counter's `$inc` included, so replaces guarded by it
/// never write back a stale count.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrganizationDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub allowed_email_domains: Vec<String>,
    pub admin_count: i64,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    pub revision: i64,
}

impl OrganizationDoc {
    pub fn new(organization: &OrganizationRecord, admin_count: i64, revision: i64) -> Self {
        Self {
            id: organization.id.clone(),
            app_id: organization.app_id.clone(),
            name: organization.name.clone(),
            slug: organization.slug.clone(),
            allowed_email_domains: organization.allowed_email_domains.clone(),
            admin_count,
            created_at: to_bson_date(organization.created_at),
            updated_at: to_bson_date(organization.updated_at),
            revision,
        }
    }

    pub fn record(&self) -> OrganizationRecord {
        OrganizationRecord {
            id: self.id.clone(),
            app_id: self.app_id.clone(),
            name: self.name.clone(),
            slug: self.slug.clone(),
            allowed_email_domains: self.allowed_email_domains.clone(),
            created_at: to_timestamp(self.created_at),
            updated_at: to_timestamp(self.updated_at),
        }
    }
}

/// The `_id` of a membership: app, organization and user, separated by NUL (which no id
/// holds), so that two different triples never share one.
pub(crate) fn membership_id(app_id: &str, organization_id: &str, user_id: &str) -> String {
    format!("{app_id}\u{0}{organization_id}\u{0}{user_id}")
}

/// One account's place in one organization; also unique by `{appId, organizationId,
/// userId}`, the index that serves a page of members. Changed only by replaces guarded by
/// `revision` (dates written by `$set` would be strings on the test server).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MembershipDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub app_id: String,
    pub organization_id: String,
    pub user_id: String,
    pub role: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
    pub revision: i64,
}

impl MembershipDoc {
    pub fn new(membership: &MembershipRecord, revision: i64) -> Self {
        Self {
            id: membership_id(
                &membership.app_id,
                &membership.organization_id,
                &membership.user_id,
            ),
            app_id: membership.app_id.clone(),
            organization_id: membership.organization_id.clone(),
            user_id: membership.user_id.clone(),
            role: membership.role.as_str().to_owned(),
            permissions: membership.permissions.clone(),
            created_at: to_bson_date(membership.created_at),
            updated_at: to_bson_date(membership.updated_at),
            revision,
        }
    }

    pub fn record(&self) -> Result<MembershipRecord, StorageError> {
        let role = MemberRole::parse(&self.role).ok_or_else(|| {
            StorageError::Corrupt(format!(
                "{MEMBERSHIPS} document of user {} in {}: unknown role {:?}",
                self.user_id, self.organization_id, self.role
            ))
        })?;
        Ok(MembershipRecord {
            app_id: self.app_id.clone(),
            organization_id: self.organization_id.clone(),
            user_id: self.user_id.clone(),
            role,
            permissions: self.permissions.clone(),
            created_at: to_timestamp(self.created_at),
            updated_at: to_timestamp(self.updated_at),
        })
    }
}

/// An API key; `_id` is its id, `keyHash` is unique across apps (the lookup of every request
/// made with a key). Changed only by replaces guarded by `revision`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiKeyDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<DateTime>,
    #[serde(default)]
    pub last_used_at: Option<DateTime>,
    pub created_at: DateTime,
    #[serde(default)]
    pub revoked_at: Option<DateTime>,
    pub revision: i64,
}

impl ApiKeyDoc {
    pub fn new(key: &ApiKeyRecord, revision: i64) -> Self {
        Self {
            id: key.id.clone(),
            app_id: key.app_id.clone(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            key_hash: key.key_hash.clone(),
            role: key.role.clone(),
            permissions: key.permissions.clone(),
            expires_at: key.expires_at.map(to_bson_date),
            last_used_at: key.last_used_at.map(to_bson_date),
            created_at: to_bson_date(key.created_at),
            revoked_at: key.revoked_at.map(to_bson_date),
            revision,
        }
    }

    pub fn record(&self) -> ApiKeyRecord {
        ApiKeyRecord {
            id: self.id.clone(),
            app_id: self.app_id.clone(),
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            key_hash: self.key_hash.clone(),
            role: self.role.clone(),
            permissions: self.permissions.clone(),
            expires_at: self.expires_at.map(to_timestamp),
            last_used_at: self.last_used_at.map(to_timestamp),
            created_at: to_timestamp(self.created_at),
            revoked_at: self.revoked_at.map(to_timestamp),
        }
    }
}

//! The stored documents, one typed struct per collection, and their conversions to the port's
//! records. `_id` is always our own id; timestamps are BSON dates (milliseconds).

use mongodb::bson::{self, DateTime, Document};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use storage_port::{AdminRecord, AppRecord, SchemaVersion, StorageError, Timestamp, UserRecord};

use crate::values::{document_to_json_object, json_object_to_document};

pub(crate) const APPS: &str = "apps";
pub(crate) const SCHEMA_VERSIONS: &str = "schema_versions";
pub(crate) const USERS: &str = "users";
pub(crate) const ADMINS: &str = "admins";

pub(crate) fn to_bson_date(at: Timestamp) -> DateTime {
    DateTime::from_millis(at.as_unix_millis())
}

fn to_timestamp(at: DateTime) -> Timestamp {
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
    pub created_at: DateTime,
    pub updated_at: DateTime,
    pub revision: i64,
}

impl AppDoc {
    pub fn new(app: &AppRecord, revision: i64) -> Self {
        Self {
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
            created_at: to_bson_date(app.created_at),
            updated_at: to_bson_date(app.updated_at),
            revision,
        }
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
            created_at: to_timestamp(self.created_at),
            updated_at: to_timestamp(self.updated_at),
        }
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

/// A user record; `data` is an embedded document of the schema's fields.
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
}

impl UserDoc {
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

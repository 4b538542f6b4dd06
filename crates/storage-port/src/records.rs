use schema_validation::Schema;
use serde_json::{Map, Value};

use crate::{AccountSettings, Timestamp};

/// An app (tenant) as stored. `id` is the admin-chosen `sourceAppId`.
#[derive(Debug, Clone, PartialEq)]
pub struct AppRecord {
    pub id: String,
    pub name: String,
    /// Origins allowed to submit from a browser; `["*"]` allows any.
    pub allowed_origins: Vec<String>,
    pub honeypot_field: Option<String>,
    pub thank_you_url: Option<String>,
    /// Where a plain HTML form that failed is sent (303, with `error` and `field` parameters).
    pub error_url: Option<String>,
    /// argon2id PHC string of the app password.
    pub password_hash: String,
    /// Raised at every password rotation; dashboard sessions carry it and end when it moves.
    pub credential_version: i64,
    /// Random, set once when the app is created and never changed. A later app under the same
    /// id gets another one, so sessions of a deleted app never count for its successor (whose
    /// `credential_version` starts at 1 again).
    pub incarnation: String,
    /// Settings of the app's end-user accounts.
    pub account_settings: AccountSettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Changes to an app; `None` leaves a value as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppChanges {
    pub name: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub honeypot_field: Option<Option<String>>,
    pub thank_you_url: Option<Option<String>>,
    pub error_url: Option<Option<String>>,
    pub account_settings: Option<AccountSettings>,
}

impl AppChanges {
    /// Writes the given values into `app` and stamps it `now`, for stores that change a whole
    /// record in memory (the memory store, MongoDB's guarded replace); SQLite does it in SQL.
    pub fn apply_to(&self, app: &mut AppRecord, now: Timestamp) {
        if let Some(name) = &self.name {
            app.name.clone_from(name);
        }
        if let Some(origins) = &self.allowed_origins {
            app.allowed_origins.clone_from(origins);
        }
        if let Some(honeypot) = &self.honeypot_field {
            app.honeypot_field.clone_from(honeypot);
        }
        if let Some(url) = &self.thank_you_url {
            app.thank_you_url.clone_from(url);
        }
        if let Some(url) = &self.error_url {
            app.error_url.clone_from(url);
        }
        if let Some(settings) = &self.account_settings {
            app.account_settings.clone_from(settings);
        }
        app.updated_at = now;
    }
}

/// An app with the number of user records it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSummary {
    pub app: AppRecord,
    pub user_count: u64,
}

/// One saved version of an app's schema. Versions start at 1 and never repeat.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaVersion {
    pub app_id: String,
    pub version: i64,
    pub schema: Schema,
    pub created_at: Timestamp,
}

/// A user record: one per email per app.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    /// UUIDv7 text: ids sort in creation order, which keyset pagination relies on.
    pub id: String,
    pub app_id: String,
    /// Normalized (trimmed, lower-cased) by the domain before it gets here.
    pub email: String,
    pub data: Map<String, Value>,
    pub schema_version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A validated submission to store.
#[derive(Debug, Clone, PartialEq)]
pub struct UserUpsert {
    /// Used only when no record has this email yet.
    pub new_id: String,
    pub email: String,
    /// Merged into a stored record key by key; keys not given keep their stored values.
    pub data: Map<String, Value>,
    pub schema_version: i64,
    pub now: Timestamp,
}

/// What an upsert left in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Upserted {
    pub id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// True when this call created the record.
    pub created: bool,
}

/// A page request over an app's users, in id (creation) order.
#[derive(Debug, Clone, PartialEq)]
pub struct UserQuery {
    /// 1 to 500 (the domain enforces the bound).
    pub limit: u32,
    /// Only users whose id is greater than this (the last id of the previous page).
    pub after_id: Option<String>,
    /// Only users whose email contains this text (already lower-cased); matched literally.
    pub email_contains: Option<String>,
    /// Only users created at or after this instant.
    pub created_from: Option<Timestamp>,
    /// Only users created strictly before this instant.
    pub created_before: Option<Timestamp>,
}

impl UserQuery {
    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            after_id: None,
            email_contains: None,
            created_from: None,
            created_before: None,
        }
    }
}

/// One page of users and, when more may follow, the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPage {
    pub users: Vec<UserRecord>,
    /// The id to pass as `after_id` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A platform admin.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminRecord {
    /// Set once when the admin is created (UUIDv7), never reused: dashboard sessions carry it,
    /// so an admin re-created under the same email does not inherit older sessions.
    pub id: String,
    /// Normalized (trimmed, lower-cased).
    pub email: String,
    pub password_hash: String,
    pub credential_version: i64,
    pub created_at: Timestamp,
}

//! The records of end-user accounts (ACCOUNTS.md): the account part of a user record, login
//! sessions with their rotating refresh token, and the keys that sign access tokens.

use serde_json::{Map, Value};

use crate::{MemberRole, Timestamp, UserRecord};

/// The account part of a user record. A record without one is a lead (a sign-up collected by
/// `POST /v1/users`); registering turns it into an account on the same row, keeping its data.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountFields {
    pub name: Option<String>,
    pub bio: Option<String>,
    /// An https URL of at most 2,048 characters (checked by the domain).
    pub avatar_url: Option<String>,
    /// argon2id PHC string; `None` for an account that has not set a password yet (invited).
    pub password_hash: Option<String>,
    pub email_verified: bool,
    /// Raised by one at every password change or reset; 1 at registration.
    pub credential_version: i64,
    /// Ends every session when set, and refuses logins while set.
    pub disabled: bool,
    /// The app-wide `tenant_admin` role (ACCOUNTS.md §1); roles inside organizations are on
    /// memberships.
    pub tenant_admin: bool,
    /// App-wide extra permissions (well-formed, at most 64, checked by the domain).
    pub permissions: Vec<String>,
    pub last_login_at: Option<Timestamp>,
    pub registered_at: Timestamp,
    /// The data keys the record held before registration and that registration did not set.
    /// Until the email is verified, the account's own reads leave them out (registering
    /// someone else's address reveals nothing); operators see all data.
    pub lead_keys: Vec<String>,
}

/// An account with no profile, unverified, at credential version 1, registered at the Unix
/// epoch (callers set `registered_at`).
impl Default for AccountFields {
    fn default() -> Self {
        Self {
            name: None,
            bio: None,
            avatar_url: None,
            password_hash: None,
            email_verified: false,
            credential_version: 1,
            disabled: false,
            tenant_admin: false,
            permissions: Vec::new(),
            last_login_at: None,
            registered_at: Timestamp::from_unix_millis(0),
            lead_keys: Vec::new(),
        }
    }
}

/// A user record that is an account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    pub user: UserRecord,
    pub account: AccountFields,
}

/// What registering stores.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccount {
    /// Used only when no record has this email yet.
    pub new_id: String,
    /// Normalized by the domain.
    pub email: String,
    /// `None` for an account created by an admin, which sets its password later.
    pub password_hash: Option<String>,
    pub name: Option<String>,
    /// Validated against the app's schema; merged into a lead's data key by key.
    pub data: Map<String, Value>,
    pub schema_version: i64,
    pub tenant_admin: bool,
    /// An organization the account joins in the same step (`NotFound(Entity::Organization)`
    /// when it does not exist).
    pub joining: Option<Joining>,
    pub now: Timestamp,
}

/// A membership to create with an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Joining {
    pub organization_id: String,
    pub role: MemberRole,
    pub permissions: Vec<String>,
}

/// What an app's admins change on an account (`PUT /v1/users/{id}`); `None` leaves a value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountChanges {
    pub name: Option<Option<String>>,
    /// Setting it ends every session of the account in the same step.
    pub disabled: Option<bool>,
    pub tenant_admin: Option<bool>,
    pub permissions: Option<Vec<String>>,
    /// Set by a verification link or a password reset (the address proved to be theirs);
    /// verifying also ends the hiding of the lead's data (`lead_keys`).
    pub email_verified: Option<bool>,
}

impl AccountChanges {
    /// Applies the changes to a record and its account, as every store must, `updated_at` set.
    pub fn apply_to(&self, record: &mut UserRecord, account: &mut AccountFields, now: Timestamp) {
        if let Some(name) = &self.name {
            account.name.clone_from(name);
        }
        if let Some(disabled) = self.disabled {
            account.disabled = disabled;
        }
        if let Some(tenant_admin) = self.tenant_admin {
            account.tenant_admin = tenant_admin;
        }
        if let Some(permissions) = &self.permissions {
            account.permissions.clone_from(permissions);
        }
        if let Some(verified) = self.email_verified {
            account.email_verified = verified;
        }
        record.updated_at = now;
    }

    /// True when the changes disable the account (its sessions end in the same step).
    pub fn disables(&self) -> bool {
        self.disabled == Some(true)
    }
}

/// How a registration went.
#[derive(Debug, Clone, PartialEq)]
pub enum Registered {
    /// No record had this email: a new record and account.
    Created(AccountRecord),
    /// A lead had this email: it is now the account, with its data kept.
    FromLead(AccountRecord),
}

impl Registered {
    pub fn into_record(self) -> AccountRecord {
        match self {
            Self::Created(record) | Self::FromLead(record) => record,
        }
    }
}

/// Changes to an account's profile; `None` leaves a member as it is, `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileChanges {
    pub name: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    /// Validated schema fields, merged key by key into the record's data; a key written here
    /// is no longer a lead key.
    pub data: Option<Map<String, Value>>,
    pub schema_version: Option<i64>,
}

/// One login of an account: what a refresh token stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Random, URL-safe; shown to the account as the session's id.
    pub id: String,
    pub app_id: String,
    pub user_id: String,
    /// The active organization, chosen at login.
    pub organization_id: Option<String>,
    /// SHA-256 (lower-case hex) of the current refresh token.
    pub refresh_hash: String,
    /// SHA-256 of the token the last rotation replaced, and when it did.
    pub previous_hash: Option<String>,
    pub rotated_at: Option<Timestamp>,
    /// The current refresh token sealed with the token key (never in the clear): a client
    /// presenting the previous token within the grace window gets this same successor.
    pub sealed_refresh: Option<String>,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    /// Past this the session is over unless used again before (each use moves it).
    pub idle_expires_at: Timestamp,
    /// Past this the session is over whatever happens.
    pub absolute_expires_at: Timestamp,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    pub revoked_at: Option<Timestamp>,
}

impl SessionRecord {
    /// Not revoked and not expired at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none()
            && now.as_unix_millis() < self.idle_expires_at.as_unix_millis()
            && now.as_unix_millis() < self.absolute_expires_at.as_unix_millis()
    }
}

/// A refresh token's rotation, as the domain asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rotation {
    /// SHA-256 of the token presented.
    pub presented_hash: String,
    /// SHA-256 and sealed form of the successor to store when the presented token is current.
    pub next_hash: String,
    pub next_sealed: String,
    pub now: Timestamp,
    /// The new idle expiry (never past the absolute one: the store keeps the earlier).
    pub idle_expires_at: Timestamp,
    /// How long after a rotation the previous token still gets the same successor.
    pub grace_millis: i64,
}

/// What a rotation found; every branch is decided and applied in one atomic store step.
#[derive(Debug, Clone, PartialEq)]
pub enum RotationOutcome {
    /// The presented token was current: the session now holds the successor.
    Rotated(SessionRecord),
    /// The presented token was replaced less than the grace window ago: nothing changed; the
    /// session's `sealed_refresh` is the successor to answer with again.
    WithinGrace(SessionRecord),
    /// The presented token was replaced longer ago: someone replayed it, so the session has
    /// just been revoked (reuse detection).
    Reused(SessionRecord),
    /// No session of this app knows the token, or the session is revoked or expired.
    Unknown,
}

/// A key that signs access tokens (Ed25519). The private half is sealed with the configured
/// key-encryption key by the token adapter; the store never sees it in the clear.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    /// The JWT `kid`.
    pub kid: String,
    /// `EdDSA` (the only one for now).
    pub algorithm: String,
    /// The raw 32-byte public key, base64url without padding.
    pub public_key: String,
    /// The sealed private key, as the token adapter wrote it.
    pub sealed_private_key: String,
    pub created_at: Timestamp,
}

impl ProfileChanges {
    /// Applies the changes to a record and its account, as every store must: data merged key
    /// by key (a key written is no longer a lead key), `updated_at` set.
    pub fn apply_to(&self, record: &mut UserRecord, account: &mut AccountFields, now: Timestamp) {
        if let Some(name) = &self.name {
            account.name.clone_from(name);
        }
        if let Some(bio) = &self.bio {
            account.bio.clone_from(bio);
        }
        if let Some(avatar_url) = &self.avatar_url {
            account.avatar_url.clone_from(avatar_url);
        }
        if let Some(data) = &self.data {
            account.lead_keys.retain(|key| !data.contains_key(key));
            record
                .data
                .extend(data.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(version) = self.schema_version {
            record.schema_version = version;
        }
        record.updated_at = now;
    }
}

impl Rotation {
    /// Decides and applies the rotation to `session`, as every store must in one atomic step
    /// (a store that cannot run this in a transaction applies the same rules as conditional
    /// updates).
    pub fn apply_to(&self, session: &mut SessionRecord) -> RotationOutcome {
        if !session.is_active(self.now) {
            return RotationOutcome::Unknown;
        }
        if session.refresh_hash == self.presented_hash {
            session.previous_hash = Some(std::mem::replace(
                &mut session.refresh_hash,
                self.next_hash.clone(),
            ));
            session.sealed_refresh = Some(self.next_sealed.clone());
            session.rotated_at = Some(self.now);
            session.last_used_at = self.now;
            session.idle_expires_at = Timestamp::from_unix_millis(
                self.idle_expires_at
                    .as_unix_millis()
                    .min(session.absolute_expires_at.as_unix_millis()),
            );
            return RotationOutcome::Rotated(session.clone());
        }
        if session.previous_hash.as_deref() == Some(self.presented_hash.as_str()) {
            let rotated = session
                .rotated_at
                .map_or(i64::MIN, |at| at.as_unix_millis());
            if self.now.as_unix_millis().saturating_sub(rotated) <= self.grace_millis {
                return RotationOutcome::WithinGrace(session.clone());
            }
            session.revoked_at = Some(self.now);
            return RotationOutcome::Reused(session.clone());
        }
        RotationOutcome::Unknown
    }
}

/// Newest first, by creation time then id.
pub fn sort_newest_first(sessions: &mut [SessionRecord]) {
    sessions.sort_by(|a, b| {
        (b.created_at.as_unix_millis(), &b.id).cmp(&(a.created_at.as_unix_millis(), &a.id))
    });
}

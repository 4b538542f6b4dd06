//! The records of organizations (ACCOUNTS.md §1): an app's accounts belong to organizations
//! with a role and extra permissions each, and the app's own backend calls the API with an API
//! key. The rules (who may grant what) are the domain's; the store keeps the one invariant that
//! needs atomicity: an organization always keeps at least one `admin`.

use crate::{AccountRecord, Timestamp};

/// An organization of an app.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationRecord {
    /// `org_` and random text, never reused.
    pub id: String,
    pub app_id: String,
    pub name: String,
    /// Unique per app (lower-case, checked by the domain).
    pub slug: String,
    /// Lower-case ASCII (IDNA) domains whose addresses may join on register.
    pub allowed_email_domains: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Changes to an organization; `None` leaves a value as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub allowed_email_domains: Option<Vec<String>>,
}

impl OrganizationChanges {
    /// Writes the given values into `organization` and stamps it `now`.
    pub fn apply_to(&self, organization: &mut OrganizationRecord, now: Timestamp) {
        if let Some(name) = &self.name {
            organization.name.clone_from(name);
        }
        if let Some(slug) = &self.slug {
            organization.slug.clone_from(slug);
        }
        if let Some(domains) = &self.allowed_email_domains {
            organization.allowed_email_domains.clone_from(domains);
        }
        organization.updated_at = now;
    }
}

/// A role inside one organization (the app-wide `tenant_admin` is on the account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberRole {
    Guest,
    Member,
    Admin,
}

impl MemberRole {
    pub const ALL: [Self; 3] = [Self::Admin, Self::Member, Self::Guest];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Guest => "guest",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// One account's place in one organization: unique per (organization, user).
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipRecord {
    pub app_id: String,
    pub organization_id: String,
    pub user_id: String,
    pub role: MemberRole,
    /// Extra permissions beyond the role's defaults (well-formed, at most 64, checked by the
    /// domain), in the order given.
    pub permissions: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Changes to a membership; `None` leaves a value as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MembershipChanges {
    pub role: Option<MemberRole>,
    pub permissions: Option<Vec<String>>,
}

impl MembershipChanges {
    pub fn apply_to(&self, membership: &mut MembershipRecord, now: Timestamp) {
        if let Some(role) = self.role {
            membership.role = role;
        }
        if let Some(permissions) = &self.permissions {
            membership.permissions.clone_from(permissions);
        }
        membership.updated_at = now;
    }

    /// True when applying the changes to `membership` takes an `admin` away.
    pub fn demotes(&self, membership: &MembershipRecord) -> bool {
        membership.role == MemberRole::Admin && self.role.is_some_and(|r| r != MemberRole::Admin)
    }
}

/// A member with its account, as an organization's member list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub membership: MembershipRecord,
    pub account: AccountRecord,
}

/// A page request over an organization's members, in ascending user id order.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberQuery {
    /// 1 to 500 (the domain enforces the bound).
    pub limit: u32,
    /// Only members whose user id is greater than this (the last of the previous page).
    pub after_user_id: Option<String>,
    pub role: Option<MemberRole>,
}

/// One page of members and, when more may follow, the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberPage {
    pub members: Vec<Member>,
    /// The user id to pass as `after_user_id` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A page request over an app's organizations, in ascending id order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationQuery {
    /// 1 to 500 (the domain enforces the bound).
    pub limit: u32,
    pub after_id: Option<String>,
}

/// One page of organizations and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationPage {
    pub organizations: Vec<OrganizationRecord>,
    pub next_cursor: Option<String>,
}

/// An organization with the caller's membership in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    pub organization: OrganizationRecord,
    pub membership: MembershipRecord,
}

/// A page request over an app's accounts (`GET /v1/users`), in ascending id order.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountQuery {
    /// 1 to 500 (the domain enforces the bound).
    pub limit: u32,
    pub after_id: Option<String>,
    /// Only accounts whose email or name contains this text, ignoring ASCII case (already
    /// lower-cased); matched literally, never as a pattern.
    pub text: Option<String>,
    /// Only accounts that are `tenant_admin` (`Some(true)`) or not (`Some(false)`).
    pub tenant_admin: Option<bool>,
    /// Only members of this organization, with this role when `role` is set.
    pub organization_id: Option<String>,
    pub role: Option<MemberRole>,
}

/// One page of accounts and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountPage {
    pub accounts: Vec<AccountRecord>,
    pub next_cursor: Option<String>,
}

/// A key an app's own backend calls the API with (`Authorization: Bearer <key>` or
/// `X-API-Key`). Only its SHA-256 is stored; the key is shown once, at creation.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    /// `key_` and random text: how the key is named in the management API.
    pub id: String,
    pub app_id: String,
    pub name: String,
    /// The key's first characters, shown so that people can tell their keys apart.
    pub prefix: String,
    /// SHA-256 (lower-case hex) of the key; unique across every app.
    pub key_hash: String,
    /// The role the key was created with, when one was named (shown; its defaults are already
    /// in `permissions`).
    pub role: Option<String>,
    /// The built-in and custom permissions the key holds (a `tenant_admin` limited to these).
    pub permissions: Vec<String>,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl ApiKeyRecord {
    /// Not revoked and not expired at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none()
            && self
                .expires_at
                .is_none_or(|at| now.as_unix_millis() < at.as_unix_millis())
    }
}

/// Who may create organizations in an app (`POST /v1/organizations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrganizationCreation {
    /// Any account whose email is verified (the default).
    #[default]
    VerifiedAccounts,
    /// Any account.
    AnyAccount,
    /// Only the app's tenant admins, API keys and operators.
    TenantAdmins,
}

impl OrganizationCreation {
    pub const ALL: [Self; 3] = [Self::VerifiedAccounts, Self::AnyAccount, Self::TenantAdmins];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifiedAccounts => "verified_accounts",
            Self::AnyAccount => "any_account",
            Self::TenantAdmins => "tenant_admins",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|value| value.as_str() == text)
    }
}

/// An app's settings for its accounts, edited by its operators. Stores keep them together
/// (SQLite as one JSON column, MongoDB as one subdocument) through [`AccountSettings::to_json`]
/// and [`AccountSettings::from_json`], so later settings need no migration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountSettings {
    pub organization_creation: OrganizationCreation,
    /// Login answers 403 `email_not_verified` until the address is verified.
    pub require_verified_email: bool,
    /// The app's e-mail: sender name, link targets, templates.
    pub mail: crate::MailSettings,
    /// The app's own token and session lifetimes, each at most the service's.
    pub lifetimes: TokenLifetimes,
}

/// An app's own lifetimes; `None` follows the service's setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenLifetimes {
    pub access_token_minutes: Option<u32>,
    pub session_idle_days: Option<u32>,
    pub session_absolute_days: Option<u32>,
}

impl TokenLifetimes {
    fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "access_token_minutes": self.access_token_minutes,
            "session_idle_days": self.session_idle_days,
            "session_absolute_days": self.session_absolute_days,
        })
    }

    fn from_json(value: &serde_json::Value) -> Self {
        let number = |key: &str| {
            value
                .get(key)
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| n > 0)
        };
        Self {
            access_token_minutes: number("access_token_minutes"),
            session_idle_days: number("session_idle_days"),
            session_absolute_days: number("session_absolute_days"),
        }
    }
}

impl AccountSettings {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "organization_creation": self.organization_creation.as_str(),
            "require_verified_email": self.require_verified_email,
            "mail": self.mail.to_json(),
            "token_lifetimes": self.lifetimes.to_json(),
        })
    }

    /// Reads what [`Self::to_json`] wrote; a missing or unknown member takes its default (a
    /// newer release's value is never an error, an older row has none).
    pub fn from_json(value: &serde_json::Value) -> Self {
        Self {
            organization_creation: value
                .get("organization_creation")
                .and_then(serde_json::Value::as_str)
                .and_then(OrganizationCreation::parse)
                .unwrap_or_default(),
            require_verified_email: value
                .get("require_verified_email")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or_default(),
            mail: value
                .get("mail")
                .map(crate::MailSettings::from_json)
                .unwrap_or_default(),
            lifetimes: value
                .get("token_lifetimes")
                .map(TokenLifetimes::from_json)
                .unwrap_or_default(),
        }
    }
}

use async_trait::async_trait;
use schema_validation::Schema;

use crate::*;

/// Apps (tenants).
#[async_trait]
pub trait AppStore: Send + Sync {
    /// Stores a new app. MUST return `Duplicate(Entity::App)` when the id is taken, ignoring ASCII
    /// case (`APP-A` when `app-a` exists), also when both are inserted at the same moment.
    /// Every other method matches ids exactly.
    async fn insert_app(&self, app: &AppRecord) -> Result<(), StorageError>;

    async fn find_app(&self, app_id: &str) -> Result<Option<AppRecord>, StorageError>;

    /// Every app, ordered by id, each with its user count.
    async fn list_apps(&self) -> Result<Vec<AppSummary>, StorageError>;

    /// Applies `changes` and sets `updated_at`. MUST return `NotFound(Entity::App)` for an unknown id.
    async fn update_app(
        &self,
        app_id: &str,
        changes: &AppChanges,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError>;

    /// Replaces the password hash and raises `credential_version` by one, in one step.
    /// MUST return `NotFound(Entity::App)` for an unknown id.
    async fn replace_app_password(
        &self,
        app_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError>;

    /// Deletes the app with all its schema versions, users, sessions, organizations,
    /// memberships and API keys. MUST return `NotFound(Entity::App)`
    /// for an unknown id.
    async fn delete_app(&self, app_id: &str) -> Result<(), StorageError>;
}

/// Schema versions, per app.
#[async_trait]
pub trait SchemaStore: Send + Sync {
    /// The newest version, or `None` when the app has never had a schema saved.
    async fn current_schema(&self, app_id: &str) -> Result<Option<SchemaVersion>, StorageError>;

    /// Saves `schema` as the next version (1 for the first). Two concurrent saves MUST get two
    /// different versions. MUST return `NotFound(Entity::App)` for an unknown app.
    async fn save_schema(
        &self,
        app_id: &str,
        schema: &Schema,
        now: Timestamp,
    ) -> Result<SchemaVersion, StorageError>;

    /// Every version, newest first.
    async fn list_schema_versions(&self, app_id: &str) -> Result<Vec<SchemaVersion>, StorageError>;
}

/// User records, per app. The caller makes sure the app exists.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the app's record for `upsert.email` or updates it: given data keys overwrite,
    /// others keep their values, `created_at` and `id` stay. Concurrent upserts of one email
    /// MUST leave exactly one record and none of them may fail for it.
    async fn upsert_user_by_email(
        &self,
        app_id: &str,
        upsert: &UserUpsert,
    ) -> Result<Upserted, StorageError>;

    async fn find_user(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StorageError>;

    /// The app's record for `email`, which the caller has normalized as it was stored.
    async fn find_user_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<UserRecord>, StorageError>;

    /// A page of the app's users in ascending id order. MUST NOT skip or repeat records across
    /// pages, even while records are inserted between pages.
    async fn list_users(&self, app_id: &str, query: &UserQuery) -> Result<UserPage, StorageError>;

    /// Erases one record (and, for an account, its sessions and memberships, even when it is an
    /// organization's last admin: erasure always wins); `false` when the app has no
    /// record with that id.
    async fn delete_user(&self, app_id: &str, user_id: &str) -> Result<bool, StorageError>;

    async fn count_users(&self, app_id: &str) -> Result<u64, StorageError>;
}

/// Platform admins.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// MUST return `Duplicate(Entity::Admin)` when the email is taken.
    async fn insert_admin(&self, admin: &AdminRecord) -> Result<(), StorageError>;

    async fn find_admin_by_email(&self, email: &str) -> Result<Option<AdminRecord>, StorageError>;

    async fn count_admins(&self) -> Result<u64, StorageError>;

    /// Every admin, ordered by email.
    async fn list_admins(&self) -> Result<Vec<AdminRecord>, StorageError>;

    /// Replaces the admin's password hash and raises its credential version by one, in one
    /// step, so that sessions opened with the old password end. MUST return
    /// `NotFound(Entity::Admin)` when no admin has this email.
    async fn replace_admin_password(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<AdminRecord, StorageError>;
}

/// End-user accounts: the account part of user records (ACCOUNTS.md §1).
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Registers `new.email` in one atomic step: a new record and account when the app has no
    /// record for the email; the same record turned into an account when it is a lead (its
    /// data kept, `new.data` merged over it key by key, the keys it held before and
    /// `new.data` did not set listed in `lead_keys`). MUST return `Duplicate(Entity::Account)`
    /// when the email is already an account, also when two registrations race (exactly one
    /// wins). With `new.joining`, the membership is created in the same step (MUST return
    /// `NotFound(Entity::Organization)`, storing nothing, when the organization does not exist).
    async fn register_account(
        &self,
        app_id: &str,
        new: &NewAccount,
    ) -> Result<Registered, StorageError>;

    /// The account with this id; `None` for an unknown id or a lead.
    async fn find_account(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<AccountRecord>, StorageError>;

    /// The account for `email` (normalized as stored); `None` for none or a lead.
    async fn find_account_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<AccountRecord>, StorageError>;

    /// Applies `changes` and sets `updated_at`. MUST return `NotFound(Entity::Account)` for an
    /// unknown id or a lead.
    async fn update_profile(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &ProfileChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError>;

    /// Replaces the password hash and raises `credential_version` by one, in one step. MUST
    /// return `NotFound(Entity::Account)` for an unknown id or a lead.
    async fn replace_account_password(
        &self,
        app_id: &str,
        user_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError>;

    /// Applies an admin's `changes` and sets `updated_at`; disabling revokes every session of
    /// the account in the same step. MUST return `NotFound(Entity::Account)` for an unknown id
    /// or a lead.
    async fn update_account(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &AccountChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError>;

    /// A page of the app's accounts (never leads) in ascending id order, filtered by `query`.
    /// MUST NOT skip or repeat accounts across pages.
    async fn list_accounts(
        &self,
        app_id: &str,
        query: &AccountQuery,
    ) -> Result<AccountPage, StorageError>;

    /// Sets `last_login_at`. MUST return `NotFound(Entity::Account)` for an unknown id.
    async fn record_login(
        &self,
        app_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<(), StorageError>;
}

/// Login sessions of accounts, each with its rotating refresh token. Deleting a user record or
/// an app deletes its sessions too (`UserStore::delete_user`, `AppStore::delete_app`).
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// MUST return `Duplicate(Entity::Session)` when the id is taken.
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StorageError>;

    /// The session, active or not; `None` for an unknown id or another app's session.
    async fn find_session(
        &self,
        app_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StorageError>;

    /// Rotates the session's refresh token in one atomic step (see [`RotationOutcome`]): a
    /// compare-and-swap on `refresh_hash`, so that of any number of concurrent rotations with
    /// one token exactly one is `Rotated` and the others, within the grace window, are
    /// `WithinGrace` with that same successor; a replay after the window revokes the session
    /// in the same step. An expired or revoked session is `Unknown`.
    async fn rotate_refresh(
        &self,
        app_id: &str,
        session_id: &str,
        rotation: &Rotation,
    ) -> Result<RotationOutcome, StorageError>;

    /// Makes `organization_id` the session's active organization (the caller has checked the
    /// membership); `false` when the session does not exist or is revoked.
    async fn set_session_organization(
        &self,
        app_id: &str,
        session_id: &str,
        organization_id: Option<&str>,
    ) -> Result<bool, StorageError>;

    /// Revokes one session; `false` when it does not exist or was already revoked.
    async fn revoke_session(
        &self,
        app_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError>;

    /// Revokes every active session of the user but `keep`; returns how many.
    async fn revoke_user_sessions(
        &self,
        app_id: &str,
        user_id: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u64, StorageError>;

    /// The user's sessions active at `now`, newest first.
    async fn list_user_sessions(
        &self,
        app_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, StorageError>;
}

/// The keys that sign access tokens, shared by every instance.
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// MUST return `Duplicate(Entity::SigningKey)` when the `kid` is taken.
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StorageError>;

    /// Every key, newest first (by `created_at`, then `kid`).
    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError>;
}

/// Organizations of an app. Deleting an app deletes its organizations.
#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Stores a new organization and, in the same step, its creator's membership when given.
    /// MUST return `Duplicate(Entity::Organization)` when the id or the app's slug is taken,
    /// also when two creations race, storing nothing.
    async fn insert_organization(
        &self,
        organization: &OrganizationRecord,
        creator: Option<&MembershipRecord>,
    ) -> Result<(), StorageError>;

    async fn find_organization(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<Option<OrganizationRecord>, StorageError>;

    /// A page of the app's organizations in ascending id order.
    async fn list_organizations(
        &self,
        app_id: &str,
        query: &OrganizationQuery,
    ) -> Result<OrganizationPage, StorageError>;

    /// The app's organizations whose `allowed_email_domains` holds `domain`, by id.
    async fn organizations_for_domain(
        &self,
        app_id: &str,
        domain: &str,
    ) -> Result<Vec<OrganizationRecord>, StorageError>;

    /// Applies `changes` and sets `updated_at`. MUST return `NotFound(Entity::Organization)` for
    /// an unknown id and `Duplicate(Entity::Organization)` for a slug another one has.
    async fn update_organization(
        &self,
        app_id: &str,
        organization_id: &str,
        changes: &OrganizationChanges,
        now: Timestamp,
    ) -> Result<OrganizationRecord, StorageError>;

    /// Deletes the organization and every membership in it; `false` when it does not exist.
    async fn delete_organization(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<bool, StorageError>;
}

/// Accounts' places in organizations: unique per (organization, user); every organization
/// with members keeps at least one `admin`. Deleting a user record deletes its memberships.
#[async_trait]
pub trait MembershipStore: Send + Sync {
    /// MUST return `Duplicate(Entity::Membership)` when the user already belongs (also when two
    /// additions race), `NotFound(Entity::Organization)` for an unknown organization and
    /// `NotFound(Entity::Account)` for an unknown account or a lead.
    async fn add_membership(&self, membership: &MembershipRecord) -> Result<(), StorageError>;

    async fn find_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<Option<MembershipRecord>, StorageError>;

    /// The user's memberships with their organizations, the first joined first (by the
    /// membership's `created_at`, then organization id).
    async fn list_user_memberships(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Vec<Joined>, StorageError>;

    /// The memberships of several users at once (a page of accounts), with their
    /// organizations: for each user in [`Self::list_user_memberships`]' order. Ids without
    /// memberships are left out. Stores answer in one or two reads, whatever the number of users.
    async fn list_users_memberships(
        &self,
        app_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<Joined>, StorageError>;

    /// A page of the organization's members with their accounts, in ascending user id order.
    /// MUST NOT skip or repeat members across pages; a deep page costs about what the first does.
    async fn list_members(
        &self,
        app_id: &str,
        organization_id: &str,
        query: &MemberQuery,
    ) -> Result<MemberPage, StorageError>;

    /// Applies `changes` and sets `updated_at`. MUST return `NotFound(Entity::Membership)` when
    /// there is none, and `LastAdmin` (changing nothing) when it would demote the
    /// organization's only admin, also when two demotions of its last two admins race.
    async fn update_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
        changes: &MembershipChanges,
        now: Timestamp,
    ) -> Result<MembershipRecord, StorageError>;

    /// Removes the membership; `false` when there is none. MUST return `LastAdmin` (removing
    /// nothing) for the organization's only admin, also when two removals race.
    async fn remove_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<bool, StorageError>;
}

/// API keys of apps' backends. Deleting an app deletes its keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// MUST return `Duplicate(Entity::ApiKey)` when the id or the key hash is taken.
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StorageError>;

    /// The key with this SHA-256, of any app, active or not.
    async fn find_api_key_by_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StorageError>;

    /// Every key of the app, revoked ones too, newest first (by `created_at`, then id).
    async fn list_api_keys(&self, app_id: &str) -> Result<Vec<ApiKeyRecord>, StorageError>;

    /// Revokes the key; `false` when the app has no such key or it was already revoked.
    async fn revoke_api_key(
        &self,
        app_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError>;

    /// Sets `last_used_at` (the domain calls it at most about once a minute per key).
    async fn touch_api_key(
        &self,
        app_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<(), StorageError>;
}

/// One-time tokens and the durable outbox (issue 15), on every store.
#[async_trait]
pub trait MailStore: Send + Sync {
    /// Stores `token` and, in the same atomic step, `message` (which carries it); an unused
    /// token that `token` replaces (see [`OneTimeToken::replaces`]) is deleted in that step.
    /// MUST return `Duplicate(Entity::Token)` when the id or hash is taken, storing nothing.
    async fn issue_token(
        &self,
        token: &OneTimeToken,
        message: &OutboxMessage,
    ) -> Result<(), StorageError>;

    /// The token with this hash, used or not (an invitation page shows an expired one as such).
    async fn find_token(&self, token_hash: &str) -> Result<Option<OneTimeToken>, StorageError>;

    /// The app's token with this id, used or not; `None` when there is none (never issued,
    /// replaced, revoked or pruned). The sender asks before delivering a message that carries
    /// one, so that a link that no longer works is not sent.
    async fn find_token_by_id(
        &self,
        app_id: &str,
        token_id: &str,
    ) -> Result<Option<OneTimeToken>, StorageError>;

    /// Spends the token: when it is usable at `now`, marks it used and returns it; else `None`.
    /// Of any number of concurrent calls with one hash exactly one gets it.
    async fn consume_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OneTimeToken>, StorageError>;

    /// Deletes an unused token of the app (revoking an invitation); `false` when there is none.
    async fn revoke_token(&self, app_id: &str, token_id: &str) -> Result<bool, StorageError>;

    /// The app's usable tokens of `purpose` (for one organization when given), newest first.
    async fn list_usable_tokens(
        &self,
        app_id: &str,
        purpose: TokenPurpose,
        organization_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<OneTimeToken>, StorageError>;

    /// Stores a message without a token (a test send). MUST return `Duplicate(Entity::Message)`
    /// when the id is taken.
    async fn enqueue_message(&self, message: &OutboxMessage) -> Result<(), StorageError>;

    /// Leases up to `claim.limit` messages that are due at `claim.now` (see
    /// [`OutboxMessage::is_due`]) to `claim.owner` until `claim.lease_until`, oldest first, and
    /// returns them. Two claims at once never get the same message.
    async fn claim_messages(&self, claim: &Claim) -> Result<Vec<OutboxMessage>, StorageError>;

    /// Records an attempt's outcome ([`Delivery::apply_to`]) when `owner` still holds the
    /// message's lease; `false` (changing nothing) when it does not (the lease ran out and
    /// another sender took the message).
    async fn record_delivery(
        &self,
        message_id: &str,
        owner: &str,
        delivery: &Delivery,
    ) -> Result<bool, StorageError>;

    /// A page of the app's messages, newest first (by id: UUIDv7, creation order).
    async fn list_messages(
        &self,
        app_id: &str,
        query: &MessageQuery,
    ) -> Result<MessagePage, StorageError>;

    /// Deletes sent and failed messages created before `before`, and spent or expired tokens
    /// created before it; returns how many messages went.
    async fn prune_mail(&self, before: Timestamp) -> Result<u64, StorageError>;
}

/// Everything the service stores, in one place.
#[async_trait]
pub trait Storage:
    AppStore
    + SchemaStore
    + UserStore
    + AdminStore
    + AccountStore
    + SessionStore
    + SigningKeyStore
    + OrganizationStore
    + MembershipStore
    + ApiKeyStore
    + MailStore
    + std::fmt::Debug
{
    /// The readiness check: succeeds when the store answers and can take writes. MUST fail
    /// while writes are known to fail, and with `Corrupt` once the store reported damaged
    /// data. A reason meant for clients goes in a [`Fault`] (see `StorageError::public_reason`).
    async fn ping(&self) -> Result<(), StorageError>;
}

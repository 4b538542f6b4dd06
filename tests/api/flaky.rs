//! A store that can be switched off, to see how the service behaves when storage is down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use schema_validation::Schema;
use storage_port::*;

#[derive(Debug)]
pub struct FlakyStorage {
    inner: Arc<dyn Storage>,
    pub down: Arc<AtomicBool>,
    /// What the readiness check reports instead of the store's answer.
    pub not_ready: Arc<std::sync::Mutex<Option<NotReady>>>,
}

/// A readiness failure as the adapters report them.
#[derive(Debug, Clone, Copy)]
pub enum NotReady {
    /// Writes fail, with a reason written for clients and a driver error behind it.
    DiskFull,
    /// The store reported damaged data.
    Corrupt,
}

impl FlakyStorage {
    pub fn new(inner: Arc<dyn Storage>) -> Self {
        Self {
            inner,
            down: Arc::new(AtomicBool::new(false)),
            not_ready: Arc::default(),
        }
    }

    fn check(&self) -> Result<(), StorageError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StorageError::unavailable(
                "connection refused (driver detail that must not leak)",
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl AppStore for FlakyStorage {
    async fn insert_app(&self, app: &AppRecord) -> Result<(), StorageError> {
        self.check()?;
        self.inner.insert_app(app).await
    }
    async fn find_app(&self, app_id: &str) -> Result<Option<AppRecord>, StorageError> {
        self.check()?;
        self.inner.find_app(app_id).await
    }
    async fn list_apps(&self) -> Result<Vec<AppSummary>, StorageError> {
        self.check()?;
        self.inner.list_apps().await
    }
    async fn update_app(
        &self,
        app_id: &str,
        changes: &AppChanges,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError> {
        self.check()?;
        self.inner.update_app(app_id, changes, now).await
    }
    async fn replace_app_password(
        &self,
        app_id: &str,
        hash: &str,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError> {
        self.check()?;
        self.inner.replace_app_password(app_id, hash, now).await
    }
    async fn delete_app(&self, app_id: &str) -> Result<(), StorageError> {
        self.check()?;
        self.inner.delete_app(app_id).await
    }
}

#[async_trait]
impl SchemaStore for FlakyStorage {
    async fn current_schema(&self, app_id: &str) -> Result<Option<SchemaVersion>, StorageError> {
        self.check()?;
        self.inner.current_schema(app_id).await
    }
    async fn save_schema(
        &self,
        app_id: &str,
        schema: &Schema,
        now: Timestamp,
    ) -> Result<SchemaVersion, StorageError> {
        self.check()?;
        self.inner.save_schema(app_id, schema, now).await
    }
    async fn list_schema_versions(&self, app_id: &str) -> Result<Vec<SchemaVersion>, StorageError> {
        self.check()?;
        self.inner.list_schema_versions(app_id).await
    }
}

#[async_trait]
impl UserStore for FlakyStorage {
    async fn upsert_user_by_email(
        &self,
        app_id: &str,
        upsert: &UserUpsert,
    ) -> Result<Upserted, StorageError> {
        self.check()?;
        self.inner.upsert_user_by_email(app_id, upsert).await
    }
    async fn find_user(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StorageError> {
        self.check()?;
        self.inner.find_user(app_id, user_id).await
    }
    async fn find_user_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<UserRecord>, StorageError> {
        self.check()?;
        self.inner.find_user_by_email(app_id, email).await
    }
    async fn list_users(&self, app_id: &str, query: &UserQuery) -> Result<UserPage, StorageError> {
        self.check()?;
        self.inner.list_users(app_id, query).await
    }
    async fn delete_user(&self, app_id: &str, user_id: &str) -> Result<bool, StorageError> {
        self.check()?;
        self.inner.delete_user(app_id, user_id).await
    }
    async fn count_users(&self, app_id: &str) -> Result<u64, StorageError> {
        self.check()?;
        self.inner.count_users(app_id).await
    }
}

#[async_trait]
impl AdminStore for FlakyStorage {
    async fn insert_admin(&self, admin: &AdminRecord) -> Result<(), StorageError> {
        self.check()?;
        self.inner.insert_admin(admin).await
    }
    async fn find_admin_by_email(&self, email: &str) -> Result<Option<AdminRecord>, StorageError> {
        self.check()?;
        self.inner.find_admin_by_email(email).await
    }
    async fn count_admins(&self) -> Result<u64, StorageError> {
        self.check()?;
        self.inner.count_admins().await
    }
    async fn list_admins(&self) -> Result<Vec<AdminRecord>, StorageError> {
        self.check()?;
        self.inner.list_admins().await
    }
    async fn replace_admin_password(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<AdminRecord, StorageError> {
        self.check()?;
        self.inner
            .replace_admin_password(email, password_hash)
            .await
    }
}

#[async_trait]
impl AccountStore for FlakyStorage {
    async fn register_account(
        &self,
        app_id: &str,
        new: &NewAccount,
    ) -> Result<Registered, StorageError> {
        self.check()?;
        self.inner.register_account(app_id, new).await
    }
    async fn find_account(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<AccountRecord>, StorageError> {
        self.check()?;
        self.inner.find_account(app_id, user_id).await
    }
    async fn find_account_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<AccountRecord>, StorageError> {
        self.check()?;
        self.inner.find_account_by_email(app_id, email).await
    }
    async fn update_profile(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &ProfileChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        self.check()?;
        self.inner
            .update_profile(app_id, user_id, changes, now)
            .await
    }
    async fn replace_account_password(
        &self,
        app_id: &str,
        user_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        self.check()?;
        self.inner
            .replace_account_password(app_id, user_id, password_hash, now)
            .await
    }
    async fn update_account(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &AccountChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        self.check()?;
        self.inner
            .update_account(app_id, user_id, changes, now)
            .await
    }
    async fn list_accounts(
        &self,
        app_id: &str,
        query: &AccountQuery,
    ) -> Result<AccountPage, StorageError> {
        self.check()?;
        self.inner.list_accounts(app_id, query).await
    }
    async fn record_login(
        &self,
        app_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.check()?;
        self.inner.record_login(app_id, user_id, now).await
    }
}

#[async_trait]
impl SessionStore for FlakyStorage {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StorageError> {
        self.check()?;
        self.inner.insert_session(session).await
    }
    async fn find_session(
        &self,
        app_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StorageError> {
        self.check()?;
        self.inner.find_session(app_id, session_id).await
    }
    async fn rotate_refresh(
        &self,
        app_id: &str,
        session_id: &str,
        rotation: &Rotation,
    ) -> Result<RotationOutcome, StorageError> {
        self.check()?;
        self.inner
            .rotate_refresh(app_id, session_id, rotation)
            .await
    }
    async fn set_session_organization(
        &self,
        app_id: &str,
        session_id: &str,
        organization_id: Option<&str>,
    ) -> Result<bool, StorageError> {
        self.check()?;
        self.inner
            .set_session_organization(app_id, session_id, organization_id)
            .await
    }

    async fn revoke_session(
        &self,
        app_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        self.check()?;
        self.inner.revoke_session(app_id, session_id, now).await
    }
    async fn revoke_user_sessions(
        &self,
        app_id: &str,
        user_id: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        self.check()?;
        self.inner
            .revoke_user_sessions(app_id, user_id, keep, now)
            .await
    }
    async fn list_user_sessions(
        &self,
        app_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, StorageError> {
        self.check()?;
        self.inner.list_user_sessions(app_id, user_id, now).await
    }
}

#[async_trait]
impl SigningKeyStore for FlakyStorage {
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StorageError> {
        self.check()?;
        self.inner.insert_signing_key(key).await
    }
    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
        self.check()?;
        self.inner.list_signing_keys().await
    }
}

#[async_trait]
impl OrganizationStore for FlakyStorage {
    async fn insert_organization(
        &self,
        organization: &OrganizationRecord,
        creator: Option<&MembershipRecord>,
    ) -> Result<(), StorageError> {
        self.check()?;
        self.inner.insert_organization(organization, creator).await
    }
    async fn find_organization(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<Option<OrganizationRecord>, StorageError> {
        self.check()?;
        self.inner.find_organization(app_id, organization_id).await
    }
    async fn list_organizations(
        &self,
        app_id: &str,
        query: &OrganizationQuery,
    ) -> Result<OrganizationPage, StorageError> {
        self.check()?;
        self.inner.list_organizations(app_id, query).await
    }
    async fn organizations_for_domain(
        &self,
        app_id: &str,
        domain: &str,
    ) -> Result<Vec<OrganizationRecord>, StorageError> {
        self.check()?;
        self.inner.organizations_for_domain(app_id, domain).await
    }
    async fn update_organization(
        &self,
        app_id: &str,
        organization_id: &str,
        changes: &OrganizationChanges,
        now: Timestamp,
    ) -> Result<OrganizationRecord, StorageError> {
        self.check()?;
        self.inner
            .update_organization(app_id, organization_id, changes, now)
            .await
    }
    async fn delete_organization(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<bool, StorageError> {
        self.check()?;
        self.inner
            .delete_organization(app_id, organization_id)
            .await
    }
}

#[async_trait]
impl MembershipStore for FlakyStorage {
    async fn add_membership(&self, membership: &MembershipRecord) -> Result<(), StorageError> {
        self.check()?;
        self.inner.add_membership(membership).await
    }
    async fn find_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<Option<MembershipRecord>, StorageError> {
        self.check()?;
        self.inner
            .find_membership(app_id, organization_id, user_id)
            .await
    }
    async fn list_user_memberships(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Vec<Joined>, StorageError> {
        self.check()?;
        self.inner.list_user_memberships(app_id, user_id).await
    }
    async fn list_users_memberships(
        &self,
        app_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<Joined>, StorageError> {
        self.check()?;
        self.inner.list_users_memberships(app_id, user_ids).await
    }
    async fn list_members(
        &self,
        app_id: &str,
        organization_id: &str,
        query: &MemberQuery,
    ) -> Result<MemberPage, StorageError> {
        self.check()?;
        self.inner
            .list_members(app_id, organization_id, query)
            .await
    }
    async fn update_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
        changes: &MembershipChanges,
        now: Timestamp,
    ) -> Result<MembershipRecord, StorageError> {
        self.check()?;
        self.inner
            .update_membership(app_id, organization_id, user_id, changes, now)
            .await
    }
    async fn remove_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<bool, StorageError> {
        self.check()?;
        self.inner
            .remove_membership(app_id, organization_id, user_id)
            .await
    }
}

#[async_trait]
impl ApiKeyStore for FlakyStorage {
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StorageError> {
        self.check()?;
        self.inner.insert_api_key(key).await
    }
    async fn find_api_key_by_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StorageError> {
        self.check()?;
        self.inner.find_api_key_by_hash(key_hash).await
    }
    async fn list_api_keys(&self, app_id: &str) -> Result<Vec<ApiKeyRecord>, StorageError> {
        self.check()?;
        self.inner.list_api_keys(app_id).await
    }
    async fn revoke_api_key(
        &self,
        app_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        self.check()?;
        self.inner.revoke_api_key(app_id, key_id, now).await
    }
    async fn touch_api_key(
        &self,
        app_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.check()?;
        self.inner.touch_api_key(app_id, key_id, now).await
    }
}

#[async_trait]
impl Storage for FlakyStorage {
    async fn ping(&self) -> Result<(), StorageError> {
        self.check()?;
        let not_ready = *self.not_ready.lock().unwrap_or_else(|p| p.into_inner());
        match not_ready {
            Some(NotReady::DiskFull) => Err(StorageError::unavailable(Fault::caused_by(
                "the disk or the database is full",
                "SQLITE_FULL at /srv/secret/users.db (driver detail that must not leak)",
            ))),
            Some(NotReady::Corrupt) => Err(StorageError::Corrupt(
                "database disk image is malformed (driver detail that must not leak)".into(),
            )),
            None => self.inner.ping().await,
        }
    }
}

#[async_trait]
impl MailStore for FlakyStorage {
    async fn issue_token(
        &self,
        token: &OneTimeToken,
        message: &OutboxMessage,
    ) -> Result<(), StorageError> {
        self.check()?;
        self.inner.issue_token(token, message).await
    }
    async fn find_token(&self, token_hash: &str) -> Result<Option<OneTimeToken>, StorageError> {
        self.check()?;
        self.inner.find_token(token_hash).await
    }
    async fn find_token_by_id(
        &self,
        app_id: &str,
        token_id: &str,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        self.check()?;
        self.inner.find_token_by_id(app_id, token_id).await
    }
    async fn consume_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        self.check()?;
        self.inner.consume_token(token_hash, now).await
    }
    async fn revoke_token(&self, app_id: &str, token_id: &str) -> Result<bool, StorageError> {
        self.check()?;
        self.inner.revoke_token(app_id, token_id).await
    }
    async fn list_usable_tokens(
        &self,
        app_id: &str,
        purpose: TokenPurpose,
        organization_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<OneTimeToken>, StorageError> {
        self.check()?;
        self.inner
            .list_usable_tokens(app_id, purpose, organization_id, now)
            .await
    }
    async fn enqueue_message(&self, message: &OutboxMessage) -> Result<(), StorageError> {
        self.check()?;
        self.inner.enqueue_message(message).await
    }
    async fn claim_messages(&self, claim: &Claim) -> Result<Vec<OutboxMessage>, StorageError> {
        self.check()?;
        self.inner.claim_messages(claim).await
    }
    async fn record_delivery(
        &self,
        message_id: &str,
        owner: &str,
        delivery: &Delivery,
    ) -> Result<bool, StorageError> {
        self.check()?;
        self.inner
            .record_delivery(message_id, owner, delivery)
            .await
    }
    async fn list_messages(
        &self,
        app_id: &str,
        query: &MessageQuery,
    ) -> Result<MessagePage, StorageError> {
        self.check()?;
        self.inner.list_messages(app_id, query).await
    }
    async fn prune_mail(&self, before: Timestamp) -> Result<u64, StorageError> {
        self.check()?;
        self.inner.prune_mail(before).await
    }
}

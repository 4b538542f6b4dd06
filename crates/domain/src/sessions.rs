//! Dashboard logins and who may do what: app owners (app id + app password) and platform admins
//! (email + password). A session carries the account's incarnation and credential version; it
//! ends when the password is rotated, when the account is gone (or deleted and created again
//! under the same id or email), after an idle period and after a maximum age.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use storage_port::{AdminStore, AppChanges, AppStore, StorageError, Timestamp};

use crate::password::HashError;
use crate::{AppId, EmailAddress, PasswordHasher};

/// Who is logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A platform admin: every app.
    Admin { email: String },
    /// The owner of one app: that app only.
    Owner { app_id: String },
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        matches!(self, Self::Admin { .. })
    }

    /// Whether this principal may read and manage `app_id`'s schema and users.
    pub fn may_manage(&self, app_id: &str) -> bool {
        match self {
            Self::Admin { .. } => true,
            Self::Owner { app_id: own } => own == app_id,
        }
    }

    /// Whether this principal may apply `changes` to `app_id`: admins anything; owners only
    /// their own app's name and allowed origins.
    pub fn may_change(&self, app_id: &str, changes: &AppChanges) -> bool {
        match self {
            Self::Admin { .. } => true,
            Self::Owner { .. } => {
                self.may_manage(app_id)
                    && changes.honeypot_field.is_none()
                    && changes.thank_you_url.is_none()
                    && changes.error_url.is_none()
            }
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Self::Admin { .. } => Role::Admin,
            Self::Owner { .. } => Role::Owner,
        }
    }

    /// The app id of an owner or the email of an admin.
    pub fn subject(&self) -> &str {
        match self {
            Self::Admin { email } => email,
            Self::Owner { app_id } => app_id,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(Self::Admin),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }
}

/// What a session remembers between requests.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionClaims {
    pub principal: Principal,
    /// The account's credential version at login; a rotation raises it and ends the session.
    pub credential_version: i64,
    /// Which account of that id or email logged in: an app's random incarnation, an admin's
    /// id. An account deleted and created again gets a new one, so old sessions stay ended.
    pub incarnation: String,
    pub issued_at: Timestamp,
    pub last_seen: Timestamp,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after login, used or not.
    pub absolute_timeout: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(2 * 60 * 60),
            absolute_timeout: Duration::from_secs(24 * 60 * 60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown account or wrong password: one answer for both.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Expired, revoked by a password rotation, or the account is gone.
    #[error("the session has ended")]
    SessionEnded,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Hashing(#[from] HashError),
}

/// Logs owners and admins in and checks their sessions on every request.
#[derive(Debug)]
pub struct SessionService<S: ?Sized> {
    storage: Arc<S>,
    hasher: PasswordHasher,
    policy: SessionPolicy,
}

impl<S: AppStore + AdminStore + ?Sized> SessionService<S> {
    pub fn new(storage: Arc<S>, hasher: PasswordHasher, policy: SessionPolicy) -> Self {
        Self {
            storage,
            hasher,
            policy,
        }
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// An app owner's login. As slow for an unknown (or malformed) app id as for a wrong
    /// password.
    pub async fn login_owner(
        &self,
        app_id: &str,
        password: SecretString,
    ) -> Result<SessionClaims, AuthError> {
        let app = match AppId::parse(app_id) {
            Some(id) => self.storage.find_app(id.as_ref()).await?,
            None => None,
        };
        let app = self
            .hasher
            .verified(password, app, |a| &a.password_hash)
            .await?;
        let app = app.ok_or(AuthError::InvalidCredentials)?;
        Ok(Self::claims(
            Principal::Owner { app_id: app.id },
            app.credential_version,
            app.incarnation,
        ))
    }

    /// A platform admin's login, with the same timing rule.
    pub async fn login_admin(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<SessionClaims, AuthError> {
        let admin = match EmailAddress::parse(email) {
            Some(email) => self.storage.find_admin_by_email(email.as_ref()).await?,
            None => None,
        };
        let admin = self
            .hasher
            .verified(password, admin, |a| &a.password_hash)
            .await?;
        let admin = admin.ok_or(AuthError::InvalidCredentials)?;
        Ok(Self::claims(
            Principal::Admin { email: admin.email },
            admin.credential_version,
            admin.id,
        ))
    }

    fn claims(principal: Principal, credential_version: i64, incarnation: String) -> SessionClaims {
        let now = Timestamp::now();
        SessionClaims {
            principal,
            credential_version,
            incarnation,
            issued_at: now,
            last_seen: now,
        }
    }

    /// Checks a session at `now`: not idle too long, not too old, and the very account it
    /// logged in to (same incarnation, not a later one under the same id or email) still
    /// exists with the credential version it logged in with. Reads storage every time, so a
    /// rotation or deletion made through any instance ends the session at its next request.
    pub async fn check(&self, claims: &SessionClaims, now: Timestamp) -> Result<(), AuthError> {
        if !within(claims.last_seen, now, self.policy.idle_timeout)
            || !within(claims.issued_at, now, self.policy.absolute_timeout)
        {
            return Err(AuthError::SessionEnded);
        }
        let current = match &claims.principal {
            Principal::Owner { app_id } => self
                .storage
                .find_app(app_id)
                .await?
                .map(|app| (app.credential_version, app.incarnation)),
            Principal::Admin { email } => self
                .storage
                .find_admin_by_email(email)
                .await?
                .map(|admin| (admin.credential_version, admin.id)),
        };
        if current.is_some_and(|(version, incarnation)| {
            version == claims.credential_version && incarnation == claims.incarnation
        }) {
            Ok(())
        } else {
            Err(AuthError::SessionEnded)
        }
    }
}

/// Whether `now` is less than `limit` after `since` (and not before it, beyond a small clock
/// skew between instances).
fn within(since: Timestamp, now: Timestamp, limit: Duration) -> bool {
    let elapsed = now.as_unix_millis() - since.as_unix_millis();
    let limit = i64::try_from(limit.as_millis()).unwrap_or(i64::MAX);
    (-60_000..limit).contains(&elapsed)
}

#[cfg(test)]
mod tests {
    use storage_port::{AppRecord, MemoryStorage};

    use super::*;
    use crate::HashingSettings;

    fn owner(app_id: &str) -> Principal {
        Principal::Owner {
            app_id: app_id.into(),
        }
    }

    #[test]
    fn owners_manage_only_their_own_app_and_admins_every_app() {
        let admin = Principal::Admin {
            email: "root@example.com".into(),
        };
        assert!(admin.may_manage("a") && admin.may_manage("b") && admin.is_admin());
        assert!(owner("a").may_manage("a"));
        assert!(!owner("a").may_manage("b"));
        assert!(!owner("a").is_admin());
    }

    #[test]
    fn owners_may_change_only_name_and_origins() {
        let names = AppChanges {
            name: Some("n".into()),
            allowed_origins: Some(vec!["*".into()]),
            ..AppChanges::default()
        };
        let honeypot = AppChanges {
            honeypot_field: Some(None),
            ..AppChanges::default()
        };
        let thanks = AppChanges {
            thank_you_url: Some(Some("https://x.example".into())),
            ..AppChanges::default()
        };
        assert!(owner("a").may_change("a", &names));
        assert!(!owner("a").may_change("b", &names));
        assert!(!owner("a").may_change("a", &honeypot));
        assert!(!owner("a").may_change("a", &thanks));
        let admin = Principal::Admin {
            email: "r@x.io".into(),
        };
        assert!(admin.may_change("b", &honeypot));
    }

    async fn service(
        policy: SessionPolicy,
    ) -> (
        Arc<MemoryStorage>,
        SessionService<MemoryStorage>,
        PasswordHasher,
    ) {
        let storage = Arc::new(MemoryStorage::new());
        let hasher = PasswordHasher::new(&HashingSettings::fast_for_tests()).expect("hasher");
        let service = SessionService::new(storage.clone(), hasher.clone(), policy);
        (storage, service, hasher)
    }

    async fn insert_app(storage: &MemoryStorage, hasher: &PasswordHasher, password: &str) {
        insert_app_incarnation(storage, hasher, password, "first").await;
    }

    async fn insert_app_incarnation(
        storage: &MemoryStorage,
        hasher: &PasswordHasher,
        password: &str,
        incarnation: &str,
    ) {
        let now = Timestamp::now();
        storage
            .insert_app(&AppRecord {
                id: "site".into(),
                name: "Site".into(),
                allowed_origins: vec![],
                honeypot_field: None,
                thank_you_url: None,
                error_url: None,
                password_hash: hasher.hash(password.into()).await.expect("hash"),
                credential_version: 1,
                incarnation: incarnation.into(),
                created_at: now,
                updated_at: now,
            })
            .await
            .expect("insert");
    }

    #[tokio::test]
    async fn an_owner_logs_in_with_the_app_password_only() {
        let (storage, service, hasher) = service(SessionPolicy::default()).await;
        insert_app(&storage, &hasher, "right").await;
        let claims = service
            .login_owner("site", "right".into())
            .await
            .expect("login");
        assert_eq!(claims.principal, owner("site"));
        assert_eq!(claims.credential_version, 1);
        for (id, password) in [("site", "wrong"), ("other", "right"), ("bad id!", "right")] {
            assert!(matches!(
                service.login_owner(id, password.into()).await,
                Err(AuthError::InvalidCredentials)
            ));
        }
    }

    #[tokio::test]
    async fn a_rotation_or_deletion_ends_the_session() {
        let (storage, service, hasher) = service(SessionPolicy::default()).await;
        insert_app(&storage, &hasher, "right").await;
        let claims = service
            .login_owner("site", "right".into())
            .await
            .expect("login");
        service
            .check(&claims, Timestamp::now())
            .await
            .expect("valid");
        storage
            .replace_app_password("site", "x", Timestamp::now())
            .await
            .expect("rotate");
        assert!(matches!(
            service.check(&claims, Timestamp::now()).await,
            Err(AuthError::SessionEnded)
        ));
        let fresh = SessionClaims {
            credential_version: 2,
            ..claims
        };
        service
            .check(&fresh, Timestamp::now())
            .await
            .expect("valid");
        storage.delete_app("site").await.expect("delete");
        assert!(matches!(
            service.check(&fresh, Timestamp::now()).await,
            Err(AuthError::SessionEnded)
        ));
    }

    #[tokio::test]
    async fn an_app_created_again_under_the_same_id_does_not_revive_old_sessions() {
        let (storage, service, hasher) = service(SessionPolicy::default()).await;
        insert_app_incarnation(&storage, &hasher, "right", "first").await;
        let claims = service
            .login_owner("site", "right".into())
            .await
            .expect("login");
        assert_eq!(claims.incarnation, "first");
        storage.delete_app("site").await.expect("delete");
        insert_app_incarnation(&storage, &hasher, "right", "second").await;
        assert!(matches!(
            service.check(&claims, Timestamp::now()).await,
            Err(AuthError::SessionEnded)
        ));
        let fresh = service
            .login_owner("site", "right".into())
            .await
            .expect("login");
        service
            .check(&fresh, Timestamp::now())
            .await
            .expect("valid");
    }

    #[tokio::test]
    async fn an_admin_session_belongs_to_the_admin_id_it_logged_in_to() {
        use storage_port::AdminRecord;
        let admin = |id: &str, hash: &str| AdminRecord {
            id: id.into(),
            email: "root@example.com".into(),
            password_hash: hash.into(),
            credential_version: 1,
            created_at: Timestamp::now(),
        };
        let (storage, service, hasher) = service(SessionPolicy::default()).await;
        let hash = hasher.hash("right".into()).await.expect("hash");
        storage
            .insert_admin(&admin("first-id", &hash))
            .await
            .expect("insert");
        let claims = service
            .login_admin("root@example.com", "right".into())
            .await
            .expect("login");
        assert_eq!(claims.incarnation, "first-id");
        service
            .check(&claims, Timestamp::now())
            .await
            .expect("valid");
        // Admins cannot be deleted yet; a store where the same email belongs to another admin
        // record stands in for "deleted and created again".
        let recreated = MemoryStorage::new();
        recreated
            .insert_admin(&admin("second-id", &hash))
            .await
            .expect("insert");
        let other = SessionService::new(Arc::new(recreated), hasher, SessionPolicy::default());
        assert!(matches!(
            other.check(&claims, Timestamp::now()).await,
            Err(AuthError::SessionEnded)
        ));
    }

    #[tokio::test]
    async fn idle_and_old_sessions_end() {
        let policy = SessionPolicy {
            idle_timeout: Duration::from_secs(60),
            absolute_timeout: Duration::from_secs(600),
        };
        let (storage, service, hasher) = service(policy).await;
        insert_app(&storage, &hasher, "right").await;
        let claims = service
            .login_owner("site", "right".into())
            .await
            .expect("login");
        let at = |seconds: i64| {
            Timestamp::from_unix_millis(claims.issued_at.as_unix_millis() + seconds * 1000)
        };
        service.check(&claims, at(59)).await.expect("not idle yet");
        assert!(service.check(&claims, at(61)).await.is_err(), "idle");
        let active = SessionClaims {
            last_seen: at(590),
            ..claims.clone()
        };
        service.check(&active, at(599)).await.expect("young enough");
        assert!(service.check(&active, at(601)).await.is_err(), "too old");
    }
}

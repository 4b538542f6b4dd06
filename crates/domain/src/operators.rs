//! Operators, the dashboard's people: app owners (app id + app password) and platform admins
//! (email + password). How they log in, what they may do, and how long a login lasts. A session carries the account's incarnation and credential version; it
//! ends when the password is rotated, when the account is gone (or deleted and created again
//! under the same id or email), after an idle period and after a maximum age.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use storage_port::{AdminStore, AppStore, SessionRecord, SessionStore, StorageError, Timestamp};

use crate::password::{HashError, generate_password};
use crate::{AppId, EmailAddress, PasswordHasher};
use secrecy::ExposeSecret as _;

/// An operator who is logged in to the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    /// A platform admin: every app.
    Admin { email: String },
    /// The owner of one app: that app only.
    AppOwner { app_id: String },
}

impl Operator {
    pub fn is_admin(&self) -> bool {
        matches!(self, Self::Admin { .. })
    }

    /// Whether this operator may read and manage `app_id`'s settings, schema and records.
    pub fn may_manage(&self, app_id: &str) -> bool {
        match self {
            Self::Admin { .. } => true,
            Self::AppOwner { app_id: own } => own == app_id,
        }
    }

    pub fn role(&self) -> OperatorRole {
        match self {
            Self::Admin { .. } => OperatorRole::Admin,
            Self::AppOwner { .. } => OperatorRole::AppOwner,
        }
    }

    /// The app id of an owner or the email of an admin.
    pub fn subject(&self) -> &str {
        match self {
            Self::Admin { email } => email,
            Self::AppOwner { app_id } => app_id,
        }
    }
}

/// The two kinds of operator; `admin` and `owner` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRole {
    Admin,
    AppOwner,
}

impl OperatorRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::AppOwner => "owner",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(Self::Admin),
            "owner" => Some(Self::AppOwner),
            _ => None,
        }
    }
}

/// The tenant under which operators' dashboard sessions are stored beside accounts' sessions:
/// not an app id (`~` is not allowed in one), so no app's sessions can be confused with them.
pub const OPERATOR_SESSIONS: &str = "~operators";

/// What an operator logs in with, besides the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorCredentials {
    /// The app's id (`sourceAppId`): its owner.
    AppOwner { app_id: String },
    /// An admin's email.
    Admin { email: String },
}

/// The parts of an app or admin record a login needs.
struct Account {
    operator: Operator,
    password_hash: String,
    credential_version: i64,
    incarnation: String,
}

/// What a session remembers between requests.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorClaims {
    pub operator: Operator,
    /// The session's row in the store (`SessionStore`, under [`OPERATOR_SESSIONS`]): a logout
    /// revokes it there, so it holds on every instance and across restarts.
    pub session_id: String,
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
pub struct OperatorSessionPolicy {
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after login, used or not.
    pub absolute_timeout: Duration,
}

impl Default for OperatorSessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(2 * 60 * 60),
            absolute_timeout: Duration::from_secs(24 * 60 * 60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorAuthError {
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

/// Logs operators in and checks their sessions on every request.
#[derive(Debug)]
pub struct OperatorSessions<S: ?Sized> {
    storage: Arc<S>,
    hasher: PasswordHasher,
    policy: OperatorSessionPolicy,
}

impl<S: AppStore + AdminStore + SessionStore + ?Sized> OperatorSessions<S> {
    pub fn new(storage: Arc<S>, hasher: PasswordHasher, policy: OperatorSessionPolicy) -> Self {
        Self {
            storage,
            hasher,
            policy,
        }
    }

    pub fn policy(&self) -> OperatorSessionPolicy {
        self.policy
    }

    /// Logs an operator in. Unknown accounts, malformed ids or emails and wrong passwords
    /// all get [`OperatorAuthError::InvalidCredentials`], after the same argon2 work.
    pub async fn login(
        &self,
        credentials: OperatorCredentials,
        password: SecretString,
    ) -> Result<OperatorClaims, OperatorAuthError> {
        let account = match credentials {
            OperatorCredentials::AppOwner { app_id } => match AppId::parse(&app_id) {
                Some(id) => self
                    .storage
                    .find_app(id.as_ref())
                    .await?
                    .map(|app| Account {
                        operator: Operator::AppOwner { app_id: app.id },
                        password_hash: app.password_hash,
                        credential_version: app.credential_version,
                        incarnation: app.incarnation,
                    }),
                None => None,
            },
            OperatorCredentials::Admin { email } => match EmailAddress::parse(&email) {
                Some(email) => {
                    self.storage
                        .find_admin_by_email(email.as_ref())
                        .await?
                        .map(|admin| Account {
                            operator: Operator::Admin { email: admin.email },
                            password_hash: admin.password_hash,
                            credential_version: admin.credential_version,
                            incarnation: admin.id,
                        })
                }
                None => None,
            },
        };
        let account = self
            .hasher
            .verified(password, account, |a| &a.password_hash)
            .await?
            .ok_or(OperatorAuthError::InvalidCredentials)?;
        let now = Timestamp::now();
        let session_id = generate_password().expose_secret().to_owned();
        let absolute = i64::try_from(self.policy.absolute_timeout.as_millis()).unwrap_or(i64::MAX);
        let until = Timestamp::from_unix_millis(now.as_unix_millis().saturating_add(absolute));
        self.storage
            .insert_session(&SessionRecord {
                id: session_id.clone(),
                app_id: OPERATOR_SESSIONS.to_owned(),
                user_id: format!(
                    "{}:{}",
                    account.operator.role().as_str(),
                    account.operator.subject()
                ),
                organization_id: None,
                // No refresh token: the cookie carries the claims, the row only says whether
                // the session still stands.
                refresh_hash: String::new(),
                previous_hash: None,
                rotated_at: None,
                sealed_refresh: None,
                created_at: now,
                last_used_at: now,
                // The idle timeout is enforced on the cookie's `last_seen`.
                idle_expires_at: until,
                absolute_expires_at: until,
                user_agent: None,
                client_ip: None,
                revoked_at: None,
            })
            .await?;
        Ok(OperatorClaims {
            operator: account.operator,
            session_id,
            credential_version: account.credential_version,
            incarnation: account.incarnation,
            issued_at: now,
            last_seen: now,
        })
    }

    /// Ends the session on every instance: its row is revoked.
    pub async fn logout(&self, claims: &OperatorClaims) -> Result<(), OperatorAuthError> {
        self.storage
            .revoke_session(OPERATOR_SESSIONS, &claims.session_id, Timestamp::now())
            .await?;
        Ok(())
    }

    /// Checks a session at `now`: not idle too long, not too old, and the very account it
    /// logged in to (same incarnation, not a later one under the same id or email) still
    /// exists with the credential version it logged in with. Reads storage every time, so a
    /// rotation or deletion made through any instance ends the session at its next request.
    pub async fn check(
        &self,
        claims: &OperatorClaims,
        now: Timestamp,
    ) -> Result<(), OperatorAuthError> {
        if !within(claims.last_seen, now, self.policy.idle_timeout)
            || !within(claims.issued_at, now, self.policy.absolute_timeout)
        {
            return Err(OperatorAuthError::SessionEnded);
        }
        let current = match &claims.operator {
            Operator::AppOwner { app_id } => self
                .storage
                .find_app(app_id)
                .await?
                .map(|app| (app.credential_version, app.incarnation)),
            Operator::Admin { email } => self
                .storage
                .find_admin_by_email(email)
                .await?
                .map(|admin| (admin.credential_version, admin.id)),
        };
        let account_stands = current.is_some_and(|(version, incarnation)| {
            version == claims.credential_version && incarnation == claims.incarnation
        });
        if !account_stands {
            return Err(OperatorAuthError::SessionEnded);
        }
        let session_stands = self
            .storage
            .find_session(OPERATOR_SESSIONS, &claims.session_id)
            .await?
            .is_some_and(|session| session.is_active(now));
        if session_stands {
            Ok(())
        } else {
            Err(OperatorAuthError::SessionEnded)
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

    fn owner_login(app_id: &str) -> OperatorCredentials {
        OperatorCredentials::AppOwner {
            app_id: app_id.into(),
        }
    }

    fn owner(app_id: &str) -> Operator {
        Operator::AppOwner {
            app_id: app_id.into(),
        }
    }

    #[test]
    fn owners_manage_only_their_own_app_and_admins_every_app() {
        let admin = Operator::Admin {
            email: "root@example.com".into(),
        };
        assert!(admin.may_manage("a") && admin.may_manage("b") && admin.is_admin());
        assert!(owner("a").may_manage("a"));
        assert!(!owner("a").may_manage("b"));
        assert!(!owner("a").is_admin());
    }

    async fn service(
        policy: OperatorSessionPolicy,
    ) -> (
        Arc<MemoryStorage>,
        OperatorSessions<MemoryStorage>,
        PasswordHasher,
    ) {
        let storage = Arc::new(MemoryStorage::new());
        let hasher = PasswordHasher::new(&HashingSettings::fast_for_tests()).expect("hasher");
        let service = OperatorSessions::new(storage.clone(), hasher.clone(), policy);
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
                account_settings: storage_port::AccountSettings::default(),
                created_at: now,
                updated_at: now,
            })
            .await
            .expect("insert");
    }

    #[tokio::test]
    async fn an_owner_logs_in_with_the_app_password_only() {
        let (storage, service, hasher) = service(OperatorSessionPolicy::default()).await;
        insert_app(&storage, &hasher, "right").await;
        let claims = service
            .login(owner_login("site"), "right".into())
            .await
            .expect("login");
        assert_eq!(claims.operator, owner("site"));
        assert_eq!(claims.credential_version, 1);
        for (id, password) in [("site", "wrong"), ("other", "right"), ("bad id!", "right")] {
            assert!(matches!(
                service.login(owner_login(id), password.into()).await,
                Err(OperatorAuthError::InvalidCredentials)
            ));
        }
    }

    #[tokio::test]
    async fn a_rotation_or_deletion_ends_the_session() {
        let (storage, service, hasher) = service(OperatorSessionPolicy::default()).await;
        insert_app(&storage, &hasher, "right").await;
        let claims = service
            .login(owner_login("site"), "right".into())
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
            Err(OperatorAuthError::SessionEnded)
        ));
        let fresh = OperatorClaims {
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
            Err(OperatorAuthError::SessionEnded)
        ));
    }

    #[tokio::test]
    async fn an_app_created_again_under_the_same_id_does_not_revive_old_sessions() {
        let (storage, service, hasher) = service(OperatorSessionPolicy::default()).await;
        insert_app_incarnation(&storage, &hasher, "right", "first").await;
        let claims = service
            .login(owner_login("site"), "right".into())
            .await
            .expect("login");
        assert_eq!(claims.incarnation, "first");
        storage.delete_app("site").await.expect("delete");
        insert_app_incarnation(&storage, &hasher, "right", "second").await;
        assert!(matches!(
            service.check(&claims, Timestamp::now()).await,
            Err(OperatorAuthError::SessionEnded)
        ));
        let fresh = service
            .login(owner_login("site"), "right".into())
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
        let (storage, service, hasher) = service(OperatorSessionPolicy::default()).await;
        let hash = hasher.hash("right".into()).await.expect("hash");
        storage
            .insert_admin(&admin("first-id", &hash))
            .await
            .expect("insert");
        let claims = service
            .login(
                OperatorCredentials::Admin {
                    email: "root@example.com".into(),
                },
                "right".into(),
            )
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
        let other = OperatorSessions::new(
            Arc::new(recreated),
            hasher,
            OperatorSessionPolicy::default(),
        );
        assert!(matches!(
            other.check(&claims, Timestamp::now()).await,
            Err(OperatorAuthError::SessionEnded)
        ));
    }

    #[tokio::test]
    async fn idle_and_old_sessions_end() {
        let policy = OperatorSessionPolicy {
            idle_timeout: Duration::from_secs(60),
            absolute_timeout: Duration::from_secs(600),
        };
        let (storage, service, hasher) = service(policy).await;
        insert_app(&storage, &hasher, "right").await;
        let claims = service
            .login(owner_login("site"), "right".into())
            .await
            .expect("login");
        let at = |seconds: i64| {
            Timestamp::from_unix_millis(claims.issued_at.as_unix_millis() + seconds * 1000)
        };
        service.check(&claims, at(59)).await.expect("not idle yet");
        assert!(service.check(&claims, at(61)).await.is_err(), "idle");
        let active = OperatorClaims {
            last_seen: at(590),
            ..claims.clone()
        };
        service.check(&active, at(599)).await.expect("young enough");
        assert!(service.check(&active, at(601)).await.is_err(), "too old");
    }
}

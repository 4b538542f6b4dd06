//! End-user accounts of an app's site (ACCOUNTS.md): register, log in, refresh, log out, the
//! profile, the password and the sessions. An access token is an EdDSA JWT signed through the
//! [`TokenCrypto`] port; a refresh token is opaque and stands for one stored session.
//!
//! A refresh token is `<app>.<session>.<secret>`: the app id and session id (both needed to find
//! the session, since every store method takes the app) and 256 random bits. The store keeps
//! only its SHA-256, and the current one sealed, so that a retry within the grace window gets
//! the same successor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use schema_validation::{Violation, Violations};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use storage_port::{
    AccountRecord, Joined, NewAccount, ProfileChanges, Rotation, RotationOutcome, SessionRecord,
    Storage, StorageError, Timestamp,
};

use crate::mail::Postman;
use crate::password::HashError;
use crate::password_policy::check_new_password;
use crate::permissions::{Authority, Role};
use crate::tokens::{AccessClaims, TokenCrypto, TokenError};
use crate::{AppCache, AppContext, AppId, EmailAddress, PasswordHasher};

mod email;

pub use email::{Acceptance, InvitationStatus, InvitationView, VerifiedEmail};

/// How accounts' tokens and sessions behave.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// The tokens' `iss`: the service's public URL.
    pub issuer: String,
    pub access_token_ttl: Duration,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after login, used or not.
    pub session_absolute: Duration,
    /// How long after a rotation the previous refresh token still gets the same successor.
    pub refresh_grace: Duration,
    /// Clock skew allowed on `exp` and `nbf` (at most 30 s).
    pub leeway: Duration,
    /// How long a session's "still active" answer is reused before the store is asked again
    /// (revocation takes effect within this on every instance).
    pub session_check_ttl: Duration,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:8080".to_owned(),
            access_token_ttl: Duration::from_secs(15 * 60),
            session_idle: Duration::from_secs(30 * 24 * 60 * 60),
            session_absolute: Duration::from_secs(90 * 24 * 60 * 60),
            refresh_grace: Duration::from_secs(10),
            leeway: Duration::from_secs(30),
            session_check_ttl: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(Violations),
    #[error("no app has this id")]
    UnknownApp,
    #[error("an account with this email exists")]
    EmailTaken,
    /// Unknown email, a lead, a wrong password or a disabled account: one answer for all.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// No session, or a bad, foreign or revoked token.
    #[error("invalid token")]
    InvalidToken,
    #[error("the token has expired")]
    TokenExpired,
    /// A credential of one app used for another.
    #[error("the credential belongs to another app")]
    TenantMismatch,
    #[error("no session has this id")]
    SessionNotFound,
    /// The account is not a member of the organization it named.
    #[error("not a member of this organization")]
    OrganizationAccessDenied,
    /// A guest's profile is read-only.
    #[error("this needs {0}")]
    Forbidden(&'static str),
    /// The app requires a verified address before login (`require_verified_email`).
    #[error("the email address is not verified")]
    EmailNotVerified,
    /// A verification, reset or invitation link that is unknown, used, replaced or expired.
    #[error("the link is invalid, used or expired; ask for a new one")]
    LinkInvalid,
    /// Asked again too soon (a verification resend): try after this.
    #[error("a message was sent a moment ago; try again later")]
    TooSoon(Duration),
    /// An invitation for an address that has an account: its own bearer token must come too.
    #[error("log in as the invited address's account and send its access token")]
    LoginRequired,
    /// An invitation accepted with the token of another account.
    #[error("the invitation is for another address")]
    InvitationForAnotherAccount,
    #[error("the user is already a member")]
    AlreadyMember,
    /// An admin disabled the account: no link logs it in.
    #[error("the account is disabled")]
    AccountDisabled,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Hashing(#[from] HashError),
    /// A signing key or sealed secret that cannot be used: a server fault.
    #[error("tokens cannot be issued: {0}")]
    Keys(TokenError),
}

/// Where a request came from, kept on the session for its owner to see.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A registration as the client sent it.
#[derive(Debug)]
pub struct Registration {
    pub email: String,
    pub password: SecretString,
    pub name: Option<String>,
    /// The app's schema fields, validated as a submission is; `None` stores none.
    pub data: Option<Map<String, Value>>,
    /// An organization to join: allowed for an address of one of its
    /// `allowed_email_domains` (joined once the email is verified), else 403.
    pub organization_id: Option<String>,
}

/// A profile change as the client sent it; `None` keeps a member.
#[derive(Debug, Default)]
pub struct ProfileUpdate {
    pub name: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub data: Option<Map<String, Value>>,
}

/// An access token and a refresh token.
#[derive(Debug)]
pub struct Tokens {
    pub access_token: String,
    pub expires_at: Timestamp,
    pub refresh_token: SecretString,
}

/// What the account sees of itself: until its email is verified, the data a lead held before
/// registration is left out. With its organizations and the active one (chosen at login, else
/// the first joined) and its role and permissions there.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnAccount {
    pub record: AccountRecord,
    pub memberships: Vec<Joined>,
    pub organization_id: Option<String>,
    pub role: Option<Role>,
    pub permissions: Vec<String>,
}

impl OwnAccount {
    fn of(mut record: AccountRecord, memberships: Vec<Joined>, active: Option<&str>) -> Self {
        if !record.account.email_verified {
            for key in &record.account.lead_keys {
                record.user.data.remove(key);
            }
        }
        let grants = Grants::of(&record, &memberships, active);
        Self {
            record,
            memberships,
            organization_id: grants.organization_id,
            role: grants.role,
            permissions: grants.permissions,
        }
    }
}

/// What an account holds in its active organization, as its access token says.
#[derive(Debug, Clone, PartialEq)]
struct Grants {
    organization_id: Option<String>,
    role: Option<Role>,
    permissions: Vec<String>,
}

impl Grants {
    /// In `active` when the account is still a member there; app-wide grants count too.
    fn of(record: &AccountRecord, memberships: &[Joined], active: Option<&str>) -> Self {
        let app_wide = Authority::of(
            record.account.tenant_admin.then_some(Role::TenantAdmin),
            record.account.permissions.iter().cloned(),
        );
        let joined = active.and_then(|org| {
            memberships
                .iter()
                .find(|joined| joined.organization.id == org)
        });
        let authority = match joined {
            Some(joined) => Authority::of(
                Some(Role::from(joined.membership.role)),
                joined.membership.permissions.iter().cloned(),
            )
            .joined(&app_wide),
            None => app_wide,
        };
        Self {
            organization_id: joined.map(|joined| joined.organization.id.clone()),
            role: authority.role(),
            permissions: authority.permissions().map(str::to_owned).collect(),
        }
    }
}

/// An account with its memberships, as the token routes read it.
#[derive(Debug, Clone)]
struct AccountView {
    record: AccountRecord,
    memberships: Vec<Joined>,
}

/// A successful login or registration.
#[derive(Debug)]
pub struct LoggedIn {
    pub account: OwnAccount,
    pub tokens: Tokens,
}

/// The account behind a verified access token whose session is active: obtainable only through
/// [`AccountService::authenticate`].
#[derive(Debug, Clone)]
pub struct AccountCaller {
    claims: AccessClaims,
}

impl AccountCaller {
    pub fn app_id(&self) -> &str {
        &self.claims.aud
    }

    pub fn user_id(&self) -> &str {
        &self.claims.sub
    }

    pub fn session_id(&self) -> &str {
        &self.claims.sid
    }

    pub fn claims(&self) -> &AccessClaims {
        &self.claims
    }
}

/// Accounts of every app, over one store.
#[derive(Debug)]
pub struct AccountService<S: ?Sized> {
    storage: Arc<S>,
    cache: Arc<AppCache>,
    hasher: PasswordHasher,
    keys: KeyRing,
    settings: AccountSettings,
    checked: SessionChecks,
    verified: VerifiedTokens,
    accounts_read: AccountReads,
    postman: Arc<Postman<S>>,
}

impl<S: Storage + ?Sized> AccountService<S> {
    pub(crate) fn new(
        storage: Arc<S>,
        cache: Arc<AppCache>,
        hasher: PasswordHasher,
        crypto: Arc<dyn TokenCrypto>,
        settings: AccountSettings,
        postman: Arc<Postman<S>>,
    ) -> Self {
        Self {
            postman,
            storage,
            cache,
            hasher,
            keys: KeyRing::new(crypto),
            checked: SessionChecks::default(),
            verified: VerifiedTokens::default(),
            accounts_read: AccountReads::default(),
            settings,
        }
    }

    /// Loads the signing keys, creating the first one on a fresh store (or a new one when none
    /// of the stored private keys opens with the configured key-encryption key).
    pub async fn prepare_keys(&self) -> Result<(), AccountError> {
        self.keys.load(&*self.storage, true).await
    }

    /// Adds a new signing key, which signs from now on; the previous one stays published until
    /// its tokens have expired (`users-api keys rotate`). Returns its `kid`.
    pub async fn rotate_keys(&self) -> Result<String, AccountError> {
        let kid = self.keys.add(&*self.storage).await?;
        self.keys.load(&*self.storage, false).await?;
        Ok(kid)
    }

    /// The public keys a verifier needs: the current one, and older ones while tokens they
    /// signed can still be valid.
    pub async fn jwks(&self) -> Result<Value, AccountError> {
        self.keys.refresh_if_stale(&*self.storage).await?;
        let keys = self
            .keys
            .published(Timestamp::now(), self.max_token_age())?;
        Ok(serde_json::json!({ "keys": keys }))
    }

    /// The app's token and session lifetimes: its own where it chose one (never longer than
    /// the service's), else the service's.
    async fn lifetimes(&self, app_id: &str) -> Result<Lifetimes, AccountError> {
        const DAY: u64 = 24 * 60 * 60;
        let own = self.app(app_id).await?.app.account_settings.lifetimes;
        let pick = |chosen: Option<u32>, unit: u64, service: Duration| {
            chosen.map_or(service, |n| {
                Duration::from_secs(u64::from(n) * unit).min(service)
            })
        };
        let service = &self.settings;
        Ok(Lifetimes {
            access_token: pick(own.access_token_minutes, 60, service.access_token_ttl),
            session_idle: pick(own.session_idle_days, DAY, service.session_idle),
            session_absolute: pick(own.session_absolute_days, DAY, service.session_absolute),
        })
    }

    async fn app(&self, app_id: &str) -> Result<Arc<AppContext>, AccountError> {
        let Some(id) = AppId::parse(app_id) else {
            return Err(AccountError::UnknownApp);
        };
        self.cache
            .load(&*self.storage, id.as_ref())
            .await?
            .ok_or(AccountError::UnknownApp)
    }

    /// Registers an account on `app_id` and logs it in. A lead with this email becomes the
    /// account, its data kept (and hidden from the account until the email is verified).
    pub async fn register(
        &self,
        app_id: &str,
        registration: Registration,
        client: ClientInfo,
    ) -> Result<LoggedIn, AccountError> {
        let context = self.app(app_id).await?;
        let mut problems = Vec::new();
        let email = EmailAddress::parse(&registration.email);
        if email.is_none() {
            problems.push(Violation::new(
                "email",
                "email",
                "must be a valid email address",
            ));
        }
        let name = registration.name.map(|name| name.trim().to_owned());
        if let Some(problem) = name.as_deref().and_then(|name| check_name("name", name)) {
            problems.push(problem);
        }
        let context_words: Vec<&str> = [Some(registration.email.as_str()), name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if let Some(problem) =
            check_new_password("password", &registration.password, &context_words)
        {
            problems.push(problem);
        }
        let data = match registration.data {
            None => Map::new(),
            Some(data) => match context.schema.accept(data) {
                Ok(accepted) => accepted,
                Err(found) => {
                    problems.extend(found.into_vec());
                    Map::new()
                }
            },
        };
        let Some(email) = email.filter(|_| problems.is_empty()) else {
            return Err(AccountError::Invalid(Violations(problems)));
        };
        if let Some(organization_id) = &registration.organization_id {
            // An address of one of the organization's domains, or one with a pending
            // invitation there, may name it; the membership starts when the address is
            // verified (an unverified address proves nothing).
            if !self
                .may_join(&context.app.id, organization_id, email.as_ref())
                .await?
            {
                return Err(AccountError::OrganizationAccessDenied);
            }
        }
        let password_hash = Some(self.hasher.hash(registration.password).await?);
        let now = Timestamp::now();
        let new = NewAccount {
            new_id: uuid::Uuid::now_v7().to_string(),
            email: email.as_ref().to_owned(),
            password_hash,
            name: name.filter(|name| !name.is_empty()),
            data,
            schema_version: context.schema_version,
            tenant_admin: false,
            joining: None,
            now,
        };
        let record = match self.storage.register_account(&context.app.id, &new).await {
            Ok(registered) => registered.into_record(),
            Err(StorageError::Duplicate(_)) => return Err(AccountError::EmailTaken),
            Err(other) => return Err(other.into()),
        };
        tracing::info!(app_id = %context.app.id, user_id = %record.user.id, "account registered");
        // The account exists whatever happens to its message: a failure here is logged, and
        // `POST /v1/auth/verify-email/resend` sends another.
        if let Err(error) = self
            .send_verification(&context.app, &record, registration.organization_id)
            .await
        {
            tracing::error!(app_id = %context.app.id, user_id = %record.user.id, %error, "the verification message could not be queued");
        }
        let view = AccountView {
            record,
            memberships: Vec::new(),
        };
        self.start_session(view, None, client, now).await
    }

    /// Logs an account in. Unknown emails, leads, wrong passwords and disabled accounts get
    /// the same answer after the same argon2 work.
    pub async fn login(
        &self,
        app_id: &str,
        email: &str,
        password: SecretString,
        organization_id: Option<&str>,
        client: ClientInfo,
    ) -> Result<LoggedIn, AccountError> {
        let context = self.app(app_id).await?;
        let account = match EmailAddress::parse(email) {
            Some(email) => {
                self.storage
                    .find_account_by_email(&context.app.id, email.as_ref())
                    .await?
            }
            None => None,
        };
        let account = account.filter(|record| record.account.password_hash.is_some());
        let verified = self
            .hasher
            .verified(password, account, |record| {
                record.account.password_hash.as_deref().unwrap_or_default()
            })
            .await?;
        let Some(mut record) = verified.filter(|record| !record.account.disabled) else {
            return Err(AccountError::InvalidCredentials);
        };
        if context.app.account_settings.require_verified_email && !record.account.email_verified {
            return Err(AccountError::EmailNotVerified);
        }
        let now = Timestamp::now();
        self.storage
            .record_login(&context.app.id, &record.user.id, now)
            .await?;
        record.account.last_login_at = Some(now);
        self.accounts_read.forget(&context.app.id, &record.user.id);
        let memberships = self
            .storage
            .list_user_memberships(&context.app.id, &record.user.id)
            .await?;
        let active = match organization_id {
            Some(wanted) => {
                if !memberships.iter().any(|j| j.organization.id == wanted) {
                    return Err(AccountError::OrganizationAccessDenied);
                }
                Some(wanted.to_owned())
            }
            None => memberships.first().map(|j| j.organization.id.clone()),
        };
        let view = AccountView {
            record,
            memberships,
        };
        self.start_session(view, active, client, now).await
    }

    async fn start_session(
        &self,
        view: AccountView,
        organization_id: Option<String>,
        client: ClientInfo,
        now: Timestamp,
    ) -> Result<LoggedIn, AccountError> {
        let record = &view.record;
        let lifetimes = self.lifetimes(&record.user.app_id).await?;
        let session_id = random_text(16);
        let refresh = refresh_token(&record.user.app_id, &session_id);
        let session = SessionRecord {
            id: session_id,
            app_id: record.user.app_id.clone(),
            user_id: record.user.id.clone(),
            organization_id,
            refresh_hash: sha256_hex(refresh.expose_secret()),
            previous_hash: None,
            rotated_at: None,
            sealed_refresh: Some(self.keys.seal(refresh.expose_secret())?),
            created_at: now,
            last_used_at: now,
            idle_expires_at: later(now, lifetimes.session_idle),
            absolute_expires_at: later(now, lifetimes.session_absolute),
            user_agent: client.user_agent.map(|agent| cut(&agent, 512)),
            client_ip: client.ip,
            revoked_at: None,
        };
        self.storage.insert_session(&session).await?;
        let (access_token, expires_at) = self
            .access_token(&view, &session, now, lifetimes.access_token)
            .await?;
        Ok(LoggedIn {
            account: OwnAccount::of(
                view.record,
                view.memberships,
                session.organization_id.as_deref(),
            ),
            tokens: Tokens {
                access_token,
                expires_at,
                refresh_token: refresh,
            },
        })
    }

    /// Signs an access token of the session, valid for `lifetime` (the app's).
    async fn access_token(
        &self,
        view: &AccountView,
        session: &SessionRecord,
        now: Timestamp,
        lifetime: Duration,
    ) -> Result<(String, Timestamp), AccountError> {
        let record = &view.record;
        let grants = Grants::of(
            record,
            &view.memberships,
            session.organization_id.as_deref(),
        );
        let issued = now.as_unix_millis() / 1000;
        let ttl = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            aud: record.user.app_id.clone(),
            sub: record.user.id.clone(),
            sid: session.id.clone(),
            org: grants.organization_id,
            role: grants.role.map(|role| role.as_str().to_owned()),
            permissions: grants.permissions,
            email: record.user.email.clone(),
            email_verified: record.account.email_verified,
            iat: issued,
            nbf: issued,
            exp: issued.saturating_add(ttl),
            jti: random_text(16),
        };
        let token = self.keys.sign(&*self.storage, &claims).await?;
        Ok((
            token,
            Timestamp::from_unix_millis(claims.exp.saturating_mul(1000)),
        ))
    }

    /// A new access token and refresh token for a refresh token, which is spent. The same
    /// token presented again within the grace window gets the same successor; later, it ends
    /// the session (reuse detection).
    ///
    /// With `organization_id`, the session's active organization becomes that one (a member's
    /// own, checked before the token is spent: else `OrganizationAccessDenied`, token intact).
    pub async fn refresh(
        &self,
        refresh: &SecretString,
        organization_id: Option<&str>,
    ) -> Result<Tokens, AccountError> {
        let Some((app_id, session_id)) = parse_refresh_token(refresh.expose_secret()) else {
            return Err(AccountError::InvalidToken);
        };
        if let Some(wanted) = organization_id {
            let session = self
                .storage
                .find_session(&app_id, &session_id)
                .await?
                .ok_or(AccountError::InvalidToken)?;
            let member = self
                .storage
                .find_membership(&app_id, wanted, &session.user_id)
                .await?
                .is_some();
            if !member {
                return Err(AccountError::OrganizationAccessDenied);
            }
        }
        let lifetimes = match self.lifetimes(&app_id).await {
            Err(AccountError::UnknownApp) => return Err(AccountError::InvalidToken),
            found => found?,
        };
        let now = Timestamp::now();
        let next = refresh_token(&app_id, &session_id);
        let rotation = Rotation {
            presented_hash: sha256_hex(refresh.expose_secret()),
            next_hash: sha256_hex(next.expose_secret()),
            next_sealed: self.keys.seal(next.expose_secret())?,
            now,
            idle_expires_at: later(now, lifetimes.session_idle),
            grace_millis: i64::try_from(self.settings.refresh_grace.as_millis())
                .unwrap_or(i64::MAX),
        };
        let (session, refresh_token) = match self
            .storage
            .rotate_refresh(&app_id, &session_id, &rotation)
            .await?
        {
            RotationOutcome::Rotated(session) => (session, next),
            RotationOutcome::WithinGrace(session) => {
                let sealed = session
                    .sealed_refresh
                    .as_deref()
                    .ok_or(AccountError::InvalidToken)?;
                let successor = self.keys.open_text(sealed)?;
                (session, successor)
            }
            RotationOutcome::Reused(session) => {
                tracing::warn!(
                    app_id = %session.app_id,
                    user_id = %session.user_id,
                    session_id = %session.id,
                    "a spent refresh token was replayed; the session is revoked"
                );
                self.checked.forget(&session.id);
                return Err(AccountError::InvalidToken);
            }
            RotationOutcome::Unknown => return Err(AccountError::InvalidToken),
        };
        let mut session = session;
        if let Some(wanted) = organization_id
            && session.organization_id.as_deref() != Some(wanted)
        {
            if !self
                .storage
                .set_session_organization(&session.app_id, &session.id, Some(wanted))
                .await?
            {
                return Err(AccountError::InvalidToken);
            }
            session.organization_id = Some(wanted.to_owned());
            // The account's memberships may be newer than the cached view.
            self.accounts_read.forget(&session.app_id, &session.user_id);
        }
        let view = self
            .account(&session.app_id, &session.user_id)
            .await?
            .filter(|view| !view.record.account.disabled)
            .ok_or(AccountError::InvalidToken)?;
        let (access_token, expires_at) = self
            .access_token(&view, &session, now, lifetimes.access_token)
            .await?;
        Ok(Tokens {
            access_token,
            expires_at,
            refresh_token,
        })
    }

    /// The caller behind a bearer access token: verified (EdDSA, a known `kid`, `exp`/`nbf`,
    /// `iss`), for `app_id` when the request names one (else 403 `tenant_mismatch`), with its
    /// session still active.
    pub async fn authenticate(
        &self,
        token: &str,
        app_id: Option<&str>,
    ) -> Result<AccountCaller, AccountError> {
        let now = Timestamp::now();
        let leeway = i64::try_from(self.settings.leeway.as_secs().min(30)).unwrap_or(30);
        let claims = match self
            .verified
            .get(token, now.as_unix_millis() / 1000, leeway)
        {
            Some(claims) => claims?,
            None => {
                let claims = self
                    .keys
                    .verify(&*self.storage, token, now, &self.settings)
                    .await?;
                self.verified.put(token, &claims);
                claims
            }
        };
        if claims.iss != self.settings.issuer {
            return Err(AccountError::InvalidToken);
        }
        if app_id.is_some_and(|app_id| app_id != claims.aud) {
            return Err(AccountError::TenantMismatch);
        }
        if !self.session_is_active(&claims, now).await? {
            return Err(AccountError::InvalidToken);
        }
        Ok(AccountCaller { claims })
    }

    async fn session_is_active(
        &self,
        claims: &AccessClaims,
        now: Timestamp,
    ) -> Result<bool, AccountError> {
        if let Some(active) = self
            .checked
            .get(&claims.sid, self.settings.session_check_ttl)
        {
            return Ok(active);
        }
        let epoch = self.checked.epoch();
        let active = self
            .storage
            .find_session(&claims.aud, &claims.sid)
            .await?
            .is_some_and(|session| session.user_id == claims.sub && session.is_active(now));
        self.checked.put(&claims.sid, active, epoch);
        Ok(active)
    }

    /// Ends the caller's session, or with `all` every session of the account.
    pub async fn logout(&self, caller: &AccountCaller, all: bool) -> Result<(), AccountError> {
        let now = Timestamp::now();
        if all {
            self.storage
                .revoke_user_sessions(caller.app_id(), caller.user_id(), None, now)
                .await?;
            self.checked.clear();
        } else {
            self.storage
                .revoke_session(caller.app_id(), caller.session_id(), now)
                .await?;
            self.checked.forget(caller.session_id());
        }
        Ok(())
    }

    /// The caller's own account.
    pub async fn me(&self, caller: &AccountCaller) -> Result<OwnAccount, AccountError> {
        self.account(caller.app_id(), caller.user_id())
            .await?
            .map(|view| {
                OwnAccount::of(
                    view.record,
                    view.memberships,
                    caller.claims().org.as_deref(),
                )
            })
            .ok_or(AccountError::InvalidToken)
    }

    /// The account, read through a cache of [`AccountSettings::session_check_ttl`]: what this
    /// instance changes it forgets at once, other instances' changes show within that time.
    /// Never used where a stale read could matter (a password check reads the store).
    async fn account(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<AccountView>, AccountError> {
        let ttl = self.settings.session_check_ttl;
        if let Some(view) = self.accounts_read.get(app_id, user_id, ttl) {
            return Ok(Some(view));
        }
        // Taken before the store is read: a change forgotten meanwhile keeps this read out.
        let epoch = self.accounts_read.epoch();
        let Some(record) = self.storage.find_account(app_id, user_id).await? else {
            return Ok(None);
        };
        let memberships = self.storage.list_user_memberships(app_id, user_id).await?;
        let view = AccountView {
            record,
            memberships,
        };
        self.accounts_read.put(view.clone(), epoch);
        Ok(Some(view))
    }

    /// Changes the caller's profile: `name` (1 to 200 characters), `bio` (at most 2,000),
    /// `avatar_url` (an https URL of at most 2,048), and `data` validated by the app's schema
    /// as a submission is.
    pub async fn update_me(
        &self,
        caller: &AccountCaller,
        update: ProfileUpdate,
    ) -> Result<OwnAccount, AccountError> {
        let view = self
            .account(caller.app_id(), caller.user_id())
            .await?
            .ok_or(AccountError::InvalidToken)?;
        let active = caller.claims().org.as_deref();
        if Grants::of(&view.record, &view.memberships, active).role == Some(Role::Guest) {
            return Err(AccountError::Forbidden("a role above guest"));
        }
        let mut problems = Vec::new();
        let trimmed = |value: Option<Option<String>>| {
            value.map(|text| {
                text.map(|text| text.trim().to_owned())
                    .filter(|text| !text.is_empty())
            })
        };
        let name = trimmed(update.name);
        if let Some(Some(name)) = &name
            && let Some(problem) = check_name("name", name)
        {
            problems.push(problem);
        }
        let bio = trimmed(update.bio);
        if let Some(Some(bio)) = &bio
            && bio.chars().count() > 2_000
        {
            problems.push(Violation::new(
                "bio",
                "too_long",
                "must be at most 2000 characters",
            ));
        }
        let avatar_url = trimmed(update.avatar_url);
        if let Some(Some(url)) = &avatar_url
            && !is_https_url(url)
        {
            problems.push(Violation::new(
                "avatar_url",
                "url",
                "must be an https URL of at most 2048 characters",
            ));
        }
        let mut schema_version = None;
        let data = match update.data {
            None => None,
            Some(data) => {
                let context = self.app(caller.app_id()).await?;
                schema_version = Some(context.schema_version);
                match context.schema.accept(data) {
                    Ok(accepted) => Some(accepted),
                    Err(found) => {
                        problems.extend(found.into_vec());
                        None
                    }
                }
            }
        };
        if !problems.is_empty() {
            return Err(AccountError::Invalid(Violations(problems)));
        }
        let changes = ProfileChanges {
            name,
            bio,
            avatar_url,
            data,
            schema_version,
        };
        match self
            .storage
            .update_profile(
                caller.app_id(),
                caller.user_id(),
                &changes,
                Timestamp::now(),
            )
            .await
        {
            Ok(record) => {
                self.accounts_read.forget(caller.app_id(), caller.user_id());
                Ok(OwnAccount::of(record, view.memberships, active))
            }
            Err(StorageError::NotFound(_)) => Err(AccountError::InvalidToken),
            Err(other) => Err(other.into()),
        }
    }

    /// Changes the caller's password and ends every other session of the account.
    pub async fn change_password(
        &self,
        caller: &AccountCaller,
        current: SecretString,
        new: SecretString,
    ) -> Result<(), AccountError> {
        let record = self
            .storage
            .find_account(caller.app_id(), caller.user_id())
            .await?
            .ok_or(AccountError::InvalidToken)?;
        let context_words = [record.user.email.as_str()];
        if let Some(problem) = check_new_password("new_password", &new, &context_words) {
            return Err(AccountError::Invalid(Violations(vec![problem])));
        }
        let stored = record.account.password_hash.clone();
        if !self.hasher.verify(current, stored).await? {
            return Err(AccountError::WrongPassword);
        }
        let hash = self.hasher.hash(new).await?;
        let now = Timestamp::now();
        self.accounts_read.forget(caller.app_id(), caller.user_id());
        self.storage
            .replace_account_password(caller.app_id(), caller.user_id(), &hash, now)
            .await?;
        let ended = self
            .storage
            .revoke_user_sessions(
                caller.app_id(),
                caller.user_id(),
                Some(caller.session_id()),
                now,
            )
            .await?;
        self.checked.clear();
        tracing::info!(
            app_id = caller.app_id(),
            user_id = caller.user_id(),
            ended,
            "account password changed; other sessions ended"
        );
        Ok(())
    }

    /// The caller's active sessions, newest first.
    pub async fn sessions(
        &self,
        caller: &AccountCaller,
    ) -> Result<Vec<SessionRecord>, AccountError> {
        Ok(self
            .storage
            .list_user_sessions(caller.app_id(), caller.user_id(), Timestamp::now())
            .await?)
    }

    /// Ends one of the caller's sessions.
    pub async fn end_session(
        &self,
        caller: &AccountCaller,
        session_id: &str,
    ) -> Result<(), AccountError> {
        let owned = self
            .storage
            .find_session(caller.app_id(), session_id)
            .await?
            .is_some_and(|session| {
                session.user_id == caller.user_id() && session.revoked_at.is_none()
            });
        if !owned {
            return Err(AccountError::SessionNotFound);
        }
        self.storage
            .revoke_session(caller.app_id(), session_id, Timestamp::now())
            .await?;
        self.checked.forget(session_id);
        Ok(())
    }

    /// How long after a key is replaced tokens it signed may still be valid.
    fn max_token_age(&self) -> Duration {
        self.settings.access_token_ttl + self.settings.leeway
    }
}

/// Names: 1 to 200 characters, no control characters.
fn check_name(field: &str, name: &str) -> Option<Violation> {
    let length = name.chars().count();
    if length == 0 || length > 200 || name.chars().any(char::is_control) {
        return Some(Violation::new(
            field,
            "invalid",
            "must be 1 to 200 characters, without control characters",
        ));
    }
    None
}

fn is_https_url(url: &str) -> bool {
    url.len() <= 2_048
        && url
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An app's lifetimes in effect.
#[derive(Debug, Clone, Copy)]
struct Lifetimes {
    access_token: Duration,
    session_idle: Duration,
    session_absolute: Duration,
}

fn later(now: Timestamp, duration: Duration) -> Timestamp {
    let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    Timestamp::from_unix_millis(now.as_unix_millis().saturating_add(millis))
}

fn cut(text: &str, max_bytes: usize) -> String {
    let mut end = text.len().min(max_bytes);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// `bytes` random bytes from the OS, as base64url text.
/// `bytes` from the OS CSPRNG as URL-safe base64 without padding.
pub(crate) fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    getrandom::fill(&mut buffer).expect("the OS random number generator works");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer)
}

fn refresh_token(app_id: &str, session_id: &str) -> SecretString {
    let app = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(app_id);
    format!("{app}.{session_id}.{}", random_text(32)).into()
}

/// The app a refresh token names, if it has the shape of one (for the HTTP tier's CORS check
/// and rate limit before the token is spent).
pub fn refresh_token_app(token: &str) -> Option<String> {
    parse_refresh_token(token).map(|(app, _)| app)
}

/// The app id and session id a refresh token names, if it has the shape of one.
fn parse_refresh_token(token: &str) -> Option<(String, String)> {
    let mut parts = token.split('.');
    let (app, session, secret) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || session.len() != 22 || secret.len() != 43 {
        return None;
    }
    let app = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(app)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())?;
    AppId::parse(&app)?;
    Some((app, session.to_owned()))
}

fn sha256_hex(text: &str) -> String {
    crate::ids::lower_hex(&Sha256::digest(text.as_bytes()))
}

/// Access tokens whose signature and header were verified, with their claims, so that a token
/// used again skips the signature check (the largest cost of an authenticated request). Keyed
/// by the whole token text: any changed byte is another key, verified afresh. `exp` is checked
/// at every use; the session is checked by the caller as for a fresh token.
#[derive(Debug, Default)]
struct VerifiedTokens {
    claims: Mutex<HashMap<String, AccessClaims>>,
}

impl VerifiedTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, AccessClaims>> {
        // Plain inserts and removals: a poisoned map is still consistent.
        self.claims
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The claims of a token verified before: `Some(Err(TokenExpired))` once it has expired.
    fn get(
        &self,
        token: &str,
        now: i64,
        leeway: i64,
    ) -> Option<Result<AccessClaims, AccountError>> {
        let claims = self.lock().get(token).cloned()?;
        if now > claims.exp.saturating_add(leeway) {
            self.lock().remove(token);
            return Some(Err(AccountError::TokenExpired));
        }
        Some(Ok(claims))
    }

    fn put(&self, token: &str, claims: &AccessClaims) {
        let mut verified = self.lock();
        if verified.len() >= 50_000 {
            verified.clear();
        }
        verified.insert(token.to_owned(), claims.clone());
    }
}

/// Accounts read for tokens' requests, each reused for a short time.
///
/// A read that started before a `forget` is not kept (its `epoch` is older), else a request
/// reading the store just before a change could put the old account back for a while.
#[derive(Debug, Default)]
struct AccountReads {
    records: Mutex<HashMap<(String, String), (Instant, AccountView)>>,
    forgotten: std::sync::atomic::AtomicU64,
}

impl AccountReads {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), (Instant, AccountView)>> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, app_id: &str, user_id: &str, ttl: Duration) -> Option<AccountView> {
        let records = self.lock();
        let (at, view) = records.get(&(app_id.to_owned(), user_id.to_owned()))?;
        (at.elapsed() < ttl).then(|| view.clone())
    }

    /// What `put` is given back: the number of `forget`s so far.
    fn epoch(&self) -> u64 {
        self.forgotten.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Keeps a read that started at `epoch`, unless something was forgotten since.
    fn put(&self, view: AccountView, epoch: u64) {
        let mut records = self.lock();
        if self.epoch() != epoch {
            return;
        }
        if records.len() >= 50_000 {
            records.clear();
        }
        let key = (view.record.user.app_id.clone(), view.record.user.id.clone());
        records.insert(key, (Instant::now(), view));
    }

    fn forget(&self, app_id: &str, user_id: &str) {
        let mut records = self.lock();
        self.forgotten
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        records.remove(&(app_id.to_owned(), user_id.to_owned()));
    }
}

/// Recent answers to "is this session active?", each reused for a short time; as with
/// [`AccountReads`], an answer read before a `forget` is not kept.
#[derive(Debug, Default)]
struct SessionChecks {
    answers: Mutex<HashMap<String, (Instant, bool)>>,
    forgotten: std::sync::atomic::AtomicU64,
}

impl SessionChecks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, bool)>> {
        // Plain inserts and removals: a poisoned map is still consistent.
        self.answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn get(&self, session_id: &str, ttl: Duration) -> Option<bool> {
        let answers = self.lock();
        let (at, active) = answers.get(session_id)?;
        (at.elapsed() < ttl).then_some(*active)
    }

    fn epoch(&self) -> u64 {
        self.forgotten.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn put(&self, session_id: &str, active: bool, epoch: u64) {
        let mut answers = self.lock();
        if self.epoch() != epoch {
            return;
        }
        if answers.len() >= 100_000 {
            answers.clear();
        }
        answers.insert(session_id.to_owned(), (Instant::now(), active));
    }

    fn forget(&self, session_id: &str) {
        let mut answers = self.lock();
        self.forgotten
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        answers.remove(session_id);
    }

    fn clear(&self) {
        let mut answers = self.lock();
        self.forgotten
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        answers.clear();
    }
}

/// The signing keys, read from the store and kept in memory; read again when a token names a
/// `kid` we do not know (another instance rotated) at most once a second, and every minute.
#[derive(Debug)]
struct KeyRing {
    crypto: Arc<dyn TokenCrypto>,
    state: RwLock<KeyState>,
}

#[derive(Debug)]
struct KeyState {
    /// Newest first.
    keys: Vec<storage_port::SigningKeyRecord>,
    /// The newest key whose private half opens.
    signing: Option<storage_port::SigningKeyRecord>,
    loaded_at: Option<Instant>,
}

const KEY_REFRESH: Duration = Duration::from_secs(60);
const KEY_RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

impl KeyRing {
    fn new(crypto: Arc<dyn TokenCrypto>) -> Self {
        Self {
            crypto,
            state: RwLock::new(KeyState {
                keys: Vec::new(),
                signing: None,
                loaded_at: None,
            }),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, KeyState> {
        self.state
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, KeyState> {
        self.state
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn add<S: Storage + ?Sized>(&self, storage: &S) -> Result<String, AccountError> {
        let key = self
            .crypto
            .generate_key(Timestamp::now())
            .map_err(AccountError::Keys)?;
        storage.insert_signing_key(&key).await?;
        tracing::info!(kid = %key.kid, "new signing key");
        Ok(key.kid)
    }

    /// Reads the keys; with `create`, adds one when none can sign.
    async fn load<S: Storage + ?Sized>(
        &self,
        storage: &S,
        create: bool,
    ) -> Result<(), AccountError> {
        let mut keys = storage.list_signing_keys().await?;
        let mut signing = self.first_usable(&keys);
        if signing.is_none() && create {
            if !keys.is_empty() {
                tracing::warn!(
                    "no stored signing key opens with this tokens.key_encryption_key; adding a \
                     new one (tokens signed before stay verifiable with their public keys)"
                );
            }
            self.add(storage).await?;
            keys = storage.list_signing_keys().await?;
            signing = self.first_usable(&keys);
        }
        let mut state = self.write();
        state.keys = keys;
        state.signing = signing;
        state.loaded_at = Some(Instant::now());
        Ok(())
    }

    fn first_usable(
        &self,
        keys: &[storage_port::SigningKeyRecord],
    ) -> Option<storage_port::SigningKeyRecord> {
        keys.iter()
            .find(|key| self.crypto.open(&key.sealed_private_key).is_ok())
            .cloned()
    }

    async fn refresh_if_stale<S: Storage + ?Sized>(&self, storage: &S) -> Result<(), AccountError> {
        let stale = self
            .read()
            .loaded_at
            .is_none_or(|at| at.elapsed() >= KEY_REFRESH);
        if stale {
            self.load(storage, true).await?;
        }
        Ok(())
    }

    async fn sign<S: Storage + ?Sized>(
        &self,
        storage: &S,
        claims: &AccessClaims,
    ) -> Result<String, AccountError> {
        self.refresh_if_stale(storage).await?;
        let key = self.read().signing.clone();
        let key = match key {
            Some(key) => key,
            None => {
                self.load(storage, true).await?;
                self.read()
                    .signing
                    .clone()
                    .ok_or(AccountError::Keys(TokenError::Unsealable))?
            }
        };
        self.crypto.sign(&key, claims).map_err(AccountError::Keys)
    }

    async fn verify<S: Storage + ?Sized>(
        &self,
        storage: &S,
        token: &str,
        now: Timestamp,
        settings: &AccountSettings,
    ) -> Result<AccessClaims, AccountError> {
        self.refresh_if_stale(storage).await?;
        let now_seconds = now.as_unix_millis() / 1000;
        let leeway = i64::try_from(settings.leeway.as_secs().min(30)).unwrap_or(30);
        let keys = self.verifying_keys(now, settings);
        match self.crypto.verify(&keys, token, now_seconds, leeway) {
            Err(TokenError::UnknownKey) if self.may_reload() => {
                // Perhaps another instance rotated: read the keys once more.
                self.load(storage, false).await?;
                let keys = self.verifying_keys(now, settings);
                self.crypto.verify(&keys, token, now_seconds, leeway)
            }
            outcome => outcome,
        }
        .map_err(|error| match error {
            TokenError::Expired => AccountError::TokenExpired,
            _ => AccountError::InvalidToken,
        })
    }

    fn may_reload(&self) -> bool {
        self.read()
            .loaded_at
            .is_none_or(|at| at.elapsed() >= KEY_RELOAD_AT_MOST_EVERY)
    }

    /// The keys that may have signed a token still valid at `now`: the newest, and each older
    /// one until `ttl + leeway` after the key that replaced it was made.
    fn verifying_keys(
        &self,
        now: Timestamp,
        settings: &AccountSettings,
    ) -> Vec<storage_port::SigningKeyRecord> {
        let state = self.read();
        live_keys(
            &state.keys,
            now,
            settings.access_token_ttl + settings.leeway,
        )
    }

    fn published(&self, now: Timestamp, max_age: Duration) -> Result<Vec<Value>, AccountError> {
        let state = self.read();
        live_keys(&state.keys, now, max_age)
            .iter()
            .map(|key| self.crypto.public_jwk(key).map_err(AccountError::Keys))
            .collect()
    }

    fn seal(&self, text: &str) -> Result<String, AccountError> {
        self.crypto
            .seal(text.as_bytes())
            .map_err(AccountError::Keys)
    }

    fn open_text(&self, sealed: &str) -> Result<SecretString, AccountError> {
        let bytes = self
            .crypto
            .open(sealed)
            .map_err(|_| AccountError::InvalidToken)?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| AccountError::InvalidToken)
    }
}

/// `keys` (newest first) that can still have valid tokens at `now`.
fn live_keys(
    keys: &[storage_port::SigningKeyRecord],
    now: Timestamp,
    max_age: Duration,
) -> Vec<storage_port::SigningKeyRecord> {
    let max_age = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
    let mut live = Vec::new();
    let mut replaced_at: Option<i64> = None;
    for key in keys {
        match replaced_at {
            Some(at) if now.as_unix_millis().saturating_sub(at) > max_age => break,
            _ => live.push(key.clone()),
        }
        replaced_at = Some(key.created_at.as_unix_millis());
    }
    live
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_name_their_app_and_session() {
        let token = refresh_token("my-site.v2", "AAAAAAAAAAAAAAAAAAAAAA");
        let (app, session) = parse_refresh_token(token.expose_secret()).expect("parses");
        assert_eq!(app, "my-site.v2");
        assert_eq!(session, "AAAAAAAAAAAAAAAAAAAAAA");
        for bad in ["", "a.b", "a.b.c.d", "bXk.AAAAAAAAAAAAAAAAAAAAAA.short"] {
            assert!(parse_refresh_token(bad).is_none(), "{bad}");
        }
        assert_ne!(
            refresh_token("a", "AAAAAAAAAAAAAAAAAAAAAA").expose_secret(),
            refresh_token("a", "AAAAAAAAAAAAAAAAAAAAAA").expose_secret()
        );
    }

    #[test]
    fn replaced_keys_stay_published_while_their_tokens_can_live() {
        let key = |kid: &str, created: i64| storage_port::SigningKeyRecord {
            kid: kid.into(),
            algorithm: "EdDSA".into(),
            public_key: String::new(),
            sealed_private_key: String::new(),
            created_at: Timestamp::from_unix_millis(created),
        };
        let keys = [key("k3", 10_000), key("k2", 5_000), key("k1", 0)];
        let kids = |now: i64| {
            live_keys(
                &keys,
                Timestamp::from_unix_millis(now),
                Duration::from_millis(1_000),
            )
            .into_iter()
            .map(|key| key.kid)
            .collect::<Vec<_>>()
        };
        assert_eq!(kids(10_500), ["k3", "k2"]);
        assert_eq!(kids(11_001), ["k3"]);
        assert_eq!(kids(5_500), ["k3", "k2", "k1"]);
    }

    #[test]
    fn own_reads_hide_lead_data_until_the_email_is_verified() {
        let record = |verified: bool| AccountRecord {
            user: storage_port::UserRecord {
                id: "u".into(),
                app_id: "a".into(),
                email: "e@example.com".into(),
                data: serde_json::json!({"age": 40, "plan": "pro"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                schema_version: 1,
                created_at: Timestamp::from_unix_millis(0),
                updated_at: Timestamp::from_unix_millis(0),
            },
            account: storage_port::AccountFields {
                email_verified: verified,
                lead_keys: vec!["age".into()],
                ..Default::default()
            },
        };
        assert_eq!(
            Value::Object(
                OwnAccount::of(record(false), Vec::new(), None)
                    .record
                    .user
                    .data
            ),
            serde_json::json!({"plan": "pro"})
        );
        assert_eq!(
            Value::Object(
                OwnAccount::of(record(true), Vec::new(), None)
                    .record
                    .user
                    .data
            ),
            serde_json::json!({"age": 40, "plan": "pro"})
        );
    }

    /// A request reads the store, the account changes and is forgotten, then the request
    /// would cache what it read: it must not, or the old account shows until the entry ages.
    #[test]
    fn a_read_that_started_before_a_change_is_not_cached() {
        let view = |verified: bool| AccountView {
            record: AccountRecord {
                user: storage_port::UserRecord {
                    id: "u".into(),
                    app_id: "a".into(),
                    email: "e@example.com".into(),
                    data: serde_json::Map::new(),
                    schema_version: 1,
                    created_at: Timestamp::from_unix_millis(0),
                    updated_at: Timestamp::from_unix_millis(0),
                },
                account: storage_port::AccountFields {
                    email_verified: verified,
                    ..Default::default()
                },
            },
            memberships: Vec::new(),
        };
        let ttl = Duration::from_secs(60);
        let reads = AccountReads::default();
        let started = reads.epoch();
        reads.forget("a", "u");
        reads.put(view(false), started);
        assert!(
            reads.get("a", "u", ttl).is_none(),
            "the stale read was kept"
        );
        reads.put(view(true), reads.epoch());
        let kept = reads
            .get("a", "u", ttl)
            .expect("a read after the change is kept");
        assert!(kept.record.account.email_verified);

        let checks = SessionChecks::default();
        let started = checks.epoch();
        checks.forget("s");
        checks.put("s", true, started);
        assert_eq!(
            checks.get("s", ttl),
            None,
            "a revoked session's old answer was kept"
        );
        checks.put("s", false, checks.epoch());
        assert_eq!(checks.get("s", ttl), Some(false));
    }
}

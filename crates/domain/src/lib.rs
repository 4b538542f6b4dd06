//! The rules of Users API, free of HTTP and of any database: app ids, emails, origins,
//! passwords and credentials, who may do what (`access`), and the services built on the
//! storage port.

mod access;
mod accounts;
mod api_keys;
mod app_cache;
mod apps;
mod email;
mod ids;
mod mail;
mod mailer;
mod operators;
mod organizations;
mod origins;
mod password;
mod password_policy;
pub mod permissions;
mod records;
mod submission;
mod tokens;

pub mod admins;

pub use access::{AdminAccess, AppAccess, Forbidden, ManagementPermission};
pub use accounts::{
    Acceptance, AccountCaller, AccountError, AccountService, AccountSettings, ClientInfo,
    InvitationStatus, InvitationView, LoggedIn, OwnAccount, ProfileUpdate, Registration, Tokens,
    VerifiedEmail, refresh_token_app,
};
pub use api_keys::{
    ApiKeyCaller, ApiKeyError, ApiKeyService, CreatedApiKey, KEY_PREFIX, NewApiKey,
};
pub use app_cache::{AppCache, AppContext};
pub use apps::{
    AccountSwitches, AppError, AppService, LifetimeLimits, NewApp, SchemaChange, SchemaSave,
};
pub use email::{EmailAddress, is_invisible};
pub use ids::{AppId, new_incarnation};
pub use mail::{
    DeliveryPolicy, MailConfig, MailError, MailService, MailSettingsUpdate, OutboxSender, Rendered,
    Round, TEMPLATE_VARIABLES, TestSend, check_mail_settings, default_template, describe_duration,
    escape_html, render, template_for,
};
pub use mailer::{LogMailer, Mailer, SendError};
pub use operators::{
    OPERATOR_SESSIONS, Operator, OperatorAuthError, OperatorClaims, OperatorCredentials,
    OperatorRole, OperatorSessionPolicy, OperatorSessions,
};
pub use organizations::{
    Caller, DirectoryError, ManagedUser, NewInvitation, NewOrganization, NewUser, OrganizationList,
    OrganizationService, OrganizationUpdate, OrganizationView, UserList, UserListing, UserUpdate,
    normalize_domain, slug_of,
};
pub use origins::{AllowedOrigins, NotAnOrigin, normalize_origin};
pub use password::{HashingSettings, PasswordHasher, generate_password};
pub use password_policy::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, check_new_password};
pub use records::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RecordError, RecordExport, RecordListing, RecordScan,
    RecordService, SchemaImpact,
};
pub use submission::{SubmissionInput, SubmissionService, SubmitError, Submitted};
pub use tokens::{AccessClaims, TokenCrypto, TokenError};

use std::sync::Arc;
use std::time::Duration;

use storage_port::{Storage, StorageError};

/// Settings of the domain services.
#[derive(Debug, Clone)]
pub struct DomainSettings {
    pub hashing: HashingSettings,
    /// How long an app's settings and schema are reused before they are read again. Saves made
    /// through this instance take effect at once; other instances see them within this time.
    pub app_cache_ttl: Duration,
    /// How long operators' dashboard sessions last.
    pub operator_sessions: OperatorSessionPolicy,
    /// End-user accounts' tokens and sessions.
    pub accounts: AccountSettings,
    /// How mail is addressed and how long its links work.
    pub mail: MailConfig,
}

impl Default for DomainSettings {
    fn default() -> Self {
        Self {
            hashing: HashingSettings::default(),
            app_cache_ttl: Duration::from_secs(1),
            operator_sessions: OperatorSessionPolicy::default(),
            accounts: AccountSettings::default(),
            mail: MailConfig::default(),
        }
    }
}

/// Every service, built once over one store and shared by the HTTP tier and the CLI. The store
/// itself is private: callers reach data only through the services and their access rules.
#[derive(Debug)]
pub struct Services<S: ?Sized> {
    storage: Arc<S>,
    pub submissions: SubmissionService<S>,
    pub apps: AppService<S>,
    pub admins: admins::AdminService<S>,
    pub operator_sessions: OperatorSessions<S>,
    pub records: RecordService<S>,
    pub accounts: AccountService<S>,
    pub organizations: OrganizationService<S>,
    pub api_keys: ApiKeyService<S>,
    pub mail: MailService<S>,
    pub hasher: PasswordHasher,
    wake_sender: Arc<tokio::sync::Notify>,
}

impl<S: Storage + ?Sized> Services<S> {
    /// `crypto` signs and verifies the accounts' access tokens (`token-adapter` in the server).
    pub fn new(
        storage: Arc<S>,
        settings: &DomainSettings,
        crypto: Arc<dyn TokenCrypto>,
    ) -> Result<Self, password::HashError> {
        let hasher = PasswordHasher::new(&settings.hashing)?;
        let cache = Arc::new(AppCache::new(settings.app_cache_ttl));
        let wake_sender = Arc::new(tokio::sync::Notify::new());
        let postman = Arc::new(mail::Postman::new(
            storage.clone(),
            settings.mail.clone(),
            wake_sender.clone(),
        ));
        Ok(Self {
            submissions: SubmissionService::new(storage.clone(), cache.clone()),
            apps: AppService::new(
                storage.clone(),
                cache.clone(),
                hasher.clone(),
                LifetimeLimits::of(&settings.accounts),
            ),
            admins: admins::AdminService::new(storage.clone(), hasher.clone()),
            operator_sessions: OperatorSessions::new(
                storage.clone(),
                hasher.clone(),
                settings.operator_sessions,
            ),
            records: RecordService::new(storage.clone()),
            organizations: OrganizationService::new(
                storage.clone(),
                cache.clone(),
                postman.clone(),
            ),
            mail: MailService::new(storage.clone(), cache.clone(), postman.clone()),
            api_keys: ApiKeyService::new(storage.clone()),
            accounts: AccountService::new(
                storage.clone(),
                cache,
                hasher.clone(),
                crypto,
                settings.accounts.clone(),
                postman,
            ),
            storage,
            hasher,
            wake_sender,
        })
    }

    /// The sender of the outbox over this store, delivering through `mailer`; woken whenever a
    /// service here queues a message. The server runs one per instance.
    pub fn outbox_sender(
        &self,
        mailer: Arc<dyn Mailer>,
        policy: DeliveryPolicy,
    ) -> OutboxSender<S> {
        OutboxSender::new(
            self.storage.clone(),
            mailer,
            policy,
            self.wake_sender.clone(),
        )
    }

    /// Whether the store answers (the readiness probe).
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.storage.ping().await
    }
}

//! The rules of Users API, free of HTTP and of any database: app ids, emails, origins,
//! passwords and credentials, and the services built on the storage port.

mod app_cache;
mod apps;
mod email;
mod ids;
mod origins;
mod password;
mod sessions;
mod submission;
mod users;

pub mod admins;

pub use app_cache::{AppCache, AppContext};
pub use apps::{AppError, AppService, NewApp};
pub use email::{EmailAddress, is_invisible};
pub use ids::{AppId, new_incarnation};
pub use origins::{AllowedOrigins, NotAnOrigin, normalize_origin};
pub use password::{HashingSettings, PasswordHasher, generate_password};
pub use sessions::{AuthError, Principal, Role, SessionClaims, SessionPolicy, SessionService};
pub use submission::{SubmissionInput, SubmissionService, SubmitError, Submitted};
pub use users::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SchemaImpact, UserError, UserListing, UserService,
};

use std::sync::Arc;
use std::time::Duration;

use storage_port::Storage;

/// Settings of the domain services.
#[derive(Debug, Clone)]
pub struct DomainSettings {
    pub hashing: HashingSettings,
    /// How long an app's settings and schema are reused before they are read again. Saves made
    /// through this instance take effect at once; other instances see them within this time.
    pub app_cache_ttl: Duration,
    /// How long dashboard sessions last.
    pub sessions: SessionPolicy,
}

impl Default for DomainSettings {
    fn default() -> Self {
        Self {
            hashing: HashingSettings::default(),
            app_cache_ttl: Duration::from_secs(1),
            sessions: SessionPolicy::default(),
        }
    }
}

/// Every service, built once over one store and shared by the HTTP tier and the CLI.
#[derive(Debug)]
pub struct Services<S: ?Sized> {
    pub storage: Arc<S>,
    pub submissions: SubmissionService<S>,
    pub apps: AppService<S>,
    pub admins: admins::AdminService<S>,
    pub sessions: SessionService<S>,
    pub users: UserService<S>,
    pub hasher: PasswordHasher,
}

impl<S: Storage + ?Sized> Services<S> {
    pub fn new(storage: Arc<S>, settings: &DomainSettings) -> Result<Self, password::HashError> {
        let hasher = PasswordHasher::new(&settings.hashing)?;
        let cache = Arc::new(AppCache::new(settings.app_cache_ttl));
        Ok(Self {
            submissions: SubmissionService::new(storage.clone(), cache.clone()),
            apps: AppService::new(storage.clone(), cache, hasher.clone()),
            admins: admins::AdminService::new(storage.clone(), hasher.clone()),
            sessions: SessionService::new(storage.clone(), hasher.clone(), settings.sessions),
            users: UserService::new(storage.clone()),
            storage,
            hasher,
        })
    }
}

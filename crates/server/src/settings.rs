//! Configuration: built-in defaults, then `base.yaml`, then `{environment}.yaml` from the
//! configuration folder, then `USERS_API__SECTION__KEY` environment variables, then the
//! platform conventions `PORT` and `MONGO_URL` / `MONGODB_URI`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// A setting that cannot be used as given; each message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("USERS_API_ENVIRONMENT must be local or production, not '{0}'")]
    UnknownEnvironment(String),
    #[error(transparent)]
    SessionKey(#[from] http_adapter::SessionKeyError),
    #[error(
        "session.secret_key is required (USERS_API__SESSION__SECRET_KEY: base64 of at least 64 \
         random bytes, e.g. `openssl rand -base64 64`)"
    )]
    SessionKeyRequired,
    #[error("session.public_origin '{0}' is not an origin such as https://example.com")]
    PublicOrigin(String),
    #[error("trusted proxy '{0}' is not an IP address or CIDR network")]
    TrustedProxy(String),
    #[error(transparent)]
    KeyEncryptionKey(#[from] token_adapter::KeyEncryptionKeyError),
    #[error(
        "tokens.key_encryption_key is required (USERS_API__TOKENS__KEY_ENCRYPTION_KEY: base64 of \
         at least 32 random bytes, e.g. `openssl rand -base64 32`)"
    )]
    KeyEncryptionKeyRequired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Local,
    Production,
}

impl Environment {
    /// From `USERS_API_ENVIRONMENT` (`local` when unset).
    pub fn from_env() -> Result<Self, SettingsError> {
        match std::env::var("USERS_API_ENVIRONMENT")
            .as_deref()
            .unwrap_or("local")
        {
            "local" => Ok(Self::Local),
            "production" => Ok(Self::Production),
            other => Err(SettingsError::UnknownEnvironment(other.to_owned())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub application: ApplicationSettings,
    pub storage: StorageSettings,
    pub hashing: HashingConfig,
    pub rate_limit: RateLimitConfig,
    pub admin: AdminSettings,
    pub session: SessionConfig,
    pub dashboard: DashboardSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
    pub tokens: TokensConfig,
    pub mail: MailSettings,
}

/// E-mail (ACCOUNTS.md §3, docs/deployment.md): where it goes, from whom, how it is retried.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    /// `smtp://host:port` (plain; `?tls=required` for STARTTLS), `smtps://user:pass@host:465`
    /// (TLS). Unset: the development mailer, which only logs; the messages stay readable in the
    /// dashboard's e-mail log.
    pub smtp_url: Option<SecretString>,
    /// The sender's address; the display name is the app's (or its mail settings' `senderName`).
    pub from: String,
    /// Run the background sender in this instance (several may: a lease gives each message to one).
    pub sender: bool,
    pub poll_interval_ms: u64,
    pub send_timeout_seconds: u64,
    pub retry_base_seconds: u64,
    pub retry_max_seconds: u64,
    pub max_attempts: u32,
    /// Sent and failed messages, and spent or expired links, are deleted after this.
    pub keep_days: u64,
    pub verify_email_hours: u64,
    pub reset_password_minutes: u64,
    pub invitation_days: u64,
    /// A verification resend or reset for one address at most this often.
    pub resend_interval_seconds: u64,
    /// Warn loudly at start-up when `smtp_url` is unset (set in production).
    pub warn_without_smtp: bool,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "no-reply@localhost".to_owned(),
            sender: true,
            poll_interval_ms: 2000,
            send_timeout_seconds: 30,
            retry_base_seconds: 30,
            retry_max_seconds: 3600,
            max_attempts: 8,
            keep_days: 30,
            verify_email_hours: 24,
            reset_password_minutes: 60,
            invitation_days: 7,
            resend_interval_seconds: 60,
            warn_without_smtp: false,
        }
    }
}

/// End-user accounts' tokens (ACCOUNTS.md §1).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TokensConfig {
    /// Base64 of at least 32 random bytes; seals the signing keys' private halves in the store
    /// (and refresh tokens' successors). Every instance needs the same one. Unset: a throwaway
    /// key (every restart then adds a signing key; tokens signed before stay verifiable through
    /// their public keys, but refresh retries across a restart fail). Required in production.
    pub key_encryption_key: Option<SecretString>,
    /// Refuse to start without `key_encryption_key` (set in production).
    pub require_key_encryption_key: bool,
    /// The tokens' `iss`: this service's public URL. Unset: `session.public_origin`, else
    /// `http://localhost:{port}`.
    pub issuer: Option<String>,
    pub access_token_minutes: u64,
    pub session_idle_days: u64,
    pub session_absolute_days: u64,
    /// How long a spent refresh token still gets the same successor.
    pub refresh_grace_seconds: u64,
}

impl Default for TokensConfig {
    fn default() -> Self {
        Self {
            key_encryption_key: None,
            require_key_encryption_key: false,
            issuer: None,
            access_token_minutes: 15,
            session_idle_days: 30,
            session_absolute_days: 90,
            refresh_grace_seconds: 10,
        }
    }
}

/// `GET /metrics` (Prometheus text format), off unless enabled, and then only on an address of
/// its own, never on the public port.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    pub enabled: bool,
    /// `host:port` of the metrics listener; port 0 picks a free one.
    pub address: String,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            address: "127.0.0.1:9090".into(),
        }
    }
}

/// The admin dashboard (the React app in `web-admin/`), served at `/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DashboardSettings {
    /// Its built files; when `index.html` is missing there, `/` says how to build it.
    pub dist: PathBuf,
    /// `false`: serve no dashboard at all (an API-only deployment).
    pub enabled: bool,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        Self {
            dist: PathBuf::from("web-admin/dist"),
            enabled: true,
        }
    }
}

/// Dashboard sessions (signed and encrypted cookies).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SessionConfig {
    /// Base64 (standard or URL-safe) of at least 64 random bytes; signs and encrypts the
    /// session cookie. Every instance behind one load balancer needs the same key. When unset a
    /// throwaway key is generated at start-up (sessions then end at every restart).
    pub secret_key: Option<SecretString>,
    /// Refuse to start without `secret_key` (set this in production).
    pub require_secret_key: bool,
    /// Send the cookie over HTTPS only; turn off for plain-HTTP local development.
    pub secure_cookie: bool,
    /// A session unused this long ends.
    pub idle_timeout_minutes: u64,
    /// A session ends this long after login.
    pub absolute_timeout_minutes: u64,
    /// The dashboard's public origin (`https://users.example.com`); state-changing dashboard
    /// requests must come from it. Unset: the request's own scheme and host.
    pub public_origin: Option<String>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            secret_key: None,
            require_secret_key: false,
            secure_cookie: true,
            idle_timeout_minutes: 120,
            absolute_timeout_minutes: 24 * 60,
            public_origin: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ApplicationSettings {
    pub host: String,
    pub port: u16,
    /// Worker threads; one per core when unset.
    pub workers: Option<usize>,
    pub shutdown_timeout_seconds: u64,
    pub public_body_limit_bytes: usize,
    /// Seconds a request body may take to arrive after its headers; then 408.
    pub body_timeout_secs: u64,
    /// Open connections per worker; unset: as many as the open-file limit leaves room for
    /// (at most actix-web's 25,000).
    pub max_connections: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Mongodb,
    Memory,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    pub backend: Backend,
    pub sqlite: SqliteConfig,
    pub mongodb: MongoConfig,
    /// How long an app's settings and schema are reused by the public routes (milliseconds).
    pub app_cache_ttl_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SqliteConfig {
    pub path: PathBuf,
    pub sync_every_commit: bool,
    pub max_readers: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MongoConfig {
    pub uri: Option<String>,
    /// The database; when unset, the one named in the URI, else `users_api`.
    pub database: Option<String>,
    pub max_pool_size: u32,
    pub connect_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HashingConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: Option<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    pub enabled: bool,
    pub per_ip_per_second: u32,
    pub per_ip_burst: u32,
    pub per_app_per_second: u32,
    pub per_app_burst: u32,
    /// `POST /auth/login` attempts per client IP: a burst, then one per this many seconds.
    pub login_per_ip_burst: u32,
    pub login_per_ip_interval_seconds: u64,
    /// Failed `POST /auth/login` attempts per account (app id or admin email) and client IP,
    /// likewise.
    pub login_per_account_burst: u32,
    pub login_per_account_interval_seconds: u64,
    /// Failed attempts per account from every address together, likewise.
    pub login_per_account_total_burst: u32,
    pub login_per_account_total_interval_seconds: u64,
    /// Account registrations (`POST /v1/auth/register`) per client IP: a burst, then one per
    /// interval.
    pub register_per_ip_burst: u32,
    pub register_per_ip_interval_seconds: u64,
    /// `POST /v1/auth/refresh` per session: a burst, then one per interval.
    pub refresh_per_session_burst: u32,
    pub refresh_per_session_interval_seconds: u64,
    /// Addresses or CIDR networks of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AdminSettings {
    /// With `bootstrap_password`: the first admin, created at start-up when there is none.
    pub bootstrap_email: Option<String>,
    pub bootstrap_password: Option<SecretString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// `pretty` locally, `json` in production unless set.
    pub format: Option<LogFormat>,
    /// An `EnvFilter` directive; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: None,
            shutdown_timeout_seconds: 30,
            public_body_limit_bytes: 16 * 1024,
            body_timeout_secs: 10,
            max_connections: None,
        }
    }
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            backend: Backend::Sqlite,
            sqlite: SqliteConfig::default(),
            mongodb: MongoConfig::default(),
            app_cache_ttl_ms: 1000,
        }
    }
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data/users-api.db"),
            sync_every_commit: false,
            max_readers: 4,
        }
    }
}

impl Default for MongoConfig {
    fn default() -> Self {
        Self {
            uri: None,
            database: None,
            max_pool_size: 20,
            connect_timeout_seconds: 10,
        }
    }
}

impl Default for HashingConfig {
    fn default() -> Self {
        let owasp = domain::HashingSettings::default();
        Self {
            memory_kib: owasp.memory_kib,
            iterations: owasp.iterations,
            parallelism: owasp.parallelism,
            max_concurrent: None,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        let limits = http_adapter::RateLimitSettings::default();
        Self {
            enabled: limits.enabled,
            per_ip_per_second: limits.per_ip_per_second,
            per_ip_burst: limits.per_ip_burst,
            per_app_per_second: limits.per_app_per_second,
            per_app_burst: limits.per_app_burst,
            login_per_ip_burst: limits.login_per_ip_burst,
            login_per_ip_interval_seconds: limits.login_per_ip_interval.as_secs(),
            login_per_account_burst: limits.login_per_account_burst,
            login_per_account_interval_seconds: limits.login_per_account_interval.as_secs(),
            login_per_account_total_burst: limits.login_per_account_total_burst,
            login_per_account_total_interval_seconds: limits
                .login_per_account_total_interval
                .as_secs(),
            register_per_ip_burst: limits.register_per_ip_burst,
            register_per_ip_interval_seconds: limits.register_per_ip_interval.as_secs(),
            refresh_per_session_burst: limits.refresh_per_session_burst,
            refresh_per_session_interval_seconds: limits.refresh_per_session_interval.as_secs(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: None,
            level: "info".into(),
        }
    }
}

/// The configuration folder: `USERS_API_CONFIG_DIR`, else `./config` (which may not exist).
pub fn config_dir() -> PathBuf {
    std::env::var_os("USERS_API_CONFIG_DIR").map_or_else(|| PathBuf::from("config"), PathBuf::from)
}

/// Reads the layers in order; a missing file is skipped, a malformed one is an error.
pub fn load(dir: &Path, environment: Environment) -> Result<Settings, config::ConfigError> {
    let mut settings: Settings = config::Config::builder()
        .add_source(config::File::from(dir.join("base.yaml")).required(false))
        .add_source(
            config::File::from(dir.join(format!("{}.yaml", environment.as_str()))).required(false),
        )
        .add_source(
            config::Environment::with_prefix("USERS_API")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("rate_limit.trusted_proxies"),
        )
        .build()?
        .try_deserialize()?;
    if let Some(port) = std::env::var("PORT").ok().filter(|p| !p.is_empty()) {
        settings.application.port = port.parse().map_err(|_| {
            config::ConfigError::Message(format!("PORT must be a port number, not '{port}'"))
        })?;
    }
    // Sessions signed with a key made up at start-up would end at every restart and differ
    // between instances: production must be given one.
    if environment == Environment::Production {
        settings.session.require_secret_key = true;
        settings.tokens.require_key_encryption_key = true;
        settings.mail.warn_without_smtp = true;
    }
    // Dokku's mongo plugin and most hosts name the database this way.
    if let Some(uri) = ["MONGO_URL", "MONGODB_URI"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    {
        settings.storage.backend = Backend::Mongodb;
        settings.storage.mongodb.uri = Some(uri);
    }
    Ok(settings)
}

impl Settings {
    pub fn domain(&self) -> domain::DomainSettings {
        domain::DomainSettings {
            hashing: domain::HashingSettings {
                memory_kib: self.hashing.memory_kib,
                iterations: self.hashing.iterations,
                parallelism: self.hashing.parallelism,
                max_concurrent: self.hashing.max_concurrent,
            },
            app_cache_ttl: Duration::from_millis(self.storage.app_cache_ttl_ms),
            operator_sessions: domain::OperatorSessionPolicy {
                idle_timeout: Duration::from_secs(self.session.idle_timeout_minutes * 60),
                absolute_timeout: Duration::from_secs(self.session.absolute_timeout_minutes * 60),
            },
            accounts: self.accounts(),
            mail: self.mail_config(),
        }
    }

    fn mail_config(&self) -> domain::MailConfig {
        let mail = &self.mail;
        domain::MailConfig {
            from: mail.from.trim().to_owned(),
            public_url: self.accounts().issuer,
            verify_email_ttl: Duration::from_secs(mail.verify_email_hours.max(1) * 3600),
            reset_password_ttl: Duration::from_secs(mail.reset_password_minutes.max(1) * 60),
            invitation_ttl: Duration::from_secs(mail.invitation_days.max(1) * 24 * 3600),
            resend_interval: Duration::from_secs(mail.resend_interval_seconds),
            show_tokens_in_log: !self.has_smtp(),
        }
    }

    /// How the background sender delivers.
    pub fn delivery_policy(&self) -> domain::DeliveryPolicy {
        let mail = &self.mail;
        domain::DeliveryPolicy {
            poll_interval: Duration::from_millis(mail.poll_interval_ms.max(50)),
            send_timeout: Duration::from_secs(mail.send_timeout_seconds.max(1)),
            lease: Duration::from_secs((mail.send_timeout_seconds.max(1) * 2).max(60)),
            retry_base: Duration::from_secs(mail.retry_base_seconds.max(1)),
            retry_max: Duration::from_secs(mail.retry_max_seconds.max(1)),
            max_attempts: mail.max_attempts.max(1),
            keep: Duration::from_secs(mail.keep_days.max(1) * 24 * 3600),
            ..domain::DeliveryPolicy::default()
        }
    }

    /// Whether `mail.smtp_url` names a server (else the development mailer is used).
    pub fn has_smtp(&self) -> bool {
        self.mail
            .smtp_url
            .as_ref()
            .is_some_and(|url| !url.expose_secret().trim().is_empty())
    }

    /// The SMTP mailer of `mail.smtp_url`, else the development mailer.
    pub fn mailer(&self) -> Result<std::sync::Arc<dyn domain::Mailer>, String> {
        match self
            .mail
            .smtp_url
            .as_ref()
            .map(|url| url.expose_secret().trim())
        {
            Some(url) if !url.is_empty() => {
                let timeout = Duration::from_secs(self.mail.send_timeout_seconds.max(1));
                mail_adapter::SmtpMailer::from_url(url, timeout)
                    .map(|mailer| std::sync::Arc::new(mailer) as std::sync::Arc<dyn domain::Mailer>)
                    .map_err(|error| format!("mail.smtp_url: {error}"))
            }
            _ => Ok(std::sync::Arc::new(domain::LogMailer)),
        }
    }

    fn accounts(&self) -> domain::AccountSettings {
        const DAY: u64 = 24 * 60 * 60;
        let tokens = &self.tokens;
        let issuer = tokens
            .issuer
            .clone()
            .or_else(|| self.session.public_origin.clone())
            .filter(|issuer| !issuer.is_empty())
            .unwrap_or_else(|| format!("http://localhost:{}", self.application.port));
        domain::AccountSettings {
            issuer: issuer.trim_end_matches('/').to_owned(),
            access_token_ttl: Duration::from_secs(tokens.access_token_minutes.max(1) * 60),
            session_idle: Duration::from_secs(tokens.session_idle_days.max(1) * DAY),
            session_absolute: Duration::from_secs(tokens.session_absolute_days.max(1) * DAY),
            refresh_grace: Duration::from_secs(tokens.refresh_grace_seconds),
            ..domain::AccountSettings::default()
        }
    }

    /// What signs and verifies access tokens, with the configured key-encryption key.
    pub fn token_crypto(&self) -> Result<std::sync::Arc<dyn domain::TokenCrypto>, SettingsError> {
        let key = match &self.tokens.key_encryption_key {
            Some(text) => token_adapter::KeyEncryptionKey::parse(text.expose_secret())?,
            None if self.tokens.require_key_encryption_key => {
                return Err(SettingsError::KeyEncryptionKeyRequired);
            }
            None => {
                tracing::warn!(
                    "no tokens.key_encryption_key configured: using a throwaway key; each \
                     restart adds a signing key, and instances cannot share them"
                );
                token_adapter::KeyEncryptionKey::generate()
            }
        };
        Ok(std::sync::Arc::new(token_adapter::Ed25519Tokens::new(key)))
    }

    fn session_settings(&self) -> Result<http_adapter::SessionSettings, SettingsError> {
        let key = match &self.session.secret_key {
            Some(text) => Some(http_adapter::SessionKey::parse(text.expose_secret())?),
            None if self.session.require_secret_key => {
                return Err(SettingsError::SessionKeyRequired);
            }
            None => None,
        };
        let public_origin = match self.session.public_origin.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                domain::normalize_origin(text)
                    .ok_or_else(|| SettingsError::PublicOrigin(text.to_owned()))?,
            ),
        };
        Ok(http_adapter::SessionSettings {
            key,
            secure_cookie: self.session.secure_cookie,
            public_origin,
        })
    }

    pub fn http(&self) -> Result<http_adapter::HttpSettings, SettingsError> {
        let trusted_proxies = self
            .rate_limit
            .trusted_proxies
            .iter()
            .map(|entry| {
                http_adapter::IpNetwork::parse(entry)
                    .ok_or_else(|| SettingsError::TrustedProxy(entry.clone()))
            })
            .collect::<Result<_, _>>()?;
        Ok(http_adapter::HttpSettings {
            rate_limit: http_adapter::RateLimitSettings {
                enabled: self.rate_limit.enabled,
                per_ip_per_second: self.rate_limit.per_ip_per_second,
                per_ip_burst: self.rate_limit.per_ip_burst,
                per_app_per_second: self.rate_limit.per_app_per_second,
                per_app_burst: self.rate_limit.per_app_burst,
                login_per_ip_burst: self.rate_limit.login_per_ip_burst,
                login_per_ip_interval: Duration::from_secs(
                    self.rate_limit.login_per_ip_interval_seconds,
                ),
                login_per_account_burst: self.rate_limit.login_per_account_burst,
                login_per_account_interval: Duration::from_secs(
                    self.rate_limit.login_per_account_interval_seconds,
                ),
                login_per_account_total_burst: self.rate_limit.login_per_account_total_burst,
                login_per_account_total_interval: Duration::from_secs(
                    self.rate_limit.login_per_account_total_interval_seconds,
                ),
                register_per_ip_burst: self.rate_limit.register_per_ip_burst,
                register_per_ip_interval: Duration::from_secs(
                    self.rate_limit.register_per_ip_interval_seconds,
                ),
                refresh_per_session_burst: self.rate_limit.refresh_per_session_burst,
                refresh_per_session_interval: Duration::from_secs(
                    self.rate_limit.refresh_per_session_interval_seconds,
                ),
            },
            session: self.session_settings()?,
            trusted_proxies,
            public_body_limit: self.application.public_body_limit_bytes,
            workers: self.application.workers,
            shutdown_timeout_seconds: self.application.shutdown_timeout_seconds,
            dashboard_dist: self.dashboard.enabled.then(|| self.dashboard.dist.clone()),
            body_timeout: Duration::from_secs(self.application.body_timeout_secs.max(1)),
            max_connections: self.application.max_connections,
        })
    }
}

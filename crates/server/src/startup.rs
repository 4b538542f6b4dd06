use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use domain::Services;
use http_adapter::{ApiState, Metrics};
use sqlite_adapter::{CommitObserver, SqliteSettings, SqliteStorage};
use storage_port::{MemoryStorage, Storage};

use crate::settings::{Backend, Settings};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(String),
    /// With the causes: "storage unavailable" alone does not say which file or why.
    #[error("storage: {}", with_causes(.0))]
    Storage(#[from] storage_port::StorageError),
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error("creating the bootstrap admin: {0}")]
    Bootstrap(#[from] domain::admins::AdminError),
    #[error("listening for SIGINT and SIGTERM: {0}")]
    Signals(std::io::Error),
    #[error("listening on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// `error: its source: its source's source`.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

/// Opens the configured store. SQLite is opened on the blocking pool: it migrates the file.
pub async fn open_storage(settings: &Settings) -> Result<Arc<dyn Storage>, StartupError> {
    open_observed_storage(settings, None).await
}

/// The same, telling `metrics` the size of every SQLite group commit.
async fn open_observed_storage(
    settings: &Settings,
    metrics: Option<&Arc<Metrics>>,
) -> Result<Arc<dyn Storage>, StartupError> {
    match settings.storage.backend {
        Backend::Memory => Ok(Arc::new(MemoryStorage::new())),
        Backend::Sqlite => {
            let sqlite = SqliteSettings {
                path: settings.storage.sqlite.path.clone(),
                sync_every_commit: settings.storage.sqlite.sync_every_commit,
                max_readers: settings.storage.sqlite.max_readers,
                on_commit: metrics.cloned().map(|metrics| {
                    CommitObserver::new(move |writes| {
                        metrics.sqlite_batch_sizes().observe(writes as f64);
                    })
                }),
                ..SqliteSettings::at(&settings.storage.sqlite.path)
            };
            let store = tokio::task::spawn_blocking(move || SqliteStorage::open(&sqlite))
                .await
                .map_err(|e| StartupError::Config(e.to_string()))??;
            Ok(Arc::new(store))
        }
        Backend::Mongodb => open_mongodb(settings).await,
    }
}

async fn open_mongodb(settings: &Settings) -> Result<Arc<dyn Storage>, StartupError> {
    let config = &settings.storage.mongodb;
    let uri = config.uri.clone().ok_or_else(|| {
        StartupError::Config(
            "the mongodb backend needs storage.mongodb.uri (or MONGO_URL / MONGODB_URI)".into(),
        )
    })?;
    let database = config
        .database
        .clone()
        .or_else(|| database_in_uri(&uri))
        .unwrap_or_else(|| "users_api".into());
    let mongo = mongo_adapter::MongoSettings {
        uri,
        database,
        max_pool_size: config.max_pool_size,
        connect_timeout: std::time::Duration::from_secs(config.connect_timeout_seconds),
    };
    Ok(Arc::new(
        mongo_adapter::MongoStorage::connect(&mongo).await?,
    ))
}

/// The database named in a connection string's path (`mongodb://host/NAME?options`), which is
/// how Dokku's mongo plugin and most hosts say which database to use.
fn database_in_uri(uri: &str) -> Option<String> {
    let after_scheme = uri.split_once("://")?.1;
    let path = after_scheme.split_once('/')?.1;
    let name = path.split('?').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// Where the dashboard is and the command that creates the first admin, for the start-up log
/// of a fresh install.
fn first_run_hint(settings: &Settings, port: u16) -> (String, String) {
    let url = match &settings.session.public_origin {
        Some(origin) => format!("{}/", origin.trim_end_matches('/')),
        None => {
            let host = match settings.application.host.as_str() {
                "0.0.0.0" | "::" | "[::]" | "" => "localhost",
                host => host,
            };
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host.to_owned()
            };
            format!("http://{host}:{port}/")
        }
    };
    // The binary as it was started (`./target/release/users-api`, `users-api`), unless this is
    // not the users-api binary (tests).
    let binary = std::env::args()
        .next()
        .filter(|argv0| std::path::Path::new(argv0).file_name() == Some("users-api".as_ref()))
        .unwrap_or_else(|| "users-api".to_owned());
    (
        url,
        format!("{binary} admin create --email you@example.com"),
    )
}

/// actix-web's own cap on a worker's open connections.
const ACTIX_MAX_CONNECTIONS: usize = 25_000;
/// Descriptors kept free of connections: the store's files and sockets, logs, the listener.
const RESERVED_FILES: u64 = 256;

/// Raises the soft open-file limit to the hard one, as far as the system allows, and returns
/// the soft limit in force (`None` when it cannot be read). Every connection holds a
/// descriptor, and the usual soft default of 1,024 made `accept` fail long before the server
/// was busy.
pub fn raise_open_file_limit() -> Option<u64> {
    let (soft, hard) = match rlimit::Resource::NOFILE.get() {
        Ok(limits) => limits,
        Err(error) => {
            tracing::warn!(%error, "cannot read the open-file limit");
            return None;
        }
    };
    // An unlimited hard limit cannot be the soft one on Linux (it is capped by fs.nr_open).
    let wanted = if hard == rlimit::INFINITY {
        1 << 20
    } else {
        hard
    };
    match rlimit::increase_nofile_limit(wanted) {
        Ok(now) => {
            tracing::info!(old = soft, new = now, hard, "open-file limit");
            Some(now)
        }
        Err(error) => {
            tracing::warn!(%error, old = soft, hard, "could not raise the open-file limit");
            Some(soft)
        }
    }
}

/// Connections per worker: the configured number, else as many as the open-file limit leaves
/// room for once the reserve is set aside (at most actix-web's default), so that `accept`
/// never runs out of descriptors: further clients wait in the listen backlog instead.
pub fn connection_cap(configured: Option<usize>, workers: usize, open_files: Option<u64>) -> usize {
    let workers = workers.max(1);
    let room = open_files.map(|limit| {
        usize::try_from(limit.saturating_sub(RESERVED_FILES) / workers as u64).unwrap_or(usize::MAX)
    });
    match (configured, room) {
        (Some(configured), Some(room)) if configured > room => {
            tracing::warn!(
                configured,
                room,
                workers,
                "application.max_connections is more than the open-file limit allows"
            );
            configured.max(1)
        }
        (Some(configured), _) => configured.max(1),
        (None, Some(room)) => room.clamp(1, ACTIX_MAX_CONNECTIONS),
        (None, None) => ACTIX_MAX_CONNECTIONS,
    }
}

/// The running service.
pub struct Application {
    port: u16,
    server: Server,
    /// The metrics listener's port and server, when metrics are enabled.
    metrics: Option<(u16, Server)>,
    signals: ShutdownSignals,
    shutdown_timeout_seconds: u64,
    services: Arc<Services<dyn Storage>>,
    sender: Option<RunningSender>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Opens the store, creates the bootstrap admin when configured and none exists, binds the
    /// listener (port 0 picks a free one) and starts the HTTP server.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let metrics = settings.metrics.enabled.then(|| Arc::new(Metrics::new()));
        let storage = open_observed_storage(&settings, metrics.as_ref()).await?;
        Self::build_observed(settings, storage, metrics).await
    }

    /// The same over a store the caller already holds (tests share one with the service).
    pub async fn build_with_storage(
        settings: Settings,
        storage: Arc<dyn Storage>,
    ) -> Result<Self, StartupError> {
        let metrics = settings.metrics.enabled.then(|| Arc::new(Metrics::new()));
        Self::build_observed(settings, storage, metrics).await
    }

    async fn build_observed(
        settings: Settings,
        storage: Arc<dyn Storage>,
        metrics: Option<Arc<Metrics>>,
    ) -> Result<Self, StartupError> {
        let crypto = settings
            .token_crypto()
            .map_err(|e| StartupError::Config(e.to_string()))?;
        let services = Arc::new(
            Services::new(storage, &settings.domain(), crypto)
                .map_err(|e| StartupError::Hashing(e.to_string()))?,
        );
        services
            .accounts
            .prepare_keys()
            .await
            .map_err(|e| StartupError::Config(format!("preparing the token signing keys: {e}")))?;
        let sender = start_sender(&settings, &services)?;
        if let (Some(email), Some(password)) = (
            &settings.admin.bootstrap_email,
            &settings.admin.bootstrap_password,
        ) && services.admins.bootstrap(email, password.clone()).await?
        {
            tracing::info!(email, "created the bootstrap admin");
        }
        let mut http = settings
            .http()
            .map_err(|e| StartupError::Config(e.to_string()))?;
        let workers = settings.application.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        http.max_connections = Some(connection_cap(
            settings.application.max_connections,
            workers,
            raise_open_file_limit(),
        ));
        let address = format!(
            "{}:{}",
            settings.application.host, settings.application.port
        );
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Bind {
            address: address.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                address: address.clone(),
                source,
            })?
            .port();
        tracing::info!(workers, per_worker = http.max_connections, "connection cap");
        let signals = ShutdownSignals::listen().map_err(StartupError::Signals)?;
        let mut state = ApiState::new(services.clone(), &http);
        if let Some(metrics) = &metrics {
            state = state.with_metrics(metrics.clone());
        }
        let server = http_adapter::serve(listener, state, &http)
            .map_err(|source| StartupError::Bind { address, source })?;
        let metrics = match metrics {
            Some(metrics) => Some(serve_metrics(&settings.metrics.address, metrics)?),
            None => None,
        };
        if services.admins.needs_first_admin().await? {
            let (url, command) = first_run_hint(&settings, port);
            tracing::warn!(
                %url,
                %command,
                "no admin exists yet: create the first one with this command (same configuration), \
                 then sign in to the dashboard as platform admin"
            );
        }
        Ok(Self {
            port,
            server,
            metrics,
            signals,
            shutdown_timeout_seconds: http.shutdown_timeout_seconds,
            services,
            sender,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `GET /metrics`, when metrics are enabled.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The domain services over the same store, for tests and tools in the same process.
    pub fn services(&self) -> Arc<Services<dyn Storage>> {
        self.services.clone()
    }

    /// Serves until SIGTERM or SIGINT (Ctrl-C); then stops accepting connections and gives
    /// in-flight requests up to `shutdown_timeout_seconds` to finish. Both signals drain: a
    /// container runtime sends SIGTERM, an operator at a terminal sends SIGINT, and neither
    /// should cut a sign-up off. A second signal while draining stops at once.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let timeout_seconds = self.shutdown_timeout_seconds;
        let mut signals = self.signals;
        let signals = tokio::spawn(async move {
            let signal = signals.next().await;
            tracing::info!(
                signal,
                timeout_seconds,
                "graceful shutdown: no new connections; in-flight requests may finish"
            );
            tokio::select! {
                () = handle.stop(true) => {}
                signal = signals.next() => {
                    tracing::warn!(signal, "second signal: stopping without waiting");
                    handle.stop(false).await;
                }
            }
        });
        // Scrapes go on while the public server drains.
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (tokio::spawn(server), handle)
        });
        let outcome = self.server.await;
        signals.abort();
        // The sender finishes the message it is sending; what it had not claimed stays queued.
        if let Some((running, stop)) = self.sender {
            let _ = stop.send(());
            let _ = running.await;
        }
        if let Some((running, handle)) = metrics {
            handle.stop(false).await;
            let _ = running.await;
        }
        tracing::info!("stopped");
        outcome
    }
}

/// The e-mail sender's task and what stops it.
type RunningSender = (
    tokio::task::JoinHandle<()>,
    tokio::sync::oneshot::Sender<()>,
);

/// Starts the background e-mail sender (unless `mail.sender` is off), through the SMTP mailer
/// of `mail.smtp_url` or, without one, the development mailer.
fn start_sender(
    settings: &Settings,
    services: &Arc<Services<dyn Storage>>,
) -> Result<Option<RunningSender>, StartupError> {
    let mailer = settings.mailer().map_err(StartupError::Config)?;
    if !settings.has_smtp() {
        if settings.mail.warn_without_smtp {
            tracing::error!(
                "NO MAIL SERVER: mail.smtp_url is not set, so no e-mail leaves this service \
                 (verification, password reset and invitation links are only logged and shown \
                 in the dashboard's e-mail log). Set USERS_API__MAIL__SMTP_URL, e.g. \
                 smtps://user:password@smtp.example.com:465"
            );
        } else {
            tracing::info!(
                "no mail.smtp_url: e-mail is logged and kept in each app's e-mail log (development)"
            );
        }
    }
    if !settings.mail.sender {
        tracing::info!("mail.sender is off: this instance queues e-mail but does not send it");
        return Ok(None);
    }
    let sender = services.outbox_sender(mailer, settings.delivery_policy());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(sender.run(async move {
        let _ = stopped.await;
    }));
    Ok(Some((running, stop)))
}

/// Binds the metrics listener (loopback by default; never the public listener) and starts
/// serving `GET /metrics` there.
fn serve_metrics(address: &str, metrics: Arc<Metrics>) -> Result<(u16, Server), StartupError> {
    let bind_error = |source| StartupError::Bind {
        address: address.to_owned(),
        source,
    };
    let listener = TcpListener::bind(address).map_err(bind_error)?;
    let port = listener.local_addr().map_err(bind_error)?.port();
    let server = http_adapter::serve_metrics(listener, metrics).map_err(bind_error)?;
    tracing::info!(address, port, "metrics at GET /metrics");
    Ok((port, server))
}

/// SIGINT and SIGTERM, listened for from the moment the application is built: a signal that
/// comes as soon as it answers must drain it too, not end the process the default way.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// The name of the next signal to arrive.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            "Ctrl-C"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{connection_cap, database_in_uri, first_run_hint};
    use crate::settings::Settings;

    #[test]
    fn the_connection_cap_leaves_room_for_other_files() {
        assert_eq!(connection_cap(None, 2, Some(1024)), 384);
        assert_eq!(connection_cap(None, 4, Some(1 << 20)), 25_000);
        assert_eq!(connection_cap(None, 1, Some(100)), 1);
        assert_eq!(connection_cap(None, 2, None), 25_000);
        assert_eq!(connection_cap(Some(50), 2, Some(1024)), 50);
        assert_eq!(connection_cap(Some(5000), 2, Some(1024)), 5000);
        assert_eq!(connection_cap(Some(0), 2, None), 1);
    }

    #[test]
    fn the_first_run_hint_names_the_dashboard_and_the_command() {
        let mut settings = Settings::default();
        settings.application.host = "0.0.0.0".into();
        let (url, command) = first_run_hint(&settings, 8080);
        assert_eq!(url, "http://localhost:8080/");
        assert_eq!(command, "users-api admin create --email you@example.com");
        settings.application.host = "::1".into();
        assert_eq!(first_run_hint(&settings, 9).0, "http://[::1]:9/");
        settings.session.public_origin = Some("https://users.example.com".into());
        assert_eq!(
            first_run_hint(&settings, 8080).0,
            "https://users.example.com/"
        );
    }

    #[test]
    fn finds_the_database_in_a_connection_string() {
        assert_eq!(
            database_in_uri("mongodb://u:p@host:27017/signups?authSource=admin"),
            Some("signups".into())
        );
        assert_eq!(
            database_in_uri("mongodb+srv://cluster.example.net/app"),
            Some("app".into())
        );
        assert_eq!(database_in_uri("mongodb://host:27017/"), None);
        assert_eq!(database_in_uri("mongodb://host:27017"), None);
        assert_eq!(database_in_uri("mongodb://host/?replicaSet=rs0"), None);
    }
}

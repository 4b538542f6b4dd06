//! What the HTTP tier is configured with (filled in by the server crate from its settings).

use std::time::Duration;

use crate::client_ip::IpNetwork;
use crate::operator_session::SessionSettings;
use crate::rate_limit::RateLimitSettings;

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub rate_limit: RateLimitSettings,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR networks).
    pub trusted_proxies: Vec<IpNetwork>,
    /// Body limit of the public routes.
    pub public_body_limit: usize,
    /// Worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// Seconds in-flight requests get to finish after SIGTERM.
    pub shutdown_timeout_seconds: u64,
    pub session: SessionSettings,
    /// The dashboard's built files (`web-admin/dist`), served at `/`; `None` serves no dashboard.
    pub dashboard_dist: Option<std::path::PathBuf>,
    /// How long a request's body may take to arrive, from the end of its headers (408 after).
    pub body_timeout: Duration,
    /// Open connections per worker; further ones wait in the listen backlog. `None`: actix-web's
    /// default (25,000).
    pub max_connections: Option<usize>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            rate_limit: RateLimitSettings::default(),
            trusted_proxies: Vec::new(),
            public_body_limit: 16 * 1024,
            workers: None,
            shutdown_timeout_seconds: 30,
            session: SessionSettings::default(),
            dashboard_dist: None,
            body_timeout: Duration::from_secs(10),
            max_connections: None,
        }
    }
}

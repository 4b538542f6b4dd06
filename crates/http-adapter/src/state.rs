//! What every handler shares: the domain services and the HTTP tier's own limiters and caches.

use std::sync::Arc;
use std::time::Duration;

use domain::Services;
use storage_port::Storage;

use crate::client_ip::ClientIpResolver;
use crate::metrics::Metrics;
use crate::openapi::openapi_json;
use crate::rate_limit::{AccountLimits, AppLimiter, LoginLimiter};
use crate::settings::HttpSettings;

/// What every handler shares.
#[derive(Debug)]
pub struct ApiState {
    pub(crate) services: Arc<Services<dyn Storage>>,
    pub(crate) app_limiter: AppLimiter,
    pub(crate) login_limiter: LoginLimiter,
    /// Accounts' logins: the same rules as operators', in budgets of their own.
    pub(crate) account_login_limiter: LoginLimiter,
    pub(crate) account_limits: AccountLimits,
    pub(crate) client_ip: ClientIpResolver,
    /// The dashboard's public origin, for the CSRF rule.
    pub(crate) public_origin: Option<String>,
    /// The public routes' body limit.
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: Duration,
    /// The OpenAPI document, rendered once.
    pub(crate) openapi: String,
    pub(crate) metrics: Option<Arc<Metrics>>,
}

impl ApiState {
    pub fn new(services: Arc<Services<dyn Storage>>, settings: &HttpSettings) -> Self {
        Self {
            services,
            app_limiter: AppLimiter::new(&settings.rate_limit),
            login_limiter: LoginLimiter::new(&settings.rate_limit),
            account_login_limiter: LoginLimiter::new(&settings.rate_limit),
            account_limits: AccountLimits::new(&settings.rate_limit),
            client_ip: ClientIpResolver::new(settings.trusted_proxies.clone()),
            public_origin: settings.session.public_origin.clone(),
            body_limit: settings.public_body_limit,
            body_timeout: settings.body_timeout,
            openapi: openapi_json(),
            metrics: None,
        }
    }

    /// Records every request into `metrics` (served apart by [`serve_metrics`]).
    pub fn with_metrics(self, metrics: Arc<Metrics>) -> Self {
        Self {
            metrics: Some(metrics),
            ..self
        }
    }
}

//! Rate limits: per client IP (actix-governor, as middleware) and per app (checked in the
//! handler once the app is known). Counters live in this process: with several instances,
//! each enforces its own share (see ARCHITECTURE.md).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::governor::{NotUntil, Quota, RateLimiter};
use actix_governor::{
    GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError,
};
use actix_web::dev::ServiceRequest;
use actix_web::{HttpResponse, HttpResponseBuilder};

use crate::client_ip::ClientIpResolver;
use crate::error::ApiError;

/// Requests per second and burst, per client IP and per app.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub per_ip_per_second: u32,
    pub per_ip_burst: u32,
    pub per_app_per_second: u32,
    pub per_app_burst: u32,
    /// Login attempts per client IP: a burst, then one per interval.
    pub login_per_ip_burst: u32,
    pub login_per_ip_interval: Duration,
    /// Login attempts per account (app id or admin email), likewise.
    pub login_per_account_burst: u32,
    pub login_per_account_interval: Duration,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            per_ip_per_second: 10,
            per_ip_burst: 30,
            per_app_per_second: 200,
            per_app_burst: 400,
            login_per_ip_burst: 10,
            login_per_ip_interval: Duration::from_secs(6),
            login_per_account_burst: 5,
            login_per_account_interval: Duration::from_secs(30),
        }
    }
}

/// Keys actix-governor's limiter by the resolved client IP.
#[derive(Debug, Clone)]
pub struct ClientIpKey(pub ClientIpResolver);

impl KeyExtractor for ClientIpKey {
    type Key = IpAddr;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, request: &ServiceRequest) -> Result<IpAddr, Self::KeyExtractionError> {
        // Without a peer address (a Unix socket, a test request) everybody shares one bucket.
        Ok(self
            .0
            .of_service_request(request)
            .unwrap_or(IpAddr::from([0, 0, 0, 0])))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        _: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative.wait_time_from(DefaultClock::default().now());
        actix_web::ResponseError::error_response(&ApiError::rate_limited(seconds_up(wait)))
    }
}

pub type IpGovernor = GovernorConfig<ClientIpKey, NoOpMiddleware<QuantaInstant>>;

pub fn ip_governor(settings: &RateLimitSettings, resolver: ClientIpResolver) -> Option<IpGovernor> {
    let per_second = u64::from(settings.per_ip_per_second.max(1));
    GovernorConfigBuilder::default()
        .key_extractor(ClientIpKey(resolver))
        .period(Duration::from_nanos(1_000_000_000 / per_second))
        .burst_size(settings.per_ip_burst.max(1))
        .finish()
}

/// Per-app limits, keyed by app id (only ids of existing apps reach it).
#[derive(Debug)]
pub struct AppLimiter {
    limiter: Option<
        RateLimiter<
            String,
            actix_governor::governor::state::keyed::DefaultKeyedStateStore<String>,
            DefaultClock,
        >,
    >,
}

impl AppLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let limiter = settings.enabled.then(|| {
            let rate =
                NonZeroU32::new(settings.per_app_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
            let burst = NonZeroU32::new(settings.per_app_burst.max(1)).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self { limiter }
    }

    pub fn check(&self, app_id: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(&app_id.to_owned()).map_err(|negative| {
            ApiError::rate_limited(seconds_up(
                negative.wait_time_from(DefaultClock::default().now()),
            ))
        })?;
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        Ok(())
    }
}

type KeyedLimiter<K> =
    RateLimiter<K, actix_governor::governor::state::keyed::DefaultKeyedStateStore<K>, DefaultClock>;

/// Limits on `POST /auth/login`, per client IP and per account, so that guessing passwords
/// is slow whether an attacker spreads over accounts or over addresses. Every attempt counts;
/// once a burst is spent, each further attempt waits an interval (answered 429 with
/// `Retry-After` until then).
#[derive(Debug)]
pub struct LoginLimiter {
    limiters: Option<(KeyedLimiter<IpAddr>, KeyedLimiter<String>)>,
}

impl LoginLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let quota = |burst: u32, interval: Duration| {
            let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
            Quota::with_period(interval.max(Duration::from_millis(1)))
                .map(|quota| quota.allow_burst(burst))
        };
        let limiters = settings.enabled.then(|| {
            let per_ip = quota(settings.login_per_ip_burst, settings.login_per_ip_interval)?;
            let per_account = quota(
                settings.login_per_account_burst,
                settings.login_per_account_interval,
            )?;
            Some((RateLimiter::keyed(per_ip), RateLimiter::keyed(per_account)))
        });
        Self {
            limiters: limiters.flatten(),
        }
    }

    /// Counts one attempt from `ip` on `account` (lower-cased by the caller).
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> Result<(), ApiError> {
        let Some((per_ip, per_account)) = &self.limiters else {
            return Ok(());
        };
        let refuse = |negative: NotUntil<QuantaInstant>| {
            ApiError::rate_limited(seconds_up(
                negative.wait_time_from(DefaultClock::default().now()),
            ))
        };
        per_ip
            .check_key(&ip.unwrap_or(IpAddr::from([0, 0, 0, 0])))
            .map_err(refuse)?;
        per_account.check_key(&account.to_owned()).map_err(refuse)?;
        if per_ip.len() + per_account.len() > 100_000 {
            per_ip.retain_recent();
            per_account.retain_recent();
        }
        Ok(())
    }
}

fn seconds_up(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

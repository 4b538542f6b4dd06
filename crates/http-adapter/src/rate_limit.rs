//! Rate limits: per client IP (actix-governor, as middleware) and per app (checked in the
//! handler once the app is known). Counters live in this process: with several instances,
//! each enforces its own share (see ARCHITECTURE.md).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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
    /// Failed logins per account (app id or admin email) and client IP: a burst, then one
    /// per interval.
    pub login_per_account_burst: u32,
    pub login_per_account_interval: Duration,
    /// Failed logins per account from every address together, likewise.
    pub login_per_account_total_burst: u32,
    pub login_per_account_total_interval: Duration,
    /// Account registrations per client IP: a burst, then one per interval.
    pub register_per_ip_burst: u32,
    pub register_per_ip_interval: Duration,
    /// Refreshes per session: a burst, then one per interval.
    pub refresh_per_session_burst: u32,
    pub refresh_per_session_interval: Duration,
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
            login_per_account_total_burst: 50,
            login_per_account_total_interval: Duration::from_secs(3),
            register_per_ip_burst: 10,
            register_per_ip_interval: Duration::from_secs(6),
            refresh_per_session_burst: 10,
            refresh_per_session_interval: Duration::from_secs(1),
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

/// Who a login is for: an app owner by the exact app id (ids are case-sensitive: `APP-B` is
/// not `app-b`), or an admin by the normalized email.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LoginAccount {
    Owner(String),
    Admin(String),
    /// An end-user account: the app id, a NUL, the normalized email.
    Account(String),
}

impl LoginAccount {
    /// Longer texts are no real account (app ids have at most 80 characters, emails 254); they
    /// are cut so that a key never holds a whole login body.
    const MAX_KEY_BYTES: usize = 320;

    pub fn owner(app_id: &str) -> Self {
        Self::Owner(Self::cut(app_id).to_owned())
    }

    pub fn admin(email: &str) -> Self {
        Self::Admin(Self::cut(&Self::normalized(email)).to_owned())
    }

    pub fn account(app_id: &str, email: &str) -> Self {
        let key = format!("{app_id}\0{}", Self::normalized(email));
        Self::Account(Self::cut(&key).to_owned())
    }

    /// The email as stored, or trimmed and lower-cased when it is none (it then matches no
    /// account, but repeats of it still share a key).
    fn normalized(email: &str) -> String {
        domain::EmailAddress::parse(email)
            .map_or_else(|| email.trim().to_lowercase(), |email| email.to_string())
    }

    fn cut(text: &str) -> &str {
        let mut end = text.len().min(Self::MAX_KEY_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    }
}

/// Limits of the accounts routes besides logins: registrations per client IP, refreshes per
/// session (keyed by the refresh token's app and session, never its secret).
#[derive(Debug)]
pub struct AccountLimits {
    limiters: Option<(KeyedLimiter<IpAddr>, KeyedLimiter<String>)>,
}

impl AccountLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let quota = |burst: u32, interval: Duration| {
            let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
            Quota::with_period(interval.max(MIN_INTERVAL)).map(|quota| quota.allow_burst(burst))
        };
        let limiters = settings.enabled.then(|| {
            let register = quota(
                settings.register_per_ip_burst,
                settings.register_per_ip_interval,
            )?;
            let refresh = quota(
                settings.refresh_per_session_burst,
                settings.refresh_per_session_interval,
            )?;
            Some((RateLimiter::keyed(register), RateLimiter::keyed(refresh)))
        });
        Self {
            limiters: limiters.flatten(),
        }
    }

    /// One registration from `ip`, or 429.
    pub fn register(&self, ip: Option<IpAddr>) -> Result<(), ApiError> {
        let Some((per_ip, _)) = &self.limiters else {
            return Ok(());
        };
        check_keyed(per_ip, &ip.unwrap_or(IpAddr::from([0, 0, 0, 0])))
    }

    /// One refresh of the session `refresh_token` names, or 429.
    pub fn refresh(&self, refresh_token: &str) -> Result<(), ApiError> {
        let Some((_, per_session)) = &self.limiters else {
            return Ok(());
        };
        let session = refresh_token
            .rsplit_once('.')
            .map_or(refresh_token, |(session, _secret)| session);
        check_keyed(per_session, &session.chars().take(200).collect())
    }
}

fn check_keyed<K: Clone + Eq + Hash>(limiter: &KeyedLimiter<K>, key: &K) -> Result<(), ApiError> {
    limiter.check_key(key).map_err(|negative| {
        ApiError::rate_limited(seconds_up(
            negative.wait_time_from(DefaultClock::default().now()),
        ))
    })?;
    if limiter.len() > MAX_KEYS {
        limiter.retain_recent();
    }
    Ok(())
}

/// Limits on `POST /auth/login`, so that guessing passwords is slow without letting a stranger
/// lock an owner out:
/// - per client IP, every attempt counts (a burst, then one per interval): this bounds the
///   argon2 work one address can ask for;
/// - per account and client IP, only failures count: an address that keeps guessing is
///   refused on that account, and only that address;
/// - per account from every address together, only failures count, with a looser budget (by
///   default ten times the per-address one), so that guesses spread over many addresses stay
///   slow too.
///
/// A failure budget is reserved before the password is checked (so that parallel guesses
/// cannot overdraw it) and given back unless the attempt turns out to be a failure.
#[derive(Debug)]
pub struct LoginLimiter {
    limiters: Option<LoginLimiters>,
}

#[derive(Debug)]
struct LoginLimiters {
    per_ip: KeyedLimiter<IpAddr>,
    per_account_and_ip: FailureBudget<(LoginAccount, IpAddr)>,
    per_account: FailureBudget<LoginAccount>,
}

impl LoginLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let limiters = settings.enabled.then(|| {
            let burst =
                NonZeroU32::new(settings.login_per_ip_burst.max(1)).unwrap_or(NonZeroU32::MIN);
            let per_ip = Quota::with_period(settings.login_per_ip_interval.max(MIN_INTERVAL))?
                .allow_burst(burst);
            Some(LoginLimiters {
                per_ip: RateLimiter::keyed(per_ip),
                per_account_and_ip: FailureBudget::new(
                    settings.login_per_account_burst,
                    settings.login_per_account_interval,
                ),
                per_account: FailureBudget::new(
                    settings.login_per_account_total_burst,
                    settings.login_per_account_total_interval,
                ),
            })
        });
        Self {
            limiters: limiters.flatten(),
        }
    }

    /// Admits one attempt from `ip` on `account`, or refuses it with 429. The attempt counts
    /// as a failure only when [`LoginAttempt::failed`] is called.
    pub fn begin(
        &self,
        ip: Option<IpAddr>,
        account: LoginAccount,
    ) -> Result<LoginAttempt<'_>, ApiError> {
        let Some(limiters) = &self.limiters else {
            return Ok(LoginAttempt {
                reserved: None,
                failed: false,
            });
        };
        let ip = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        check_keyed(&limiters.per_ip, &ip)?;
        let now = Instant::now();
        let pair = (account.clone(), ip);
        limiters
            .per_account_and_ip
            .reserve(&pair, now)
            .map_err(|wait| ApiError::rate_limited(seconds_up(wait)))?;
        if let Err(wait) = limiters.per_account.reserve(&account, now) {
            limiters.per_account_and_ip.refund(&pair);
            return Err(ApiError::rate_limited(seconds_up(wait)));
        }
        Ok(LoginAttempt {
            reserved: Some((limiters, pair)),
            failed: false,
        })
    }
}

/// One admitted login attempt. Dropped without [`LoginAttempt::failed`] (a success, a storage
/// error, a request given up), it gives its reserved failure back.
#[derive(Debug)]
pub struct LoginAttempt<'a> {
    reserved: Option<(&'a LoginLimiters, (LoginAccount, IpAddr))>,
    failed: bool,
}

impl LoginAttempt<'_> {
    /// The credentials were wrong: the attempt counts against the account.
    pub fn failed(mut self) {
        self.failed = true;
    }
}

impl Drop for LoginAttempt<'_> {
    fn drop(&mut self) {
        if let (Some((limiters, pair)), false) = (&self.reserved, self.failed) {
            limiters.per_account_and_ip.refund(pair);
            limiters.per_account.refund(&pair.0);
        }
    }
}

const MIN_INTERVAL: Duration = Duration::from_millis(1);
/// Past this many keys, the limiters forget the keys that are back to a full budget.
const MAX_KEYS: usize = 100_000;

/// Failures per key: a bucket of `burst` that refills one every `interval`. Each key holds the
/// instant its bucket is full again; a key not held has a full bucket.
#[derive(Debug)]
struct FailureBudget<K> {
    full_at: Mutex<HashMap<K, Instant>>,
    burst: u32,
    interval: Duration,
}

impl<K: Eq + Hash + Clone> FailureBudget<K> {
    fn new(burst: u32, interval: Duration) -> Self {
        Self {
            full_at: Mutex::new(HashMap::new()),
            burst: burst.max(1),
            interval: interval.max(MIN_INTERVAL),
        }
    }

    /// Takes one failure from `key`'s budget, or says how long until one is back.
    fn reserve(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut full_at = self.full_at.lock().unwrap_or_else(PoisonError::into_inner);
        let spent_until = full_at.get(key).map_or(now, |at| (*at).max(now));
        let after = spent_until + self.interval;
        let capacity = self.interval * self.burst;
        let debt = after - now;
        if debt > capacity {
            return Err(debt - capacity);
        }
        if full_at.len() >= MAX_KEYS {
            full_at.retain(|_, at| *at > now);
        }
        full_at.insert(key.clone(), after);
        Ok(())
    }

    /// Gives one reserved failure back.
    fn refund(&self, key: &K) {
        let mut full_at = self.full_at.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if let Some(at) = full_at.get_mut(key) {
            match at.checked_sub(self.interval) {
                Some(earlier) if earlier > now => *at = earlier,
                _ => {
                    full_at.remove(key);
                }
            }
        }
    }
}

fn seconds_up(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_budget_refuses_past_its_burst_and_refills() {
        let budget = FailureBudget::new(2, Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(budget.reserve(&"a", start), Ok(()));
        assert_eq!(budget.reserve(&"a", start), Ok(()));
        assert_eq!(
            budget.reserve(&"a", start),
            Err(Duration::from_secs(10)),
            "the third waits for one to come back"
        );
        assert_eq!(budget.reserve(&"b", start), Ok(()), "keys are apart");
        assert_eq!(
            budget.reserve(&"a", start + Duration::from_secs(10)),
            Ok(())
        );
    }

    #[test]
    fn a_refund_gives_a_reservation_back() {
        let budget = FailureBudget::new(1, Duration::from_secs(60));
        let now = Instant::now();
        assert_eq!(budget.reserve(&"a", now), Ok(()));
        budget.refund(&"a");
        assert_eq!(budget.reserve(&"a", now), Ok(()));
        assert!(budget.reserve(&"a", now).is_err());
    }

    #[test]
    fn owners_are_keyed_by_the_exact_id_and_admins_by_the_normalized_email() {
        assert_ne!(LoginAccount::owner("APP-B"), LoginAccount::owner("app-b"));
        assert_eq!(
            LoginAccount::admin("  Admin@Example.COM "),
            LoginAccount::admin("admin@example.com")
        );
        assert_ne!(
            LoginAccount::owner("admin@example.com"),
            LoginAccount::admin("admin@example.com")
        );
        let long = "é".repeat(1000);
        let LoginAccount::Owner(key) = LoginAccount::owner(&long) else {
            unreachable!()
        };
        assert!(key.len() <= LoginAccount::MAX_KEY_BYTES);
    }

    #[test]
    fn only_failures_count_against_an_account() {
        let settings = RateLimitSettings {
            login_per_ip_burst: 100,
            login_per_account_burst: 2,
            login_per_account_total_burst: 3,
            ..RateLimitSettings::default()
        };
        let limiter = LoginLimiter::new(&settings);
        let owner = Some(IpAddr::from([192, 0, 2, 1]));
        for _ in 0..10 {
            drop(
                limiter
                    .begin(owner, LoginAccount::owner("site"))
                    .expect("admitted"),
            );
        }
        let attacker = Some(IpAddr::from([198, 51, 100, 1]));
        for _ in 0..2 {
            limiter
                .begin(attacker, LoginAccount::owner("site"))
                .expect("admitted")
                .failed();
        }
        assert!(
            limiter
                .begin(attacker, LoginAccount::owner("site"))
                .is_err()
        );
        assert!(limiter.begin(owner, LoginAccount::owner("site")).is_ok());
        let another = Some(IpAddr::from([198, 51, 100, 2]));
        limiter
            .begin(another, LoginAccount::owner("site"))
            .expect("admitted")
            .failed();
        assert!(
            limiter.begin(owner, LoginAccount::owner("site")).is_err(),
            "three failures from anywhere spend the account's budget"
        );
    }
}

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

/// argon2id cost parameters and how many hashes may run at once.
#[derive(Debug, Clone)]
pub struct HashingSettings {
    /// Memory per hash in KiB (OWASP: 19456).
    pub memory_kib: u32,
    /// Passes (OWASP: 2).
    pub iterations: u32,
    /// Lanes (OWASP: 1).
    pub parallelism: u32,
    /// Hashes computed at once; `None` means one per CPU core. Callers beyond it wait, so a
    /// login flood can neither starve the async workers nor allocate unbounded memory.
    pub max_concurrent: Option<usize>,
}

impl Default for HashingSettings {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
            max_concurrent: None,
        }
    }
}

impl HashingSettings {
    /// The cheapest parameters argon2 accepts: for tests only.
    pub fn fast_for_tests() -> Self {
        Self {
            memory_kib: Params::MIN_M_COST,
            iterations: 1,
            parallelism: 1,
            max_concurrent: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("invalid argon2 parameters: {0}")]
    Parameters(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the hashing task was cancelled")]
    Cancelled,
}

/// Hashes and verifies passwords with argon2id, off the async workers and with bounded
/// concurrency. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    pool: Arc<HashPool>,
    /// Verified against when an account does not exist, so that the answer takes as long.
    dummy_hash: Arc<str>,
}

impl PasswordHasher {
    pub fn new(settings: &HashingSettings) -> Result<Self, HashError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|e| HashError::Parameters(e.to_string()))?;
        let permits = settings
            .max_concurrent
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let dummy_hash = hash_blocking(&params, generate_password().expose_secret())?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(permits)),
            pool: Arc::new(HashPool::new(permits)),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// The argon2id PHC string of `password`, with a fresh random salt.
    pub async fn hash(&self, password: SecretString) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run_blocking(move || hash_blocking(&params, password.expose_secret()))
            .await?
    }

    /// Whether `password` matches `stored_hash`. With `None` (no such account) it verifies
    /// against a dummy hash and returns `false`, taking the same time as a real check.
    pub async fn verify(
        &self,
        password: SecretString,
        stored_hash: Option<String>,
    ) -> Result<bool, HashError> {
        let known = stored_hash.is_some();
        let hash = stored_hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .run_blocking(move || {
                Argon2::default()
                    .verify_password(password.expose_secret().as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
        Ok(known && matches)
    }

    /// `record` when `password` matches the hash `hash_of` finds in it; `None` when it does not
    /// or when there is no record, which takes as long (see [`Self::verify`]). Every login goes
    /// through here, so no caller can forget the timing rule.
    pub async fn verified<T>(
        &self,
        password: SecretString,
        record: Option<T>,
        hash_of: impl Fn(&T) -> &str,
    ) -> Result<Option<T>, HashError> {
        let stored_hash = record.as_ref().map(|r| hash_of(r).to_owned());
        let matches = self.verify(password, stored_hash).await?;
        Ok(record.filter(|_| matches))
    }

    async fn run_blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Cancelled)?;
        let span = tracing::Span::current();
        let (done, result) = tokio::sync::oneshot::channel();
        self.pool.run(Box::new(move || {
            // The caller may have gone (a request given up): nobody is left to tell.
            let _ = done.send(span.in_scope(work));
        }))?;
        result
            .instrument(tracing::Span::current())
            .await
            .map_err(|_| HashError::Cancelled)
    }
}

type HashJob = Box<dyn FnOnce() + Send>;

/// Threads of their own for argon2, one per permit, at the lowest scheduling priority (nice
/// 19): when the CPU is contended, request threads and the store's writer run first, so a
/// login flood slows logins, not sign-ups or token checks. With idle CPU they run at full
/// speed. Each thread keeps its allocator arena, so hashing does not grow memory per call.
/// The threads end when the last `PasswordHasher` clone is dropped.
#[derive(Debug)]
struct HashPool {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>,
}

impl HashPool {
    fn new(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<HashJob>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for index in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    if let Err(error) = thread_priority::set_current_thread_priority(
                        thread_priority::ThreadPriority::Min,
                    ) {
                        tracing::debug!(?error, "hashing runs at normal priority");
                    }
                    loop {
                        // A poisoned queue still hands out whole jobs.
                        let job = queue
                            .lock()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a hashing thread");
            }
        }
        Self {
            jobs: std::sync::Mutex::new(jobs),
        }
    }

    fn run(&self, job: HashJob) -> Result<(), HashError> {
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .send(job)
            .map_err(|_| HashError::Cancelled)
    }
}

fn hash_blocking(params: &Params, password: &str) -> Result<String, HashError> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Hashing(e.to_string()))
}

/// A new password: 192 bits from the operating system's CSPRNG, as 32 URL-safe characters.
pub fn generate_password() -> SecretString {
    let mut bytes = [0u8; 24];
    // The OS random source failing is not something the service can run without.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(&HashingSettings::fast_for_tests()).expect("valid params")
    }

    #[test]
    fn generated_passwords_are_long_url_safe_and_distinct() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.expose_secret().len(), 32);
        assert!(
            a.expose_secret()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hasher = hasher();
        let hash = hasher.hash("correct horse".into()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(
            hasher
                .verify("correct horse".into(), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("wrong horse".into(), Some(hash))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn owasp_parameters_are_the_default() {
        let hasher = PasswordHasher::new(&HashingSettings::default()).expect("valid params");
        let hash = hasher.hash("x".into()).await.expect("hash");
        assert!(hash.contains("m=19456,t=2,p=1"), "{hash}");
    }

    #[tokio::test]
    async fn unknown_accounts_never_verify() {
        assert!(
            !hasher()
                .verify("anything".into(), None)
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn a_garbage_stored_hash_does_not_verify_or_panic() {
        assert!(
            !hasher()
                .verify("x".into(), Some("not a hash".into()))
                .await
                .expect("verify")
        );
    }
}

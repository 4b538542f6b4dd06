//! API keys: how an app's own backend calls us (ACCOUNTS.md §2). A key acts as the app's
//! `tenant_admin` limited to its permissions, only on its own app. Created, listed and revoked
//! by the app's operators; shown once; stored as SHA-256 with a visible prefix.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use storage_port::{ApiKeyRecord, Storage, StorageError, Timestamp};

use crate::access::{AppAccess, ManagementPermission};
use crate::accounts::random_text;
use crate::ids::lower_hex;
use crate::permissions::{self, Authority, PermissionProblem, Role};
use crate::{AccountError, Forbidden};
use schema_validation::{Violation, Violations};

/// Every key starts with this, so that a bearer credential is told apart from a JWT and a
/// leaked key is recognised by secret scanners.
pub const KEY_PREFIX: &str = "uak_";
/// How many characters of a key are kept and shown to tell keys apart.
const SHOWN: usize = 12;
/// How long a looked-up key is trusted before the store is asked again (revocation takes
/// effect within this on every instance).
const KEY_CHECK_TTL: Duration = Duration::from_secs(1);
/// `last_used_at` is written at most this often per key.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
const MAX_NAME_CHARS: usize = 100;

/// A new key as an operator asks for it.
#[derive(Debug, Default)]
pub struct NewApiKey {
    pub name: String,
    /// A role whose defaults the key gets (`tenant_admin`: every built-in permission).
    pub role: Option<String>,
    pub permissions: Vec<String>,
    pub expires_at: Option<Timestamp>,
}

/// A key just created: the only time its secret is seen.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub record: ApiKeyRecord,
    pub key: String,
}

/// The app's backend behind a valid API key: obtainable only through
/// [`ApiKeyService::authenticate`].
#[derive(Debug, Clone)]
pub struct ApiKeyCaller {
    record: Arc<ApiKeyRecord>,
}

impl ApiKeyCaller {
    pub fn app_id(&self) -> &str {
        &self.record.app_id
    }

    pub fn key_id(&self) -> &str {
        &self.record.id
    }

    /// A `tenant_admin` that holds only the key's permissions.
    pub fn authority(&self) -> Authority {
        Authority::api_key(self.record.permissions.iter().cloned())
    }

    /// Access to a management route of its own app (`/v1/apps/{appId}/…`), as the app's owner
    /// would have it, when the key holds the route's permission.
    pub fn app_access(
        &self,
        app_id: &str,
        needs: ManagementPermission,
    ) -> Result<AppAccess, Forbidden> {
        if app_id != self.record.app_id {
            tracing::warn!(key_id = %self.record.id, app_id, "an API key was used on another app");
            return Err(Forbidden::new("the API key belongs to another app"));
        }
        if !needs
            .accepted()
            .iter()
            .any(|permission| self.record.permissions.iter().any(|p| p == permission))
        {
            return Err(Forbidden::new("the API key lacks the permission"));
        }
        Ok(AppAccess::for_api_key(app_id, &self.record.id))
    }
}

/// Why an API key was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("{0}")]
    Invalid(Violations),
    #[error("no app has this id")]
    UnknownApp,
    #[error("no such API key")]
    NotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Recent lookups by key hash: when, and what the store said.
type KeyChecks = HashMap<String, (Instant, Option<Arc<ApiKeyRecord>>)>;

/// API keys of every app.
#[derive(Debug)]
pub struct ApiKeyService<S: ?Sized> {
    storage: Arc<S>,
    checked: Mutex<KeyChecks>,
    touched: Mutex<HashMap<String, Instant>>,
}

impl<S: Storage + ?Sized> ApiKeyService<S> {
    pub fn new(storage: Arc<S>) -> Self {
        Self {
            storage,
            checked: Mutex::default(),
            touched: Mutex::default(),
        }
    }

    /// Creates a key for the app.
    pub async fn create(
        &self,
        access: &AppAccess,
        new: NewApiKey,
    ) -> Result<CreatedApiKey, ApiKeyError> {
        let app_id = access.app_id();
        if self.storage.find_app(app_id).await?.is_none() {
            return Err(ApiKeyError::UnknownApp);
        }
        let mut problems = Vec::new();
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            problems.push(Violation::new(
                "name",
                "length",
                format!("must be 1 to {MAX_NAME_CHARS} characters"),
            ));
        }
        let role = match new.role.as_deref() {
            None => None,
            Some(text) => match Role::parse(text).filter(|role| *role <= Role::TenantAdmin) {
                Some(role) => Some(role),
                None => {
                    problems.push(Violation::new(
                        "role",
                        "enum",
                        "must be tenant_admin, admin, member or guest",
                    ));
                    None
                }
            },
        };
        problems.extend(check_permissions("permissions", &new.permissions));
        if role.is_none() && new.permissions.is_empty() {
            problems.push(Violation::new(
                "permissions",
                "required",
                "name a role or at least one permission",
            ));
        }
        let now = Timestamp::now();
        if new
            .expires_at
            .is_some_and(|at| at.as_unix_millis() <= now.as_unix_millis())
        {
            problems.push(Violation::new(
                "expiresAt",
                "range",
                "must be in the future",
            ));
        }
        if !problems.is_empty() {
            return Err(ApiKeyError::Invalid(Violations(problems)));
        }
        let mut permissions: Vec<String> = role
            .map(|role| role.defaults().iter().map(|p| (*p).to_owned()).collect())
            .unwrap_or_default();
        for permission in new.permissions {
            if !permissions.contains(&permission) {
                permissions.push(permission);
            }
        }
        let key = format!("{KEY_PREFIX}{}", random_text(32));
        let record = ApiKeyRecord {
            id: format!("key_{}", random_text(12)),
            app_id: app_id.to_owned(),
            name,
            prefix: key.chars().take(SHOWN).collect(),
            key_hash: hash(&key),
            role: role.map(|role| role.as_str().to_owned()),
            permissions,
            expires_at: new.expires_at,
            last_used_at: None,
            created_at: now,
            revoked_at: None,
        };
        self.storage.insert_api_key(&record).await?;
        tracing::info!(app_id, key_id = %record.id, by = access.subject(), "API key created");
        Ok(CreatedApiKey { record, key })
    }

    pub async fn list(&self, access: &AppAccess) -> Result<Vec<ApiKeyRecord>, ApiKeyError> {
        if self.storage.find_app(access.app_id()).await?.is_none() {
            return Err(ApiKeyError::UnknownApp);
        }
        Ok(self.storage.list_api_keys(access.app_id()).await?)
    }

    /// Revokes a key; every instance refuses it within a second.
    pub async fn revoke(&self, access: &AppAccess, key_id: &str) -> Result<(), ApiKeyError> {
        if !self
            .storage
            .revoke_api_key(access.app_id(), key_id, Timestamp::now())
            .await?
        {
            return Err(ApiKeyError::NotFound);
        }
        self.lock_checked()
            .retain(|_, (_, record)| record.as_ref().is_none_or(|record| record.id != key_id));
        tracing::info!(
            app_id = access.app_id(),
            key_id,
            by = access.subject(),
            "API key revoked"
        );
        Ok(())
    }

    /// The app backend behind `key`, or `InvalidToken` for an unknown, revoked or expired key.
    pub async fn authenticate(&self, key: &str) -> Result<ApiKeyCaller, AccountError> {
        if !key.starts_with(KEY_PREFIX) || key.len() > 200 {
            return Err(AccountError::InvalidToken);
        }
        let key_hash = hash(key);
        let cached = self
            .lock_checked()
            .get(&key_hash)
            .filter(|(at, _)| at.elapsed() < KEY_CHECK_TTL)
            .map(|(_, record)| record.clone());
        let record = match cached {
            Some(record) => record,
            None => {
                let record = self
                    .storage
                    .find_api_key_by_hash(&key_hash)
                    .await?
                    .map(Arc::new);
                let mut checked = self.lock_checked();
                if checked.len() > 10_000 {
                    checked.retain(|_, (at, _)| at.elapsed() < KEY_CHECK_TTL);
                }
                checked.insert(key_hash, (Instant::now(), record.clone()));
                record
            }
        };
        let now = Timestamp::now();
        let Some(record) = record.filter(|record| record.is_active(now)) else {
            return Err(AccountError::InvalidToken);
        };
        self.touch(&record, now).await;
        Ok(ApiKeyCaller { record })
    }

    /// Records the use, at most once a minute per key per instance; a failure only logs.
    async fn touch(&self, record: &ApiKeyRecord, now: Timestamp) {
        {
            let mut touched = self
                .touched
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if touched
                .get(&record.id)
                .is_some_and(|at| at.elapsed() < TOUCH_EVERY)
            {
                return;
            }
            touched.insert(record.id.clone(), Instant::now());
        }
        if let Err(error) = self
            .storage
            .touch_api_key(&record.app_id, &record.id, now)
            .await
        {
            tracing::warn!(key_id = %record.id, error = %error, "could not record an API key's use");
        }
    }

    fn lock_checked(&self) -> std::sync::MutexGuard<'_, KeyChecks> {
        self.checked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The problems of a list of extra permissions: each well-formed, not a look-alike of a
/// built-in one, at most [`permissions::MAX_PERMISSIONS`].
pub(crate) fn check_permissions(field: &str, list: &[String]) -> Vec<Violation> {
    let mut problems = Vec::new();
    if list.len() > permissions::MAX_PERMISSIONS {
        problems.push(Violation::new(
            field,
            "max_items",
            format!("at most {} permissions", permissions::MAX_PERMISSIONS),
        ));
    }
    for (index, permission) in list.iter().enumerate() {
        match permissions::check_permission(permission) {
            Ok(()) => {}
            Err(PermissionProblem::Malformed) => problems.push(Violation::new(
                format!("{field}[{index}]"),
                "format",
                "must be resource:action in lower case (e.g. billing:read)",
            )),
            Err(PermissionProblem::Reserved) => problems.push(Violation::new(
                format!("{field}[{index}]"),
                "reserved",
                "names a built-in resource with an action that is not built in",
            )),
        }
    }
    problems
}

fn hash(key: &str) -> String {
    lower_hex(&Sha256::digest(key.as_bytes()))
}

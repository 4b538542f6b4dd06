//! Creating and changing apps and their schemas, for operators holding the access it takes.

use std::sync::Arc;

use schema_validation::{SchemaDraft, Violation, Violations};
use secrecy::SecretString;
use storage_port::{
    AppChanges, AppRecord, AppStore, AppSummary, SchemaStore, SchemaVersion, StorageError,
    Timestamp, UserStore,
};

use crate::access::{AdminAccess, AppAccess, Forbidden};
use crate::password::{HashError, generate_password};
use crate::records::{SchemaImpact, schema_impact};
use crate::{AllowedOrigins, AppCache, AppId, NotAnOrigin, PasswordHasher, new_incarnation};

/// What an admin gives to create an app.
#[derive(Debug, Clone, Default)]
pub struct NewApp {
    pub id: String,
    pub name: String,
    pub allowed_origins: Vec<String>,
    pub honeypot_field: Option<String>,
    pub thank_you_url: Option<String>,
    /// Where a failed plain HTML form goes instead of the built-in error page.
    pub error_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(Violations),
    #[error("an app with this id already exists")]
    DuplicateId,
    #[error("no app has this id")]
    NotFound,
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Storage(StorageError),
    #[error(transparent)]
    Hashing(#[from] HashError),
}

impl From<StorageError> for AppError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Duplicate(_) => Self::DuplicateId,
            StorageError::NotFound(_) => Self::NotFound,
            other => Self::Storage(other),
        }
    }
}

/// Whether a schema save only reports its impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaSave {
    /// Check the schema and measure its impact; save nothing.
    DryRun,
    /// Check, measure and save as the next version.
    Save,
}

/// What a schema save did.
#[derive(Debug, Clone)]
pub struct SchemaChange {
    /// How many stored records the new schema would reject (they are kept).
    pub impact: SchemaImpact,
    /// The saved version; `None` for a dry run.
    pub saved: Option<SchemaVersion>,
}

/// Creating and changing apps and their schemas.
#[derive(Debug)]
pub struct AppService<S: ?Sized> {
    storage: Arc<S>,
    cache: Arc<AppCache>,
    hasher: PasswordHasher,
    limits: LifetimeLimits,
}

impl<S: AppStore + SchemaStore + UserStore + ?Sized> AppService<S> {
    /// `limits`: the longest token and session lifetimes an app may choose.
    pub fn new(
        storage: Arc<S>,
        cache: Arc<AppCache>,
        hasher: PasswordHasher,
        limits: LifetimeLimits,
    ) -> Self {
        Self {
            storage,
            cache,
            hasher,
            limits,
        }
    }

    /// The longest lifetimes an app may choose (the service's own).
    pub fn lifetime_limits(&self) -> LifetimeLimits {
        self.limits
    }

    /// Creates the app and returns it with its password, which is shown once and stored only
    /// as an argon2id hash.
    pub async fn create_app(
        &self,
        _admin: &AdminAccess,
        new: NewApp,
    ) -> Result<(AppRecord, SecretString), AppError> {
        let mut problems = Vec::new();
        let id = AppId::parse(&new.id);
        match &id {
            None => problems.push(invalid(
                "id",
                "must be 1 to 80 characters of letters, digits, '.', '_' and '-'",
            )),
            // `/v1/apps/.` and `/v1/apps/..` are rewritten by every browser and client before
            // they are sent, so such an app could never be managed.
            Some(id) if id.as_ref().bytes().all(|b| b == b'.') => problems.push(invalid(
                "id",
                "must not consist of dots only: '.' and '..' cannot be used in a URL",
            )),
            Some(_) => {}
        }
        let settings = check_settings(
            Some(&new.name),
            Some(&new.allowed_origins),
            Some(&new.honeypot_field),
            Some(&new.thank_you_url),
            Some(&new.error_url),
            &mut problems,
        );
        let Some(id) = id.filter(|_| problems.is_empty()) else {
            return Err(AppError::Invalid(Violations(problems)));
        };
        let password = generate_password();
        let password_hash = self.hasher.hash(password.clone()).await?;
        let now = Timestamp::now();
        let app = AppRecord {
            id: id.as_ref().to_owned(),
            name: settings.name.unwrap_or_default(),
            allowed_origins: settings.allowed_origins.unwrap_or_default(),
            honeypot_field: settings.honeypot_field.flatten(),
            thank_you_url: settings.thank_you_url.flatten(),
            error_url: settings.error_url.flatten(),
            password_hash,
            credential_version: 1,
            incarnation: new_incarnation(),
            account_settings: storage_port::AccountSettings::default(),
            created_at: now,
            updated_at: now,
        };
        self.storage.insert_app(&app).await?;
        Ok((app, password))
    }

    /// Changes an app's name, origins, honeypot, thank-you page or error page; owners may
    /// change only the first two ([`AppError::Forbidden`], before anything else is checked).
    pub async fn update_app(
        &self,
        access: &AppAccess,
        changes: AppChanges,
        switches: AccountSwitches,
    ) -> Result<AppRecord, AppError> {
        access.check_changes(&changes)?;
        let app_id = access.app_id();
        let mut problems = Vec::new();
        let checked = check_settings(
            changes.name.as_ref(),
            changes.allowed_origins.as_ref(),
            changes.honeypot_field.as_ref(),
            changes.thank_you_url.as_ref(),
            changes.error_url.as_ref(),
            &mut problems,
        );
        switches.check(self.limits, &mut problems);
        if !problems.is_empty() {
            return Err(AppError::Invalid(Violations(problems)));
        }
        // The switches change the stored account settings member by member (the mail
        // settings have their own route).
        let account_settings = if switches.is_empty() {
            None
        } else {
            let mut current = self
                .storage
                .find_app(app_id)
                .await?
                .ok_or(AppError::NotFound)?
                .account_settings;
            switches.apply_to(&mut current);
            Some(current)
        };
        let checked = AppChanges {
            account_settings,
            ..checked
        };
        let updated = self
            .storage
            .update_app(app_id, &checked, Timestamp::now())
            .await?;
        self.cache.invalidate(app_id);
        Ok(updated)
    }

    /// Replaces the app's password; sessions opened with the old one end at their next request.
    pub async fn rotate_password(
        &self,
        _admin: &AdminAccess,
        app_id: &str,
    ) -> Result<(AppRecord, SecretString), AppError> {
        let password = generate_password();
        let hash = self.hasher.hash(password.clone()).await?;
        let app = self
            .storage
            .replace_app_password(app_id, &hash, Timestamp::now())
            .await?;
        self.cache.invalidate(app_id);
        Ok((app, password))
    }

    /// Deletes the app with its schemas and every record.
    pub async fn delete_app(&self, _admin: &AdminAccess, app_id: &str) -> Result<(), AppError> {
        self.storage.delete_app(app_id).await?;
        self.cache.invalidate(app_id);
        Ok(())
    }

    /// The app, or [`AppError::NotFound`].
    pub async fn find_app(&self, access: &AppAccess) -> Result<AppRecord, AppError> {
        self.storage
            .find_app(access.app_id())
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The app with its number of records.
    pub async fn summary(&self, access: &AppAccess) -> Result<AppSummary, AppError> {
        let app = self.find_app(access).await?;
        let user_count = self.storage.count_users(&app.id).await?;
        Ok(AppSummary { app, user_count })
    }

    /// Every app, ordered by id, with its record count.
    pub async fn list_apps(&self, _admin: &AdminAccess) -> Result<Vec<AppSummary>, AppError> {
        Ok(self.storage.list_apps().await?)
    }

    /// The app's current schema, or `None` when it has never had one.
    pub async fn current_schema(
        &self,
        access: &AppAccess,
    ) -> Result<Option<SchemaVersion>, AppError> {
        self.find_app(access).await?;
        Ok(self.storage.current_schema(access.app_id()).await?)
    }

    /// Every saved version of the app's schema, newest first.
    pub async fn schema_versions(
        &self,
        access: &AppAccess,
    ) -> Result<Vec<SchemaVersion>, AppError> {
        self.find_app(access).await?;
        Ok(self.storage.list_schema_versions(access.app_id()).await?)
    }

    /// Checks the draft (every problem at once), measures how many stored records it would
    /// reject, and, unless `mode` is a dry run, saves it as the app's next schema version.
    pub async fn save_schema(
        &self,
        access: &AppAccess,
        draft: SchemaDraft,
        mode: SchemaSave,
    ) -> Result<SchemaChange, AppError> {
        let schema = draft.check().map_err(AppError::Invalid)?;
        let app_id = access.app_id();
        self.find_app(access).await?;
        let impact = schema_impact(&*self.storage, app_id, &schema).await?;
        let saved = match mode {
            SchemaSave::DryRun => None,
            SchemaSave::Save => {
                let saved = self
                    .storage
                    .save_schema(app_id, &schema, Timestamp::now())
                    .await?;
                self.cache.invalidate(app_id);
                tracing::info!(
                    subject = access.subject(),
                    app_id,
                    version = saved.version,
                    failing = impact.failing,
                    "schema saved"
                );
                Some(saved)
            }
        };
        Ok(SchemaChange { impact, saved })
    }
}

fn invalid(field: &str, message: &str) -> Violation {
    Violation::new(field, "invalid", message)
}

/// Checks the settings that are given and returns them normalized.
fn check_settings(
    name: Option<&String>,
    origins: Option<&Vec<String>>,
    honeypot: Option<&Option<String>>,
    thank_you_url: Option<&Option<String>>,
    error_url: Option<&Option<String>>,
    problems: &mut Vec<Violation>,
) -> AppChanges {
    let mut checked = AppChanges::default();
    if let Some(name) = name {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            problems.push(invalid("name", "must be 1 to 200 characters"));
        }
        checked.name = Some(name.to_owned());
    }
    if let Some(origins) = origins {
        match AllowedOrigins::parse(origins) {
            Ok(parsed) if origins.len() <= 100 => checked.allowed_origins = Some(parsed.into_vec()),
            Ok(_) => problems.push(invalid("allowedOrigins", "must list at most 100 origins")),
            Err(NotAnOrigin(bad)) => problems.push(invalid(
                "allowedOrigins",
                &format!(
                    "'{}' is not an origin such as https://example.com, or *",
                    bad.chars().take(100).collect::<String>()
                ),
            )),
        }
    }
    if let Some(honeypot) = honeypot {
        let honeypot = honeypot.as_deref().map(str::trim).filter(|h| !h.is_empty());
        if honeypot.is_some_and(|h| !is_honeypot_name(h)) {
            problems.push(invalid(
                "honeypotField",
                "must be a letter, or _ then a letter, followed by letters, digits and _ (such as website or _gotcha)",
            ));
        }
        checked.honeypot_field = Some(honeypot.map(str::to_owned));
    }
    if let Some(url) = thank_you_url {
        checked.thank_you_url = Some(checked_url("thankYouUrl", url, problems));
    }
    if let Some(url) = error_url {
        checked.error_url = Some(checked_url("errorUrl", url, problems));
    }
    checked
}

/// A field key, or one in the reserved style (`_gotcha`, Formspree's name), which no schema
/// field can take, so the bait can never collide with a real field.
fn is_honeypot_name(text: &str) -> bool {
    is_field_key(text.strip_prefix('_').unwrap_or(text))
}

/// An optional absolute http(s) URL, trimmed; empty text means none.
/// Which of an app's account switches to change (`PATCH /v1/apps/{id}`); `None` keeps one.
/// A lifetime of `Some(None)` goes back to the service's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountSwitches {
    pub organization_creation: Option<storage_port::OrganizationCreation>,
    pub require_verified_email: Option<bool>,
    pub access_token_minutes: Option<Option<u32>>,
    pub session_idle_days: Option<Option<u32>>,
    pub session_absolute_days: Option<Option<u32>>,
}

/// The longest token and session lifetimes an app may choose: the service's own settings,
/// so an app's operator can shorten them and never lengthen what the service's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimeLimits {
    pub access_token_minutes: u32,
    pub session_idle_days: u32,
    pub session_absolute_days: u32,
}

impl LifetimeLimits {
    pub fn of(settings: &crate::AccountSettings) -> Self {
        const DAY: u64 = 24 * 60 * 60;
        let whole = |seconds: u64, unit: u64| u32::try_from(seconds / unit).unwrap_or(u32::MAX);
        Self {
            access_token_minutes: whole(settings.access_token_ttl.as_secs(), 60),
            session_idle_days: whole(settings.session_idle.as_secs(), DAY),
            session_absolute_days: whole(settings.session_absolute.as_secs(), DAY),
        }
    }
}

impl AccountSwitches {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Each lifetime given is 1 to the service's own.
    fn check(&self, limits: LifetimeLimits, problems: &mut Vec<Violation>) {
        let given = [
            (
                "accessTokenMinutes",
                self.access_token_minutes,
                limits.access_token_minutes,
                "minutes",
            ),
            (
                "sessionIdleDays",
                self.session_idle_days,
                limits.session_idle_days,
                "days",
            ),
            (
                "sessionAbsoluteDays",
                self.session_absolute_days,
                limits.session_absolute_days,
                "days",
            ),
        ];
        for (field, value, most, unit) in given {
            if let Some(Some(value)) = value
                && !(1..=most).contains(&value)
            {
                problems.push(Violation::new(
                    field,
                    "range",
                    format!("must be 1 to {most} {unit} (the service's own setting), or null"),
                ));
            }
        }
    }

    fn apply_to(self, settings: &mut storage_port::AccountSettings) {
        if let Some(value) = self.organization_creation {
            settings.organization_creation = value;
        }
        if let Some(value) = self.require_verified_email {
            settings.require_verified_email = value;
        }
        let lifetimes = &mut settings.lifetimes;
        if let Some(value) = self.access_token_minutes {
            lifetimes.access_token_minutes = value;
        }
        if let Some(value) = self.session_idle_days {
            lifetimes.session_idle_days = value;
        }
        if let Some(value) = self.session_absolute_days {
            lifetimes.session_absolute_days = value;
        }
    }
}

fn checked_url(field: &str, url: &Option<String>, problems: &mut Vec<Violation>) -> Option<String> {
    let url = url.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let well_formed = |u: &str| {
        (u.starts_with("https://") || u.starts_with("http://"))
            && u.len() <= 2000
            && !u.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if url.is_some_and(|u| !well_formed(u)) {
        problems.push(invalid(field, "must be an http or https URL"));
    }
    url.map(str::to_owned)
}

fn is_field_key(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && text.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

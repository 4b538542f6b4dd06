//! Platform admins.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::{ExposeSecret, SecretString};
use storage_port::{AdminRecord, AdminStore, StorageError, Timestamp};

use crate::password::HashError;
use crate::{EmailAddress, PasswordHasher};

/// The shortest admin password accepted (NIST SP 800-63B asks for at least 8; admins get more).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest: argon2 would take more, but nobody types this much and it bounds the work.
pub const MAX_PASSWORD_CHARS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("not a valid email address")]
    InvalidEmail,
    #[error("the password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("an admin with this email already exists")]
    EmailTaken,
    #[error("no admin has this email")]
    NotFound,
    #[error(transparent)]
    Storage(StorageError),
    #[error(transparent)]
    Hashing(#[from] HashError),
}

impl From<StorageError> for AdminError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Duplicate(_) => Self::EmailTaken,
            StorageError::NotFound(_) => Self::NotFound,
            other => Self::Storage(other),
        }
    }
}

#[derive(Debug)]
pub struct AdminService<S: ?Sized> {
    storage: Arc<S>,
    hasher: PasswordHasher,
    /// Set once an admin has been seen: admins are never deleted, so from then on the
    /// first-run question needs no storage call.
    admin_seen: AtomicBool,
}

impl<S: AdminStore + ?Sized> AdminService<S> {
    pub fn new(storage: Arc<S>, hasher: PasswordHasher) -> Self {
        Self {
            storage,
            hasher,
            admin_seen: AtomicBool::new(false),
        }
    }

    /// Whether the platform has no admin yet (a fresh install: nobody can log in until one is
    /// created with `users-api admin create`). Asks the store until an admin exists, which may
    /// be created by another process; then remembers the answer.
    pub async fn needs_first_admin(&self) -> Result<bool, StorageError> {
        if self.admin_seen.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let none = self.storage.count_admins().await? == 0;
        if !none {
            self.admin_seen.store(true, Ordering::Relaxed);
        }
        Ok(none)
    }

    pub async fn create_admin(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<AdminRecord, AdminError> {
        let email = EmailAddress::parse(email).ok_or(AdminError::InvalidEmail)?;
        check_password(&password)?;
        let admin = AdminRecord {
            id: uuid::Uuid::now_v7().to_string(),
            email: email.as_ref().to_owned(),
            password_hash: self.hasher.hash(password).await?,
            credential_version: 1,
            created_at: Timestamp::now(),
        };
        self.storage.insert_admin(&admin).await?;
        Ok(admin)
    }

    /// Every admin, ordered by email.
    pub async fn list_admins(&self) -> Result<Vec<AdminRecord>, AdminError> {
        Ok(self.storage.list_admins().await?)
    }

    /// Gives the admin a new password (the same rule as at creation) and raises its credential
    /// version, so that every dashboard session it has open ends at its next request.
    pub async fn reset_password(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<AdminRecord, AdminError> {
        let email = EmailAddress::parse(email).ok_or(AdminError::InvalidEmail)?;
        check_password(&password)?;
        if self
            .storage
            .find_admin_by_email(email.as_ref())
            .await?
            .is_none()
        {
            return Err(AdminError::NotFound);
        }
        let hash = self.hasher.hash(password).await?;
        Ok(self
            .storage
            .replace_admin_password(email.as_ref(), &hash)
            .await?)
    }

    /// Creates the first admin from configured credentials, only when there is no admin yet.
    /// Returns whether one was created.
    pub async fn bootstrap(&self, email: &str, password: SecretString) -> Result<bool, AdminError> {
        if self.storage.count_admins().await? > 0 {
            return Ok(false);
        }
        match self.create_admin(email, password).await {
            Ok(_) => Ok(true),
            // Another instance bootstrapped the same admin at the same moment.
            Err(AdminError::EmailTaken) => Ok(false),
            Err(other) => Err(other),
        }
    }

    /// The admin with these credentials, or `None`; as slow for an unknown email as for a
    /// wrong password.
    pub async fn authenticate(
        &self,
        email: &str,
        password: SecretString,
    ) -> Result<Option<AdminRecord>, AdminError> {
        let admin = match EmailAddress::parse(email) {
            Some(email) => self.storage.find_admin_by_email(email.as_ref()).await?,
            None => None,
        };
        Ok(self
            .hasher
            .verified(password, admin, |a| &a.password_hash)
            .await?)
    }
}

fn check_password(password: &SecretString) -> Result<(), AdminError> {
    let length = password.expose_secret().chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
        Ok(())
    } else {
        Err(AdminError::WeakPassword)
    }
}

/// What a `Duplicate` or `NotFound` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    App,
    Admin,
    /// A user record that is an account (an email registered twice).
    Account,
    Session,
    SigningKey,
    Organization,
    /// An account's place in an organization.
    Membership,
    ApiKey,
    /// A one-time token (verification, reset, invitation).
    Token,
    /// A message of the outbox.
    Message,
    /// A row of no more precise kind (a constraint the adapter cannot attribute).
    Record,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::App => "app",
            Self::Admin => "admin",
            Self::Account => "account",
            Self::Session => "session",
            Self::SigningKey => "signing key",
            Self::Organization => "organization",
            Self::Membership => "membership",
            Self::ApiKey => "API key",
            Self::Token => "token",
            Self::Message => "message",
            Self::Record => "record",
        })
    }
}

/// What can go wrong in storage, in terms the layers above can act on. Adapters translate
/// their driver's errors into these; nothing above an adapter sees a driver type.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A unique key is taken (an app id, an admin email).
    #[error("{0} already exists")]
    Duplicate(Entity),
    /// The record to change or delete does not exist.
    #[error("{0} not found")]
    NotFound(Entity),
    /// The change would leave an organization without an `admin`: refused, also when two
    /// such changes race (each store decides it atomically).
    #[error("an organization must keep at least one admin")]
    LastAdmin,
    /// The store cannot be reached or is not answering; retrying later may work. When the
    /// source is a [`Fault`], its reason may be shown to clients (the readiness check does).
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored record could not be read back, or the store reports damaged data; never
    /// silently skipped.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The store holds data this release must not touch: another program's database, or one
    /// written by a newer release. Retrying does not help; the message says what was found.
    #[error("{0}")]
    Incompatible(String),
    /// Anything else.
    #[error("unexpected storage error")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StorageError {
    pub fn unavailable(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(error.into())
    }

    pub fn unexpected(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unexpected(error.into())
    }

    /// The reason an adapter gave in words safe to show anyone, when it gave one.
    pub fn public_reason(&self) -> Option<&str> {
        match self {
            Self::Unavailable(cause) => cause.downcast_ref::<Fault>().map(|f| f.reason.as_str()),
            _ => None,
        }
    }
}

/// Why the store cannot serve, in words an adapter wrote for anyone to read: no paths, hosts,
/// credentials or driver text. The driver's error, when there is one, is the source (for logs).
#[derive(Debug, thiserror::Error)]
#[error("{reason}")]
pub struct Fault {
    pub reason: String,
    #[source]
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Fault {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            cause: None,
        }
    }

    pub fn caused_by(
        reason: impl Into<String>,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            reason: reason.into(),
            cause: Some(cause.into()),
        }
    }
}

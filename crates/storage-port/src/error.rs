/// What can go wrong in storage, in terms the layers above can act on. Adapters translate
/// their driver's errors into these; nothing above an adapter sees a driver type.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A unique key is taken (an app id, an admin email).
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// The record to change or delete does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The store cannot be reached or is not answering; retrying later may work.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored record could not be read back; never silently skipped.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
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
}

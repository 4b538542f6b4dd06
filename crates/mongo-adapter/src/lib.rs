//! The MongoDB store: one collection per aggregate (`apps`, `schema_versions`, `users` with
//! the account as a subdocument, `admins`, `sessions`, `signing_keys`, `organizations`,
//! `memberships`, `api_keys`, and for e-mail `one_time_tokens` and `outbox`), typed serde
//! documents whose `_id` is our own id, indexes created idempotently at start-up, and driver
//! errors translated into [`StorageError`] by code and kind.
//!
//! Writes use only operations that behave alike on MongoDB and on simpler wire-protocol servers:
//! inserts guarded by unique indexes, whole-document replaces guarded by a `revision`
//! (compare-and-swap), and one conditional `$inc` of integers (an organization's admin count).
//! No multi-document transactions: a standalone server (Dokku's mongo plugin) has none.

mod accounts;
mod admins;
mod api_keys;
mod apps;
mod documents;
mod errors;
mod indexes;
mod mail;
mod organizations;
mod schemas;
mod users;
mod values;

use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::doc;
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use storage_port::{Storage, StorageError};

use crate::errors::storage_error;

/// Where and how to connect. Its `Debug` hides the password in the URI.
#[derive(Clone, PartialEq, Eq)]
pub struct MongoSettings {
    /// A `mongodb://` or `mongodb+srv://` connection string.
    pub uri: String,
    /// The database holding the collections.
    pub database: String,
    /// Connections per server in the driver's pool.
    pub max_pool_size: u32,
    /// How long to wait for a connection; also how long an operation waits for a reachable server
    /// (unless the URI sets `serverSelectionTimeoutMS`) before failing with `Unavailable`.
    pub connect_timeout: Duration,
}

impl std::fmt::Debug for MongoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoSettings")
            .field("uri", &without_credentials(&self.uri))
            .field("database", &self.database)
            .field("max_pool_size", &self.max_pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// The URI with any `user:password@` replaced by `***@`.
fn without_credentials(uri: &str) -> String {
    if let Some(scheme_end) = uri.find("://") {
        let rest = &uri[scheme_end + 3..];
        let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
        if let Some(at) = authority.rfind('@') {
            return format!("{}://***@{}", &uri[..scheme_end], &rest[at + 1..]);
        }
    }
    uri.to_owned()
}

/// A [`Storage`] on MongoDB. Cheap to clone: clones share the driver's connection pool.
#[derive(Debug, Clone)]
pub struct MongoStorage {
    database: Database,
}

/// How often a compare-and-swap or unique-index retry loop may go round before giving up. Each
/// lost round means another writer succeeded, so this only ends a loop under extreme contention.
const MAX_ATTEMPTS: usize = 256;

impl MongoStorage {
    /// Connects, checks that the server answers (`Unavailable` when the first ping fails), and
    /// creates the indexes idempotently. The driver reconnects by itself after an outage.
    pub async fn connect(settings: &MongoSettings) -> Result<Self, StorageError> {
        let mut options = ClientOptions::parse(&settings.uri)
            .await
            .map_err(storage_error)?;
        options.max_pool_size = Some(settings.max_pool_size);
        options.connect_timeout = Some(settings.connect_timeout);
        options
            .server_selection_timeout
            .get_or_insert(settings.connect_timeout);
        options
            .app_name
            .get_or_insert_with(|| "users-api".to_owned());
        let client = Client::with_options(options).map_err(storage_error)?;
        let storage = Self {
            database: client.database(&settings.database),
        };
        storage.ping_server().await?;
        indexes::ensure(&storage.database).await?;
        Ok(storage)
    }

    fn collection<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.database.collection(name)
    }

    async fn ping_server(&self) -> Result<(), StorageError> {
        self.database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(storage_error)?;
        Ok(())
    }
}

#[async_trait]
impl Storage for MongoStorage {
    async fn ping(&self) -> Result<(), StorageError> {
        self.ping_server().await
    }
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn settings_debug_hides_the_password() {
        assert_eq!(
            without_credentials("mongodb://user:s3cr%40t@db:27017/users_api?authSource=admin"),
            "mongodb://***@db:27017/users_api?authSource=admin"
        );
        assert_eq!(
            without_credentials("mongodb+srv://u:p@cluster.example.net"),
            "mongodb+srv://***@cluster.example.net"
        );
        assert_eq!(
            without_credentials("mongodb://127.0.0.1:27017/?a=b@c"),
            "mongodb://127.0.0.1:27017/?a=b@c"
        );
    }
}

//! API keys: `_id` the key's id, found by the unique `keyHash` index on every request made with
//! a key. Revoking and touching set dates, so they are replaces guarded by `revision` (the test
//! server stores dates written by `$set` as strings), and a touch never undoes a revocation.

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use storage_port::{ApiKeyRecord, ApiKeyStore, Entity, StorageError, Timestamp};

use crate::documents::{API_KEYS, ApiKeyDoc, decode};
use crate::errors::{storage_error, translate};
use crate::{MAX_ATTEMPTS, MongoStorage};

impl MongoStorage {
    async fn find_api_key_doc(
        &self,
        app_id: &str,
        key_id: &str,
    ) -> Result<Option<ApiKeyDoc>, StorageError> {
        let raw = self
            .collection::<Document>(API_KEYS)
            .find_one(doc! { "_id": key_id, "appId": app_id })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, API_KEYS)).transpose()
    }

    /// Applies `change` to the key as read and writes it back if nobody wrote in between;
    /// `change` returns `false` to leave the key as it is. `Ok(false)` for no such key or no
    /// change.
    async fn change_api_key(
        &self,
        app_id: &str,
        key_id: &str,
        change: impl Fn(&mut ApiKeyRecord) -> bool,
    ) -> Result<bool, StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(current) = self.find_api_key_doc(app_id, key_id).await? else {
                return Ok(false);
            };
            let mut key = current.record();
            if !change(&mut key) {
                return Ok(false);
            }
            let replaced = self
                .collection::<ApiKeyDoc>(API_KEYS)
                .replace_one(
                    doc! { "_id": key_id, "appId": app_id, "revision": current.revision },
                    ApiKeyDoc::new(&key, current.revision + 1),
                )
                .await
                .map_err(storage_error)?;
            if replaced.matched_count == 1 {
                return Ok(true);
            }
        }
        Err(StorageError::unexpected(format!(
            "API key {key_id} of app {app_id} kept changing under {MAX_ATTEMPTS} attempts to update it"
        )))
    }
}

#[async_trait]
impl ApiKeyStore for MongoStorage {
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StorageError> {
        self.collection::<ApiKeyDoc>(API_KEYS)
            .insert_one(ApiKeyDoc::new(key, 1))
            .await
            .map_err(|e| translate(e, Entity::ApiKey))?;
        Ok(())
    }

    async fn find_api_key_by_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StorageError> {
        let raw = self
            .collection::<Document>(API_KEYS)
            .find_one(doc! { "keyHash": key_hash })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| Ok(decode::<ApiKeyDoc>(raw, API_KEYS)?.record()))
            .transpose()
    }

    async fn list_api_keys(&self, app_id: &str) -> Result<Vec<ApiKeyRecord>, StorageError> {
        let mut cursor = self
            .collection::<Document>(API_KEYS)
            .find(doc! { "appId": app_id })
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .await
            .map_err(storage_error)?;
        let mut keys = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            keys.push(decode::<ApiKeyDoc>(raw, API_KEYS)?.record());
        }
        Ok(keys)
    }

    async fn revoke_api_key(
        &self,
        app_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        self.change_api_key(app_id, key_id, |key| {
            if key.revoked_at.is_some() {
                return false;
            }
            key.revoked_at = Some(now);
            true
        })
        .await
    }

    async fn touch_api_key(
        &self,
        app_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.change_api_key(app_id, key_id, |key| {
            key.last_used_at = Some(now);
            true
        })
        .await
        .map(|_| ())
    }
}

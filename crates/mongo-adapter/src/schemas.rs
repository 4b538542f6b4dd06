use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use schema_validation::Schema;
use storage_port::Entity;
use storage_port::{AppStore, SchemaStore, SchemaVersion, StorageError, Timestamp};

use crate::documents::{SCHEMA_VERSIONS, SchemaDoc, decode};
use crate::errors::{is_duplicate_key, storage_error};
use crate::{MAX_ATTEMPTS, MongoStorage};

impl MongoStorage {
    async fn latest_schema_doc(&self, app_id: &str) -> Result<Option<SchemaDoc>, StorageError> {
        let raw = self
            .collection::<Document>(SCHEMA_VERSIONS)
            .find_one(doc! { "appId": app_id })
            .sort(doc! { "version": -1 })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, SCHEMA_VERSIONS)).transpose()
    }
}

#[async_trait]
impl SchemaStore for MongoStorage {
    async fn current_schema(&self, app_id: &str) -> Result<Option<SchemaVersion>, StorageError> {
        self.latest_schema_doc(app_id)
            .await?
            .map(|doc| doc.record())
            .transpose()
    }

    async fn save_schema(
        &self,
        app_id: &str,
        schema: &Schema,
        now: Timestamp,
    ) -> Result<SchemaVersion, StorageError> {
        if self.find_app(app_id).await?.is_none() {
            return Err(StorageError::NotFound(Entity::App));
        }
        // The unique `{appId, version}` index decides between concurrent saves: the loser of a
        // version number reads the newest version again and tries the next one.
        for _ in 0..MAX_ATTEMPTS {
            let next = self
                .latest_schema_doc(app_id)
                .await?
                .map_or(1, |latest| latest.version + 1);
            let document = SchemaDoc::new(app_id, next, schema, now)?;
            match self
                .collection::<SchemaDoc>(SCHEMA_VERSIONS)
                .insert_one(&document)
                .await
            {
                Ok(_) => {}
                Err(error) if is_duplicate_key(&error) => continue,
                Err(error) => return Err(storage_error(error)),
            }
            // A delete of the app may have run since the check above; leave no orphan behind.
            if self.find_app(app_id).await?.is_none() {
                self.collection::<Document>(SCHEMA_VERSIONS)
                    .delete_one(doc! { "_id": &document.id })
                    .await
                    .map_err(storage_error)?;
                return Err(StorageError::NotFound(Entity::App));
            }
            return document.record();
        }
        Err(StorageError::unexpected(format!(
            "no free schema version for app {app_id} after {MAX_ATTEMPTS} attempts"
        )))
    }

    async fn list_schema_versions(&self, app_id: &str) -> Result<Vec<SchemaVersion>, StorageError> {
        let mut cursor = self
            .collection::<Document>(SCHEMA_VERSIONS)
            .find(doc! { "appId": app_id })
            .sort(doc! { "version": -1 })
            .await
            .map_err(storage_error)?;
        let mut versions = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            versions.push(decode::<SchemaDoc>(raw, SCHEMA_VERSIONS)?.record()?);
        }
        Ok(versions)
    }
}

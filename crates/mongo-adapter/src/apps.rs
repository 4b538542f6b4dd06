use std::collections::HashMap;
use storage_port::Entity;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use storage_port::{AppChanges, AppRecord, AppStore, AppSummary, StorageError, Timestamp};

use crate::documents::{
    API_KEYS, APPS, AppDoc, MEMBERSHIPS, ORGANIZATIONS, SCHEMA_VERSIONS, SESSIONS, USERS, decode,
};
use crate::errors::{storage_error, translate};
use crate::{MAX_ATTEMPTS, MongoStorage};

impl MongoStorage {
    async fn find_app_doc(&self, app_id: &str) -> Result<Option<AppDoc>, StorageError> {
        let raw = self
            .collection::<Document>(APPS)
            .find_one(doc! { "_id": app_id })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, APPS)).transpose()
    }

    /// Reads the app, applies `change` and writes it back only if nobody wrote in between
    /// (same `revision`); otherwise reads again. One document write, so the change is atomic.
    async fn change_app(
        &self,
        app_id: &str,
        change: impl Fn(&mut AppRecord),
    ) -> Result<AppRecord, StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .find_app_doc(app_id)
                .await?
                .ok_or(StorageError::NotFound(Entity::App))?;
            let mut record = current.record();
            let settings_before = record.account_settings.clone();
            change(&mut record);
            let mut changed = AppDoc {
                // Kept as it is: an old app without it may share its folded id with another.
                id_folded: current.id_folded.clone(),
                ..AppDoc::new(&record, current.revision + 1)?
            };
            if record.account_settings == settings_before {
                // Unchanged settings stay as stored: members a newer release wrote are kept.
                changed
                    .account_settings
                    .clone_from(&current.account_settings);
            }
            let replaced = self
                .collection::<AppDoc>(APPS)
                .replace_one(
                    doc! { "_id": app_id, "revision": current.revision },
                    changed,
                )
                .await
                .map_err(storage_error)?;
            if replaced.matched_count == 1 {
                return Ok(record);
            }
        }
        Err(StorageError::unexpected(format!(
            "app {app_id} kept changing under {MAX_ATTEMPTS} attempts to update it"
        )))
    }

    async fn user_counts(&self) -> Result<HashMap<String, u64>, StorageError> {
        let pipeline = vec![doc! { "$group": { "_id": "$appId", "count": { "$sum": 1 } } }];
        let mut cursor = self
            .collection::<Document>(USERS)
            .aggregate(pipeline)
            .await
            .map_err(storage_error)?;
        let mut counts = HashMap::new();
        while let Some(group) = cursor.try_next().await.map_err(storage_error)? {
            let app_id = group
                .get_str("_id")
                .map_err(|e| StorageError::Corrupt(format!("{USERS}: appId {e}")))?;
            let count = match group.get("count") {
                Some(Bson::Int32(n)) => u64::try_from(*n).ok(),
                Some(Bson::Int64(n)) => u64::try_from(*n).ok(),
                // Some servers sum in doubles; a whole, non-negative one is still a count.
                Some(Bson::Double(n)) if n.fract() == 0.0 && *n >= 0.0 && *n < 9.0e15 => {
                    Some(*n as u64)
                }
                _ => None,
            }
            .ok_or_else(|| {
                StorageError::Corrupt(format!("{USERS}: no user count for app {app_id}"))
            })?;
            counts.insert(app_id.to_owned(), count);
        }
        Ok(counts)
    }
}

#[async_trait]
impl AppStore for MongoStorage {
    async fn insert_app(&self, app: &AppRecord) -> Result<(), StorageError> {
        self.collection::<AppDoc>(APPS)
            .insert_one(AppDoc::new(app, 1)?)
            .await
            .map_err(|e| translate(e, Entity::App))?;
        Ok(())
    }

    async fn find_app(&self, app_id: &str) -> Result<Option<AppRecord>, StorageError> {
        Ok(self.find_app_doc(app_id).await?.map(|doc| doc.record()))
    }

    async fn list_apps(&self) -> Result<Vec<AppSummary>, StorageError> {
        let mut cursor = self
            .collection::<Document>(APPS)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .map_err(storage_error)?;
        let mut apps = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            apps.push(decode::<AppDoc>(raw, APPS)?.record());
        }
        // One grouped count over the `{appId, …}` indexes rather than one query per app.
        let counts = self.user_counts().await?;
        Ok(apps
            .into_iter()
            .map(|app| {
                let user_count = counts.get(&app.id).copied().unwrap_or(0);
                AppSummary { app, user_count }
            })
            .collect())
    }

    async fn update_app(
        &self,
        app_id: &str,
        changes: &AppChanges,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError> {
        self.change_app(app_id, |app| {
            changes.apply_to(app, now);
        })
        .await
    }

    async fn replace_app_password(
        &self,
        app_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError> {
        // The hash and the raised credential version land in one guarded replace, so no reader
        // ever sees the new hash with the old version, and two rotations raise it twice.
        self.change_app(app_id, |app| {
            password_hash.clone_into(&mut app.password_hash);
            app.credential_version += 1;
            app.updated_at = now;
        })
        .await
    }

    async fn delete_app(&self, app_id: &str) -> Result<(), StorageError> {
        if self.find_app_doc(app_id).await?.is_none() {
            return Err(StorageError::NotFound(Entity::App));
        }
        // Children first: if this stops half-way, what is left is an app without users, never
        // users (or their sessions, organizations or API keys) without an app that a later app
        // of the same id would inherit. API keys go first: they are credentials.
        for collection in [
            API_KEYS,
            SESSIONS,
            MEMBERSHIPS,
            ORGANIZATIONS,
            USERS,
            SCHEMA_VERSIONS,
        ] {
            self.collection::<Document>(collection)
                .delete_many(doc! { "appId": app_id })
                .await
                .map_err(storage_error)?;
        }
        let deleted = self
            .collection::<Document>(APPS)
            .delete_one(doc! { "_id": app_id })
            .await
            .map_err(storage_error)?;
        if deleted.deleted_count == 0 {
            return Err(StorageError::NotFound(Entity::App));
        }
        Ok(())
    }
}

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use storage_port::Entity;
use storage_port::{AdminRecord, AdminStore, StorageError};

use crate::documents::{ADMINS, AdminDoc, decode};
use crate::errors::{storage_error, translate};
use crate::{MAX_ATTEMPTS, MongoStorage};

#[async_trait]
impl AdminStore for MongoStorage {
    async fn insert_admin(&self, admin: &AdminRecord) -> Result<(), StorageError> {
        self.collection::<AdminDoc>(ADMINS)
            .insert_one(AdminDoc::new(admin))
            .await
            .map_err(|e| translate(e, Entity::Admin))?;
        Ok(())
    }

    async fn find_admin_by_email(&self, email: &str) -> Result<Option<AdminRecord>, StorageError> {
        let raw = self
            .collection::<Document>(ADMINS)
            .find_one(doc! { "email": email })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode::<AdminDoc>(raw, ADMINS).map(|admin| admin.record()))
            .transpose()
    }

    async fn count_admins(&self) -> Result<u64, StorageError> {
        self.collection::<Document>(ADMINS)
            .count_documents(doc! {})
            .await
            .map_err(storage_error)
    }

    async fn list_admins(&self) -> Result<Vec<AdminRecord>, StorageError> {
        let mut cursor = self
            .collection::<Document>(ADMINS)
            .find(doc! {})
            .sort(doc! { "email": 1 })
            .await
            .map_err(storage_error)?;
        let mut admins = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            admins.push(decode::<AdminDoc>(raw, ADMINS)?.record());
        }
        Ok(admins)
    }

    async fn replace_admin_password(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<AdminRecord, StorageError> {
        // A whole-document replace guarded by the version it raises (as apps are changed), so
        // that two resets raise it twice and no reader sees the new hash with the old version.
        for _ in 0..MAX_ATTEMPTS {
            let mut admin = self
                .find_admin_by_email(email)
                .await?
                .ok_or(StorageError::NotFound(Entity::Admin))?;
            let seen = admin.credential_version;
            password_hash.clone_into(&mut admin.password_hash);
            admin.credential_version += 1;
            let replaced = self
                .collection::<AdminDoc>(ADMINS)
                .replace_one(
                    doc! { "_id": &admin.id, "credentialVersion": seen },
                    AdminDoc::new(&admin),
                )
                .await
                .map_err(storage_error)?;
            if replaced.matched_count == 1 {
                return Ok(admin);
            }
        }
        Err(StorageError::unexpected(format!(
            "admin {email} kept changing under {MAX_ATTEMPTS} attempts to update it"
        )))
    }
}

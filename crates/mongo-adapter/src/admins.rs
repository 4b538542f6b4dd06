use async_trait::async_trait;
use mongodb::bson::{Document, doc};
use storage_port::{AdminRecord, AdminStore, StorageError};

use crate::MongoStorage;
use crate::documents::{ADMINS, AdminDoc, decode};
use crate::errors::{storage_error, translate};

#[async_trait]
impl AdminStore for MongoStorage {
    async fn insert_admin(&self, admin: &AdminRecord) -> Result<(), StorageError> {
        self.collection::<AdminDoc>(ADMINS)
            .insert_one(AdminDoc::new(admin))
            .await
            .map_err(|e| translate(e, "admin"))?;
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
}

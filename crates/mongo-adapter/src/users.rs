use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use storage_port::{
    StorageError, Upserted, UserPage, UserQuery, UserRecord, UserStore, UserUpsert,
};

use crate::documents::{SESSIONS, USERS, UserDoc, decode, to_bson_date};
use crate::errors::{is_duplicate_key, storage_error};
use crate::values::{check_key, escape_regex, json_object_to_document, json_to_bson};
use crate::{MAX_ATTEMPTS, MongoStorage};

impl MongoStorage {
    async fn find_user_doc_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<UserDoc>, StorageError> {
        let filter = doc! { "appId": app_id, "email": email };
        let raw = self
            .collection::<Document>(USERS)
            .find_one(filter)
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, USERS)).transpose()
    }

    /// Merges `upsert` into the stored record, guarded by its `revision`. `None` when another
    /// writer got there first (or the record went away): the caller starts over. The record's
    /// `account`, when it is one, is carried over as it was read.
    async fn merge_into(
        &self,
        current: UserDoc,
        upsert: &UserUpsert,
    ) -> Result<Option<Upserted>, StorageError> {
        let mut merged = current.clone();
        for (key, value) in &upsert.data {
            check_key(key)?;
            merged.data.insert(key.clone(), json_to_bson(value)?);
        }
        merged.schema_version = upsert.schema_version;
        merged.updated_at = to_bson_date(upsert.now);
        merged.revision = current.revision + 1;
        let filter =
            doc! { "_id": &current.id, "appId": &current.app_id, "revision": current.revision };
        let replaced = self
            .collection::<UserDoc>(USERS)
            .replace_one(filter, &merged)
            .await
            .map_err(storage_error)?;
        Ok((replaced.matched_count == 1).then(|| Upserted {
            id: current.id.clone(),
            created_at: current.created_at(),
            updated_at: upsert.now,
            created: false,
        }))
    }
}

#[async_trait]
impl UserStore for MongoStorage {
    /// Insert first (most submissions are new), and let the unique `{appId, email}` index turn a
    /// concurrent or earlier record into a duplicate-key error; then merge into that record with
    /// a compare-and-swap replace. Every step is a single-document write that MongoDB and simple
    /// wire-protocol servers treat alike, so 64 racing submissions leave one record, no error.
    async fn upsert_user_by_email(
        &self,
        app_id: &str,
        upsert: &UserUpsert,
    ) -> Result<Upserted, StorageError> {
        let now = to_bson_date(upsert.now);
        let fresh = UserDoc {
            id: upsert.new_id.clone(),
            app_id: app_id.to_owned(),
            email: upsert.email.clone(),
            data: json_object_to_document(&upsert.data)?,
            schema_version: upsert.schema_version,
            created_at: now,
            updated_at: now,
            revision: 1,
            account: None,
        };
        for _ in 0..MAX_ATTEMPTS {
            match self.collection::<UserDoc>(USERS).insert_one(&fresh).await {
                Ok(_) => {
                    return Ok(Upserted {
                        id: fresh.id.clone(),
                        created_at: upsert.now,
                        updated_at: upsert.now,
                        created: true,
                    });
                }
                Err(error) if is_duplicate_key(&error) => {}
                Err(error) => return Err(storage_error(error)),
            }
            // The email is taken: merge into that record. If it was erased meanwhile, insert again.
            let Some(current) = self.find_user_doc_by_email(app_id, &upsert.email).await? else {
                continue;
            };
            if let Some(upserted) = self.merge_into(current, upsert).await? {
                return Ok(upserted);
            }
        }
        Err(StorageError::unexpected(format!(
            "user upsert in app {app_id} lost {MAX_ATTEMPTS} races in a row"
        )))
    }

    async fn find_user(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StorageError> {
        let filter = doc! { "_id": user_id, "appId": app_id };
        let raw = self
            .collection::<Document>(USERS)
            .find_one(filter)
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode::<UserDoc>(raw, USERS)?.record())
            .transpose()
    }

    async fn find_user_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<UserRecord>, StorageError> {
        self.find_user_doc_by_email(app_id, email)
            .await?
            .map(|doc| doc.record())
            .transpose()
    }

    async fn list_users(&self, app_id: &str, query: &UserQuery) -> Result<UserPage, StorageError> {
        let mut filter = doc! { "appId": app_id };
        if let Some(after) = &query.after_id {
            filter.insert("_id", doc! { "$gt": after });
        }
        if let Some(needle) = &query.email_contains {
            // Escaped, and only ever the value of `$regex`: search text is matched literally and
            // can never become an operator.
            filter.insert(
                "email",
                doc! { "$regex": escape_regex(needle), "$options": "i" },
            );
        }
        let mut created = Document::new();
        if let Some(from) = query.created_from {
            created.insert("$gte", to_bson_date(from));
        }
        if let Some(before) = query.created_before {
            created.insert("$lt", to_bson_date(before));
        }
        if !created.is_empty() {
            filter.insert("createdAt", created);
        }
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let mut cursor = self
            .collection::<Document>(USERS)
            .find(filter)
            .sort(doc! { "_id": 1 })
            .limit(i64::from(query.limit) + 1)
            .await
            .map_err(storage_error)?;
        let mut users = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            users.push(decode::<UserDoc>(raw, USERS)?.record()?);
        }
        let more = users.len() > limit;
        users.truncate(limit);
        let next_cursor = if more {
            users.last().map(|user| user.id.clone())
        } else {
            None
        };
        Ok(UserPage { users, next_cursor })
    }

    async fn delete_user(&self, app_id: &str, user_id: &str) -> Result<bool, StorageError> {
        // Its sessions and memberships first: if this stops half-way, the account is logged
        // out and in no organization, never left with sessions or admin places that outlive it.
        // (Its account fields are in the document.) The memberships are swept again after the
        // record is gone, for an addition that checked the account just before.
        self.collection::<Document>(SESSIONS)
            .delete_many(doc! { "appId": app_id, "userId": user_id })
            .await
            .map_err(storage_error)?;
        self.remove_user_memberships(app_id, user_id).await?;
        let filter = doc! { "_id": user_id, "appId": app_id };
        let deleted = self
            .collection::<Document>(USERS)
            .delete_one(filter)
            .await
            .map_err(storage_error)?;
        self.remove_user_memberships(app_id, user_id).await?;
        Ok(deleted.deleted_count == 1)
    }

    async fn count_users(&self, app_id: &str) -> Result<u64, StorageError> {
        self.collection::<Document>(USERS)
            .count_documents(doc! { "appId": app_id })
            .await
            .map_err(storage_error)
    }
}

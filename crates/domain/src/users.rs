//! Reading, erasing and exporting an app's user records, and measuring how a new schema would
//! fit the records already stored.

use std::sync::Arc;

use schema_validation::{Schema, Violation, Violations};
use storage_port::{StorageError, Timestamp, UserPage, UserQuery, UserRecord, UserStore};

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Records read per step when scanning every record (exports, schema impact).
pub const SCAN_PAGE_SIZE: u32 = 500;
/// Example ids reported by a schema impact.
pub const IMPACT_EXAMPLES: usize = 5;

/// A page request as a client makes it; checked by [`UserService::list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserListing {
    pub limit: Option<u32>,
    /// The last id of the previous page.
    pub after_id: Option<String>,
    /// Email substring, any case.
    pub email_contains: Option<String>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    Invalid(Violations),
    #[error("no record has this id")]
    NotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How many stored records would fail a schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaImpact {
    pub checked: u64,
    pub failing: u64,
    /// Up to [`IMPACT_EXAMPLES`] ids of failing records, oldest first.
    pub examples: Vec<String>,
}

#[derive(Debug)]
pub struct UserService<S: ?Sized> {
    storage: Arc<S>,
}

impl<S: UserStore + ?Sized> UserService<S> {
    pub fn new(storage: Arc<S>) -> Self {
        Self { storage }
    }

    /// One page of the app's users, oldest first. The caller makes sure the app exists.
    pub async fn list(&self, app_id: &str, listing: UserListing) -> Result<UserPage, UserError> {
        let limit = listing.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(UserError::Invalid(Violations(vec![Violation::new(
                "limit",
                "range",
                format!("must be 1 to {MAX_PAGE_SIZE}"),
            )])));
        }
        let query = UserQuery {
            limit,
            after_id: listing.after_id,
            email_contains: listing
                .email_contains
                .map(|q| q.trim().to_lowercase())
                .filter(|q| !q.is_empty()),
            created_from: listing.created_after,
            created_before: listing.created_before,
        };
        Ok(self.storage.list_users(app_id, &query).await?)
    }

    /// A page of at most `page_size` (up to 1000) records after `after_id`, with no filter:
    /// for full scans (exports, schema impact).
    pub async fn scan(
        &self,
        app_id: &str,
        after_id: Option<String>,
        page_size: u32,
    ) -> Result<UserPage, UserError> {
        let query = UserQuery {
            after_id,
            ..UserQuery::first(page_size.clamp(1, MAX_PAGE_SIZE * 2))
        };
        Ok(self.storage.list_users(app_id, &query).await?)
    }

    /// How many records the app holds.
    pub async fn count(&self, app_id: &str) -> Result<u64, UserError> {
        Ok(self.storage.count_users(app_id).await?)
    }

    pub async fn find(&self, app_id: &str, user_id: &str) -> Result<UserRecord, UserError> {
        self.storage
            .find_user(app_id, user_id)
            .await?
            .ok_or(UserError::NotFound)
    }

    pub async fn delete(&self, app_id: &str, user_id: &str) -> Result<(), UserError> {
        if self.storage.delete_user(app_id, user_id).await? {
            Ok(())
        } else {
            Err(UserError::NotFound)
        }
    }

    /// Validates every stored record against `schema`, page by page (constant memory).
    pub async fn schema_impact(
        &self,
        app_id: &str,
        schema: &Schema,
    ) -> Result<SchemaImpact, UserError> {
        let mut impact = SchemaImpact::default();
        let mut after_id = None;
        loop {
            let page = self.scan(app_id, after_id, SCAN_PAGE_SIZE).await?;
            for user in &page.users {
                impact.checked += 1;
                if schema.check(&user.data).is_err() {
                    impact.failing += 1;
                    if impact.examples.len() < IMPACT_EXAMPLES {
                        impact.examples.push(user.id.clone());
                    }
                }
            }
            match page.next_cursor {
                Some(next) => after_id = Some(next),
                None => return Ok(impact),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use storage_port::{MemoryStorage, UserUpsert};

    use super::*;

    async fn store_with(records: &[serde_json::Value]) -> Arc<MemoryStorage> {
        let storage = Arc::new(MemoryStorage::new());
        for (i, data) in records.iter().enumerate() {
            let upsert = UserUpsert {
                new_id: uuid::Uuid::now_v7().to_string(),
                email: format!("u{i}@example.com"),
                data: data.as_object().cloned().unwrap_or_default(),
                schema_version: 1,
                now: Timestamp::now(),
            };
            storage
                .upsert_user_by_email("site", &upsert)
                .await
                .expect("upsert");
        }
        storage
    }

    #[tokio::test]
    async fn the_page_size_is_bounded() {
        let service = UserService::new(store_with(&[]).await);
        for limit in [0, MAX_PAGE_SIZE + 1] {
            let listing = UserListing {
                limit: Some(limit),
                ..UserListing::default()
            };
            assert!(matches!(
                service.list("site", listing).await,
                Err(UserError::Invalid(_))
            ));
        }
    }

    #[tokio::test]
    async fn the_impact_counts_records_a_schema_would_reject() {
        let records: Vec<_> = (0..12)
            .map(|i| {
                if i % 2 == 0 {
                    json!({"age": i})
                } else {
                    json!({"age": "old"})
                }
            })
            .collect();
        let service = UserService::new(store_with(&records).await);
        let schema: Schema = serde_json::from_value(
            json!({"fields": [{"key": "age", "kind": "number", "label": "Age"}]}),
        )
        .expect("schema");
        let impact = service
            .schema_impact("site", &schema)
            .await
            .expect("impact");
        assert_eq!(impact.checked, 12);
        assert_eq!(impact.failing, 6);
        assert_eq!(impact.examples.len(), IMPACT_EXAMPLES);
    }
}

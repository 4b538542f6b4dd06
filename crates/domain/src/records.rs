//! Reading, erasing and exporting an app's records (what sign-ups stored), for operators
//! holding access to the app, and measuring how a new schema would fit the records already
//! stored.

use std::sync::Arc;

use schema_validation::{Schema, Violation, Violations};
use storage_port::{
    AppStore, SchemaStore, StorageError, Timestamp, UserPage, UserQuery, UserRecord, UserStore,
};

use crate::access::AppAccess;

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Records read per step when scanning every record (exports, schema impact).
pub const SCAN_PAGE_SIZE: u32 = 500;
/// Example ids reported by a schema impact.
pub const IMPACT_EXAMPLES: usize = 5;

/// A page request as a client makes it; checked by [`RecordService::list`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordListing {
    pub limit: Option<u32>,
    /// The last id of the previous page.
    pub after_id: Option<String>,
    /// Email substring, any case.
    pub email_contains: Option<String>,
    pub created_after: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{0}")]
    Invalid(Violations),
    #[error("no app has this id")]
    UnknownApp,
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
pub struct RecordService<S: ?Sized> {
    storage: Arc<S>,
}

impl<S: AppStore + SchemaStore + UserStore + ?Sized> RecordService<S> {
    pub fn new(storage: Arc<S>) -> Self {
        Self { storage }
    }

    /// [`RecordError::UnknownApp`] unless the app exists: every method below starts here, so
    /// no caller looks the app up first.
    async fn known_app(&self, access: &AppAccess) -> Result<(), RecordError> {
        match self.storage.find_app(access.app_id()).await? {
            Some(_) => Ok(()),
            None => Err(RecordError::UnknownApp),
        }
    }

    /// One page of the app's records, oldest first.
    pub async fn list(
        &self,
        access: &AppAccess,
        listing: RecordListing,
    ) -> Result<UserPage, RecordError> {
        self.known_app(access).await?;
        let limit = listing.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(RecordError::Invalid(Violations(vec![Violation::new(
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
        Ok(self.storage.list_users(access.app_id(), &query).await?)
    }

    pub async fn find(
        &self,
        access: &AppAccess,
        record_id: &str,
    ) -> Result<UserRecord, RecordError> {
        self.known_app(access).await?;
        self.storage
            .find_user(access.app_id(), record_id)
            .await?
            .ok_or(RecordError::NotFound)
    }

    /// Erases one record.
    pub async fn delete(&self, access: &AppAccess, record_id: &str) -> Result<(), RecordError> {
        self.known_app(access).await?;
        if self.storage.delete_user(access.app_id(), record_id).await? {
            tracing::info!(
                subject = access.subject(),
                app_id = access.app_id(),
                user_id = record_id,
                "user record erased"
            );
            Ok(())
        } else {
            Err(RecordError::NotFound)
        }
    }

    /// Every record of the app, page by page: the current schema's field keys (in schema
    /// order) and a scan that reads `page_size` records (up to 1000) at a time.
    pub async fn export(
        &self,
        access: &AppAccess,
        page_size: u32,
    ) -> Result<RecordExport<S>, RecordError> {
        self.known_app(access).await?;
        let schema = self
            .storage
            .current_schema(access.app_id())
            .await?
            .map_or_else(Schema::empty, |saved| saved.schema);
        tracing::info!(
            subject = access.subject(),
            app_id = access.app_id(),
            "user export"
        );
        Ok(RecordExport {
            columns: schema.fields().iter().map(|f| f.key().to_owned()).collect(),
            scan: RecordScan {
                storage: self.storage.clone(),
                app_id: access.app_id().to_owned(),
                page_size: page_size.clamp(1, MAX_PAGE_SIZE * 2),
                after_id: None,
                done: false,
            },
        })
    }
}

/// An export's columns and its scan; see [`RecordService::export`].
#[derive(Debug)]
pub struct RecordExport<S: ?Sized> {
    /// The current schema's field keys, in schema order.
    pub columns: Vec<String>,
    pub scan: RecordScan<S>,
}

/// Reads every record of one app in keyset pages, in constant memory.
#[derive(Debug)]
pub struct RecordScan<S: ?Sized> {
    storage: Arc<S>,
    app_id: String,
    page_size: u32,
    after_id: Option<String>,
    done: bool,
}

impl<S: UserStore + ?Sized> RecordScan<S> {
    /// The next page, or `None` once every record was read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<UserRecord>>, RecordError> {
        if self.done {
            return Ok(None);
        }
        let page = scan_page(
            &*self.storage,
            &self.app_id,
            self.after_id.take(),
            self.page_size,
        )
        .await
        .inspect_err(|_| self.done = true)?;
        self.after_id = page.next_cursor;
        self.done = self.after_id.is_none();
        Ok(Some(page.users))
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }
}

async fn scan_page<S: UserStore + ?Sized>(
    storage: &S,
    app_id: &str,
    after_id: Option<String>,
    page_size: u32,
) -> Result<UserPage, StorageError> {
    let query = UserQuery {
        after_id,
        ..UserQuery::first(page_size)
    };
    storage.list_users(app_id, &query).await
}

/// Validates every stored record of `app_id` against `schema`, page by page (constant memory).
pub(crate) async fn schema_impact<S: UserStore + ?Sized>(
    storage: &S,
    app_id: &str,
    schema: &Schema,
) -> Result<SchemaImpact, StorageError> {
    let mut impact = SchemaImpact::default();
    let mut after_id = None;
    loop {
        let page = scan_page(storage, app_id, after_id, SCAN_PAGE_SIZE).await?;
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
        let storage = store_with(&[]).await;
        let app = storage_port::AppRecord {
            id: "site".into(),
            name: "Site".into(),
            allowed_origins: vec![],
            honeypot_field: None,
            thank_you_url: None,
            error_url: None,
            password_hash: "x".into(),
            credential_version: 1,
            incarnation: "i".into(),
            account_settings: storage_port::AccountSettings::default(),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        };
        storage.insert_app(&app).await.expect("app");
        let service = RecordService::new(storage);
        let access = crate::AdminAccess::command_line().app("site");
        for limit in [0, MAX_PAGE_SIZE + 1] {
            let listing = RecordListing {
                limit: Some(limit),
                ..RecordListing::default()
            };
            assert!(matches!(
                service.list(&access, listing).await,
                Err(RecordError::Invalid(_))
            ));
        }
        assert!(matches!(
            service
                .list(
                    &crate::AdminAccess::command_line().app("ghost"),
                    RecordListing::default()
                )
                .await,
            Err(RecordError::UnknownApp)
        ));
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
        let storage = store_with(&records).await;
        let schema: Schema = serde_json::from_value(
            json!({"fields": [{"key": "age", "kind": "number", "label": "Age"}]}),
        )
        .expect("schema");
        let impact = schema_impact(&*storage, "site", &schema)
            .await
            .expect("impact");
        assert_eq!(impact.checked, 12);
        assert_eq!(impact.failing, 6);
        assert_eq!(impact.examples.len(), IMPACT_EXAMPLES);
    }
}

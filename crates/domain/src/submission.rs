use std::sync::Arc;

use schema_validation::{Violation, Violations};
use serde_json::{Map, Value};
use storage_port::{AppStore, SchemaStore, StorageError, Timestamp, UserStore, UserUpsert};

use crate::{AppCache, AppContext, AppId, EmailAddress};

/// A submission as received from a site: the `email` and `data` members of the request, of any
/// JSON type; the service decides what is acceptable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmissionInput {
    pub email: Value,
    pub data: Value,
}

/// What the public endpoint answers: nothing that tells whether the email was known before.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("no app has this id")]
    UnknownApp,
    #[error("{0}")]
    Invalid(Violations),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Accepts sign-ups from sites: validates them against the app's schema and upserts by email.
#[derive(Debug)]
pub struct SubmissionService<S: ?Sized> {
    storage: Arc<S>,
    cache: Arc<AppCache>,
}

impl<S: AppStore + SchemaStore + UserStore + ?Sized> SubmissionService<S> {
    pub fn new(storage: Arc<S>, cache: Arc<AppCache>) -> Self {
        Self { storage, cache }
    }

    /// The app's settings and current schema (briefly cached).
    pub async fn app_context(&self, app_id: &AppId) -> Result<Arc<AppContext>, SubmitError> {
        self.cache
            .load(&*self.storage, app_id.as_ref())
            .await?
            .ok_or(SubmitError::UnknownApp)
    }

    /// Validates and stores one submission. A submission whose honeypot field is filled gets
    /// a success answer of the same shape and is not stored.
    pub async fn submit(
        &self,
        context: &AppContext,
        input: SubmissionInput,
    ) -> Result<Submitted, SubmitError> {
        let now = Timestamp::now();
        let new_id = uuid::Uuid::now_v7().to_string();
        let mut violations = Vec::new();

        let email = match &input.email {
            Value::Null => {
                violations.push(Violation {
                    field: "email".into(),
                    code: "required",
                    message: "is required".into(),
                });
                None
            }
            Value::String(text) => {
                let parsed = EmailAddress::parse(text);
                if parsed.is_none() {
                    violations.push(Violation {
                        field: "email".into(),
                        code: "email",
                        message: "must be a valid email address".into(),
                    });
                }
                parsed
            }
            _ => {
                violations.push(Violation {
                    field: "email".into(),
                    code: "type",
                    message: "must be a string".into(),
                });
                None
            }
        };

        let mut data = match input.data {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => {
                violations.push(Violation {
                    field: "data".into(),
                    code: "type",
                    message: "must be an object".into(),
                });
                Map::new()
            }
        };

        if let Some(honeypot) = &context.app.honeypot_field
            && let Some(bait) = data.remove(honeypot)
            && is_filled(&bait)
        {
            tracing::info!(app_id = %context.app.id, "honeypot filled; submission dropped");
            return Ok(Submitted {
                id: new_id,
                created_at: now,
                updated_at: now,
            });
        }

        let accepted = match context.schema.accept(data) {
            Ok(accepted) => Some(accepted),
            Err(found) => {
                violations.extend(found.into_vec());
                None
            }
        };

        let (Some(email), Some(data), true) = (email, accepted, violations.is_empty()) else {
            return Err(SubmitError::Invalid(Violations(violations)));
        };
        let upsert = UserUpsert {
            new_id,
            email: email.as_ref().to_owned(),
            data,
            schema_version: context.schema_version,
            now,
        };
        let stored = self
            .storage
            .upsert_user_by_email(&context.app.id, &upsert)
            .await?;
        Ok(Submitted {
            id: stored.id,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }
}

/// A honeypot counts as filled by anything a person could type or tick.
fn is_filled(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(text) => !text.trim().is_empty(),
        _ => true,
    }
}

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

    /// Validates and stores one submission. A valid submission whose honeypot field is filled
    /// is not stored, and gets the answer a stored one would have had.
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
                violations.push(Violation::new("email", "required", "is required"));
                None
            }
            Value::String(text) => {
                let parsed = EmailAddress::parse(text);
                if parsed.is_none() {
                    violations.push(Violation::new(
                        "email",
                        "email",
                        "must be a valid email address",
                    ));
                }
                parsed
            }
            _ => {
                violations.push(Violation::new("email", "type", "must be a string"));
                None
            }
        };

        let mut data = match input.data {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            _ => {
                violations.push(Violation::new("data", "type", "must be an object"));
                Map::new()
            }
        };

        let caught = context
            .app
            .honeypot_field
            .as_ref()
            .and_then(|honeypot| data.remove(honeypot))
            .is_some_and(|bait| is_filled(&bait));

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
        // Checked after validation, so that a caught bot gets exactly the answer a person
        // would: the same 422 for the same mistakes, the same success otherwise.
        if caught {
            tracing::info!(app_id = %context.app.id, "honeypot filled; submission dropped");
            return self.as_if_stored(context, &email, new_id, now).await;
        }
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

impl<S: UserStore + ?Sized> SubmissionService<S> {
    /// The answer a stored submission of `email` would have had, for one the honeypot dropped:
    /// a known email keeps its record's id and `createdAt`, as a real resubmission does, so the
    /// answer does not tell a bot that it was caught.
    async fn as_if_stored(
        &self,
        context: &AppContext,
        email: &EmailAddress,
        new_id: String,
        now: Timestamp,
    ) -> Result<Submitted, SubmitError> {
        let known = self
            .storage
            .find_user_by_email(&context.app.id, email.as_ref())
            .await?;
        Ok(match known {
            Some(record) => Submitted {
                id: record.id,
                created_at: record.created_at,
                updated_at: now,
            },
            None => Submitted {
                id: new_id,
                created_at: now,
                updated_at: now,
            },
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

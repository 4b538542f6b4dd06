use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use schema_validation::Schema;

use crate::*;

/// The reference implementation: complete, in memory, lost at exit. For tests and trials.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    apps: BTreeMap<String, AppRecord>,
    schemas: HashMap<String, Vec<SchemaVersion>>,
    users: HashMap<String, AppUsers>,
    admins: BTreeMap<String, AdminRecord>,
}

#[derive(Debug, Default)]
struct AppUsers {
    by_id: BTreeMap<String, UserRecord>,
    id_by_email: HashMap<String, String>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied change: every mutation
        // below completes before anything that could panic. So a poisoned lock is still sound.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl AppStore for MemoryStorage {
    async fn insert_app(&self, app: &AppRecord) -> Result<(), StorageError> {
        let mut state = self.state();
        if state.apps.keys().any(|id| id.eq_ignore_ascii_case(&app.id)) {
            return Err(StorageError::Duplicate(Entity::App));
        }
        state.apps.insert(app.id.clone(), app.clone());
        Ok(())
    }

    async fn find_app(&self, app_id: &str) -> Result<Option<AppRecord>, StorageError> {
        Ok(self.state().apps.get(app_id).cloned())
    }

    async fn list_apps(&self) -> Result<Vec<AppSummary>, StorageError> {
        let state = self.state();
        Ok(state
            .apps
            .values()
            .map(|app| AppSummary {
                app: app.clone(),
                user_count: state
                    .users
                    .get(&app.id)
                    .map_or(0, |users| users.by_id.len() as u64),
            })
            .collect())
    }

    async fn update_app(
        &self,
        app_id: &str,
        changes: &AppChanges,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError> {
        let mut state = self.state();
        let app = state
            .apps
            .get_mut(app_id)
            .ok_or(StorageError::NotFound(Entity::App))?;
        changes.apply_to(app, now);
        Ok(app.clone())
    }

    async fn replace_app_password(
        &self,
        app_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AppRecord, StorageError> {
        let mut state = self.state();
        let app = state
            .apps
            .get_mut(app_id)
            .ok_or(StorageError::NotFound(Entity::App))?;
        app.password_hash = password_hash.to_owned();
        app.credential_version += 1;
        app.updated_at = now;
        Ok(app.clone())
    }

    async fn delete_app(&self, app_id: &str) -> Result<(), StorageError> {
        let mut state = self.state();
        state
            .apps
            .remove(app_id)
            .ok_or(StorageError::NotFound(Entity::App))?;
        state.schemas.remove(app_id);
        state.users.remove(app_id);
        Ok(())
    }
}

#[async_trait]
impl SchemaStore for MemoryStorage {
    async fn current_schema(&self, app_id: &str) -> Result<Option<SchemaVersion>, StorageError> {
        Ok(self
            .state()
            .schemas
            .get(app_id)
            .and_then(|versions| versions.last().cloned()))
    }

    async fn save_schema(
        &self,
        app_id: &str,
        schema: &Schema,
        now: Timestamp,
    ) -> Result<SchemaVersion, StorageError> {
        let mut state = self.state();
        if !state.apps.contains_key(app_id) {
            return Err(StorageError::NotFound(Entity::App));
        }
        let versions = state.schemas.entry(app_id.to_owned()).or_default();
        let saved = SchemaVersion {
            app_id: app_id.to_owned(),
            version: versions.last().map_or(1, |latest| latest.version + 1),
            schema: schema.clone(),
            created_at: now,
        };
        versions.push(saved.clone());
        Ok(saved)
    }

    async fn list_schema_versions(&self, app_id: &str) -> Result<Vec<SchemaVersion>, StorageError> {
        let state = self.state();
        Ok(state
            .schemas
            .get(app_id)
            .map(|v| v.iter().rev().cloned().collect())
            .unwrap_or_default())
    }
}

#[async_trait]
impl UserStore for MemoryStorage {
    async fn upsert_user_by_email(
        &self,
        app_id: &str,
        upsert: &UserUpsert,
    ) -> Result<Upserted, StorageError> {
        let mut state = self.state();
        let users = state.users.entry(app_id.to_owned()).or_default();
        if let Some(id) = users.id_by_email.get(&upsert.email)
            && let Some(record) = users.by_id.get_mut(id)
        {
            record
                .data
                .extend(upsert.data.iter().map(|(k, v)| (k.clone(), v.clone())));
            record.schema_version = upsert.schema_version;
            record.updated_at = upsert.now;
            return Ok(Upserted {
                id: record.id.clone(),
                created_at: record.created_at,
                updated_at: upsert.now,
                created: false,
            });
        }
        let record = UserRecord {
            id: upsert.new_id.clone(),
            app_id: app_id.to_owned(),
            email: upsert.email.clone(),
            data: upsert.data.clone(),
            schema_version: upsert.schema_version,
            created_at: upsert.now,
            updated_at: upsert.now,
        };
        users
            .id_by_email
            .insert(record.email.clone(), record.id.clone());
        users.by_id.insert(record.id.clone(), record);
        Ok(Upserted {
            id: upsert.new_id.clone(),
            created_at: upsert.now,
            updated_at: upsert.now,
            created: true,
        })
    }

    async fn find_user(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StorageError> {
        Ok(self
            .state()
            .users
            .get(app_id)
            .and_then(|users| users.by_id.get(user_id).cloned()))
    }

    async fn find_user_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<UserRecord>, StorageError> {
        let state = self.state();
        let users = state.users.get(app_id);
        Ok(users
            .and_then(|users| users.by_id.get(users.id_by_email.get(email)?))
            .cloned())
    }

    async fn list_users(&self, app_id: &str, query: &UserQuery) -> Result<UserPage, StorageError> {
        let state = self.state();
        let Some(users) = state.users.get(app_id) else {
            return Ok(UserPage {
                users: Vec::new(),
                next_cursor: None,
            });
        };
        let start = match &query.after_id {
            Some(after) => std::ops::Bound::Excluded(after.clone()),
            None => std::ops::Bound::Unbounded,
        };
        let limit = query.limit as usize;
        let mut page: Vec<UserRecord> = users
            .by_id
            .range((start, std::ops::Bound::Unbounded))
            .map(|(_, record)| record)
            .filter(|record| matches_query(record, query))
            .take(limit + 1)
            .cloned()
            .collect();
        let more = page.len() > limit;
        page.truncate(limit);
        let next_cursor = if more {
            page.last().map(|record| record.id.clone())
        } else {
            None
        };
        Ok(UserPage {
            users: page,
            next_cursor,
        })
    }

    async fn delete_user(&self, app_id: &str, user_id: &str) -> Result<bool, StorageError> {
        let mut state = self.state();
        let Some(users) = state.users.get_mut(app_id) else {
            return Ok(false);
        };
        match users.by_id.remove(user_id) {
            Some(record) => {
                users.id_by_email.remove(&record.email);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn count_users(&self, app_id: &str) -> Result<u64, StorageError> {
        Ok(self
            .state()
            .users
            .get(app_id)
            .map_or(0, |users| users.by_id.len() as u64))
    }
}

fn matches_query(record: &UserRecord, query: &UserQuery) -> bool {
    query
        .email_contains
        .as_ref()
        .is_none_or(|needle| record.email.contains(needle.as_str()))
        && query
            .created_from
            .is_none_or(|from| record.created_at >= from)
        && query
            .created_before
            .is_none_or(|before| record.created_at < before)
}

#[async_trait]
impl AdminStore for MemoryStorage {
    async fn insert_admin(&self, admin: &AdminRecord) -> Result<(), StorageError> {
        let mut state = self.state();
        if state.admins.contains_key(&admin.email) {
            return Err(StorageError::Duplicate(Entity::Admin));
        }
        state.admins.insert(admin.email.clone(), admin.clone());
        Ok(())
    }

    async fn find_admin_by_email(&self, email: &str) -> Result<Option<AdminRecord>, StorageError> {
        Ok(self.state().admins.get(email).cloned())
    }

    async fn count_admins(&self) -> Result<u64, StorageError> {
        Ok(self.state().admins.len() as u64)
    }

    async fn list_admins(&self) -> Result<Vec<AdminRecord>, StorageError> {
        Ok(self.state().admins.values().cloned().collect())
    }

    async fn replace_admin_password(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<AdminRecord, StorageError> {
        let mut state = self.state();
        let admin = state
            .admins
            .get_mut(email)
            .ok_or(StorageError::NotFound(Entity::Admin))?;
        password_hash.clone_into(&mut admin.password_hash);
        admin.credential_version += 1;
        Ok(admin.clone())
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn ping(&self) -> Result<(), StorageError> {
        Ok(())
    }
}

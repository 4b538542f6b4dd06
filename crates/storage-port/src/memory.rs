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
    /// Per app, by session id.
    sessions: HashMap<String, HashMap<String, SessionRecord>>,
    signing_keys: Vec<SigningKeyRecord>,
    /// Per app, by organization id.
    organizations: HashMap<String, BTreeMap<String, OrganizationRecord>>,
    /// Per app, by (organization id, user id): an organization's members in user id order.
    memberships: HashMap<String, BTreeMap<(String, String), MembershipRecord>>,
    /// By key hash.
    api_keys: HashMap<String, ApiKeyRecord>,
    /// One-time tokens by hash.
    tokens: HashMap<String, OneTimeToken>,
    /// The outbox by id (UUIDv7: creation order).
    messages: BTreeMap<String, OutboxMessage>,
}

#[derive(Debug, Default)]
struct AppUsers {
    by_id: BTreeMap<String, UserRecord>,
    id_by_email: HashMap<String, String>,
    /// The account part of the records that are accounts, by user id.
    accounts: HashMap<String, AccountFields>,
}

impl AppUsers {
    fn account(&self, user_id: &str) -> Option<AccountRecord> {
        Some(AccountRecord {
            user: self.by_id.get(user_id)?.clone(),
            account: self.accounts.get(user_id)?.clone(),
        })
    }
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
        state.sessions.remove(app_id);
        state.organizations.remove(app_id);
        state.memberships.remove(app_id);
        state.api_keys.retain(|_, key| key.app_id != app_id);
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
                users.accounts.remove(user_id);
                if let Some(sessions) = state.sessions.get_mut(app_id) {
                    sessions.retain(|_, session| session.user_id != user_id);
                }
                if let Some(memberships) = state.memberships.get_mut(app_id) {
                    memberships.retain(|(_, user), _| user != user_id);
                }
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

#[async_trait]
impl AccountStore for MemoryStorage {
    async fn register_account(
        &self,
        app_id: &str,
        new: &NewAccount,
    ) -> Result<Registered, StorageError> {
        let mut state = self.state();
        if let Some(joining) = &new.joining {
            let known = state
                .organizations
                .get(app_id)
                .is_some_and(|orgs| orgs.contains_key(&joining.organization_id));
            if !known {
                return Err(StorageError::NotFound(Entity::Organization));
            }
        }
        let state = &mut *state;
        let users = state.users.entry(app_id.to_owned()).or_default();
        let account = |lead_keys: Vec<String>| AccountFields {
            name: new.name.clone(),
            password_hash: new.password_hash.clone(),
            credential_version: 1,
            tenant_admin: new.tenant_admin,
            registered_at: new.now,
            lead_keys,
            ..AccountFields::default()
        };
        let join =
            |memberships: &mut HashMap<String, BTreeMap<(String, String), MembershipRecord>>,
             user_id: &str| {
                if let Some(joining) = &new.joining {
                    memberships.entry(app_id.to_owned()).or_default().insert(
                        (joining.organization_id.clone(), user_id.to_owned()),
                        MembershipRecord {
                            app_id: app_id.to_owned(),
                            organization_id: joining.organization_id.clone(),
                            user_id: user_id.to_owned(),
                            role: joining.role,
                            permissions: joining.permissions.clone(),
                            created_at: new.now,
                            updated_at: new.now,
                        },
                    );
                }
            };
        if let Some(id) = users.id_by_email.get(&new.email).cloned() {
            if users.accounts.contains_key(&id) {
                return Err(StorageError::Duplicate(Entity::Account));
            }
            let record = users
                .by_id
                .get_mut(&id)
                .ok_or(StorageError::NotFound(Entity::Record))?;
            let lead_keys = record
                .data
                .keys()
                .filter(|key| !new.data.contains_key(*key))
                .cloned()
                .collect();
            record
                .data
                .extend(new.data.iter().map(|(k, v)| (k.clone(), v.clone())));
            record.schema_version = new.schema_version;
            record.updated_at = new.now;
            users.accounts.insert(id.clone(), account(lead_keys));
            join(&mut state.memberships, &id);
            return Ok(Registered::FromLead(
                users
                    .account(&id)
                    .ok_or(StorageError::NotFound(Entity::Account))?,
            ));
        }
        let record = UserRecord {
            id: new.new_id.clone(),
            app_id: app_id.to_owned(),
            email: new.email.clone(),
            data: new.data.clone(),
            schema_version: new.schema_version,
            created_at: new.now,
            updated_at: new.now,
        };
        users
            .id_by_email
            .insert(record.email.clone(), record.id.clone());
        users.by_id.insert(record.id.clone(), record);
        users
            .accounts
            .insert(new.new_id.clone(), account(Vec::new()));
        join(&mut state.memberships, &new.new_id);
        Ok(Registered::Created(
            users
                .account(&new.new_id)
                .ok_or(StorageError::NotFound(Entity::Account))?,
        ))
    }

    async fn find_account(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<AccountRecord>, StorageError> {
        Ok(self
            .state()
            .users
            .get(app_id)
            .and_then(|users| users.account(user_id)))
    }

    async fn find_account_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<AccountRecord>, StorageError> {
        let state = self.state();
        Ok(state.users.get(app_id).and_then(|users| {
            users
                .id_by_email
                .get(email)
                .and_then(|id| users.account(id))
        }))
    }

    async fn update_profile(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &ProfileChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        let mut state = self.state();
        let users = state
            .users
            .get_mut(app_id)
            .filter(|users| users.accounts.contains_key(user_id))
            .ok_or(StorageError::NotFound(Entity::Account))?;
        let (Some(record), Some(account)) = (
            users.by_id.get_mut(user_id),
            users.accounts.get_mut(user_id),
        ) else {
            return Err(StorageError::NotFound(Entity::Account));
        };
        changes.apply_to(record, account, now);
        users
            .account(user_id)
            .ok_or(StorageError::NotFound(Entity::Account))
    }

    async fn replace_account_password(
        &self,
        app_id: &str,
        user_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        let mut state = self.state();
        let users = state
            .users
            .get_mut(app_id)
            .ok_or(StorageError::NotFound(Entity::Account))?;
        let (Some(record), Some(account)) = (
            users.by_id.get_mut(user_id),
            users.accounts.get_mut(user_id),
        ) else {
            return Err(StorageError::NotFound(Entity::Account));
        };
        account.password_hash = Some(password_hash.to_owned());
        account.credential_version += 1;
        record.updated_at = now;
        users
            .account(user_id)
            .ok_or(StorageError::NotFound(Entity::Account))
    }

    async fn update_account(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &AccountChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        let mut state = self.state();
        let state = &mut *state;
        let users = state
            .users
            .get_mut(app_id)
            .ok_or(StorageError::NotFound(Entity::Account))?;
        let (Some(record), Some(account)) = (
            users.by_id.get_mut(user_id),
            users.accounts.get_mut(user_id),
        ) else {
            return Err(StorageError::NotFound(Entity::Account));
        };
        changes.apply_to(record, account, now);
        if changes.disables() {
            for session in state
                .sessions
                .entry(app_id.to_owned())
                .or_default()
                .values_mut()
            {
                if session.user_id == user_id && session.revoked_at.is_none() {
                    session.revoked_at = Some(now);
                }
            }
        }
        users
            .account(user_id)
            .ok_or(StorageError::NotFound(Entity::Account))
    }

    async fn list_accounts(
        &self,
        app_id: &str,
        query: &AccountQuery,
    ) -> Result<AccountPage, StorageError> {
        let state = self.state();
        let Some(users) = state.users.get(app_id) else {
            return Ok(AccountPage {
                accounts: Vec::new(),
                next_cursor: None,
            });
        };
        let memberships = state.memberships.get(app_id);
        let in_organization = |user_id: &str| match &query.organization_id {
            None => true,
            Some(org) => memberships
                .and_then(|m| m.get(&(org.clone(), user_id.to_owned())))
                .is_some_and(|m| query.role.is_none_or(|role| m.role == role)),
        };
        let limit = query.limit as usize;
        let mut accounts = Vec::new();
        let mut next_cursor = None;
        let after = query.after_id.as_deref().unwrap_or("");
        for (id, record) in users
            .by_id
            .range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
        {
            let Some(account) = users.accounts.get(id) else {
                continue;
            };
            if query
                .tenant_admin
                .is_some_and(|want| account.tenant_admin != want)
                || !in_organization(id)
                || !query.text.as_deref().is_none_or(|text| {
                    record.email.to_ascii_lowercase().contains(text)
                        || account
                            .name
                            .as_deref()
                            .is_some_and(|name| name.to_ascii_lowercase().contains(text))
                })
            {
                continue;
            }
            if accounts.len() == limit {
                next_cursor = accounts
                    .last()
                    .map(|last: &AccountRecord| last.user.id.clone());
                break;
            }
            accounts.push(AccountRecord {
                user: record.clone(),
                account: account.clone(),
            });
        }
        Ok(AccountPage {
            accounts,
            next_cursor,
        })
    }

    async fn record_login(
        &self,
        app_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut state = self.state();
        let account = state
            .users
            .get_mut(app_id)
            .and_then(|users| users.accounts.get_mut(user_id))
            .ok_or(StorageError::NotFound(Entity::Account))?;
        account.last_login_at = Some(now);
        Ok(())
    }
}

#[async_trait]
impl SessionStore for MemoryStorage {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StorageError> {
        let mut state = self.state();
        if state
            .sessions
            .values()
            .any(|sessions| sessions.contains_key(&session.id))
        {
            return Err(StorageError::Duplicate(Entity::Session));
        }
        state
            .sessions
            .entry(session.app_id.clone())
            .or_default()
            .insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn find_session(
        &self,
        app_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StorageError> {
        Ok(self
            .state()
            .sessions
            .get(app_id)
            .and_then(|sessions| sessions.get(session_id))
            .cloned())
    }

    async fn rotate_refresh(
        &self,
        app_id: &str,
        session_id: &str,
        rotation: &Rotation,
    ) -> Result<RotationOutcome, StorageError> {
        let mut state = self.state();
        let Some(session) = state
            .sessions
            .get_mut(app_id)
            .and_then(|sessions| sessions.get_mut(session_id))
        else {
            return Ok(RotationOutcome::Unknown);
        };
        Ok(rotation.apply_to(session))
    }

    async fn set_session_organization(
        &self,
        app_id: &str,
        session_id: &str,
        organization_id: Option<&str>,
    ) -> Result<bool, StorageError> {
        let mut state = self.state();
        match state
            .sessions
            .get_mut(app_id)
            .and_then(|sessions| sessions.get_mut(session_id))
            .filter(|session| session.revoked_at.is_none())
        {
            Some(session) => {
                session.organization_id = organization_id.map(str::to_owned);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn revoke_session(
        &self,
        app_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut state = self.state();
        let session = state
            .sessions
            .get_mut(app_id)
            .and_then(|sessions| sessions.get_mut(session_id))
            .filter(|session| session.revoked_at.is_none());
        Ok(match session {
            Some(session) => {
                session.revoked_at = Some(now);
                true
            }
            None => false,
        })
    }

    async fn revoke_user_sessions(
        &self,
        app_id: &str,
        user_id: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let mut state = self.state();
        let mut revoked = 0;
        for session in state
            .sessions
            .get_mut(app_id)
            .into_iter()
            .flat_map(|s| s.values_mut())
        {
            if session.user_id == user_id
                && session.revoked_at.is_none()
                && Some(session.id.as_str()) != keep
            {
                session.revoked_at = Some(now);
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn list_user_sessions(
        &self,
        app_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Vec<SessionRecord>, StorageError> {
        let state = self.state();
        let mut sessions: Vec<SessionRecord> = state
            .sessions
            .get(app_id)
            .into_iter()
            .flat_map(|sessions| sessions.values())
            .filter(|session| session.user_id == user_id && session.is_active(now))
            .cloned()
            .collect();
        crate::sort_newest_first(&mut sessions);
        Ok(sessions)
    }
}

#[async_trait]
impl SigningKeyStore for MemoryStorage {
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StorageError> {
        let mut state = self.state();
        if state.signing_keys.iter().any(|known| known.kid == key.kid) {
            return Err(StorageError::Duplicate(Entity::SigningKey));
        }
        state.signing_keys.push(key.clone());
        Ok(())
    }

    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
        let mut keys = self.state().signing_keys.clone();
        keys.sort_by(|a, b| {
            (b.created_at.as_unix_millis(), &b.kid).cmp(&(a.created_at.as_unix_millis(), &a.kid))
        });
        Ok(keys)
    }
}

fn is_admin(
    memberships: &BTreeMap<(String, String), MembershipRecord>,
    organization_id: &str,
    except_user: &str,
) -> bool {
    memberships
        .range((organization_id.to_owned(), String::new())..)
        .take_while(|((org, _), _)| org == organization_id)
        .any(|((_, user), m)| user != except_user && m.role == MemberRole::Admin)
}

#[async_trait]
impl OrganizationStore for MemoryStorage {
    async fn insert_organization(
        &self,
        organization: &OrganizationRecord,
        creator: Option<&MembershipRecord>,
    ) -> Result<(), StorageError> {
        let mut state = self.state();
        let taken = state
            .organizations
            .values()
            .flat_map(|orgs| orgs.values())
            .any(|org| {
                org.id == organization.id
                    || (org.app_id == organization.app_id && org.slug == organization.slug)
            });
        if taken {
            return Err(StorageError::Duplicate(Entity::Organization));
        }
        if let Some(creator) = creator {
            let known = state
                .users
                .get(&organization.app_id)
                .is_some_and(|users| users.accounts.contains_key(&creator.user_id));
            if !known {
                return Err(StorageError::NotFound(Entity::Account));
            }
            state
                .memberships
                .entry(organization.app_id.clone())
                .or_default()
                .insert(
                    (organization.id.clone(), creator.user_id.clone()),
                    creator.clone(),
                );
        }
        state
            .organizations
            .entry(organization.app_id.clone())
            .or_default()
            .insert(organization.id.clone(), organization.clone());
        Ok(())
    }

    async fn find_organization(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<Option<OrganizationRecord>, StorageError> {
        Ok(self
            .state()
            .organizations
            .get(app_id)
            .and_then(|orgs| orgs.get(organization_id))
            .cloned())
    }

    async fn list_organizations(
        &self,
        app_id: &str,
        query: &OrganizationQuery,
    ) -> Result<OrganizationPage, StorageError> {
        let state = self.state();
        let after = query.after_id.as_deref().unwrap_or("");
        let mut organizations: Vec<OrganizationRecord> = state
            .organizations
            .get(app_id)
            .into_iter()
            .flat_map(|orgs| {
                orgs.range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            })
            .map(|(_, org)| org.clone())
            .take(query.limit as usize + 1)
            .collect();
        let next_cursor = if organizations.len() > query.limit as usize {
            organizations.truncate(query.limit as usize);
            organizations.last().map(|org| org.id.clone())
        } else {
            None
        };
        Ok(OrganizationPage {
            organizations,
            next_cursor,
        })
    }

    async fn organizations_for_domain(
        &self,
        app_id: &str,
        domain: &str,
    ) -> Result<Vec<OrganizationRecord>, StorageError> {
        Ok(self
            .state()
            .organizations
            .get(app_id)
            .into_iter()
            .flat_map(|orgs| orgs.values())
            .filter(|org| org.allowed_email_domains.iter().any(|d| d == domain))
            .cloned()
            .collect())
    }

    async fn update_organization(
        &self,
        app_id: &str,
        organization_id: &str,
        changes: &OrganizationChanges,
        now: Timestamp,
    ) -> Result<OrganizationRecord, StorageError> {
        let mut state = self.state();
        let orgs = state
            .organizations
            .get_mut(app_id)
            .filter(|orgs| orgs.contains_key(organization_id))
            .ok_or(StorageError::NotFound(Entity::Organization))?;
        if let Some(slug) = &changes.slug
            && orgs
                .values()
                .any(|org| org.id != organization_id && &org.slug == slug)
        {
            return Err(StorageError::Duplicate(Entity::Organization));
        }
        let org = orgs
            .get_mut(organization_id)
            .ok_or(StorageError::NotFound(Entity::Organization))?;
        changes.apply_to(org, now);
        Ok(org.clone())
    }

    async fn delete_organization(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<bool, StorageError> {
        let mut state = self.state();
        let removed = state
            .organizations
            .get_mut(app_id)
            .and_then(|orgs| orgs.remove(organization_id))
            .is_some();
        if let Some(memberships) = state.memberships.get_mut(app_id) {
            memberships.retain(|(org, _), _| org != organization_id);
        }
        Ok(removed)
    }
}

#[async_trait]
impl MembershipStore for MemoryStorage {
    async fn add_membership(&self, membership: &MembershipRecord) -> Result<(), StorageError> {
        let mut state = self.state();
        let app_id = &membership.app_id;
        if !state
            .organizations
            .get(app_id)
            .is_some_and(|orgs| orgs.contains_key(&membership.organization_id))
        {
            return Err(StorageError::NotFound(Entity::Organization));
        }
        if !state
            .users
            .get(app_id)
            .is_some_and(|users| users.accounts.contains_key(&membership.user_id))
        {
            return Err(StorageError::NotFound(Entity::Account));
        }
        let memberships = state.memberships.entry(app_id.clone()).or_default();
        let key = (
            membership.organization_id.clone(),
            membership.user_id.clone(),
        );
        if memberships.contains_key(&key) {
            return Err(StorageError::Duplicate(Entity::Membership));
        }
        memberships.insert(key, membership.clone());
        Ok(())
    }

    async fn find_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<Option<MembershipRecord>, StorageError> {
        Ok(self
            .state()
            .memberships
            .get(app_id)
            .and_then(|m| m.get(&(organization_id.to_owned(), user_id.to_owned())))
            .cloned())
    }

    async fn list_user_memberships(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Vec<Joined>, StorageError> {
        self.list_users_memberships(app_id, &[user_id.to_owned()])
            .await
    }

    async fn list_users_memberships(
        &self,
        app_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<Joined>, StorageError> {
        let state = self.state();
        let mut joined: Vec<Joined> = state
            .memberships
            .get(app_id)
            .into_iter()
            .flat_map(|m| m.values())
            .filter(|m| user_ids.contains(&m.user_id))
            .filter_map(|m| {
                Some(Joined {
                    organization: state
                        .organizations
                        .get(app_id)?
                        .get(&m.organization_id)?
                        .clone(),
                    membership: m.clone(),
                })
            })
            .collect();
        joined.sort_by(|a, b| {
            (a.membership.created_at, &a.membership.organization_id)
                .cmp(&(b.membership.created_at, &b.membership.organization_id))
        });
        Ok(joined)
    }

    async fn list_members(
        &self,
        app_id: &str,
        organization_id: &str,
        query: &MemberQuery,
    ) -> Result<MemberPage, StorageError> {
        let state = self.state();
        let (Some(memberships), Some(users)) =
            (state.memberships.get(app_id), state.users.get(app_id))
        else {
            return Ok(MemberPage {
                members: Vec::new(),
                next_cursor: None,
            });
        };
        let start = (
            organization_id.to_owned(),
            query.after_user_id.clone().unwrap_or_default(),
        );
        let mut members = Vec::new();
        let mut next_cursor = None;
        for ((org, user), membership) in
            memberships.range((std::ops::Bound::Excluded(start), std::ops::Bound::Unbounded))
        {
            if org != organization_id {
                break;
            }
            if query.role.is_some_and(|role| role != membership.role) {
                continue;
            }
            let Some(account) = users.account(user) else {
                continue;
            };
            if members.len() == query.limit as usize {
                next_cursor = members
                    .last()
                    .map(|m: &Member| m.membership.user_id.clone());
                break;
            }
            members.push(Member {
                membership: membership.clone(),
                account,
            });
        }
        Ok(MemberPage {
            members,
            next_cursor,
        })
    }

    async fn update_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
        changes: &MembershipChanges,
        now: Timestamp,
    ) -> Result<MembershipRecord, StorageError> {
        let mut state = self.state();
        let memberships = state
            .memberships
            .get_mut(app_id)
            .ok_or(StorageError::NotFound(Entity::Membership))?;
        let key = (organization_id.to_owned(), user_id.to_owned());
        let current = memberships
            .get(&key)
            .ok_or(StorageError::NotFound(Entity::Membership))?;
        if changes.demotes(current) && !is_admin(memberships, organization_id, user_id) {
            return Err(StorageError::LastAdmin);
        }
        let membership = memberships
            .get_mut(&key)
            .ok_or(StorageError::NotFound(Entity::Membership))?;
        changes.apply_to(membership, now);
        Ok(membership.clone())
    }

    async fn remove_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<bool, StorageError> {
        let mut state = self.state();
        let Some(memberships) = state.memberships.get_mut(app_id) else {
            return Ok(false);
        };
        let key = (organization_id.to_owned(), user_id.to_owned());
        let Some(current) = memberships.get(&key) else {
            return Ok(false);
        };
        if current.role == MemberRole::Admin && !is_admin(memberships, organization_id, user_id) {
            return Err(StorageError::LastAdmin);
        }
        memberships.remove(&key);
        Ok(true)
    }
}

#[async_trait]
impl ApiKeyStore for MemoryStorage {
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StorageError> {
        let mut state = self.state();
        if state.api_keys.contains_key(&key.key_hash)
            || state.api_keys.values().any(|other| other.id == key.id)
        {
            return Err(StorageError::Duplicate(Entity::ApiKey));
        }
        state.api_keys.insert(key.key_hash.clone(), key.clone());
        Ok(())
    }

    async fn find_api_key_by_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StorageError> {
        Ok(self.state().api_keys.get(key_hash).cloned())
    }

    async fn list_api_keys(&self, app_id: &str) -> Result<Vec<ApiKeyRecord>, StorageError> {
        let mut keys: Vec<ApiKeyRecord> = self
            .state()
            .api_keys
            .values()
            .filter(|key| key.app_id == app_id)
            .cloned()
            .collect();
        keys.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(keys)
    }

    async fn revoke_api_key(
        &self,
        app_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let mut state = self.state();
        match state
            .api_keys
            .values_mut()
            .find(|key| key.app_id == app_id && key.id == key_id && key.revoked_at.is_none())
        {
            Some(key) => {
                key.revoked_at = Some(now);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn touch_api_key(
        &self,
        app_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut state = self.state();
        if let Some(key) = state
            .api_keys
            .values_mut()
            .find(|key| key.app_id == app_id && key.id == key_id)
        {
            key.last_used_at = Some(now);
        }
        Ok(())
    }
}

#[async_trait]
impl MailStore for MemoryStorage {
    async fn issue_token(
        &self,
        token: &OneTimeToken,
        message: &OutboxMessage,
    ) -> Result<(), StorageError> {
        let mut state = self.state();
        if state.tokens.contains_key(&token.token_hash)
            || state.tokens.values().any(|other| other.id == token.id)
        {
            return Err(StorageError::Duplicate(Entity::Token));
        }
        if state.messages.contains_key(&message.id) {
            return Err(StorageError::Duplicate(Entity::Message));
        }
        state
            .tokens
            .retain(|_, other| other.used_at.is_some() || !token.replaces(other));
        state.tokens.insert(token.token_hash.clone(), token.clone());
        state.messages.insert(message.id.clone(), message.clone());
        Ok(())
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<OneTimeToken>, StorageError> {
        Ok(self.state().tokens.get(token_hash).cloned())
    }

    async fn find_token_by_id(
        &self,
        app_id: &str,
        token_id: &str,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        Ok(self
            .state()
            .tokens
            .values()
            .find(|token| token.id == token_id && token.app_id == app_id)
            .cloned())
    }

    async fn consume_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        let mut state = self.state();
        match state
            .tokens
            .get_mut(token_hash)
            .filter(|token| token.is_usable(now))
        {
            Some(token) => {
                token.used_at = Some(now);
                Ok(Some(token.clone()))
            }
            None => Ok(None),
        }
    }

    async fn revoke_token(&self, app_id: &str, token_id: &str) -> Result<bool, StorageError> {
        let mut state = self.state();
        let before = state.tokens.len();
        state.tokens.retain(|_, token| {
            !(token.app_id == app_id && token.id == token_id && token.used_at.is_none())
        });
        Ok(state.tokens.len() < before)
    }

    async fn list_usable_tokens(
        &self,
        app_id: &str,
        purpose: TokenPurpose,
        organization_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<OneTimeToken>, StorageError> {
        let mut tokens: Vec<OneTimeToken> = self
            .state()
            .tokens
            .values()
            .filter(|token| {
                token.app_id == app_id
                    && token.purpose == purpose
                    && token.is_usable(now)
                    && organization_id
                        .is_none_or(|org| token.organization_id.as_deref() == Some(org))
            })
            .cloned()
            .collect();
        tokens.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(tokens)
    }

    async fn enqueue_message(&self, message: &OutboxMessage) -> Result<(), StorageError> {
        let mut state = self.state();
        if state.messages.contains_key(&message.id) {
            return Err(StorageError::Duplicate(Entity::Message));
        }
        state.messages.insert(message.id.clone(), message.clone());
        Ok(())
    }

    async fn claim_messages(&self, claim: &Claim) -> Result<Vec<OutboxMessage>, StorageError> {
        let mut state = self.state();
        let mut claimed = Vec::new();
        for message in state.messages.values_mut() {
            if claimed.len() >= claim.limit as usize {
                break;
            }
            if message.is_due(claim.now) {
                message.lease_owner = Some(claim.owner.clone());
                message.lease_until = Some(claim.lease_until);
                claimed.push(message.clone());
            }
        }
        Ok(claimed)
    }

    async fn record_delivery(
        &self,
        message_id: &str,
        owner: &str,
        delivery: &Delivery,
    ) -> Result<bool, StorageError> {
        let mut state = self.state();
        match state
            .messages
            .get_mut(message_id)
            .filter(|message| message.lease_owner.as_deref() == Some(owner))
        {
            Some(message) => {
                delivery.apply_to(message);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn list_messages(
        &self,
        app_id: &str,
        query: &MessageQuery,
    ) -> Result<MessagePage, StorageError> {
        let state = self.state();
        let mut messages = Vec::new();
        let mut next_cursor = None;
        let upper = query
            .before_id
            .clone()
            .map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        for (_, message) in state
            .messages
            .range::<String, _>((std::ops::Bound::Unbounded, upper))
            .rev()
        {
            if message.app_id != app_id || query.status.is_some_and(|s| s != message.status) {
                continue;
            }
            if messages.len() == query.limit as usize {
                next_cursor = messages.last().map(|m: &OutboxMessage| m.id.clone());
                break;
            }
            messages.push(message.clone());
        }
        Ok(MessagePage {
            messages,
            next_cursor,
        })
    }

    async fn prune_mail(&self, before: Timestamp) -> Result<u64, StorageError> {
        let mut state = self.state();
        let count = state.messages.len();
        state.messages.retain(|_, message| {
            message.status == MailStatus::Pending || message.created_at >= before
        });
        let pruned = (count - state.messages.len()) as u64;
        state.tokens.retain(|_, token| {
            token.created_at >= before || (token.used_at.is_none() && token.expires_at >= before)
        });
        Ok(pruned)
    }
}

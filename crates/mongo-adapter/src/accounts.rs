//! Accounts (the `account` subdocument of user documents), sessions and signing keys.
//!
//! No transactions: every multi-step change is decided on one document read and written back
//! with a replace guarded by that document's `revision` (compare-and-swap), as apps and user
//! merges are; a writer that loses the race reads again and decides again. A replace, not
//! `$set`, because the test server stores dates written by `$set` as strings (see
//! ARCHITECTURE.md); the decision itself is the port's own rule (`Rotation::apply_to`,
//! `ProfileChanges::apply_to`), applied to what was read.

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use storage_port::*;

use crate::documents::{
    SESSIONS, SIGNING_KEYS, SessionDoc, SigningKeyDoc, USERS, UserDoc, decode, to_bson_date,
};
use crate::errors::{is_duplicate_key, storage_error, translate};
use crate::values::escape_regex;
use crate::{MAX_ATTEMPTS, MongoStorage};

impl MongoStorage {
    async fn find_user_doc(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<UserDoc>, StorageError> {
        let raw = self
            .collection::<Document>(USERS)
            .find_one(doc! { "_id": user_id, "appId": app_id })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, USERS)).transpose()
    }

    /// Applies `change` to the account and writes the whole document back if nobody wrote it
    /// in between (same `revision`); otherwise reads again. `NotFound(Account)` for no record
    /// or a lead.
    async fn change_account(
        &self,
        app_id: &str,
        user_id: &str,
        change: impl Fn(&mut UserRecord, &mut AccountFields),
    ) -> Result<AccountRecord, StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(current) = self.find_user_doc(app_id, user_id).await? else {
                return Err(StorageError::NotFound(Entity::Account));
            };
            let Some(mut record) = current.account_record()? else {
                return Err(StorageError::NotFound(Entity::Account));
            };
            change(&mut record.user, &mut record.account);
            let changed = UserDoc::new(&record.user, Some(&record.account), current.revision + 1)?;
            let replaced = self
                .collection::<UserDoc>(USERS)
                .replace_one(
                    doc! { "_id": user_id, "appId": app_id, "revision": current.revision },
                    changed,
                )
                .await
                .map_err(storage_error)?;
            if replaced.matched_count == 1 {
                return Ok(record);
            }
        }
        Err(StorageError::unexpected(format!(
            "account {user_id} of app {app_id} kept changing under {MAX_ATTEMPTS} attempts to update it"
        )))
    }

    async fn find_session_doc(
        &self,
        app_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionDoc>, StorageError> {
        let raw = self
            .collection::<Document>(SESSIONS)
            .find_one(doc! { "_id": session_id, "appId": app_id })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, SESSIONS)).transpose()
    }

    /// Writes `session` over the document read at `revision`; `false` when another writer
    /// changed it since.
    async fn replace_session(
        &self,
        session: &SessionRecord,
        revision: i64,
    ) -> Result<bool, StorageError> {
        let replaced = self
            .collection::<SessionDoc>(SESSIONS)
            .replace_one(
                doc! { "_id": &session.id, "appId": &session.app_id, "revision": revision },
                SessionDoc::new(session, revision + 1),
            )
            .await
            .map_err(storage_error)?;
        Ok(replaced.matched_count == 1)
    }

    /// Revokes the session unless it is revoked already; `false` then, or when it is gone.
    async fn revoke_one(
        &self,
        app_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(current) = self.find_session_doc(app_id, session_id).await? else {
                return Ok(false);
            };
            if current.revoked_at.is_some() {
                return Ok(false);
            }
            let mut session = current.record();
            session.revoked_at = Some(now);
            if self.replace_session(&session, current.revision).await? {
                return Ok(true);
            }
        }
        Err(StorageError::unexpected(format!(
            "session {session_id} kept changing under {MAX_ATTEMPTS} attempts to revoke it"
        )))
    }

    /// The second step of registering with `joining` (see `register_account`): the membership.
    async fn joined(
        &self,
        app_id: &str,
        new: &NewAccount,
        registered: Registered,
    ) -> Result<Registered, StorageError> {
        if let Some(joining) = &new.joining {
            let (Registered::Created(record) | Registered::FromLead(record)) = &registered;
            self.join_registered(app_id, &record.user.id, joining, new.now)
                .await?;
        }
        Ok(registered)
    }
}

#[async_trait]
impl AccountStore for MongoStorage {
    /// A lead becomes the account through a replace guarded by its `revision` and by having no
    /// `account` yet; a new email is an insert, which the unique `{appId, email}` index lets
    /// through once. Whoever loses either race reads again and finds the account: `Duplicate`.
    ///
    /// With `joining`, two steps: the organization is looked up first (`NotFound`, nothing
    /// stored), the account registered, then the membership inserted. A failure or crash
    /// between the last two leaves the account registered without the membership (see
    /// ARCHITECTURE.md).
    async fn register_account(
        &self,
        app_id: &str,
        new: &NewAccount,
    ) -> Result<Registered, StorageError> {
        if let Some(joining) = &new.joining
            && !self
                .organization_exists(app_id, &joining.organization_id)
                .await?
        {
            return Err(StorageError::NotFound(Entity::Organization));
        }
        let account = |lead_keys: Vec<String>| AccountFields {
            name: new.name.clone(),
            password_hash: new.password_hash.clone(),
            tenant_admin: new.tenant_admin,
            registered_at: new.now,
            lead_keys,
            ..AccountFields::default()
        };
        for _ in 0..MAX_ATTEMPTS {
            let existing = self
                .collection::<Document>(USERS)
                .find_one(doc! { "appId": app_id, "email": &new.email })
                .await
                .map_err(storage_error)?
                .map(|raw| decode::<UserDoc>(raw, USERS))
                .transpose()?;
            match existing {
                Some(found) if found.account.is_some() => {
                    return Err(StorageError::Duplicate(Entity::Account));
                }
                Some(lead) => {
                    let mut user = lead.record()?;
                    let lead_keys = user
                        .data
                        .keys()
                        .filter(|key| !new.data.contains_key(*key))
                        .cloned()
                        .collect();
                    user.data
                        .extend(new.data.iter().map(|(k, v)| (k.clone(), v.clone())));
                    user.schema_version = new.schema_version;
                    user.updated_at = new.now;
                    let record = AccountRecord {
                        user,
                        account: account(lead_keys),
                    };
                    let changed =
                        UserDoc::new(&record.user, Some(&record.account), lead.revision + 1)?;
                    // `null` matches a missing `account` (and a null one, which reads as a lead).
                    let guarded = doc! {
                        "_id": &lead.id, "appId": app_id, "revision": lead.revision,
                        "account": null,
                    };
                    let replaced = self
                        .collection::<UserDoc>(USERS)
                        .replace_one(guarded, changed)
                        .await
                        .map_err(storage_error)?;
                    if replaced.matched_count == 1 {
                        return self.joined(app_id, new, Registered::FromLead(record)).await;
                    }
                    // A sign-up merged into the lead, or a registration won: look again.
                }
                None => {
                    let record = AccountRecord {
                        user: UserRecord {
                            id: new.new_id.clone(),
                            app_id: app_id.to_owned(),
                            email: new.email.clone(),
                            data: new.data.clone(),
                            schema_version: new.schema_version,
                            created_at: new.now,
                            updated_at: new.now,
                        },
                        account: account(Vec::new()),
                    };
                    let fresh = UserDoc::new(&record.user, Some(&record.account), 1)?;
                    match self.collection::<UserDoc>(USERS).insert_one(fresh).await {
                        Ok(_) => {
                            return self.joined(app_id, new, Registered::Created(record)).await;
                        }
                        // Another registration or a sign-up took the email: look again.
                        Err(error) if is_duplicate_key(&error) => {}
                        Err(error) => return Err(storage_error(error)),
                    }
                }
            }
        }
        Err(StorageError::unexpected(format!(
            "registration in app {app_id} lost {MAX_ATTEMPTS} races in a row"
        )))
    }

    async fn find_account(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Option<AccountRecord>, StorageError> {
        match self.find_user_doc(app_id, user_id).await? {
            Some(found) => found.account_record(),
            None => Ok(None),
        }
    }

    async fn find_account_by_email(
        &self,
        app_id: &str,
        email: &str,
    ) -> Result<Option<AccountRecord>, StorageError> {
        let raw = self
            .collection::<Document>(USERS)
            .find_one(doc! { "appId": app_id, "email": email })
            .await
            .map_err(storage_error)?;
        match raw {
            Some(raw) => decode::<UserDoc>(raw, USERS)?.account_record(),
            None => Ok(None),
        }
    }

    async fn update_profile(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &ProfileChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        self.change_account(app_id, user_id, |user, account| {
            changes.apply_to(user, account, now);
        })
        .await
    }

    async fn replace_account_password(
        &self,
        app_id: &str,
        user_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        // The hash and the raised version land in one guarded replace: two changes raise it twice.
        self.change_account(app_id, user_id, |user, account| {
            account.password_hash = Some(password_hash.to_owned());
            account.credential_version += 1;
            user.updated_at = now;
        })
        .await
    }

    /// One guarded replace of the account, then, when it disables, every active session revoked
    /// (each by a guarded replace, as `revoke_user_sessions` does: `update_many` with `$set`
    /// would store the date as a string on the test server). The flag comes first, so a login
    /// after it is refused and a crash in between leaves a disabled account whose sessions end
    /// at their next check of the account.
    async fn update_account(
        &self,
        app_id: &str,
        user_id: &str,
        changes: &AccountChanges,
        now: Timestamp,
    ) -> Result<AccountRecord, StorageError> {
        let changed = self
            .change_account(app_id, user_id, |user, account| {
                changes.apply_to(user, account, now);
            })
            .await?;
        if changes.disables() {
            self.revoke_user_sessions(app_id, user_id, None, now)
                .await?;
        }
        Ok(changed)
    }

    /// One query of the users, or, for an organization's members, a page of memberships from
    /// the `{appId, organizationId, userId}` index and their accounts by `$in`, repeated only
    /// while the account filters leave the page short.
    async fn list_accounts(
        &self,
        app_id: &str,
        query: &AccountQuery,
    ) -> Result<AccountPage, StorageError> {
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let wanted = i64::from(query.limit) + 1;
        let filters = account_filters(query);
        let mut accounts = Vec::new();
        match &query.organization_id {
            None => {
                let mut filter = doc! { "appId": app_id };
                if let Some(after) = &query.after_id {
                    filter.insert("_id", doc! { "$gt": after });
                }
                filter.extend(filters);
                let mut cursor = self
                    .collection::<Document>(USERS)
                    .find(filter)
                    .sort(doc! { "_id": 1 })
                    .limit(wanted)
                    .await
                    .map_err(storage_error)?;
                while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
                    if let Some(account) = decode::<UserDoc>(raw, USERS)?.account_record()? {
                        accounts.push(account);
                    }
                }
            }
            Some(organization_id) => {
                let mut after = query.after_id.clone();
                while accounts.len() <= limit {
                    let memberships = self
                        .member_page(
                            app_id,
                            organization_id,
                            after.as_deref(),
                            query.role,
                            wanted,
                        )
                        .await?;
                    let Some(last) = memberships.last() else {
                        break;
                    };
                    let exhausted = memberships.len() < usize::try_from(wanted).unwrap_or(0);
                    after = Some(last.user_id.clone());
                    let ids = memberships.iter().map(|m| m.user_id.clone()).collect();
                    let mut found = self.accounts_by_id(app_id, ids, filters.clone()).await?;
                    accounts.extend(
                        memberships
                            .iter()
                            .filter_map(|membership| found.remove(&membership.user_id)),
                    );
                    if exhausted {
                        break;
                    }
                }
            }
        }
        let more = accounts.len() > limit;
        accounts.truncate(limit);
        let next_cursor = if more {
            accounts.last().map(|account| account.user.id.clone())
        } else {
            None
        };
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
        self.change_account(app_id, user_id, |_, account| {
            account.last_login_at = Some(now);
        })
        .await
        .map(|_| ())
    }
}

/// The filters of an account query on user documents, the organization aside: accounts only
/// (`$type`, because the test server lets `$ne: null` match a missing field), the app-wide
/// role (missing in older accounts: not one), and the text, quoted so it matches literally.
fn account_filters(query: &AccountQuery) -> Document {
    let mut filter = doc! { "account": { "$type": "object" } };
    match query.tenant_admin {
        Some(true) => {
            filter.insert("account.tenantAdmin", true);
        }
        Some(false) => {
            filter.insert("account.tenantAdmin", doc! { "$ne": true });
        }
        None => {}
    }
    if let Some(text) = &query.text {
        let pattern = escape_regex(text);
        filter.insert(
            "$or",
            vec![
                doc! { "email": { "$regex": &pattern, "$options": "i" } },
                doc! { "account.name": { "$regex": &pattern, "$options": "i" } },
            ],
        );
    }
    filter
}

#[async_trait]
impl SessionStore for MongoStorage {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StorageError> {
        self.collection::<SessionDoc>(SESSIONS)
            .insert_one(SessionDoc::new(session, 1))
            .await
            .map_err(|e| translate(e, Entity::Session))?;
        Ok(())
    }

    async fn find_session(
        &self,
        app_id: &str,
        session_id: &str,
    ) -> Result<Option<SessionRecord>, StorageError> {
        Ok(self
            .find_session_doc(app_id, session_id)
            .await?
            .map(|found| found.record()))
    }

    /// `Rotation::apply_to` decides on the session as read; when it changes the session
    /// (rotated, or revoked for reuse) the change is a replace guarded by the `revision` read,
    /// so of racing rotations with one token exactly one replaces: the others read the rotated
    /// session again and find their token as the previous one (within the grace window). A
    /// token still current or within grace never writes without that guard.
    async fn rotate_refresh(
        &self,
        app_id: &str,
        session_id: &str,
        rotation: &Rotation,
    ) -> Result<RotationOutcome, StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(current) = self.find_session_doc(app_id, session_id).await? else {
                return Ok(RotationOutcome::Unknown);
            };
            let mut session = current.record();
            let outcome = rotation.apply_to(&mut session);
            match outcome {
                RotationOutcome::Unknown | RotationOutcome::WithinGrace(_) => return Ok(outcome),
                RotationOutcome::Rotated(_) | RotationOutcome::Reused(_) => {
                    if self.replace_session(&session, current.revision).await? {
                        return Ok(outcome);
                    }
                }
            }
        }
        Err(StorageError::unexpected(format!(
            "session {session_id} kept changing under {MAX_ATTEMPTS} attempts to rotate it"
        )))
    }

    /// A replace guarded by the session's `revision`, retried when another change won.
    async fn set_session_organization(
        &self,
        app_id: &str,
        session_id: &str,
        organization_id: Option<&str>,
    ) -> Result<bool, StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(current) = self.find_session_doc(app_id, session_id).await? else {
                return Ok(false);
            };
            if current.revoked_at.is_some() {
                return Ok(false);
            }
            let mut session = current.record();
            session.organization_id = organization_id.map(str::to_owned);
            if self.replace_session(&session, current.revision).await? {
                return Ok(true);
            }
        }
        Err(StorageError::unexpected(format!(
            "session {session_id} kept changing under {MAX_ATTEMPTS} attempts to switch its organization"
        )))
    }

    async fn revoke_session(
        &self,
        app_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        self.revoke_one(app_id, session_id, now).await
    }

    /// One guarded replace per session: a session is revoked once, however many calls race.
    async fn revoke_user_sessions(
        &self,
        app_id: &str,
        user_id: &str,
        keep: Option<&str>,
        now: Timestamp,
    ) -> Result<u64, StorageError> {
        let mut filter = doc! { "appId": app_id, "userId": user_id, "revokedAt": null };
        if let Some(keep) = keep {
            filter.insert("_id", doc! { "$ne": keep });
        }
        let mut cursor = self
            .collection::<Document>(SESSIONS)
            .find(filter)
            .projection(doc! { "_id": 1 })
            .await
            .map_err(storage_error)?;
        let mut ids = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            let id = raw
                .get_str("_id")
                .map_err(|e| StorageError::Corrupt(format!("{SESSIONS}: _id {e}")))?;
            ids.push(id.to_owned());
        }
        let mut revoked = 0;
        for id in ids {
            if self.revoke_one(app_id, &id, now).await? {
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
        let now = to_bson_date(now);
        let filter = doc! {
            "appId": app_id, "userId": user_id, "revokedAt": null,
            "idleExpiresAt": { "$gt": now }, "absoluteExpiresAt": { "$gt": now },
        };
        let mut cursor = self
            .collection::<Document>(SESSIONS)
            .find(filter)
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .await
            .map_err(storage_error)?;
        let mut sessions = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            sessions.push(decode::<SessionDoc>(raw, SESSIONS)?.record());
        }
        Ok(sessions)
    }
}

#[async_trait]
impl SigningKeyStore for MongoStorage {
    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StorageError> {
        self.collection::<SigningKeyDoc>(SIGNING_KEYS)
            .insert_one(SigningKeyDoc::new(key))
            .await
            .map_err(|e| translate(e, Entity::SigningKey))?;
        Ok(())
    }

    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
        let mut cursor = self
            .collection::<Document>(SIGNING_KEYS)
            .find(doc! {})
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .await
            .map_err(storage_error)?;
        let mut keys = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            keys.push(decode::<SigningKeyDoc>(raw, SIGNING_KEYS)?.record());
        }
        Ok(keys)
    }
}

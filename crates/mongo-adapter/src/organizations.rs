//! Organizations and memberships.
//!
//! No transactions, so the one invariant that needs atomicity, "an organization keeps at least
//! one admin", rests on one conditional single-document update: the organization's
//! `adminCount`, a conservative count of its admin memberships (never above the real number).
//! Demoting or removing an admin first takes one from it with `{adminCount: {$gt: 1}}`; when
//! that matches nothing the change is `LastAdmin`. Only then is the membership changed, by a
//! replace or delete guarded by its `revision`; if someone changed it meanwhile, the count is
//! given back and the change starts over. A new admin (an addition, a promotion, a creator) is
//! written first and counted after. Erasing a user takes its admin places from the count
//! without the guard (erasure wins), before deleting them. So every step that can be cut short
//! by a crash leaves the count too low, which only refuses more, never lets the last admin go.

use std::collections::HashMap;

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use storage_port::*;

use crate::documents::{
    MEMBERSHIPS, MembershipDoc, ORGANIZATIONS, OrganizationDoc, USERS, UserDoc, decode,
    membership_id,
};
use crate::errors::{storage_error, translate};
use crate::{MAX_ATTEMPTS, MongoStorage};

const ADMIN: &str = "admin";

/// What removing one membership document came to.
enum Removal {
    Removed,
    /// The organization's only admin (by its count): nothing removed.
    LastAdmin,
    /// The membership changed or went away after it was read: read it again.
    Changed,
}

impl MongoStorage {
    async fn find_organization_doc(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<Option<OrganizationDoc>, StorageError> {
        let raw = self
            .collection::<Document>(ORGANIZATIONS)
            .find_one(doc! { "_id": organization_id, "appId": app_id })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, ORGANIZATIONS)).transpose()
    }

    pub(crate) async fn organization_exists(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<bool, StorageError> {
        Ok(self
            .collection::<Document>(ORGANIZATIONS)
            .find_one(doc! { "_id": organization_id, "appId": app_id })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(storage_error)?
            .is_some())
    }

    /// True when the app has a user record with this id that is an account (not a lead).
    async fn is_account(&self, app_id: &str, user_id: &str) -> Result<bool, StorageError> {
        // `$type`, not `$ne: null`: the test server lets `$ne: null` match a missing field.
        Ok(self
            .collection::<Document>(USERS)
            .find_one(doc! { "_id": user_id, "appId": app_id, "account": { "$type": "object" } })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(storage_error)?
            .is_some())
    }

    async fn find_membership_doc(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<Option<MembershipDoc>, StorageError> {
        let id = membership_id(app_id, organization_id, user_id);
        let raw = self
            .collection::<Document>(MEMBERSHIPS)
            .find_one(doc! { "_id": id, "appId": app_id })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, MEMBERSHIPS)).transpose()
    }

    /// Counts one more admin, after its membership is written.
    async fn count_admin(&self, app_id: &str, organization_id: &str) -> Result<(), StorageError> {
        self.collection::<Document>(ORGANIZATIONS)
            .update_one(
                doc! { "_id": organization_id, "appId": app_id },
                doc! { "$inc": { "adminCount": 1_i64, "revision": 1_i64 } },
            )
            .await
            .map_err(storage_error)?;
        Ok(())
    }

    /// Takes one admin from the count; with `keep_last`, only if more than one remain. `false`
    /// when none was taken (the count is at one, or the organization is gone). With
    /// `keep_last`, this is the single conditional update that decides the last-admin rule:
    /// of two racing demotions of the last two admins, one takes the count from 2 to 1 and the
    /// other finds nothing to match. Without (erasure), the count may go below zero for a
    /// moment: an admin added meanwhile, written but not yet counted, brings it back.
    async fn take_admin(
        &self,
        app_id: &str,
        organization_id: &str,
        keep_last: bool,
    ) -> Result<bool, StorageError> {
        let mut filter = doc! { "_id": organization_id, "appId": app_id };
        if keep_last {
            filter.insert("adminCount", doc! { "$gt": 1_i64 });
        }
        let taken = self
            .collection::<Document>(ORGANIZATIONS)
            .update_one(
                filter,
                doc! { "$inc": { "adminCount": -1_i64, "revision": 1_i64 } },
            )
            .await
            .map_err(storage_error)?;
        Ok(taken.matched_count == 1)
    }

    /// Inserts the membership and counts it when it is an admin.
    async fn insert_membership(&self, membership: &MembershipRecord) -> Result<(), StorageError> {
        self.collection::<MembershipDoc>(MEMBERSHIPS)
            .insert_one(MembershipDoc::new(membership, 1))
            .await
            .map_err(|e| translate(e, Entity::Membership))?;
        if membership.role == MemberRole::Admin {
            self.count_admin(&membership.app_id, &membership.organization_id)
                .await?;
        }
        Ok(())
    }

    /// Removes the membership as it was read. With `keep_last_admin`, an admin goes only when
    /// another remains by the count; without (erasing the user), it always goes and is taken
    /// from the count.
    async fn remove_membership_doc(
        &self,
        current: &MembershipDoc,
        keep_last_admin: bool,
    ) -> Result<Removal, StorageError> {
        let (app_id, organization_id) = (&current.app_id, &current.organization_id);
        let mut taken = false;
        if current.role == ADMIN {
            taken = self
                .take_admin(app_id, organization_id, keep_last_admin)
                .await?;
            // Not taken and the organization still there: it is the last admin. (A membership
            // whose organization is gone, left by a cut-short deletion, goes uncounted.)
            if !taken
                && keep_last_admin
                && self.organization_exists(app_id, organization_id).await?
            {
                return Ok(Removal::LastAdmin);
            }
        }
        let deleted = self
            .collection::<Document>(MEMBERSHIPS)
            .delete_one(doc! { "_id": &current.id, "revision": current.revision })
            .await
            .map_err(storage_error)?;
        if deleted.deleted_count == 1 {
            return Ok(Removal::Removed);
        }
        if taken {
            self.count_admin(app_id, organization_id).await?;
        }
        Ok(Removal::Changed)
    }

    /// Removes every membership of the user (erasure wins over the last-admin rule), until a
    /// read finds none: a promotion or an addition racing the erasure is caught by the next round.
    pub(crate) async fn remove_user_memberships(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<(), StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let memberships = self
                .find_memberships(doc! { "appId": app_id, "userId": user_id }, None, None)
                .await?;
            if memberships.is_empty() {
                return Ok(());
            }
            for membership in &memberships {
                self.remove_membership_doc(membership, false).await?;
            }
        }
        Err(StorageError::unexpected(format!(
            "memberships of user {user_id} in app {app_id} kept changing under {MAX_ATTEMPTS} attempts to remove them"
        )))
    }

    async fn find_memberships(
        &self,
        filter: Document,
        sort: Option<Document>,
        limit: Option<i64>,
    ) -> Result<Vec<MembershipDoc>, StorageError> {
        let mut cursor = self
            .collection::<Document>(MEMBERSHIPS)
            .find(filter)
            .sort(sort.unwrap_or_default())
            .limit(limit.unwrap_or(0))
            .await
            .map_err(storage_error)?;
        let mut memberships = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            memberships.push(decode::<MembershipDoc>(raw, MEMBERSHIPS)?);
        }
        Ok(memberships)
    }

    /// The app's accounts among `user_ids`, by id, read in one query; leads and ids without a
    /// record are left out.
    pub(crate) async fn accounts_by_id(
        &self,
        app_id: &str,
        user_ids: Vec<String>,
        also: Document,
    ) -> Result<HashMap<String, AccountRecord>, StorageError> {
        let mut accounts = HashMap::new();
        if user_ids.is_empty() {
            return Ok(accounts);
        }
        let mut filter = doc! { "appId": app_id, "_id": { "$in": user_ids } };
        filter.extend(also);
        let mut cursor = self
            .collection::<Document>(USERS)
            .find(filter)
            .await
            .map_err(storage_error)?;
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            if let Some(account) = decode::<UserDoc>(raw, USERS)?.account_record()? {
                accounts.insert(account.user.id.clone(), account);
            }
        }
        Ok(accounts)
    }

    /// Members of the organization after `after_user_id`, in user id order, at most `limit`:
    /// one range read of the `{appId, organizationId, userId}` index.
    pub(crate) async fn member_page(
        &self,
        app_id: &str,
        organization_id: &str,
        after_user_id: Option<&str>,
        role: Option<MemberRole>,
        limit: i64,
    ) -> Result<Vec<MembershipDoc>, StorageError> {
        let mut filter = doc! { "appId": app_id, "organizationId": organization_id };
        if let Some(after) = after_user_id {
            filter.insert("userId", doc! { "$gt": after });
        }
        if let Some(role) = role {
            filter.insert("role", role.as_str());
        }
        self.find_memberships(filter, Some(doc! { "userId": 1 }), Some(limit))
            .await
    }

    /// Takes back a membership written by an operation that then found its organization or
    /// account gone (deleted by a racing call, which may have swept memberships before this
    /// one was written). Best effort: a failure is logged, and the caller's error stands.
    async fn withdraw_membership(&self, membership: &MembershipRecord) {
        let id = membership_id(
            &membership.app_id,
            &membership.organization_id,
            &membership.user_id,
        );
        let withdrawn = async {
            if let Some(current) = self
                .collection::<Document>(MEMBERSHIPS)
                .find_one(doc! { "_id": &id })
                .await
                .map_err(storage_error)?
            {
                let current = decode::<MembershipDoc>(current, MEMBERSHIPS)?;
                self.remove_membership_doc(&current, false).await?;
            }
            Ok::<(), StorageError>(())
        };
        if let Err(error) = withdrawn.await {
            tracing::warn!(
                app_id = %membership.app_id,
                organization_id = %membership.organization_id,
                user_id = %membership.user_id,
                error = %error,
                "could not take back a membership whose organization or account went away"
            );
        }
    }

    /// The second step of registering with `joining`: the membership, written after the
    /// account (see `AccountStore::register_account`). A racing deletion of the organization
    /// makes it take the membership back: the registration stands, as if it had come first.
    pub(crate) async fn join_registered(
        &self,
        app_id: &str,
        user_id: &str,
        joining: &Joining,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let membership = MembershipRecord {
            app_id: app_id.to_owned(),
            organization_id: joining.organization_id.clone(),
            user_id: user_id.to_owned(),
            role: joining.role,
            permissions: joining.permissions.clone(),
            created_at: now,
            updated_at: now,
        };
        self.insert_membership(&membership).await?;
        if !self
            .organization_exists(app_id, &joining.organization_id)
            .await?
        {
            self.withdraw_membership(&membership).await;
        }
        Ok(())
    }
}

#[async_trait]
impl OrganizationStore for MongoStorage {
    /// Two steps: the organization, then the creator's membership, counted once written (so
    /// a crash in between leaves an organization counting no admin, never one counting an
    /// admin it lacks). If the second step fails, or the creator's account was erased
    /// meanwhile, the organization is deleted again.
    async fn insert_organization(
        &self,
        organization: &OrganizationRecord,
        creator: Option<&MembershipRecord>,
    ) -> Result<(), StorageError> {
        let app_id = &organization.app_id;
        let creator = creator.map(|creator| MembershipRecord {
            app_id: app_id.clone(),
            organization_id: organization.id.clone(),
            ..creator.clone()
        });
        if let Some(creator) = &creator
            && !self.is_account(app_id, &creator.user_id).await?
        {
            return Err(StorageError::NotFound(Entity::Account));
        }
        self.collection::<OrganizationDoc>(ORGANIZATIONS)
            .insert_one(OrganizationDoc::new(organization, 0, 1))
            .await
            .map_err(|e| translate(e, Entity::Organization))?;
        let Some(creator) = creator else {
            return Ok(());
        };
        let joined = match self.insert_membership(&creator).await {
            Ok(()) if self.is_account(app_id, &creator.user_id).await? => return Ok(()),
            Ok(()) => Err(StorageError::NotFound(Entity::Account)),
            Err(error) => Err(error),
        };
        let undone = async {
            self.collection::<Document>(MEMBERSHIPS)
                .delete_many(doc! { "appId": app_id, "organizationId": &organization.id })
                .await
                .map_err(storage_error)?;
            self.collection::<Document>(ORGANIZATIONS)
                .delete_one(doc! { "_id": &organization.id, "appId": app_id })
                .await
                .map_err(storage_error)
        };
        if let Err(error) = undone.await {
            tracing::warn!(
                app_id = %app_id,
                organization_id = %organization.id,
                error = %error,
                "could not delete an organization whose creator's membership failed"
            );
        }
        joined
    }

    async fn find_organization(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<Option<OrganizationRecord>, StorageError> {
        Ok(self
            .find_organization_doc(app_id, organization_id)
            .await?
            .map(|found| found.record()))
    }

    async fn list_organizations(
        &self,
        app_id: &str,
        query: &OrganizationQuery,
    ) -> Result<OrganizationPage, StorageError> {
        let mut filter = doc! { "appId": app_id };
        if let Some(after) = &query.after_id {
            filter.insert("_id", doc! { "$gt": after });
        }
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let mut cursor = self
            .collection::<Document>(ORGANIZATIONS)
            .find(filter)
            .sort(doc! { "_id": 1 })
            .limit(i64::from(query.limit) + 1)
            .await
            .map_err(storage_error)?;
        let mut organizations = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            organizations.push(decode::<OrganizationDoc>(raw, ORGANIZATIONS)?.record());
        }
        let more = organizations.len() > limit;
        organizations.truncate(limit);
        let next_cursor = if more {
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
        // Equality with an array field matches any of its elements.
        let mut cursor = self
            .collection::<Document>(ORGANIZATIONS)
            .find(doc! { "appId": app_id, "allowedEmailDomains": domain })
            .sort(doc! { "_id": 1 })
            .await
            .map_err(storage_error)?;
        let mut organizations = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            organizations.push(decode::<OrganizationDoc>(raw, ORGANIZATIONS)?.record());
        }
        Ok(organizations)
    }

    /// A replace guarded by the `revision` read, which the admin count's `$inc` raises too, so
    /// the count written back is the current one; a slug taken is the unique index's refusal.
    async fn update_organization(
        &self,
        app_id: &str,
        organization_id: &str,
        changes: &OrganizationChanges,
        now: Timestamp,
    ) -> Result<OrganizationRecord, StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .find_organization_doc(app_id, organization_id)
                .await?
                .ok_or(StorageError::NotFound(Entity::Organization))?;
            let mut record = current.record();
            changes.apply_to(&mut record, now);
            let changed = OrganizationDoc::new(&record, current.admin_count, current.revision + 1);
            let replaced = self
                .collection::<OrganizationDoc>(ORGANIZATIONS)
                .replace_one(
                    doc! { "_id": organization_id, "appId": app_id, "revision": current.revision },
                    changed,
                )
                .await
                .map_err(|e| translate(e, Entity::Organization))?;
            if replaced.matched_count == 1 {
                return Ok(record);
            }
        }
        Err(StorageError::unexpected(format!(
            "organization {organization_id} of app {app_id} kept changing under {MAX_ATTEMPTS} attempts to update it"
        )))
    }

    /// The organization, then its memberships (always, so that a deletion cut short before
    /// them is finished by the next one). Meanwhile its members are members of nothing: every
    /// read of memberships joins the organizations.
    async fn delete_organization(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<bool, StorageError> {
        let deleted = self
            .collection::<Document>(ORGANIZATIONS)
            .delete_one(doc! { "_id": organization_id, "appId": app_id })
            .await
            .map_err(storage_error)?;
        self.collection::<Document>(MEMBERSHIPS)
            .delete_many(doc! { "appId": app_id, "organizationId": organization_id })
            .await
            .map_err(storage_error)?;
        Ok(deleted.deleted_count == 1)
    }
}

#[async_trait]
impl MembershipStore for MongoStorage {
    /// The unique index refuses a second membership; an admin is counted after it is written.
    /// A racing erasure of the account or deletion of the organization may sweep memberships
    /// just before this one lands, so both are looked at again afterwards.
    async fn add_membership(&self, membership: &MembershipRecord) -> Result<(), StorageError> {
        let (app_id, organization_id) = (&membership.app_id, &membership.organization_id);
        if !self.organization_exists(app_id, organization_id).await? {
            return Err(StorageError::NotFound(Entity::Organization));
        }
        if !self.is_account(app_id, &membership.user_id).await? {
            return Err(StorageError::NotFound(Entity::Account));
        }
        self.insert_membership(membership).await?;
        let gone = if !self.organization_exists(app_id, organization_id).await? {
            Entity::Organization
        } else if !self.is_account(app_id, &membership.user_id).await? {
            Entity::Account
        } else {
            return Ok(());
        };
        self.withdraw_membership(membership).await;
        Err(StorageError::NotFound(gone))
    }

    async fn find_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<Option<MembershipRecord>, StorageError> {
        self.find_membership_doc(app_id, organization_id, user_id)
            .await?
            .map(|found| found.record())
            .transpose()
    }

    /// The memberships, then their organizations in one query; a membership whose
    /// organization is gone (a deletion cut short) is no membership.
    async fn list_user_memberships(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<Vec<Joined>, StorageError> {
        self.list_users_memberships(app_id, &[user_id.to_owned()])
            .await
    }

    /// Two queries whatever the number of users: their memberships by `$in` on the
    /// `{appId, userId}` index, then the organizations by `$in`.
    async fn list_users_memberships(
        &self,
        app_id: &str,
        user_ids: &[String],
    ) -> Result<Vec<Joined>, StorageError> {
        let filter = match user_ids {
            [] => return Ok(Vec::new()),
            [one] => doc! { "appId": app_id, "userId": one },
            many => doc! { "appId": app_id, "userId": { "$in": many } },
        };
        let memberships = self
            .find_memberships(
                filter,
                Some(doc! { "createdAt": 1, "organizationId": 1 }),
                None,
            )
            .await?;
        if memberships.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = memberships
            .iter()
            .map(|m| m.organization_id.as_str())
            .collect();
        let mut cursor = self
            .collection::<Document>(ORGANIZATIONS)
            .find(doc! { "appId": app_id, "_id": { "$in": ids } })
            .await
            .map_err(storage_error)?;
        let mut organizations = HashMap::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            let organization = decode::<OrganizationDoc>(raw, ORGANIZATIONS)?.record();
            organizations.insert(organization.id.clone(), organization);
        }
        memberships
            .iter()
            .filter_map(|membership| {
                let organization = organizations.get(&membership.organization_id)?.clone();
                Some(membership.record().map(|membership| Joined {
                    organization,
                    membership,
                }))
            })
            .collect()
    }

    /// Two queries whatever the page's depth: `limit + 1` memberships from the
    /// `{appId, organizationId, userId}` index after the cursor, then their accounts by `$in`.
    async fn list_members(
        &self,
        app_id: &str,
        organization_id: &str,
        query: &MemberQuery,
    ) -> Result<MemberPage, StorageError> {
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let mut memberships = self
            .member_page(
                app_id,
                organization_id,
                query.after_user_id.as_deref(),
                query.role,
                i64::from(query.limit) + 1,
            )
            .await?;
        let more = memberships.len() > limit;
        memberships.truncate(limit);
        let next_cursor = if more {
            memberships.last().map(|m| m.user_id.clone())
        } else {
            None
        };
        let ids = memberships.iter().map(|m| m.user_id.clone()).collect();
        let mut accounts = self.accounts_by_id(app_id, ids, Document::new()).await?;
        let mut members = Vec::with_capacity(memberships.len());
        for membership in memberships {
            // A member whose record is gone is being erased: its memberships go next.
            if let Some(account) = accounts.remove(&membership.user_id) {
                members.push(Member {
                    membership: membership.record()?,
                    account,
                });
            }
        }
        Ok(MemberPage {
            members,
            next_cursor,
        })
    }

    /// A demotion takes an admin from the count first (`LastAdmin` when it is the last) and
    /// gives it back if the guarded replace of the membership then misses; a promotion is
    /// counted once its replace went through.
    async fn update_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
        changes: &MembershipChanges,
        now: Timestamp,
    ) -> Result<MembershipRecord, StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self
                .find_membership_doc(app_id, organization_id, user_id)
                .await?
                .ok_or(StorageError::NotFound(Entity::Membership))?;
            let mut record = current.record()?;
            let demotes = changes.demotes(&record);
            let promotes =
                record.role != MemberRole::Admin && changes.role == Some(MemberRole::Admin);
            changes.apply_to(&mut record, now);
            if demotes && !self.take_admin(app_id, organization_id, true).await? {
                return Err(
                    if self.organization_exists(app_id, organization_id).await? {
                        StorageError::LastAdmin
                    } else {
                        StorageError::NotFound(Entity::Membership)
                    },
                );
            }
            let replaced = self
                .collection::<MembershipDoc>(MEMBERSHIPS)
                .replace_one(
                    doc! { "_id": &current.id, "revision": current.revision },
                    MembershipDoc::new(&record, current.revision + 1),
                )
                .await
                .map_err(storage_error)?;
            if replaced.matched_count == 1 {
                if promotes {
                    self.count_admin(app_id, organization_id).await?;
                }
                return Ok(record);
            }
            if demotes {
                self.count_admin(app_id, organization_id).await?;
            }
        }
        Err(StorageError::unexpected(format!(
            "membership of {user_id} in {organization_id} kept changing under {MAX_ATTEMPTS} attempts to update it"
        )))
    }

    async fn remove_membership(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<bool, StorageError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(current) = self
                .find_membership_doc(app_id, organization_id, user_id)
                .await?
            else {
                return Ok(false);
            };
            match self.remove_membership_doc(&current, true).await? {
                Removal::Removed => return Ok(true),
                Removal::LastAdmin => return Err(StorageError::LastAdmin),
                Removal::Changed => {}
            }
        }
        Err(StorageError::unexpected(format!(
            "membership of {user_id} in {organization_id} kept changing under {MAX_ATTEMPTS} attempts to remove it"
        )))
    }
}

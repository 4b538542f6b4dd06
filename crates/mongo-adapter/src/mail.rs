//! One-time tokens and the outbox (issue 15): `one_time_tokens` (`_id` the token's id, unique
//! `tokenHash`) and `outbox` (`_id` the message's UUIDv7 id, so `_id` order is creation order).
//!
//! No transactions, so `issue_token` is a sequence ordered so that a crash never leaves a token
//! without its message: the message first, then the token (a duplicate takes the message back
//! out), then the deletion of the tokens it replaces (see "E-mail without transactions" in
//! ARCHITECTURE.md). Every change that sets a date is a whole-document replace guarded by what
//! it read (the test server stores dates written by `$set` as strings): spending a token is a
//! replace on `{tokenHash, usedAt: null}`, which one caller wins; claiming and recording a
//! delivery are replaces guarded by the message's `revision`, so two senders never hold one
//! lease.

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc};
use serde::{Deserialize, Serialize};
use storage_port::{
    Claim, Delivery, Entity, MailStatus, MailStore, MemberRole, MessagePage, MessageQuery,
    OneTimeToken, OutboxMessage, StorageError, Timestamp, TokenPurpose,
};

use crate::documents::{decode, to_bson_date, to_timestamp};
use crate::errors::{storage_error, translate};
use crate::{MAX_ATTEMPTS, MongoStorage};

pub(crate) const ONE_TIME_TOKENS: &str = "one_time_tokens";
pub(crate) const OUTBOX: &str = "outbox";

/// A one-time token. Optional fields are always written (null when absent), so that
/// `{usedAt: null}` finds the unused ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub app_id: String,
    pub purpose: String,
    pub token_hash: String,
    #[serde(default)]
    pub user_id: Option<String>,
    pub email: String,
    #[serde(default)]
    pub organization_id: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub invited_by: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    pub created_at: DateTime,
    pub expires_at: DateTime,
    #[serde(default)]
    pub used_at: Option<DateTime>,
}

impl TokenDoc {
    pub fn new(token: &OneTimeToken) -> Self {
        Self {
            id: token.id.clone(),
            app_id: token.app_id.clone(),
            purpose: token.purpose.as_str().to_owned(),
            token_hash: token.token_hash.clone(),
            user_id: token.user_id.clone(),
            email: token.email.clone(),
            organization_id: token.organization_id.clone(),
            role: token.role.map(|role| role.as_str().to_owned()),
            invited_by: token.invited_by.clone(),
            message: token.message.clone(),
            created_at: to_bson_date(token.created_at),
            expires_at: to_bson_date(token.expires_at),
            used_at: token.used_at.map(to_bson_date),
        }
    }

    pub fn record(&self) -> Result<OneTimeToken, StorageError> {
        let purpose = TokenPurpose::parse(&self.purpose).ok_or_else(|| {
            StorageError::Corrupt(format!(
                "{ONE_TIME_TOKENS} document {}: unknown purpose {:?}",
                self.id, self.purpose
            ))
        })?;
        let role = self
            .role
            .as_deref()
            .map(|role| {
                MemberRole::parse(role).ok_or_else(|| {
                    StorageError::Corrupt(format!(
                        "{ONE_TIME_TOKENS} document {}: unknown role {role:?}",
                        self.id
                    ))
                })
            })
            .transpose()?;
        Ok(OneTimeToken {
            id: self.id.clone(),
            app_id: self.app_id.clone(),
            purpose,
            token_hash: self.token_hash.clone(),
            user_id: self.user_id.clone(),
            email: self.email.clone(),
            organization_id: self.organization_id.clone(),
            role,
            invited_by: self.invited_by.clone(),
            message: self.message.clone(),
            created_at: to_timestamp(self.created_at),
            expires_at: to_timestamp(self.expires_at),
            used_at: self.used_at.map(to_timestamp),
        })
    }
}

/// A message of the outbox. `revision` counts every write: claims and deliveries are
/// compare-and-swap on it. `leaseUntil` is always written (null when free).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub app_id: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    #[serde(default)]
    pub token_id: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime,
    #[serde(default)]
    pub lease_owner: Option<String>,
    #[serde(default)]
    pub lease_until: Option<DateTime>,
    #[serde(default)]
    pub last_error: Option<String>,
    pub created_at: DateTime,
    #[serde(default)]
    pub sent_at: Option<DateTime>,
    pub revision: i64,
}

impl MessageDoc {
    pub fn new(message: &OutboxMessage, revision: i64) -> Self {
        Self {
            id: message.id.clone(),
            app_id: message.app_id.clone(),
            kind: message.kind.clone(),
            from: message.from.clone(),
            to: message.to.clone(),
            subject: message.subject.clone(),
            text: message.text.clone(),
            html: message.html.clone(),
            token_id: message.token_id.clone(),
            status: message.status.as_str().to_owned(),
            attempts: i64::from(message.attempts),
            next_attempt_at: to_bson_date(message.next_attempt_at),
            lease_owner: message.lease_owner.clone(),
            lease_until: message.lease_until.map(to_bson_date),
            last_error: message.last_error.clone(),
            created_at: to_bson_date(message.created_at),
            sent_at: message.sent_at.map(to_bson_date),
            revision,
        }
    }

    pub fn record(&self) -> Result<OutboxMessage, StorageError> {
        let corrupt =
            |what: String| StorageError::Corrupt(format!("{OUTBOX} document {}: {what}", self.id));
        let status = MailStatus::parse(&self.status)
            .ok_or_else(|| corrupt(format!("unknown status {:?}", self.status)))?;
        let attempts = u32::try_from(self.attempts)
            .map_err(|_| corrupt(format!("attempts {} out of range", self.attempts)))?;
        Ok(OutboxMessage {
            id: self.id.clone(),
            app_id: self.app_id.clone(),
            kind: self.kind.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            subject: self.subject.clone(),
            text: self.text.clone(),
            html: self.html.clone(),
            token_id: self.token_id.clone(),
            status,
            attempts,
            next_attempt_at: to_timestamp(self.next_attempt_at),
            lease_owner: self.lease_owner.clone(),
            lease_until: self.lease_until.map(to_timestamp),
            last_error: self.last_error.clone(),
            created_at: to_timestamp(self.created_at),
            sent_at: self.sent_at.map(to_timestamp),
        })
    }
}

impl MongoStorage {
    async fn find_token_doc(&self, filter: Document) -> Result<Option<TokenDoc>, StorageError> {
        let raw = self
            .collection::<Document>(ONE_TIME_TOKENS)
            .find_one(filter)
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, ONE_TIME_TOKENS)).transpose()
    }

    async fn find_message_doc(&self, message_id: &str) -> Result<Option<MessageDoc>, StorageError> {
        let raw = self
            .collection::<Document>(OUTBOX)
            .find_one(doc! { "_id": message_id })
            .await
            .map_err(storage_error)?;
        raw.map(|raw| decode(raw, OUTBOX)).transpose()
    }

    /// Writes `message` over `current` if nobody wrote in between; `true` when it did.
    async fn replace_message(
        &self,
        current: &MessageDoc,
        message: &OutboxMessage,
    ) -> Result<bool, StorageError> {
        let replaced = self
            .collection::<MessageDoc>(OUTBOX)
            .replace_one(
                doc! { "_id": &current.id, "revision": current.revision },
                MessageDoc::new(message, current.revision + 1),
            )
            .await
            .map_err(storage_error)?;
        Ok(replaced.matched_count == 1)
    }
}

#[async_trait]
impl MailStore for MongoStorage {
    async fn issue_token(
        &self,
        token: &OneTimeToken,
        message: &OutboxMessage,
    ) -> Result<(), StorageError> {
        // 1. The message: a crash after it leaves a message whose token was never stored.
        self.collection::<MessageDoc>(OUTBOX)
            .insert_one(MessageDoc::new(message, 1))
            .await
            .map_err(|e| translate(e, Entity::Message))?;
        // 2. The token; a taken id or hash takes the message back out, so nothing stays.
        if let Err(error) = self
            .collection::<TokenDoc>(ONE_TIME_TOKENS)
            .insert_one(TokenDoc::new(token))
            .await
        {
            let error = translate(error, Entity::Token);
            self.collection::<Document>(OUTBOX)
                .delete_one(doc! { "_id": &message.id })
                .await
                .map_err(storage_error)?;
            return Err(error);
        }
        // 3. The unused tokens of its kind (same app, purpose and address, and for an
        //    invitation the same organization) except the newest (by `createdAt`, then `_id`),
        //    its own included. Of two issues racing, whichever cleans up last sees both tokens
        //    and keeps the newer, so they never leave two usable ones (the older issue may
        //    delete its own token: its message is then never sent). A crash before this step
        //    leaves the older tokens usable until they expire or the next issue of their kind.
        let mut replaced = doc! {
            "appId": &token.app_id,
            "purpose": token.purpose.as_str(),
            "email": &token.email,
            "usedAt": null,
        };
        if token.purpose == TokenPurpose::Invitation {
            replaced.insert("organizationId", token.organization_id.as_deref());
        }
        let mut cursor = self
            .collection::<Document>(ONE_TIME_TOKENS)
            .find(replaced)
            .await
            .map_err(storage_error)?;
        let mut kind = vec![(token.created_at, token.id.clone())];
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            let other = decode::<TokenDoc>(raw, ONE_TIME_TOKENS)?.record()?;
            if other.used_at.is_none() && token.replaces(&other) && other.id != token.id {
                kind.push((other.created_at, other.id));
            }
        }
        let newest = kind.iter().max().map(|(_, id)| id.clone());
        let older: Vec<String> = kind
            .into_iter()
            .map(|(_, id)| id)
            .filter(|id| Some(id) != newest.as_ref())
            .collect();
        if !older.is_empty() {
            self.collection::<Document>(ONE_TIME_TOKENS)
                .delete_many(doc! { "_id": { "$in": older }, "usedAt": null })
                .await
                .map_err(storage_error)?;
        }
        Ok(())
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<OneTimeToken>, StorageError> {
        self.find_token_doc(doc! { "tokenHash": token_hash })
            .await?
            .map(|found| found.record())
            .transpose()
    }

    async fn find_token_by_id(
        &self,
        app_id: &str,
        token_id: &str,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        self.find_token_doc(doc! { "_id": token_id, "appId": app_id })
            .await?
            .map(|found| found.record())
            .transpose()
    }

    async fn consume_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        let Some(current) = self
            .find_token_doc(doc! { "tokenHash": token_hash })
            .await?
        else {
            return Ok(None);
        };
        let mut token = current.record()?;
        if !token.is_usable(now) {
            return Ok(None);
        }
        token.used_at = Some(now);
        // Only `usedAt` ever changes, from null to a date: of concurrent spenders, the one
        // whose replace matches `usedAt: null` wins; the others match nothing.
        let replaced = self
            .collection::<TokenDoc>(ONE_TIME_TOKENS)
            .replace_one(
                doc! { "_id": &current.id, "tokenHash": token_hash, "usedAt": null },
                TokenDoc::new(&token),
            )
            .await
            .map_err(storage_error)?;
        Ok((replaced.matched_count == 1).then_some(token))
    }

    async fn revoke_token(&self, app_id: &str, token_id: &str) -> Result<bool, StorageError> {
        let deleted = self
            .collection::<Document>(ONE_TIME_TOKENS)
            .delete_one(doc! { "_id": token_id, "appId": app_id, "usedAt": null })
            .await
            .map_err(storage_error)?;
        Ok(deleted.deleted_count == 1)
    }

    async fn list_usable_tokens(
        &self,
        app_id: &str,
        purpose: TokenPurpose,
        organization_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<OneTimeToken>, StorageError> {
        let mut filter = doc! {
            "appId": app_id,
            "purpose": purpose.as_str(),
            "usedAt": null,
            "expiresAt": { "$gt": to_bson_date(now) },
        };
        if let Some(organization_id) = organization_id {
            filter.insert("organizationId", organization_id);
        }
        let mut cursor = self
            .collection::<Document>(ONE_TIME_TOKENS)
            .find(filter)
            .sort(doc! { "createdAt": -1, "_id": -1 })
            .await
            .map_err(storage_error)?;
        let mut tokens = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            let token = decode::<TokenDoc>(raw, ONE_TIME_TOKENS)?.record()?;
            // The query already says so; this keeps a lenient server from widening it.
            if token.is_usable(now) {
                tokens.push(token);
            }
        }
        Ok(tokens)
    }

    async fn enqueue_message(&self, message: &OutboxMessage) -> Result<(), StorageError> {
        self.collection::<MessageDoc>(OUTBOX)
            .insert_one(MessageDoc::new(message, 1))
            .await
            .map_err(|e| translate(e, Entity::Message))?;
        Ok(())
    }

    async fn claim_messages(&self, claim: &Claim) -> Result<Vec<OutboxMessage>, StorageError> {
        let mut claimed = Vec::new();
        if claim.limit == 0 {
            return Ok(claimed);
        }
        let now = to_bson_date(claim.now);
        let mut cursor = self
            .collection::<Document>(OUTBOX)
            .find(doc! {
                "status": MailStatus::Pending.as_str(),
                "nextAttemptAt": { "$lte": now },
                "$or": [ { "leaseUntil": null }, { "leaseUntil": { "$lte": now } } ],
            })
            .sort(doc! { "_id": 1 })
            .await
            .map_err(storage_error)?;
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            let current = decode::<MessageDoc>(raw, OUTBOX)?;
            let mut message = current.record()?;
            if !message.is_due(claim.now) {
                continue;
            }
            message.lease_owner = Some(claim.owner.clone());
            message.lease_until = Some(claim.lease_until);
            // Guarded by the revision read: of two claimers, one matches; the other skips it.
            if self.replace_message(&current, &message).await? {
                claimed.push(message);
                if claimed.len() >= claim.limit as usize {
                    break;
                }
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
        for _ in 0..MAX_ATTEMPTS {
            let Some(current) = self.find_message_doc(message_id).await? else {
                return Ok(false);
            };
            let mut message = current.record()?;
            if message.lease_owner.as_deref() != Some(owner) {
                return Ok(false);
            }
            delivery.apply_to(&mut message);
            if self.replace_message(&current, &message).await? {
                return Ok(true);
            }
        }
        Err(StorageError::unexpected(format!(
            "message {message_id} kept changing under {MAX_ATTEMPTS} attempts to record its delivery"
        )))
    }

    async fn list_messages(
        &self,
        app_id: &str,
        query: &MessageQuery,
    ) -> Result<MessagePage, StorageError> {
        let mut filter = doc! { "appId": app_id };
        if let Some(before) = &query.before_id {
            filter.insert("_id", doc! { "$lt": before });
        }
        if let Some(status) = query.status {
            filter.insert("status", status.as_str());
        }
        let mut cursor = self
            .collection::<Document>(OUTBOX)
            .find(filter)
            .sort(doc! { "_id": -1 })
            .limit(i64::from(query.limit) + 1)
            .await
            .map_err(storage_error)?;
        let mut messages = Vec::new();
        let mut next_cursor = None;
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            if messages.len() == query.limit as usize {
                next_cursor = messages.last().map(|m: &OutboxMessage| m.id.clone());
                break;
            }
            messages.push(decode::<MessageDoc>(raw, OUTBOX)?.record()?);
        }
        Ok(MessagePage {
            messages,
            next_cursor,
        })
    }

    async fn prune_mail(&self, before: Timestamp) -> Result<u64, StorageError> {
        let before = to_bson_date(before);
        let pruned = self
            .collection::<Document>(OUTBOX)
            .delete_many(doc! {
                "status": { "$in": [MailStatus::Sent.as_str(), MailStatus::Failed.as_str()] },
                "createdAt": { "$lt": before },
            })
            .await
            .map_err(storage_error)?;
        let tokens = self.collection::<Document>(ONE_TIME_TOKENS);
        tokens
            .delete_many(doc! { "createdAt": { "$lt": before }, "expiresAt": { "$lt": before } })
            .await
            .map_err(storage_error)?;
        // The spent ones of the rest are told apart here, not by the query: the test server
        // did not match `$or: [{usedAt: {$type: "date"}}, …]` as MongoDB does (and lets
        // `$ne: null` match a missing field).
        let mut cursor = tokens
            .find(doc! { "createdAt": { "$lt": before } })
            .await
            .map_err(storage_error)?;
        let mut spent = Vec::new();
        while let Some(raw) = cursor.try_next().await.map_err(storage_error)? {
            let token = decode::<TokenDoc>(raw, ONE_TIME_TOKENS)?;
            if token.used_at.is_some() {
                spent.push(token.id);
            }
        }
        for ids in spent.chunks(1_000) {
            tokens
                .delete_many(doc! { "_id": { "$in": ids } })
                .await
                .map_err(storage_error)?;
        }
        Ok(pruned.deleted_count)
    }
}

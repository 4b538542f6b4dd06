//! One-time tokens and the durable outbox (issue 15). Every write is one job on the writer
//! thread, in a savepoint of its own: a token, the unused tokens it replaces and its message
//! are stored or refused together, and a claim selects the due messages and leases them in
//! one job, so two claims (which the writer runs one after the other) never get one message.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use storage_port::*;

use crate::SqliteStorage;
use crate::convert::*;

const TOKEN_COLUMNS: &str = "id, app_id, purpose, token_hash, user_id, email, organization_id, role, invited_by, message, created_at, expires_at, used_at";

const MESSAGE_COLUMNS: &str = "id, app_id, kind, from_address, to_address, subject, text_body, html_body, token_id, status, attempts, next_attempt_at, lease_owner, lease_until, last_error, created_at, sent_at";

fn maybe_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Timestamp>> {
    row.get::<_, Option<i64>>(index)
        .map(|at| at.map(Timestamp::from_unix_millis))
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<OneTimeToken> {
    let purpose: String = row.get(2)?;
    let role: Option<String> = row.get(7)?;
    Ok(OneTimeToken {
        id: row.get(0)?,
        app_id: row.get(1)?,
        purpose: TokenPurpose::parse(&purpose).ok_or_else(|| corrupt("token purpose", &purpose))?,
        token_hash: row.get(3)?,
        user_id: row.get(4)?,
        email: row.get(5)?,
        organization_id: row.get(6)?,
        role: role
            .map(|role| MemberRole::parse(&role).ok_or_else(|| corrupt("invitation role", &role)))
            .transpose()?,
        invited_by: row.get(8)?,
        message: row.get(9)?,
        created_at: Timestamp::from_unix_millis(row.get(10)?),
        expires_at: Timestamp::from_unix_millis(row.get(11)?),
        used_at: maybe_at(row, 12)?,
    })
}

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<OutboxMessage> {
    let status: String = row.get(9)?;
    let attempts: i64 = row.get(10)?;
    Ok(OutboxMessage {
        id: row.get(0)?,
        app_id: row.get(1)?,
        kind: row.get(2)?,
        from: row.get(3)?,
        to: row.get(4)?,
        subject: row.get(5)?,
        text: row.get(6)?,
        html: row.get(7)?,
        token_id: row.get(8)?,
        status: MailStatus::parse(&status).ok_or_else(|| corrupt("message status", &status))?,
        attempts: u32::try_from(attempts).map_err(|e| corrupt("message attempts", e))?,
        next_attempt_at: Timestamp::from_unix_millis(row.get(11)?),
        lease_owner: row.get(12)?,
        lease_until: maybe_at(row, 13)?,
        last_error: row.get(14)?,
        created_at: Timestamp::from_unix_millis(row.get(15)?),
        sent_at: maybe_at(row, 16)?,
    })
}

fn token_by_hash(
    connection: &Connection,
    token_hash: &str,
) -> rusqlite::Result<Option<OneTimeToken>> {
    connection
        .prepare_cached(&format!(
            "SELECT {TOKEN_COLUMNS} FROM one_time_tokens WHERE token_hash = ?1"
        ))?
        .query_row([token_hash], token_from_row)
        .optional()
}

fn message_by_id(connection: &Connection, id: &str) -> rusqlite::Result<Option<OutboxMessage>> {
    connection
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM outbox WHERE id = ?1"
        ))?
        .query_row([id], message_from_row)
        .optional()
}

/// Inserts a message; its id taken is `Duplicate(Message)`.
fn insert_message(
    connection: &Connection,
    message: &OutboxMessage,
) -> rusqlite::Result<Result<(), StorageError>> {
    let inserted = connection
        .prepare_cached(&format!(
            "INSERT INTO outbox ({MESSAGE_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        ))?
        .execute(params![
            message.id,
            message.app_id,
            message.kind,
            message.from,
            message.to,
            message.subject,
            message.text,
            message.html,
            message.token_id,
            message.status.as_str(),
            i64::from(message.attempts),
            message.next_attempt_at.as_unix_millis(),
            message.lease_owner,
            message.lease_until.map(Timestamp::as_unix_millis),
            message.last_error,
            message.created_at.as_unix_millis(),
            message.sent_at.map(Timestamp::as_unix_millis),
        ]);
    match inserted {
        Ok(_) => Ok(Ok(())),
        Err(error) if is_constraint_violation(&error) => {
            Ok(Err(StorageError::Duplicate(Entity::Message)))
        }
        Err(error) => Err(error),
    }
}

/// An app's messages before the cursor, newest first, with only the filters `query` has, so
/// that a page seeks to its cursor in `outbox_by_app` and walks it down with no sort.
fn message_listing_sql(query: &MessageQuery) -> String {
    let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM outbox WHERE app_id = ?1");
    if query.before_id.is_some() {
        sql.push_str(" AND id < ?2");
    }
    if query.status.is_some() {
        sql.push_str(" AND status = ?3");
    }
    sql.push_str(" ORDER BY id DESC LIMIT ?4");
    sql
}

#[async_trait]
impl MailStore for SqliteStorage {
    /// One job in its own savepoint: the token (its id or hash taken is `Duplicate(Token)`),
    /// the unused tokens it replaces deleted, then the message; a refusal undoes them all.
    async fn issue_token(
        &self,
        token: &OneTimeToken,
        message: &OutboxMessage,
    ) -> Result<(), StorageError> {
        let (token, message) = (token.clone(), message.clone());
        self.write(move |connection| {
            let inserted = connection
                .prepare_cached(&format!(
                    "INSERT INTO one_time_tokens ({TOKEN_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ))?
                .execute(params![
                    token.id,
                    token.app_id,
                    token.purpose.as_str(),
                    token.token_hash,
                    token.user_id,
                    token.email,
                    token.organization_id,
                    token.role.map(MemberRole::as_str),
                    token.invited_by,
                    token.message,
                    token.created_at.as_unix_millis(),
                    token.expires_at.as_unix_millis(),
                    token.used_at.map(Timestamp::as_unix_millis),
                ]);
            match inserted {
                Err(error) if is_constraint_violation(&error) => {
                    return Ok(Err(StorageError::Duplicate(Entity::Token)));
                }
                other => other?,
            };
            // `OneTimeToken::replaces`, through `one_time_tokens_by_address`.
            connection
                .prepare_cached(
                    "DELETE FROM one_time_tokens
                     WHERE app_id = ?1 AND purpose = ?2 AND email = ?3 AND used_at IS NULL
                       AND id <> ?4 AND (?2 <> 'invitation' OR organization_id IS ?5)",
                )?
                .execute(params![
                    token.app_id,
                    token.purpose.as_str(),
                    token.email,
                    token.id,
                    token.organization_id,
                ])?;
            insert_message(connection, &message)
        })
        .await
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<OneTimeToken>, StorageError> {
        let token_hash = token_hash.to_owned();
        self.readers
            .read(move |connection| token_by_hash(connection, &token_hash))
            .await
    }

    async fn find_token_by_id(
        &self,
        app_id: &str,
        token_id: &str,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        let (app_id, token_id) = (app_id.to_owned(), token_id.to_owned());
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {TOKEN_COLUMNS} FROM one_time_tokens WHERE id = ?1 AND app_id = ?2"
                    ))?
                    .query_row([token_id, app_id], token_from_row)
                    .optional()
            })
            .await
    }

    /// One conditional update on the writer: of concurrent calls, the first run changes the
    /// row and the others find it used.
    async fn consume_token(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OneTimeToken>, StorageError> {
        let token_hash = token_hash.to_owned();
        self.write(move |connection| {
            let spent = connection
                .prepare_cached(
                    "UPDATE one_time_tokens SET used_at = ?2
                     WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                )?
                .execute(params![token_hash, now.as_unix_millis()])?;
            if spent == 0 {
                return Ok(Ok(None));
            }
            Ok(Ok(token_by_hash(connection, &token_hash)?))
        })
        .await
    }

    async fn revoke_token(&self, app_id: &str, token_id: &str) -> Result<bool, StorageError> {
        let (app_id, token_id) = (app_id.to_owned(), token_id.to_owned());
        self.write(move |connection| {
            let deleted = connection
                .prepare_cached(
                    "DELETE FROM one_time_tokens WHERE id = ?1 AND app_id = ?2 AND used_at IS NULL",
                )?
                .execute([token_id, app_id])?;
            Ok(Ok(deleted > 0))
        })
        .await
    }

    async fn list_usable_tokens(
        &self,
        app_id: &str,
        purpose: TokenPurpose,
        organization_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<OneTimeToken>, StorageError> {
        let (app_id, organization_id) = (app_id.to_owned(), organization_id.map(str::to_owned));
        self.readers
            .read(move |connection| {
                connection
                    .prepare_cached(&format!(
                        "SELECT {TOKEN_COLUMNS} FROM one_time_tokens
                         WHERE app_id = ?1 AND purpose = ?2 AND used_at IS NULL AND expires_at > ?3
                           AND (?4 IS NULL OR organization_id = ?4)
                         ORDER BY created_at DESC, id DESC"
                    ))?
                    .query_map(
                        params![
                            app_id,
                            purpose.as_str(),
                            now.as_unix_millis(),
                            organization_id
                        ],
                        token_from_row,
                    )?
                    .collect()
            })
            .await
    }

    async fn enqueue_message(&self, message: &OutboxMessage) -> Result<(), StorageError> {
        let message = message.clone();
        self.write(move |connection| insert_message(connection, &message))
            .await
    }

    /// One job: the due messages' ids, oldest first, then their leases and the rows.
    async fn claim_messages(&self, claim: &Claim) -> Result<Vec<OutboxMessage>, StorageError> {
        let claim = claim.clone();
        self.write(move |connection| {
            let now = claim.now.as_unix_millis();
            let ids = connection
                .prepare_cached(
                    "SELECT id FROM outbox
                     WHERE status = 'pending' AND next_attempt_at <= ?1
                       AND (lease_until IS NULL OR lease_until <= ?1)
                     ORDER BY id LIMIT ?2",
                )?
                .query_map(params![now, i64::from(claim.limit)], |row| {
                    row.get::<_, String>(0)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut claimed = Vec::with_capacity(ids.len());
            for id in ids {
                connection
                    .prepare_cached(
                        "UPDATE outbox SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1",
                    )?
                    .execute(params![id, claim.owner, claim.lease_until.as_unix_millis()])?;
                if let Some(message) = message_by_id(connection, &id)? {
                    claimed.push(message);
                }
            }
            Ok(Ok(claimed))
        })
        .await
    }

    /// One job: the message read, `Delivery::apply_to`, the row written back, when `owner`
    /// holds the lease.
    async fn record_delivery(
        &self,
        message_id: &str,
        owner: &str,
        delivery: &Delivery,
    ) -> Result<bool, StorageError> {
        let (message_id, owner, delivery) =
            (message_id.to_owned(), owner.to_owned(), delivery.clone());
        self.write(move |connection| {
            let Some(mut message) = message_by_id(connection, &message_id)?
                .filter(|message| message.lease_owner.as_deref() == Some(owner.as_str()))
            else {
                return Ok(Ok(false));
            };
            delivery.apply_to(&mut message);
            connection
                .prepare_cached(
                    "UPDATE outbox SET status = ?2, attempts = ?3, next_attempt_at = ?4,
                       lease_owner = ?5, lease_until = ?6, last_error = ?7, sent_at = ?8
                     WHERE id = ?1",
                )?
                .execute(params![
                    message.id,
                    message.status.as_str(),
                    i64::from(message.attempts),
                    message.next_attempt_at.as_unix_millis(),
                    message.lease_owner,
                    message.lease_until.map(Timestamp::as_unix_millis),
                    message.last_error,
                    message.sent_at.map(Timestamp::as_unix_millis),
                ])?;
            Ok(Ok(true))
        })
        .await
    }

    async fn list_messages(
        &self,
        app_id: &str,
        query: &MessageQuery,
    ) -> Result<MessagePage, StorageError> {
        let (app_id, query) = (app_id.to_owned(), query.clone());
        self.readers
            .read(move |connection| {
                let mut rows = connection
                    .prepare_cached(&message_listing_sql(&query))?
                    .query_map(
                        params![
                            app_id,
                            query.before_id,
                            query.status.map(MailStatus::as_str),
                            i64::from(query.limit) + 1
                        ],
                        message_from_row,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let more = rows.len() > query.limit as usize;
                rows.truncate(query.limit as usize);
                let next_cursor = if more {
                    rows.last().map(|message| message.id.clone())
                } else {
                    None
                };
                Ok(MessagePage {
                    messages: rows,
                    next_cursor,
                })
            })
            .await
    }

    async fn prune_mail(&self, before: Timestamp) -> Result<u64, StorageError> {
        let before = before.as_unix_millis();
        self.write(move |connection| {
            let pruned = connection
                .prepare_cached("DELETE FROM outbox WHERE status <> 'pending' AND created_at < ?1")?
                .execute([before])?;
            connection
                .prepare_cached(
                    "DELETE FROM one_time_tokens
                     WHERE created_at < ?1 AND (used_at IS NOT NULL OR expires_at < ?1)",
                )?
                .execute([before])?;
            Ok(Ok(pruned as u64))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(connection: &Connection, sql: &str) -> String {
        connection
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("prepare")
            .query_map(params!["site", "cursor", "sent", 10], |row| {
                row.get::<_, String>(3)
            })
            .expect("plan")
            .collect::<rusqlite::Result<Vec<_>>>()
            .expect("rows")
            .join("; ")
    }

    #[test]
    fn a_page_of_messages_seeks_to_its_cursor_with_no_sort() {
        let mut connection = Connection::open_in_memory().expect("open");
        crate::migrations::migrate(&mut connection).expect("migrate");
        let sql = message_listing_sql(&MessageQuery {
            limit: 10,
            before_id: Some("cursor".to_owned()),
            status: Some(MailStatus::Sent),
        });
        let plan = plan(&connection, &sql);
        assert!(plan.contains("outbox_by_app (app_id=? AND id<?)"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}

//! The records of e-mail (ACCOUNTS.md §3, issue 15): one-time tokens (email verification,
//! password reset, invitations) and the durable outbox that delivers the messages carrying
//! them. A token and its message are stored by one port operation, so that a crash never loses a
//! message nor sends one for a token that was not stored; a sender claims due messages with a
//! lease, so that two instances never send one message twice.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::{MemberRole, Timestamp};

/// What a one-time token is for, with its default lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// 24 hours.
    VerifyEmail,
    /// 1 hour.
    ResetPassword,
    /// 7 days.
    Invitation,
}

impl TokenPurpose {
    pub const ALL: [Self; 3] = [Self::VerifyEmail, Self::ResetPassword, Self::Invitation];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
            Self::Invitation => "invitation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|purpose| purpose.as_str() == text)
    }
}

/// A one-time token: ≥ 256 random bits given to the person once (in a link), stored only as
/// its SHA-256. Single use; a newer one of the same purpose for the same address (and, for an
/// invitation, the same organization) replaces the older.
#[derive(Debug, Clone, PartialEq)]
pub struct OneTimeToken {
    /// Random; how a pending invitation is named in the API (`DELETE …/invites/{id}`).
    pub id: String,
    pub app_id: String,
    pub purpose: TokenPurpose,
    /// SHA-256 (lower-case hex) of the token; unique across every app.
    pub token_hash: String,
    /// The account it is for (verification, reset; an invitation of an existing account).
    pub user_id: Option<String>,
    /// Normalized as stored.
    pub email: String,
    /// Invitations: where to, as what, from whom, with what words.
    pub organization_id: Option<String>,
    pub role: Option<MemberRole>,
    pub invited_by: Option<String>,
    pub message: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

impl OneTimeToken {
    /// Unused and unexpired at `now`.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.used_at.is_none() && now.as_unix_millis() < self.expires_at.as_unix_millis()
    }

    /// Whether `other` is one this token replaces: the same app, purpose and address, and for
    /// invitations the same organization.
    pub fn replaces(&self, other: &Self) -> bool {
        self.app_id == other.app_id
            && self.purpose == other.purpose
            && self.email == other.email
            && (self.purpose != TokenPurpose::Invitation
                || self.organization_id == other.organization_id)
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    /// Waiting for its next attempt (or its first).
    Pending,
    Sent,
    /// Given up after the last attempt; kept for the dashboard's log.
    Failed,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// A message of the outbox, rendered when it was stored (so a template change never alters
/// what a queued message says).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: String,
    pub app_id: String,
    /// `verify_email`, `reset_password`, `invitation`, `test`.
    pub kind: String,
    /// `Name <address>` or an address.
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The token the message carries, if any.
    pub token_id: Option<String>,
    pub status: MailStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending messages).
    pub next_attempt_at: Timestamp,
    /// Who holds the message's lease and until when: a claim is good until `lease_until`, and
    /// only its holder may record the outcome.
    pub lease_owner: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

impl OutboxMessage {
    /// Due for an attempt at `now` and not leased by anyone (or the lease has run out).
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.status == MailStatus::Pending
            && self.next_attempt_at.as_unix_millis() <= now.as_unix_millis()
            && self
                .lease_until
                .is_none_or(|until| until.as_unix_millis() <= now.as_unix_millis())
    }
}

/// A claim on due messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Random per claim (per sender and round): the lease's owner.
    pub owner: String,
    pub now: Timestamp,
    pub lease_until: Timestamp,
    pub limit: u32,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    Sent {
        at: Timestamp,
    },
    /// Failed for now: try again at `next_attempt_at`.
    Retry {
        error: String,
        next_attempt_at: Timestamp,
    },
    /// Failed for good (a permanent refusal, or the last attempt).
    Failed {
        error: String,
    },
}

impl Delivery {
    /// Applies the outcome of one attempt to `message`, as every store must: one more
    /// attempt, the lease released.
    pub fn apply_to(&self, message: &mut OutboxMessage) {
        message.attempts = message.attempts.saturating_add(1);
        message.lease_owner = None;
        message.lease_until = None;
        match self {
            Self::Sent { at } => {
                message.status = MailStatus::Sent;
                message.sent_at = Some(*at);
                message.last_error = None;
            }
            Self::Retry {
                error,
                next_attempt_at,
            } => {
                message.status = MailStatus::Pending;
                message.next_attempt_at = *next_attempt_at;
                message.last_error = Some(error.clone());
            }
            Self::Failed { error } => {
                message.status = MailStatus::Failed;
                message.last_error = Some(error.clone());
            }
        }
    }
}

/// A page of an app's outbox, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageQuery {
    pub limit: u32,
    /// Only messages created before this one (the last of the previous page).
    pub before_id: Option<String>,
    pub status: Option<MailStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessagePage {
    pub messages: Vec<OutboxMessage>,
    pub next_cursor: Option<String>,
}

/// A template of one kind of message: `{{name}}` placeholders, filled in when the message is
/// stored (the domain renders and escapes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTemplate {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// An app's e-mail settings (part of [`crate::AccountSettings`]); `None` and missing templates
/// take the built-in defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MailSettings {
    /// The display name of the sender (the address is the service's `mail.from`).
    pub sender_name: Option<String>,
    /// Where the links go, each receiving `?token=`.
    pub verify_email_url: Option<String>,
    pub reset_password_url: Option<String>,
    pub accept_invite_url: Option<String>,
    /// Replacements of the built-in templates, by [`TokenPurpose::as_str`].
    pub templates: BTreeMap<String, MailTemplate>,
}

impl MailSettings {
    pub fn to_json(&self) -> Value {
        let templates: serde_json::Map<String, Value> = self
            .templates
            .iter()
            .map(|(kind, template)| {
                (
                    kind.clone(),
                    json!({"subject": template.subject, "text": template.text, "html": template.html}),
                )
            })
            .collect();
        json!({
            "sender_name": self.sender_name,
            "verify_email_url": self.verify_email_url,
            "reset_password_url": self.reset_password_url,
            "accept_invite_url": self.accept_invite_url,
            "templates": templates,
        })
    }

    /// Reads what [`Self::to_json`] wrote; missing or malformed members take their defaults.
    pub fn from_json(value: &Value) -> Self {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let templates = value
            .get("templates")
            .and_then(Value::as_object)
            .map(|templates| {
                templates
                    .iter()
                    .filter_map(|(kind, template)| {
                        let part = |key: &str| template.get(key)?.as_str().map(str::to_owned);
                        Some((
                            kind.clone(),
                            MailTemplate {
                                subject: part("subject")?,
                                text: part("text")?,
                                html: part("html")?,
                            },
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            sender_name: text("sender_name"),
            verify_email_url: text("verify_email_url"),
            reset_password_url: text("reset_password_url"),
            accept_invite_url: text("accept_invite_url"),
            templates,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_settings_survive_their_json() {
        let mut settings = MailSettings {
            sender_name: Some("Acme".to_owned()),
            verify_email_url: Some("https://acme.example/verify".to_owned()),
            reset_password_url: None,
            accept_invite_url: Some("https://acme.example/join".to_owned()),
            templates: BTreeMap::new(),
        };
        settings.templates.insert(
            "invitation".to_owned(),
            MailTemplate {
                subject: "Join {{organization_name}}".to_owned(),
                text: "{{link}}".to_owned(),
                html: "<a href=\"{{link}}\">join</a>".to_owned(),
            },
        );
        assert_eq!(MailSettings::from_json(&settings.to_json()), settings);
        assert_eq!(MailSettings::from_json(&json!({})), MailSettings::default());
        assert_eq!(MailSettings::from_json(&json!(7)), MailSettings::default());
    }
}

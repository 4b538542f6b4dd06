//! The port a mail adapter fills in (ACCOUNTS.md §3): hand one rendered message of the outbox
//! to a mail server. `mail-adapter` has the SMTP one (`lettre`); [`LogMailer`] is the
//! development one, used when no SMTP server is configured: it logs the message, which stays
//! readable in the outbox (the dashboard's e-mail log).

use async_trait::async_trait;
use storage_port::OutboxMessage;

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another attempt later: the server is down or busy, a 4xx answer, a timeout.
    #[error("{0}")]
    Transient(String),
    /// Never worth another attempt: a 5xx answer (an unknown recipient, a refused sender), a
    /// message that cannot be built.
    #[error("{0}")]
    Permanent(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Delivers rendered messages. `message.from` is `Name <address>` or an address; `to` an
/// address; `subject`, `text` and `html` are final (the HTML part is multipart/alternative
/// beside the text). `message.id` is unique and may serve as the Message-ID's left part.
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    async fn send(&self, message: &OutboxMessage) -> Result<(), SendError>;

    /// How the mailer presents itself in logs (`smtp://host:port`, `log`); never a password.
    fn describe(&self) -> String;
}

/// The development mailer: every message is "sent" by writing it to the log.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, message: &OutboxMessage) -> Result<(), SendError> {
        tracing::info!(
            message_id = %message.id,
            app_id = %message.app_id,
            kind = %message.kind,
            to = %message.to,
            subject = %message.subject,
            text = %message.text,
            "e-mail not sent (no mail.smtp_url configured); it stays readable in the app's e-mail log"
        );
        Ok(())
    }

    fn describe(&self) -> String {
        "log (development: no mail.smtp_url)".to_owned()
    }
}

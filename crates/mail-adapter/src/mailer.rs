//! [`SmtpMailer`]: the domain's [`Mailer`] over SMTP.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use domain::{Mailer, SendError};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use storage_port::OutboxMessage;

use crate::message;
use crate::url::{MailConfigError, Security, SmtpUrl};

/// Sends each message on a connection of its own (connect, TLS, AUTH, one transaction, QUIT),
/// within one timeout for the whole of it. There is no pool: lettre times out only the TCP
/// connect, so the timeout here drops a send that hangs halfway, and a pooled connection cut
/// off that way would go back to the pool in the middle of a transaction.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    timeout: Duration,
    /// `smtp://host:port`, for error messages.
    endpoint: String,
    description: String,
}

impl SmtpMailer {
    /// A mailer for the server `url` names (see the crate's documentation for its forms);
    /// `timeout` bounds each message's delivery, connecting included.
    pub fn from_url(url: &str, timeout: Duration) -> Result<Self, MailConfigError> {
        if timeout.is_zero() {
            return Err(MailConfigError::Timeout);
        }
        let url = SmtpUrl::parse(url)?;
        let tls_parameters = || {
            TlsParameters::new(url.host.clone())
                .map_err(|error| MailConfigError::TlsSetup(error.to_string()))
        };
        let tls = match url.security {
            Security::Plain => Tls::None,
            Security::StartTlsOpportunistic => Tls::Opportunistic(tls_parameters()?),
            Security::StartTlsRequired => Tls::Required(tls_parameters()?),
            Security::ImplicitTls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.clone())
            .port(url.port)
            .tls(tls)
            .timeout(Some(timeout));
        if let Some((user, password)) = &url.credentials {
            builder = builder
                .credentials(Credentials::new(user.clone(), password.clone()))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        if let Some(name) = &url.hello_name {
            builder = builder.hello_name(ClientId::Domain(name.clone()));
        }
        if url.credentials.is_some() && url.security == Security::Plain && !url.is_loopback() {
            tracing::warn!(
                smtp = %url.describe(),
                "the SMTP password will travel in the clear: add ?tls=required or use smtps://"
            );
        }
        Ok(Self {
            transport: builder.build(),
            timeout,
            endpoint: url.endpoint(),
            description: url.describe(),
        })
    }
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.description)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, outbox_message: &OutboxMessage) -> Result<(), SendError> {
        let email = message::build(outbox_message)?;
        match tokio::time::timeout(self.timeout, self.transport.send(email)).await {
            Ok(Ok(response)) => {
                tracing::debug!(
                    message_id = %outbox_message.id,
                    smtp = %self.endpoint,
                    code = %response.code(),
                    "e-mail handed to the SMTP server"
                );
                Ok(())
            }
            Ok(Err(error)) => Err(classify(&self.endpoint, &error)),
            Err(_elapsed) => Err(SendError::Transient(format!(
                "{}: no answer within {:?}",
                self.endpoint, self.timeout
            ))),
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

/// The reply codes of RFC 4954 (530 authentication required, 534 mechanism too weak, 535
/// credentials invalid, 538 encryption required for it) speak of the mailer's configuration,
/// not of the message: once it is fixed the message goes through, so they are transient
/// although they are 5xx. Made permanent, a rotated password would fail every queued message
/// for good.
const AUTHENTICATION_CODES: [&str; 4] = ["530", "534", "535", "538"];

/// Whether another attempt could succeed, and what happened, in words that hold no
/// credentials (lettre puts none in its errors: the server's reply, an I/O or TLS error).
fn classify(endpoint: &str, error: &lettre::transport::smtp::Error) -> SendError {
    let Some(code) = error.status() else {
        // Connection refused or reset, a timeout, TLS, a malformed reply, STARTTLS not
        // offered: all may be gone by the next attempt.
        return SendError::Transient(format!("{endpoint}: {}", without_repeats(error)));
    };
    let code = code.to_string();
    let reply = std::error::Error::source(error)
        .map(ToString::to_string)
        .unwrap_or_default();
    let text = format!("{endpoint} answered {code} {reply}");
    if AUTHENTICATION_CODES.contains(&code.as_str()) {
        SendError::Transient(format!(
            "{text} (the SMTP URL's credentials or security need fixing, not the message)"
        ))
    } else if error.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

/// lettre's error and its source, whose texts each repeat the next one's, without the same
/// part twice in a row: "Connection error: Connection error: received corrupt message" reads
/// "Connection error: received corrupt message".
fn without_repeats(error: &lettre::transport::smtp::Error) -> String {
    let text = error.to_string();
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

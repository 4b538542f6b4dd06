//! The mail adapter: [`domain::Mailer`] over SMTP, with lettre on rustls.
//!
//! [`SmtpMailer::from_url`] takes the whole server configuration as one URL:
//!
//! | URL | connection | default port |
//! |---|---|---|
//! | `smtp://host[:port]` | no TLS (`smtp://127.0.0.1:1025` in development) | 25 |
//! | `smtp://host[:port]?tls=required` | STARTTLS, or nothing is sent | 587 |
//! | `smtp://host[:port]?tls=opportunistic` | STARTTLS when the server offers it | 587 |
//! | `smtps://host[:port]` | TLS from the first byte | 465 |
//!
//! `user:password@` before the host (percent-encoded) authenticates with PLAIN or LOGIN on any
//! of them; a path (`smtp://host/mail.example.com`) names the host to greet the server as.
//! Certificates are checked against the Mozilla roots (webpki-roots).
//!
//! Each message goes out as multipart/alternative (text, then HTML) with the Message-ID
//! `<{id}@users-api>`. A failure says whether another attempt could succeed: an SMTP 5xx
//! reply (an unknown mailbox, a refused sender) or a message that cannot be built is
//! [`domain::SendError::Permanent`]; a 4xx reply, a refused or broken connection, a timeout,
//! a TLS failure and a refused authentication (the configuration's fault, not the message's)
//! are [`domain::SendError::Transient`].

mod mailer;
mod message;
mod url;

pub use mailer::SmtpMailer;
pub use url::MailConfigError;

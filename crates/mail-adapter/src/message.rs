//! An outbox message as an Internet message: From, To, Subject, Date, a Message-ID of our own,
//! and multipart/alternative with the text part first and the HTML part last (the one a
//! client prefers when it can show it). Both parts are UTF-8; lettre picks 7bit,
//! quoted-printable or base64 for each, whichever is shortest, so what goes on the wire is
//! ASCII and needs no 8BITMIME. Non-ASCII in the subject and the sender's name is encoded as
//! RFC 2047 words.

use domain::SendError;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use storage_port::OutboxMessage;

/// The Message-ID's right part: ids are unique across the service, not per host.
const MESSAGE_ID_DOMAIN: &str = "users-api";

/// The message to send, or `Permanent` when it cannot be built: another attempt would build
/// the same.
pub(crate) fn build(message: &OutboxMessage) -> Result<Message, SendError> {
    let from: Mailbox = message.from.parse().map_err(|error| {
        SendError::Permanent(format!(
            "the sender {:?} is not a mailbox (\"Name <address>\" or an address): {error}",
            message.from
        ))
    })?;
    let to: Mailbox = message.to.parse().map_err(|error| {
        SendError::Permanent(format!(
            "the recipient {:?} is not an e-mail address: {error}",
            message.to
        ))
    })?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(single_line(&message.subject))
        .message_id(Some(message_id(&message.id)?))
        .date_now()
        .multipart(MultiPart::alternative_plain_html(
            message.text.clone(),
            message.html.clone(),
        ))
        .map_err(|error| SendError::Permanent(format!("the message cannot be built: {error}")))
}

/// `<{id}@users-api>`, for an id that can stand left of the `@` (RFC 5322 `dot-atom-text`;
/// ours are UUIDs).
fn message_id(id: &str) -> Result<String, SendError> {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let valid = !id.is_empty()
        && id
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext));
    if valid {
        Ok(format!("<{id}@{MESSAGE_ID_DOMAIN}>"))
    } else {
        Err(SendError::Permanent(format!(
            "the message id {id:?} cannot be a Message-ID"
        )))
    }
}

/// A subject is one line: line breaks in it become spaces (a header cannot hold them).
fn single_line(subject: &str) -> String {
    subject
        .split(['\r', '\n'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use storage_port::{MailStatus, Timestamp};

    fn outbox_message() -> OutboxMessage {
        OutboxMessage {
            id: "0190f5a2-7c1e-7000-8000-000000000001".to_owned(),
            app_id: "app-a".to_owned(),
            kind: "verify_email".to_owned(),
            from: "Acme Accounts <accounts@acme.example>".to_owned(),
            to: "ada@example.com".to_owned(),
            subject: "Bestätigen Sie ✓".to_owned(),
            text: "Hallo Ada,\nbitte bestätigen Sie: https://acme.example/v?t=abc\n".to_owned(),
            html: "<p>Hallo Ada, <a href=\"https://acme.example/v?t=abc\">bestätigen</a></p>"
                .to_owned(),
            token_id: None,
            status: MailStatus::Pending,
            attempts: 0,
            next_attempt_at: Timestamp::from_unix_millis(0),
            lease_owner: None,
            lease_until: None,
            last_error: None,
            created_at: Timestamp::from_unix_millis(0),
            sent_at: None,
        }
    }

    fn formatted(message: &OutboxMessage) -> String {
        let built = build(message).expect("the message builds");
        String::from_utf8(built.formatted()).expect("ASCII")
    }

    #[test]
    fn headers_and_parts_in_order() {
        let text = formatted(&outbox_message());
        assert!(text.is_ascii(), "{text}");
        let headers = text.split("\r\n\r\n").next().expect("headers");
        assert!(
            headers.contains("Message-ID: <0190f5a2-7c1e-7000-8000-000000000001@users-api>"),
            "{headers}"
        );
        assert!(
            headers.contains("From: \"Acme Accounts\" <accounts@acme.example>"),
            "{headers}"
        );
        assert!(headers.contains("To: ada@example.com"), "{headers}");
        assert!(headers.contains("Date: "), "{headers}");
        assert!(headers.contains("Subject: =?utf-8?"), "{headers}");
        assert!(headers.contains("MIME-Version: 1.0"), "{headers}");
        assert!(headers.contains("multipart/alternative"), "{headers}");
        let plain = text.find("text/plain; charset=utf-8").expect("a text part");
        let html = text.find("text/html; charset=utf-8").expect("an HTML part");
        assert!(plain < html, "the text part comes first");
    }

    #[test]
    fn the_envelope_follows_the_headers() {
        let built = build(&outbox_message()).expect("the message builds");
        let envelope = built.envelope();
        assert_eq!(
            envelope.from().map(ToString::to_string).as_deref(),
            Some("accounts@acme.example")
        );
        let to: Vec<String> = envelope.to().iter().map(ToString::to_string).collect();
        assert_eq!(to, ["ada@example.com"]);
    }

    #[test]
    fn a_bare_address_is_a_sender_too() {
        let mut message = outbox_message();
        message.from = "accounts@acme.example".to_owned();
        assert!(formatted(&message).contains("From: accounts@acme.example\r\n"));
    }

    #[test]
    fn a_line_break_in_the_subject_adds_no_header() {
        let mut message = outbox_message();
        message.subject = "Hello\r\nBcc: mallory@example.com\nX".to_owned();
        let text = formatted(&message);
        assert!(!text.contains("\r\nBcc:"), "{text}");
        assert!(
            text.contains("Subject: Hello Bcc: mallory@example.com X\r\n"),
            "{text}"
        );
        assert_eq!(build(&message).expect("builds").envelope().to().len(), 1);
    }

    #[test]
    fn bad_addresses_are_permanent() {
        for (from, to) in [
            ("not an address", "ada@example.com"),
            ("Acme <accounts@acme.example", "ada@example.com"),
            ("Acme Accounts <accounts@acme.example>", "ada"),
            (
                "Acme Accounts <accounts@acme.example>",
                "ada@example.com, eve@example.com",
            ),
        ] {
            let mut message = outbox_message();
            message.from = from.to_owned();
            message.to = to.to_owned();
            match build(&message) {
                Err(SendError::Permanent(text)) => {
                    assert!(text.contains("is not"), "{text}");
                }
                other => panic!("{from} → {to}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_id_that_cannot_be_a_message_id_is_permanent() {
        for id in ["", "a b", "a>b", "a@b", "a..b", "a\r\nb"] {
            let mut message = outbox_message();
            message.id = id.to_owned();
            assert!(
                matches!(build(&message), Err(SendError::Permanent(_))),
                "{id:?}"
            );
        }
    }
}

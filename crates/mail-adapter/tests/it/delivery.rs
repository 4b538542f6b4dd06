//! Against the SMTP test server (aiosmtpd): what arrives, and how each refusal is reported.

use std::time::Duration;

use domain::{Mailer, SendError};
use mail_adapter::SmtpMailer;

use crate::{TIMEOUT, was_delivered};
use crate::{auth_url, delivered, mailer, message_id_header, outbox_message, plain_url};

/// `smtp://127.0.0.1:PORT2` of the AUTH listener, without its credentials.
fn auth_server_without_credentials() -> String {
    let url = auth_url();
    let (_, host_and_port) = url.rsplit_once('@').expect("the AUTH URL has credentials");
    format!("smtp://{host_and_port}")
}

#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn a_message_arrives_as_multipart_alternative_with_its_parts_intact() {
    let mailer = mailer(&plain_url());
    let message = outbox_message("ada@example.com");

    mailer.send(&message).await.expect("sent");

    let record = delivered(&message);
    assert_eq!(record["mail_from"], "accounts@acme.example");
    assert_eq!(record["rcpt_tos"], serde_json::json!(["ada@example.com"]));
    assert_eq!(record["from"], "Acme Bücher <accounts@acme.example>");
    assert_eq!(record["to"], "ada@example.com");
    assert_eq!(record["subject"], "Bestätigen Sie ✓");
    assert_eq!(record["message_id"], message_id_header(&message).as_str());
    assert_eq!(record["content_type"], "multipart/alternative");
    assert_eq!(record["text"], message.text.as_str());
    assert_eq!(record["html"], message.html.as_str());
    assert_eq!(record["authenticated_as"], serde_json::Value::Null);
    let raw = record["raw"].as_str().expect("the raw message");
    assert!(raw.is_ascii(), "sent as 7-bit: {raw}");
    assert!(
        raw.contains("\r\nDate: ") || raw.starts_with("Date: "),
        "{raw}"
    );
    let text_part = raw
        .find("Content-Type: text/plain; charset=utf-8")
        .expect("text part");
    let html_part = raw
        .find("Content-Type: text/html; charset=utf-8")
        .expect("HTML part");
    assert!(
        text_part < html_part,
        "the text part first, the HTML part last"
    );
}

#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn one_mailer_sends_message_after_message() {
    let mailer = mailer(&plain_url());
    let messages: Vec<_> = (0..3)
        .map(|_| outbox_message("grace@example.com"))
        .collect();
    for message in &messages {
        mailer.send(message).await.expect("sent");
    }
    for message in &messages {
        assert_eq!(delivered(message)["to"], "grace@example.com");
    }
}

#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn credentials_in_the_url_authenticate() {
    let mailer = mailer(&auth_url());
    assert!(
        !mailer.describe().contains("secret-pass"),
        "{}",
        mailer.describe()
    );
    let message = outbox_message("ada@example.com");

    mailer.send(&message).await.expect("sent");

    let record = delivered(&message);
    assert_eq!(record["authenticated_as"], "mailer");
    assert_eq!(record["subject"], "Bestätigen Sie ✓");
}

/// A refused login is the configuration's fault, not the message's: transient, so that the
/// message still goes out once the password is fixed.
#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn a_wrong_password_is_transient_and_names_535_but_not_the_password() {
    let url = auth_url().replace(":secret-pass@", ":wrong-pass@");
    let mailer = mailer(&url);
    let message = outbox_message("ada@example.com");

    let error = mailer.send(&message).await.expect_err("refused");

    let SendError::Transient(text) = &error else {
        panic!("a refused login is transient: {error:?}");
    };
    assert!(text.contains("535"), "{text}");
    assert!(
        !text.contains("wrong-pass") && !text.contains("secret"),
        "{text}"
    );
    assert!(!was_delivered(&message));
}

#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn no_credentials_where_the_server_requires_them_is_transient_530() {
    let mailer = mailer(&auth_server_without_credentials());
    let message = outbox_message("ada@example.com");

    let error = mailer.send(&message).await.expect_err("refused");

    let SendError::Transient(text) = &error else {
        panic!("a server wanting AUTH is transient: {error:?}");
    };
    assert!(text.contains("530"), "{text}");
    assert!(!was_delivered(&message));
}

#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn a_refused_mailbox_is_permanent_with_the_servers_550() {
    let mailer = mailer(&plain_url());
    let message = outbox_message("refuse.ada@example.com");

    let error = mailer.send(&message).await.expect_err("refused");

    let SendError::Permanent(text) = &error else {
        panic!("550 is permanent: {error:?}");
    };
    assert!(text.contains("550 5.1.1 mailbox unavailable"), "{text}");
    assert!(!was_delivered(&message));
}

#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn a_deferred_mailbox_is_transient_with_the_servers_451() {
    let mailer = mailer(&plain_url());
    let message = outbox_message("TempFail-ada@example.com");

    let error = mailer.send(&message).await.expect_err("deferred");

    let SendError::Transient(text) = &error else {
        panic!("451 is transient: {error:?}");
    };
    assert!(text.contains("451 4.3.0 try again later"), "{text}");
    assert!(!was_delivered(&message));
}

#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn after_a_refusal_the_same_mailer_sends_again() {
    let mailer = mailer(&plain_url());
    let refused = outbox_message("refuse@example.com");
    assert!(mailer.send(&refused).await.is_err());
    let accepted = outbox_message("ada@example.com");
    mailer.send(&accepted).await.expect("sent");
    assert_eq!(
        delivered(&accepted)["rcpt_tos"],
        serde_json::json!(["ada@example.com"])
    );
}

/// The test server speaks no TLS: implicit TLS fails in the handshake, and STARTTLS that is
/// required but not offered fails before anything is sent. Both are transient (a certificate
/// or a server setting can be fixed), and the message never goes out in the clear.
#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn tls_failures_are_transient_and_send_nothing() {
    let host_and_port = plain_url()
        .strip_prefix("smtp://")
        .expect("an smtp:// URL")
        .to_owned();
    for url in [
        format!("smtps://{host_and_port}"),
        format!("smtp://{host_and_port}?tls=required"),
    ] {
        let mailer = SmtpMailer::from_url(&url, Duration::from_secs(5)).expect("valid");
        let message = outbox_message("ada@example.com");

        let error = mailer.send(&message).await.expect_err(&url);

        assert!(matches!(error, SendError::Transient(_)), "{url}: {error:?}");
        assert!(!was_delivered(&message), "{url}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn opportunistic_tls_sends_in_the_clear_when_not_offered() {
    let url = format!("{}?tls=opportunistic", plain_url());
    let mailer = SmtpMailer::from_url(&url, TIMEOUT).expect("valid");
    let message = outbox_message("ada@example.com");

    mailer.send(&message).await.expect("sent");

    assert_eq!(delivered(&message)["subject"], "Bestätigen Sie ✓");
}

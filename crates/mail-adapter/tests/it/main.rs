//! The SMTP mailer against its contract (`domain::Mailer`): its URLs, and real deliveries and
//! refusals by the SMTP test server (`scripts/with-smtp-test-server.sh`; those tests are
//! ignored without it), and by scripted servers on this machine that misbehave.

mod config;
mod delivery;
mod misbehaving_servers;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mail_adapter::SmtpMailer;
use serde_json::Value;
use storage_port::{MailStatus, OutboxMessage, Timestamp};

/// Long enough for a loaded CI machine; the tests of timeouts set their own.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// `scripts/test.sh` must run every SMTP test: built without the test server's flag, they
/// would all be ignored and the run would still pass.
#[test]
fn smtp_tests_are_not_ignored_when_required() {
    let required = std::env::var("USERS_API_REQUIRE_SMTP").as_deref() == Ok("1");
    assert!(
        !required || cfg!(smtp_test_server),
        "USERS_API_REQUIRE_SMTP=1, but the SMTP tests were built without USERS_API_TEST_SMTP=1 and are ignored; run them through scripts/with-smtp-test-server.sh"
    );
}

pub fn test_server_variable(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run through scripts/with-smtp-test-server.sh")
    })
}

/// `smtp://127.0.0.1:PORT`: plain SMTP, no AUTH.
pub fn plain_url() -> String {
    test_server_variable("USERS_API_TEST_SMTP_URL")
}

/// `smtp://mailer:secret-pass@127.0.0.1:PORT2`: AUTH required.
pub fn auth_url() -> String {
    test_server_variable("USERS_API_TEST_SMTP_AUTH_URL")
}

pub fn mailer(url: &str) -> SmtpMailer {
    SmtpMailer::from_url(url, TIMEOUT).expect("a valid SMTP URL")
}

/// An id no other test (nor an earlier run against the same server) uses.
pub fn unique_id(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{count}", std::process::id())
}

/// A rendered verification message to `to`, with a fresh id.
pub fn outbox_message(to: &str) -> OutboxMessage {
    OutboxMessage {
        id: unique_id("msg"),
        app_id: "app-a".to_owned(),
        kind: "verify_email".to_owned(),
        from: "Acme Bücher <accounts@acme.example>".to_owned(),
        to: to.to_owned(),
        subject: "Bestätigen Sie ✓".to_owned(),
        text: "Hallo Ada,\n\nbitte bestätigen Sie Ihre Adresse: \
               https://acme.example/verify?token=abc-123\n\nGrüße, ✓ Acme\n"
            .to_owned(),
        html: "<p>Hallo Ada,</p>\n<p><a href=\"https://acme.example/verify?token=abc-123\">\
               Bestätigen Sie Ihre Adresse</a> ✓</p>\n"
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

pub fn message_id_header(message: &OutboxMessage) -> String {
    format!("<{}@users-api>", message.id)
}

fn delivered_messages() -> Vec<Value> {
    let dir = PathBuf::from(test_server_variable("USERS_API_TEST_SMTP_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        // Written as *.tmp and renamed: a *.json file is whole.
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("a delivered message");
            serde_json::from_str(&text).expect("JSON")
        })
        .collect()
}

/// The message the test server recorded for `message`, found by its Message-ID; waits up to
/// 5 s for it.
pub fn delivered(message: &OutboxMessage) -> Value {
    let wanted = message_id_header(message);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(found) = delivered_messages()
            .into_iter()
            .find(|record| record["message_id"] == wanted.as_str())
        {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{wanted} was not delivered within 5 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the test server recorded `message` (at once: call it after the send returned).
pub fn was_delivered(message: &OutboxMessage) -> bool {
    let wanted = message_id_header(message);
    delivered_messages()
        .iter()
        .any(|record| record["message_id"] == wanted.as_str())
}

//! The SMTP test server's mailbox: what `scripts/with-smtp-test-server.sh` (aiosmtpd, see
//! `scripts/smtp_test_server.py`) accepted, one JSON file a message in
//! `USERS_API_TEST_SMTP_DIR`, named so that the names sort in delivery order.
//!
//! Tests that need the server are marked
//! `#[cfg_attr(not(smtp_test_server), ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh")]`.
//! All tests of a run share one server, so each test sends to addresses of its own and reads
//! back only what was sent to them. Recipients whose local part starts with `refuse` get 550,
//! with `tempfail` 451.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Delivered {
    /// The envelope's sender (MAIL FROM).
    pub mail_from: String,
    /// The envelope's accepted recipients (RCPT TO), refused ones left out.
    pub rcpt_tos: Vec<String>,
    /// The decoded headers.
    pub from: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    /// The decoded text/plain and text/html parts, line ends as `\n`.
    pub text: Option<String>,
    pub html: Option<String>,
    /// The top-level content type, e.g. `multipart/alternative`.
    pub content_type: String,
    /// The AUTH user on the auth port; `None` on the plain one.
    pub authenticated_as: Option<String>,
}

impl Delivered {
    fn is_for(&self, to: &str) -> bool {
        let to = to.to_lowercase();
        self.rcpt_tos.iter().any(|rcpt| rcpt.to_lowercase() == to)
    }
}

/// A variable the SMTP test server script sets.
fn smtp_test_variable(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set, but the SMTP tests were built for the test server; run them with `bash scripts/with-smtp-test-server.sh cargo test -p tests`"
        )
    })
}

/// `smtp://127.0.0.1:PORT`: plain SMTP, no AUTH.
pub fn smtp_url() -> String {
    smtp_test_variable("USERS_API_TEST_SMTP_URL")
}

/// `smtp://mailer:secret-pass@127.0.0.1:PORT`: AUTH PLAIN/LOGIN required, without TLS.
pub fn auth_smtp_url() -> String {
    smtp_test_variable("USERS_API_TEST_SMTP_AUTH_URL")
}

/// The messages the SMTP test server delivered.
#[derive(Debug, Clone)]
pub struct Mailbox {
    dir: PathBuf,
}

impl Mailbox {
    /// The test server's mailbox; panics, naming the script, when it is not running.
    pub fn from_env() -> Self {
        Self {
            dir: PathBuf::from(smtp_test_variable("USERS_API_TEST_SMTP_DIR")),
        }
    }

    /// Every message delivered so far, in delivery order.
    fn all(&self) -> Vec<Delivered> {
        let entries = std::fs::read_dir(&self.dir)
            .unwrap_or_else(|error| panic!("reading the mailbox {}: {error}", self.dir.display()));
        let mut paths: Vec<PathBuf> = entries
            .map(|entry| entry.expect("a mailbox entry").path())
            // `*.tmp` files are being written; the server renames them when whole.
            .filter(|path| {
                path.extension()
                    .is_some_and(|extension| extension == "json")
            })
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path)
                    .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()))
            })
            .collect()
    }

    /// The messages delivered so far with `to` (case-insensitive) among their recipients, in
    /// delivery order; no waiting.
    pub fn delivered_to(&self, to: &str) -> Vec<Delivered> {
        self.all()
            .into_iter()
            .filter(|message| message.is_for(to))
            .collect()
    }

    /// Waits, polling every 50 ms, until at least `count` messages were delivered to `to`, and
    /// returns them all, in delivery order; panics with what it found after `timeout`.
    pub async fn wait_for(&self, to: &str, count: usize, timeout: Duration) -> Vec<Delivered> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.delivered_to(to);
            if found.len() >= count {
                return found;
            }
            if Instant::now() >= deadline {
                let others: Vec<(Vec<String>, String)> = self
                    .all()
                    .into_iter()
                    .map(|message| (message.rcpt_tos, message.subject))
                    .collect();
                panic!(
                    "waited {timeout:?} for {count} message(s) to {to}, found {}: {found:#?}\nall messages in {} (recipients, subject): {others:?}",
                    found.len(),
                    self.dir.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits `quiet`, then asserts that no message was delivered to `to`.
    pub async fn assert_none_for(&self, to: &str, quiet: Duration) {
        tokio::time::sleep(quiet).await;
        let found = self.delivered_to(to);
        assert!(
            found.is_empty(),
            "expected no message to {to}, found {}: {found:#?}",
            found.len()
        );
    }
}

/// The first `http://` or `https://` URL in `text` (plain text or HTML), without trailing
/// punctuation.
pub fn first_link(text: &str) -> Option<String> {
    let start = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| text.find(scheme))
        .min()?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
        .unwrap_or(rest.len());
    let link = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
    Some(link.to_owned())
}

/// The percent-decoded value of the `token=` parameter (query or fragment) of the first URL
/// in `text`.
pub fn link_token(text: &str) -> Option<String> {
    let link = first_link(text)?;
    let parameters = &link[link.find(['?', '#'])? + 1..];
    parameters
        .split(['&', '#'])
        // `&amp;` when the link was taken from HTML.
        .map(|parameter| parameter.strip_prefix("amp;").unwrap_or(parameter))
        .find_map(|parameter| parameter.strip_prefix("token="))
        .map(percent_decode)
}

/// `%XX` escapes decoded (RFC 3986: `+` stays `+`); a malformed escape is kept as it is.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = bytes.get(index + 1..index + 3)
            && hex.iter().all(u8::is_ascii_hexdigit)
        {
            let hex = std::str::from_utf8(hex).expect("ASCII hex digits");
            decoded.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

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

#[test]
fn links_and_their_tokens_are_found_in_text_and_html() {
    let text = "Welcome!\nConfirm: https://app.example.test/verify?next=%2F&token=ab%2Bc%2Fd%3D+e.\nThanks, http://second.example.test/?token=no";
    assert_eq!(
        first_link(text).as_deref(),
        Some("https://app.example.test/verify?next=%2F&token=ab%2Bc%2Fd%3D+e")
    );
    assert_eq!(link_token(text).as_deref(), Some("ab+c/d=+e"));

    let html =
        r#"<p><a href="https://app.example.test/reset?x=1&amp;token=t%C3%B6k%zz">reset</a></p>"#;
    assert_eq!(link_token(html).as_deref(), Some("tök%zz"));
    assert_eq!(
        link_token("see (https://app.example.test/#token=frag-1)").as_deref(),
        Some("frag-1")
    );
    assert_eq!(link_token("https://app.example.test/verify?tokens=1"), None);
    assert_eq!(link_token("no link here, token=1"), None);
    assert_eq!(first_link("no link"), None);
}

#[test]
fn the_mailbox_reads_whole_files_in_delivery_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let message = |rcpt: &str, subject: &str| {
        serde_json::json!({
            "mail_from": "app@example.test", "rcpt_tos": [rcpt, "other@example.test"],
            "from": "App <app@example.test>", "to": rcpt, "subject": subject,
            "message_id": "<1@users-api>", "text": "hi", "html": null,
            "content_type": "text/plain", "authenticated_as": null, "raw": "..."
        })
        .to_string()
    };
    let write =
        |name: &str, body: String| std::fs::write(dir.path().join(name), body).expect("write");
    write("00000010-b.json", message("Someone@Example.test", "second"));
    write("00000002-a.json", message("someone@example.test", "first"));
    write(
        "00000011-c.json",
        message("nobody@example.test", "not for them"),
    );
    write("00000012-d.json.tmp", "{half a".to_owned());
    let mailbox = Mailbox {
        dir: dir.path().to_owned(),
    };
    let subjects: Vec<String> = mailbox
        .delivered_to("SOMEONE@example.test")
        .into_iter()
        .map(|message| message.subject)
        .collect();
    assert_eq!(subjects, ["first", "second"]);
    assert!(mailbox.delivered_to("absent@example.test").is_empty());
}

/// A minimal SMTP client: a line out, a (possibly multi-line) reply back.
struct SmtpClient {
    reader: tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl SmtpClient {
    /// Connects to `smtp://[user:pass@]host:port` and reads the greeting.
    async fn connect(url: &str) -> Self {
        let rest = url.strip_prefix("smtp://").expect("an smtp:// URL");
        let address = rest.rsplit('@').next().expect("host:port");
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .unwrap_or_else(|error| panic!("connecting to {address}: {error}"));
        let (reader, writer) = stream.into_split();
        let mut client = Self {
            reader: tokio::io::BufReader::new(reader),
            writer,
        };
        let (code, greeting) = client.reply().await;
        assert_eq!(code, 220, "greeting: {greeting}");
        client
    }

    async fn reply(&mut self) -> (u16, String) {
        use tokio::io::AsyncBufReadExt;
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let read =
                tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
                    .await
                    .expect("an SMTP reply within 10 s")
                    .expect("reading an SMTP reply");
            assert!(
                read > 0,
                "the server closed the connection; so far: {reply}"
            );
            reply.push_str(&line);
            // "250-..." continues the reply, "250 ..." ends it.
            if line.as_bytes().get(3) != Some(&b'-') {
                let code = line.get(..3).and_then(|code| code.parse().ok());
                return (
                    code.unwrap_or_else(|| panic!("a malformed reply: {reply}")),
                    reply,
                );
            }
        }
    }

    async fn send(&mut self, line: &str) -> (u16, String) {
        use tokio::io::AsyncWriteExt;
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("writing an SMTP command");
        self.reply().await
    }

    async fn expect(&mut self, line: &str, code: u16) -> String {
        let (got, reply) = self.send(line).await;
        assert_eq!(got, code, "{line} -> {reply}");
        reply
    }
}

#[tokio::test]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn the_smtp_test_server_delivers_refuses_and_requires_auth_as_the_contract_says() {
    use base64::Engine;
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mailbox = Mailbox::from_env();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let unique = format!("{}-{nanos}", std::process::id());
    let to = format!("harness-{unique}@example.test");
    let message = |to: &str| {
        [
            "From: Harness <harness@example.test>".to_owned(),
            format!("To: {to}"),
            format!(
                "Subject: =?utf-8?b?{}?=",
                base64("Bestätigen Sie ✓".as_bytes())
            ),
            format!("Message-ID: <{unique}@harness>"),
            "MIME-Version: 1.0".to_owned(),
            r#"Content-Type: multipart/alternative; boundary="b-1""#.to_owned(),
            String::new(),
            "--b-1".to_owned(),
            "Content-Type: text/plain; charset=utf-8".to_owned(),
            "Content-Transfer-Encoding: quoted-printable".to_owned(),
            String::new(),
            "Hallo =E2=9C=93".to_owned(),
            // Quoted-printable: `=` is `=3D`.
            "https://app.example.test/verify?token=3Dabc%2Bdef&x=3D1".to_owned(),
            "--b-1".to_owned(),
            "Content-Type: text/html; charset=utf-8".to_owned(),
            "Content-Transfer-Encoding: base64".to_owned(),
            String::new(),
            base64("<p>Hallo ✓</p>".as_bytes()),
            "--b-1--".to_owned(),
            ".".to_owned(),
        ]
        .join("\r\n")
    };

    // The plain port: refused and deferred recipients, then one message to the accepted one.
    let mut smtp = SmtpClient::connect(&smtp_url()).await;
    smtp.expect("HELO harness.example.test", 250).await;
    smtp.expect("MAIL FROM:<harness@example.test>", 250).await;
    let refused = smtp.expect("RCPT TO:<Refuse-x@example.test>", 550).await;
    assert!(refused.contains("5.1.1 mailbox unavailable"), "{refused}");
    let deferred = smtp.expect("RCPT TO:<tempfail-x@example.test>", 451).await;
    assert!(deferred.contains("4.3.0 try again later"), "{deferred}");
    // Mixed case: the mailbox matches recipients case-insensitively.
    smtp.expect(&format!("RCPT TO:<Harness-{unique}@Example.Test>"), 250)
        .await;
    smtp.expect("DATA", 354).await;
    smtp.expect(&message(&to), 250).await;
    smtp.expect("QUIT", 221).await;

    let delivered = mailbox.wait_for(&to, 1, Duration::from_secs(10)).await;
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    let got = &delivered[0];
    assert_eq!(got.mail_from, "harness@example.test");
    assert_eq!(got.rcpt_tos, [format!("Harness-{unique}@Example.Test")]);
    assert_eq!(got.from, "Harness <harness@example.test>");
    assert_eq!(got.to, to);
    assert_eq!(got.subject, "Bestätigen Sie ✓");
    assert_eq!(got.message_id, format!("<{unique}@harness>"));
    assert_eq!(got.content_type, "multipart/alternative");
    let text = got.text.as_deref().expect("a text part");
    assert_eq!(
        text.trim_end(),
        "Hallo ✓\nhttps://app.example.test/verify?token=abc%2Bdef&x=1"
    );
    assert_eq!(link_token(text).as_deref(), Some("abc+def"));
    assert_eq!(
        got.html.as_deref().map(str::trim_end),
        Some("<p>Hallo ✓</p>")
    );
    assert_eq!(got.authenticated_as, None);
    mailbox
        .assert_none_for("refuse-x@example.test", Duration::from_millis(100))
        .await;
    mailbox
        .assert_none_for("tempfail-x@example.test", Duration::ZERO)
        .await;

    // The auth port: no MAIL before AUTH, only mailer / secret-pass.
    let auth_url = auth_smtp_url();
    assert!(
        auth_url.starts_with("smtp://mailer:secret-pass@127.0.0.1:"),
        "{auth_url}"
    );
    let auth_to = format!("harness-auth-{unique}@example.test");
    let mut smtp = SmtpClient::connect(&auth_url).await;
    let features = smtp.expect("EHLO harness.example.test", 250).await;
    assert!(features.contains("AUTH"), "{features}");
    smtp.expect("MAIL FROM:<harness@example.test>", 530).await;
    smtp.expect(&format!("AUTH PLAIN {}", base64(b"\0mailer\0wrong")), 535)
        .await;
    smtp.expect(
        &format!("AUTH PLAIN {}", base64(b"\0mailer\0secret-pass")),
        235,
    )
    .await;
    smtp.expect("MAIL FROM:<harness@example.test>", 250).await;
    smtp.expect(&format!("RCPT TO:<{auth_to}>"), 250).await;
    smtp.expect("DATA", 354).await;
    smtp.expect(&message(&auth_to), 250).await;
    smtp.expect("QUIT", 221).await;

    let delivered = mailbox.wait_for(&auth_to, 1, Duration::from_secs(10)).await;
    assert_eq!(delivered[0].authenticated_as.as_deref(), Some("mailer"));
    assert_eq!(delivered[0].subject, "Bestätigen Sie ✓");
}

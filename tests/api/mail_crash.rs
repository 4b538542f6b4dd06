//! The outbox survives `kill -9` (ACCOUNTS.md §3: "a crash never loses a message"): the real
//! `users-api` binary on a SQLite file queues a verification message while its mail server is
//! unreachable, is killed with SIGKILL, and is started again with the SMTP test server: the
//! message arrives exactly once, and its link works.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, read, session_cookie};
use crate::mailbox::{Mailbox, link_token, smtp_url};

/// `target/<profile>/users-api`, built first: `cargo test -p tests` builds the `server`
/// library, not its binary, so this asks Cargo for it (a no-op when it is up to date) in the
/// target folder and profile of this test executable (`target/<profile>/deps/api-…`).
fn users_api_binary() -> PathBuf {
    let executable = std::env::current_exe().expect("the test executable");
    let profile_dir = executable
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/…");
    let target_dir = profile_dir.parent().expect("the target folder");
    let profile = profile_dir
        .file_name()
        .and_then(|name| name.to_str())
        .expect("the profile folder");
    let mut build = Command::new(env!("CARGO"));
    build
        .args([
            "build",
            "--quiet",
            "--locked",
            "-p",
            "server",
            "--bin",
            "users-api",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", target_dir);
    match profile {
        "debug" => {}
        "release" => {
            build.arg("--release");
        }
        other => {
            build.args(["--profile", other]);
        }
    }
    let status = build.status().expect("running cargo build");
    assert!(
        status.success(),
        "cargo build -p server --bin users-api: {status}"
    );
    let binary = profile_dir.join(format!("users-api{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.is_file(), "{} was not built", binary.display());
    binary
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

/// A command of the binary in `folder` (its SQLite file is `folder/data/users.db`), with no
/// configuration files, cheap hashing, quick retries that do not give up, and the bootstrap
/// admin; mail goes to `smtp_url`.
fn users_api(binary: &Path, folder: &Path, smtp_url: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(folder)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("USERS_API_CONFIG_DIR", folder.join("no-config"))
        .env("USERS_API__STORAGE__BACKEND", "sqlite")
        .env("USERS_API__HASHING__MEMORY_KIB", "8")
        .env("USERS_API__HASHING__ITERATIONS", "1")
        .env("USERS_API__LOG__LEVEL", "warn")
        .env("USERS_API__RATE_LIMIT__ENABLED", "false")
        .env("USERS_API__TOKENS__ISSUER", "https://users-api.test")
        .env("USERS_API__ADMIN__BOOTSTRAP_EMAIL", ADMIN_EMAIL)
        .env("USERS_API__ADMIN__BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)
        .env("USERS_API__MAIL__SMTP_URL", smtp_url)
        .env("USERS_API__MAIL__FROM", "accounts@users-api.test")
        .env("USERS_API__MAIL__POLL_INTERVAL_MS", "100")
        .env("USERS_API__MAIL__RETRY_BASE_SECONDS", "1")
        .env("USERS_API__MAIL__RETRY_MAX_SECONDS", "1")
        .env("USERS_API__MAIL__MAX_ATTEMPTS", "1000")
        .env("USERS_API__MAIL__SEND_TIMEOUT_SECONDS", "5");
    command
}

/// The binary serving on a free port; SIGKILLed when dropped.
struct Running {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    async fn start(mut command: Command) -> Self {
        let port = free_port();
        let child = command
            .arg("serve")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn users-api");
        let running = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = running
                .client
                .get(format!("{}/health", running.base))
                .send()
                .await
                && response.status() == 200
            {
                return running;
            }
            assert!(
                Instant::now() < deadline,
                "users-api did not answer /health within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        read(
            self.client
                .post(format!("{}{path}", self.base))
                .header("x-app-id", "site")
                .json(&body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    /// The bootstrap admin's dashboard cookie.
    async fn operator(&self) -> String {
        let response = self
            .client
            .post(format!("{}/auth/login", self.base))
            .header("origin", &self.base)
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        session_cookie(&response).expect("a session cookie")
    }

    /// `site`'s e-mail log messages to `to`.
    async fn logged_for(&self, operator: &str, to: &str) -> Vec<Value> {
        let (status, body) = read(
            self.client
                .get(format!(
                    "{}/v1/apps/site/mail/messages?limit=500",
                    self.base
                ))
                .header("origin", &self.base)
                .header("cookie", operator)
                .send()
                .await
                .expect("request"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter(|message| message["to"] == to)
            .cloned()
            .collect()
    }
}

/// A verification message queued while the mail server is unreachable (pending, tried at least
/// once), then `kill -9`: the next start, with a mail server, delivers it exactly once, and its
/// link verifies the address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(smtp_test_server),
    ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh"
)]
async fn a_message_queued_before_kill_dash_nine_is_delivered_once_after_the_restart() {
    let binary = users_api_binary();
    let folder = tempfile::tempdir().expect("temp dir");
    let closed = format!("smtp://127.0.0.1:{}", free_port());
    let created = users_api(&binary, folder.path(), &closed)
        .args(["app", "create", "--id", "site", "--name", "Site"])
        .output()
        .expect("users-api app create");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );

    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let email = format!("crash-{}-{nanos}@example.com", std::process::id());
    {
        let mut first = Running::start(users_api(&binary, folder.path(), &closed)).await;
        let (status, body) = first
            .post(
                "/v1/auth/register",
                json!({"email": email, "password": "correct horse battery staple"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let operator = first.operator().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let logged = first.logged_for(&operator, &email).await;
            if let [message] = logged.as_slice()
                && message["status"] == "pending"
                && message["attempts"].as_u64() >= Some(1)
            {
                assert!(message["lastError"].is_string(), "{message}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the message was not tried and left pending: {logged:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        first.child.kill().expect("SIGKILL");
        first.child.wait().expect("reaped");
    }
    assert!(Mailbox::from_env().delivered_to(&email).is_empty());

    let second = Running::start(users_api(&binary, folder.path(), &smtp_url())).await;
    let mailbox = Mailbox::from_env();
    // A kill during an attempt leaves the message leased for up to a minute.
    let delivered = mailbox.wait_for(&email, 1, Duration::from_secs(90)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let all = mailbox.delivered_to(&email);
    assert_eq!(all.len(), 1, "exactly one message: {all:#?}");
    assert_eq!(delivered[0].subject, "Confirm your email address for Site");
    let token = link_token(delivered[0].text.as_deref().expect("text")).expect("a link");
    let (status, body) = second
        .post("/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(status, 200, "the link works after the restart: {body}");
    let operator = second.operator().await;
    let logged = second.logged_for(&operator, &email).await;
    assert_eq!(logged.len(), 1, "{logged:#?}");
    assert_eq!(logged[0]["status"], "sent", "{}", logged[0]);
    assert!(logged[0]["attempts"].as_u64() >= Some(2), "{}", logged[0]);
}

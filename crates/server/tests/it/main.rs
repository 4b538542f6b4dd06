//! The `users-api` binary as a process: durability across `kill -9`, the CLI, start-up with
//! no configuration, configuration layers, JSON logs, graceful shutdown.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod architecture;
mod day_two;
mod metrics;
mod operating;
mod sqlite_file;

use futures::future::join_all;
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_users-api");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

/// A command for the binary with a private folder, cheap hashing and no config files.
fn users_api(folder: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(folder)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("USERS_API_CONFIG_DIR", folder.join("no-config"))
        .env("USERS_API__HASHING__MEMORY_KIB", "8")
        .env("USERS_API__HASHING__ITERATIONS", "1")
        .env("USERS_API__LOG__LEVEL", "warn");
    command
}

fn run(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

struct Running {
    child: Child,
    base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(mut command: Command) -> Running {
    let port = free_port();
    let child = command
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let running = Running {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(format!("{}/health", running.base)).await
            && response.status() == 200
        {
            return running;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not answer /health within 20 s");
}

fn create_app(folder: &Path, id: &str) {
    let mut command = users_api(folder);
    command.args([
        "app", "create", "--id", id, "--name", "Site", "--origin", "*",
    ]);
    let output = run(command, "");
    assert!(output.status.success(), "{}", text(&output.stderr));
}

fn list_users(folder: &Path, app: &str) -> Vec<Value> {
    let mut command = users_api(folder);
    command.args(["user", "list", "--app", app]);
    let output = run(command, "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("NDJSON"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_dash_nine() {
    let folder = tempfile::tempdir().expect("temp dir");
    create_app(folder.path(), "site");
    let mut command = users_api(folder.path());
    command.env("USERS_API__RATE_LIMIT__ENABLED", "false");
    let mut server = start(command).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/users", server.base);

    let mut acknowledged = Vec::new();
    let mut round = 0;
    // Keep 32 writes in flight and kill the server in the middle of a round.
    while acknowledged.len() < 300 {
        let requests = (0..32).map(|i| {
            client
                .post(&url)
                .header("x-app-id", "site")
                .json(&json!({"email": format!("u{round}-{i}@example.com")}))
                .send()
        });
        for response in join_all(requests).await.into_iter().flatten() {
            if response.status() == 200 {
                let body: Value = response.json().await.expect("json");
                acknowledged.push(body["id"].as_str().expect("id").to_owned());
            }
        }
        round += 1;
    }
    let in_flight: Vec<_> = (0..32)
        .map(|i| {
            client
                .post(&url)
                .header("x-app-id", "site")
                .json(&json!({"email": format!("late{i}@example.com")}))
                .send()
        })
        .collect();
    let late = tokio::spawn(join_all(in_flight));
    tokio::time::sleep(Duration::from_millis(2)).await;
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    for response in late.await.expect("join").into_iter().flatten() {
        if response.status() == 200
            && let Ok(body) = response.json::<Value>().await
        {
            acknowledged.push(body["id"].as_str().expect("id").to_owned());
        }
    }

    let stored: std::collections::HashSet<String> = list_users(folder.path(), "site")
        .iter()
        .map(|u| u["id"].as_str().expect("id").to_owned())
        .collect();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost",
        lost.len(),
        acknowledged.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_runs_with_no_configuration_at_all_on_sqlite_under_data() {
    let folder = tempfile::tempdir().expect("temp dir");
    let server = start(users_api(folder.path())).await;
    let ready = reqwest::get(format!("{}/ready", server.base))
        .await
        .expect("request");
    assert_eq!(ready.status(), 200);
    assert!(folder.path().join("data/users-api.db").exists());
}

#[test]
fn admin_create_reads_the_password_from_stdin() {
    let folder = tempfile::tempdir().expect("temp dir");
    let create = |email: &str, password: &str| {
        let mut command = users_api(folder.path());
        command.args(["admin", "create", "--email", email]);
        run(command, password)
    };
    let created = create("Root@Example.com", "a long enough passphrase\n");
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(text(&created.stdout).contains("created admin root@example.com"));

    let again = create("root@example.com", "another long passphrase\n");
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );

    let weak = create("other@example.com", "short\n");
    assert!(!weak.status.success());
    assert!(
        text(&weak.stderr).contains("password"),
        "{}",
        text(&weak.stderr)
    );
}

#[test]
fn app_commands_create_apps_and_refuse_bad_schemas_with_every_problem() {
    let folder = tempfile::tempdir().expect("temp dir");
    let mut command = users_api(folder.path());
    command.args([
        "app",
        "create",
        "--id",
        "my-site",
        "--name",
        "My site",
        "--origin",
        "https://example.com",
    ]);
    let output = run(command, "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let shown: Value = serde_json::from_str(text(&output.stdout).trim()).expect("JSON");
    assert_eq!(shown["sourceAppId"], "my-site");
    assert_eq!(shown["password"].as_str().map(str::len), Some(32));

    let schema = folder.path().join("schema.json");
    std::fs::write(&schema, r#"{"fields": [{"key": "$x", "kind": "text"}, {"key": "n", "kind": "number", "min": 5, "max": 1}]}"#)
        .expect("write");
    let mut command = users_api(folder.path());
    command
        .args(["app", "schema", "--id", "my-site", "--file"])
        .arg(&schema);
    let output = run(command, "");
    assert!(!output.status.success());
    let errors = text(&output.stderr);
    assert!(
        errors.contains("fields[0].key") && errors.contains("fields[1].min"),
        "{errors}"
    );

    let mut command = users_api(folder.path());
    command.args(["app", "schema", "--id", "my-site", "--file", "-"]);
    let output = run(
        command,
        r#"{"fields": [{"key": "name", "kind": "text", "required": true}]}"#,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("version 1"));
}

fn config_folder(folder: &Path, base_yaml: &str) -> PathBuf {
    let config = folder.join("config");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::write(config.join("base.yaml"), base_yaml).expect("write");
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_layers_files_then_environment_then_port() {
    let folder = tempfile::tempdir().expect("temp dir");
    create_app(folder.path(), "site");
    let config = config_folder(
        folder.path(),
        "application:\n  port: 1\nrate_limit:\n  enabled: true\n  per_ip_per_second: 1\n  per_ip_burst: 1\n",
    );
    let submit_twice = |base: String| async move {
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for i in 0..2 {
            let response = client
                .post(format!("{base}/v1/users"))
                .header("x-app-id", "site")
                .json(&json!({"email": format!("c{i}@example.com")}))
                .send()
                .await
                .expect("request");
            statuses.push(response.status().as_u16());
        }
        statuses
    };
    // The file's limit applies (and PORT beats the file's port 1)...
    let mut command = users_api(folder.path());
    command.env("USERS_API_CONFIG_DIR", &config);
    let server = start(command).await;
    assert_eq!(submit_twice(server.base.clone()).await, [200, 429]);
    drop(server);
    // ...and an environment variable beats the file.
    let mut command = users_api(folder.path());
    command
        .env("USERS_API_CONFIG_DIR", &config)
        .env("USERS_API__RATE_LIMIT__ENABLED", "false");
    let server = start(command).await;
    assert_eq!(submit_twice(server.base.clone()).await, [200, 200]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_logs_are_json_and_sigterm_stops_gracefully() {
    let folder = tempfile::tempdir().expect("temp dir");
    let repository_config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let mut command = users_api(folder.path());
    command
        .env("USERS_API_ENVIRONMENT", "production")
        .env("USERS_API_CONFIG_DIR", repository_config)
        .env("USERS_API__SESSION__SECRET_KEY", SESSION_KEY)
        .env("USERS_API__TOKENS__KEY_ENCRYPTION_KEY", KEY_ENCRYPTION_KEY)
        .env("USERS_API__LOG__LEVEL", "info");
    let server = start(command).await;
    let (exit, logs) = operating::stop(server, "TERM").await;
    assert!(exit.success(), "graceful stop exits 0, got {exit}");
    let first = logs.lines().next().expect("at least one log line");
    let line: Value = serde_json::from_str(first).unwrap_or_else(|_| panic!("not JSON: {first}"));
    assert!(line["level"].is_string(), "{line}");
}

/// 64 bytes, base64: a session key for tests.
const SESSION_KEY: &str =
    "dGVzdCBrZXkgdGVzdCBrZXkgdGVzdCBrZXkgdGVzdCBrZXkgdGVzdCBrZXkgdGVzdCBrZXkgdGVzdCBrZXkgdGVzdCBr";

#[test]
fn production_refuses_to_start_without_a_session_key() {
    let folder = tempfile::tempdir().expect("temp dir");
    let mut command = users_api(folder.path());
    command
        .env("USERS_API_ENVIRONMENT", "production")
        .env("USERS_API__TOKENS__KEY_ENCRYPTION_KEY", KEY_ENCRYPTION_KEY)
        .env("PORT", free_port().to_string())
        .arg("serve");
    let output = run(command, "");
    assert!(
        !output.status.success(),
        "production started without a session key"
    );
    assert!(
        text(&output.stderr).contains("session.secret_key"),
        "{}",
        text(&output.stderr)
    );
}

/// 32 bytes, base64: a key-encryption key for tests.
const KEY_ENCRYPTION_KEY: &str = "a2V5IGVuY3J5cHRpb24ga2V5IGZvciB0aGUgdGVzdHMh";

#[test]
fn production_refuses_to_start_without_a_key_encryption_key() {
    let folder = tempfile::tempdir().expect("temp dir");
    let mut command = users_api(folder.path());
    command
        .env("USERS_API_ENVIRONMENT", "production")
        .env("USERS_API__SESSION__SECRET_KEY", SESSION_KEY)
        .env("PORT", free_port().to_string())
        .arg("serve");
    let output = run(command, "");
    assert!(
        !output.status.success(),
        "production started without a key-encryption key"
    );
    assert!(
        text(&output.stderr).contains("tokens.key_encryption_key"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn keys_rotate_adds_a_signing_key_that_the_next_start_uses() {
    let folder = tempfile::tempdir().expect("temp dir");
    let rotate = |folder: &Path| {
        let mut command = users_api(folder);
        command
            .env("USERS_API__TOKENS__KEY_ENCRYPTION_KEY", KEY_ENCRYPTION_KEY)
            .args(["keys", "rotate"]);
        run(command, "")
    };
    let first = rotate(folder.path());
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = rotate(folder.path());
    assert!(second.status.success(), "{}", text(&second.stderr));
    let kid = |output: &std::process::Output| {
        text(&output.stdout)
            .trim()
            .strip_prefix("new signing key ")
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{}", text(&output.stdout)))
    };
    assert_ne!(kid(&first), kid(&second), "each rotation adds a key");
}

#[test]
fn a_bad_environment_name_is_a_clear_error() {
    let folder = tempfile::tempdir().expect("temp dir");
    let mut command = users_api(folder.path());
    command.env("USERS_API_ENVIRONMENT", "staging").arg("serve");
    let output = run(command, "");
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("local or production"));
}

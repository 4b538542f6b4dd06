//! Day-two CLI commands against a running server on the same SQLite file: what an operator
//! does for a forgotten password, a leaked app password, an app to remove, an export.

use std::path::Path;

use serde_json::{Value, json};

use super::{create_app, run, start, text, users_api};

fn cli(folder: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut command = users_api(folder);
    command.args(args);
    run(command, stdin)
}

fn succeed(folder: &Path, args: &[&str], stdin: &str) -> String {
    let output = cli(folder, args, stdin);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Logs in and returns the session cookie (`name=value`), or `None` on a refused login.
async fn login(base: &str, credentials: Value) -> Option<String> {
    let response = reqwest::Client::new()
        .post(format!("{base}/auth/login"))
        .json(&credentials)
        .send()
        .await
        .expect("request");
    if response.status() != 200 {
        return None;
    }
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("users_api_session="))
        .expect("session cookie");
    Some(cookie.split(';').next().expect("pair").to_owned())
}

async fn session_status(base: &str, cookie: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/auth/session"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_reset_password_ends_the_admins_sessions_and_list_shows_admins() {
    let folder = tempfile::tempdir().expect("temp dir");
    let folder = folder.path();
    for email in ["root@example.com", "ops@example.com"] {
        succeed(
            folder,
            &["admin", "create", "--email", email],
            "the first passphrase\n",
        );
    }
    let listed = succeed(folder, &["admin", "list"], "");
    let emails: Vec<&str> = listed
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next())
        .collect();
    assert_eq!(emails, ["ops@example.com", "root@example.com"], "{listed}");

    let server = start(users_api(folder)).await;
    let old = json!({"email": "root@example.com", "password": "the first passphrase"});
    let cookie = login(&server.base, old.clone()).await.expect("login");
    assert_eq!(session_status(&server.base, &cookie).await, 200);
    let ops = login(
        &server.base,
        json!({"email": "ops@example.com", "password": "the first passphrase"}),
    )
    .await
    .expect("login");

    let weak = cli(
        folder,
        &["admin", "reset-password", "--email", "root@example.com"],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(
        text(&weak.stderr).contains("password"),
        "{}",
        text(&weak.stderr)
    );
    let unknown = cli(
        folder,
        &["admin", "reset-password", "--email", "nobody@example.com"],
        "a new long passphrase\n",
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("no admin"),
        "{}",
        text(&unknown.stderr)
    );
    // A weak password changed nothing.
    assert_eq!(session_status(&server.base, &cookie).await, 200);

    succeed(
        folder,
        &["admin", "reset-password", "--email", "Root@Example.com"],
        "a new long passphrase\n",
    );
    assert_eq!(session_status(&server.base, &cookie).await, 401);
    assert_eq!(session_status(&server.base, &ops).await, 200);
    assert_eq!(login(&server.base, old).await, None);
    let new = json!({"email": "root@example.com", "password": "a new long passphrase"});
    let renewed = login(&server.base, new)
        .await
        .expect("login with the new password");
    assert_eq!(session_status(&server.base, &renewed).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_list_rotate_password_and_delete() {
    let folder = tempfile::tempdir().expect("temp dir");
    let folder = folder.path();
    let created = succeed(
        folder,
        &[
            "app", "create", "--id", "site", "--name", "My site", "--origin", "*",
        ],
        "",
    );
    let password = serde_json::from_str::<Value>(created.trim()).expect("JSON")["password"]
        .as_str()
        .expect("password")
        .to_owned();
    create_app(folder, "other");
    let mut command = users_api(folder);
    command.env("USERS_API__RATE_LIMIT__ENABLED", "false");
    let server = start(command).await;
    let submitted = reqwest::Client::new()
        .post(format!("{}/v1/users", server.base))
        .header("x-app-id", "site")
        .json(&json!({"email": "a@example.com"}))
        .send()
        .await
        .expect("request");
    assert_eq!(submitted.status(), 200);

    let listed = succeed(folder, &["app", "list"], "");
    let rows: Vec<Vec<&str>> = listed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows[0], ["ID", "USERS", "CREATED", "NAME"], "{listed}");
    assert_eq!(rows.len(), 3, "{listed}");
    assert_eq!((rows[1][0], rows[1][1]), ("other", "0"), "{listed}");
    assert_eq!(
        (rows[2][0], rows[2][1], rows[2][3]),
        ("site", "1", "My site"),
        "{listed}"
    );

    let owner = login(
        &server.base,
        json!({"sourceAppId": "site", "password": password}),
    )
    .await
    .expect("owner login");
    assert_eq!(session_status(&server.base, &owner).await, 200);
    let rotated = succeed(folder, &["app", "rotate-password", "--id", "site"], "");
    let rotated: Value = serde_json::from_str(rotated.trim()).expect("JSON");
    let new_password = rotated["password"].as_str().expect("password");
    assert_ne!(new_password, password);
    assert_eq!(session_status(&server.base, &owner).await, 401);
    assert_eq!(
        login(
            &server.base,
            json!({"sourceAppId": "site", "password": password})
        )
        .await,
        None
    );
    let renewed = login(
        &server.base,
        json!({"sourceAppId": "site", "password": new_password}),
    )
    .await
    .expect("login with the new password");
    assert!(
        !cli(folder, &["app", "rotate-password", "--id", "nope"], "")
            .status
            .success()
    );

    let refused = cli(folder, &["app", "delete", "--id", "site"], "other\n");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("not confirmed"),
        "{}",
        text(&refused.stderr)
    );
    assert!(succeed(folder, &["app", "list"], "").contains("site\t1\t"));
    succeed(folder, &["app", "delete", "--id", "site"], "site\n");
    assert_eq!(session_status(&server.base, &renewed).await, 401);
    succeed(folder, &["app", "delete", "--id", "other", "--yes"], "");
    assert_eq!(succeed(folder, &["app", "list"], "").lines().count(), 1);
    let gone = cli(folder, &["app", "delete", "--id", "site", "--yes"], "");
    assert!(!gone.status.success());
    assert!(
        text(&gone.stderr).contains("no app"),
        "{}",
        text(&gone.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_export_writes_what_the_http_export_serves() {
    let folder = tempfile::tempdir().expect("temp dir");
    let folder = folder.path();
    create_app(folder, "site");
    succeed(
        folder,
        &["app", "schema", "--id", "site", "--file", "-"],
        r#"{"rejectUnknown": true, "fields": [{"key": "name", "kind": "text"}, {"key": "age", "kind": "number"}]}"#,
    );
    succeed(
        folder,
        &["admin", "create", "--email", "root@example.com"],
        "a long passphrase\n",
    );
    let mut command = users_api(folder);
    command.env("USERS_API__RATE_LIMIT__ENABLED", "false");
    let server = start(command).await;
    let client = reqwest::Client::new();
    for (email, data) in [
        (
            "a@example.com",
            json!({"name": "Ada, \"the first\"", "age": 36}),
        ),
        ("b@example.com", json!({"name": "=HYPERLINK()"})),
        ("c@example.com", json!({})),
    ] {
        let response = client
            .post(format!("{}/v1/users", server.base))
            .header("x-app-id", "site")
            .json(&json!({"email": email, "data": data}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
    }
    let admin = login(
        &server.base,
        json!({"email": "root@example.com", "password": "a long passphrase"}),
    )
    .await
    .expect("login");
    let over_http = |format: &'static str| {
        let (client, base, admin) = (client.clone(), server.base.clone(), admin.clone());
        async move {
            let response = client
                .get(format!("{base}/v1/apps/site/users/export?format={format}"))
                .header("cookie", admin)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 200);
            response.text().await.expect("body")
        }
    };

    let csv = succeed(folder, &["user", "export", "--app", "site"], "");
    assert_eq!(csv, over_http("csv").await);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        csv.starts_with("id,email,createdAt,updatedAt,schemaVersion,name,age\n"),
        "{csv}"
    );

    let file = folder.join("users.ndjson");
    let mut command = users_api(folder);
    command
        .args([
            "user", "export", "--app", "site", "--format", "ndjson", "--output",
        ])
        .arg(&file);
    let output = run(command, "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    let written = std::fs::read_to_string(&file).expect("read");
    assert_eq!(written, over_http("ndjson").await);
    assert_eq!(written.lines().count(), 3);

    let unknown = cli(folder, &["user", "export", "--app", "nope"], "");
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("no app"),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn every_day_two_command_explains_itself() {
    let folder = tempfile::tempdir().expect("temp dir");
    for (command, words) in [
        (&["admin", "list"][..], "List the platform admins"),
        (&["admin", "reset-password"][..], "forgotten"),
        (&["app", "list"][..], "List the apps"),
        (
            &["app", "rotate-password"][..],
            "end its owners' dashboard sessions",
        ),
        (&["app", "delete"][..], "--yes"),
        (&["user", "export"][..], "--output"),
    ] {
        let mut args = command.to_vec();
        args.push("--help");
        let help = succeed(folder.path(), &args, "");
        assert!(help.contains(words), "{command:?} --help: {help}");
    }
}

/// `app create --error-url` sets where a failed plain HTML form is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_create_sets_the_form_error_page() {
    let folder = tempfile::tempdir().expect("temp dir");
    let folder = folder.path();
    succeed(
        folder,
        &[
            "app",
            "create",
            "--id",
            "forms",
            "--name",
            "Forms",
            "--origin",
            "*",
            "--error-url",
            "https://site.example/oops",
        ],
        "",
    );
    let mut command = users_api(folder);
    command.env("USERS_API__RATE_LIMIT__ENABLED", "false");
    let server = start(command).await;
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/v1/users", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("_appId=forms&email=not-an-email")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().expect("ascii");
    assert_eq!(
        location,
        "https://site.example/oops?error=validation_failed&field=email"
    );
}

//! The SQLite file as the binary meets it: `users-api backup PATH` (SQLite's online backup
//! while the service takes writes), and start-up errors that say which file and why.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::join_all;
use serde_json::{Value, json};

use super::{create_app, list_users, run, start, text, users_api};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_writes_go_on_holds_every_record_written_before_it() {
    let folder = tempfile::tempdir().expect("temp dir");
    create_app(folder.path(), "site");
    let mut command = users_api(folder.path());
    command.env("USERS_API__RATE_LIMIT__ENABLED", "false");
    let server = start(command).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/users", server.base);
    let sign_up = |email: String| {
        client
            .post(&url)
            .header("x-app-id", "site")
            .json(&json!({ "email": email }))
            .send()
    };

    let mut before = Vec::new();
    for round in 0..10 {
        for response in
            join_all((0..20).map(|i| sign_up(format!("u{round}-{i}@example.com")))).await
        {
            let response = response.expect("request");
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("json");
            before.push(body["id"].as_str().expect("id").to_owned());
        }
    }

    // The writer stays busy while the backup runs.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let busy = {
        let (client, url) = (client.clone(), url.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        tokio::spawn(async move {
            for round in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let requests = (0..16).map(|i| {
                    client
                        .post(&url)
                        .header("x-app-id", "site")
                        .json(&json!({ "email": format!("busy{round}-{i}@example.com") }))
                        .send()
                });
                for response in join_all(requests).await.into_iter().flatten() {
                    if response.status() == 200 {
                        acknowledged.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        })
    };
    while acknowledged.load(Ordering::SeqCst) < 100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let destination = folder.path().join("backups/copy.db");
    std::fs::create_dir_all(destination.parent().expect("folder")).expect("backups folder");
    let at_start = acknowledged.load(Ordering::SeqCst);
    let backed_up = {
        let mut command = users_api(folder.path());
        command.arg("backup").arg(&destination);
        tokio::task::spawn_blocking(move || run(command, ""))
            .await
            .expect("join")
    };
    let at_end = acknowledged.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    busy.await.expect("join");
    assert!(backed_up.status.success(), "{}", text(&backed_up.stderr));
    assert!(
        at_end > at_start,
        "writes were acknowledged while the backup ran ({at_start} before, {at_end} after)"
    );
    drop(server);

    let restored = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(restored.path().join("data")).expect("data folder");
    std::fs::copy(&destination, restored.path().join("data/users-api.db")).expect("restore");
    let stored: std::collections::HashSet<String> = list_users(restored.path(), "site")
        .iter()
        .map(|user| user["id"].as_str().expect("id").to_owned())
        .collect();
    let missing = before.iter().filter(|id| !stored.contains(*id)).count();
    assert_eq!(
        missing,
        0,
        "of {} records written before the backup",
        before.len()
    );

    // An existing file is never replaced.
    let mut again = users_api(folder.path());
    again.arg("backup").arg(&destination);
    let refused = run(again, "");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("already exists"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn backup_help_says_how_to_back_up_and_restore() {
    let mut command = users_api(std::path::Path::new("."));
    command.args(["backup", "--help"]);
    let output = run(command, "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let help = text(&output.stdout);
    for words in ["online backup", "To restore: stop the service", "mongodump"] {
        assert!(help.contains(words), "{words:?} in:\n{help}");
    }
}

#[test]
fn a_database_that_cannot_be_opened_is_named_with_the_os_reason() {
    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::write(folder.path().join("a-file"), b"not a folder").expect("write");
    let path = folder.path().join("a-file/users.db");
    let mut command = users_api(folder.path());
    command
        .env("USERS_API__STORAGE__SQLITE__PATH", &path)
        .arg("serve");
    let output = run(command, "");
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot open the SQLite database {}",
            path.display()
        )) && stderr.contains("Not a directory (os error 20)"),
        "{stderr}"
    );
}

//! The binary's metrics listener: its own port, and the SQLite writer's batch sizes.

use serde_json::json;

use super::{create_app, free_port, start, users_api};

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.parse().ok()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_listen_apart_and_count_sqlite_group_commits() {
    let folder = tempfile::tempdir().expect("temp dir");
    create_app(folder.path(), "site");
    let metrics_port = free_port();
    let mut command = users_api(folder.path());
    command
        .env("USERS_API__RATE_LIMIT__ENABLED", "false")
        .env("USERS_API__METRICS__ENABLED", "true")
        .env(
            "USERS_API__METRICS__ADDRESS",
            format!("127.0.0.1:{metrics_port}"),
        );
    let server = start(command).await;
    let client = reqwest::Client::new();
    let sign_ups = (0..8).map(|i| {
        client
            .post(format!("{}/v1/users", server.base))
            .header("x-app-id", "site")
            .json(&json!({"email": format!("u{i}@example.com")}))
            .send()
    });
    for response in futures::future::join_all(sign_ups).await {
        assert_eq!(response.expect("request").status(), 200);
    }

    let text = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    let writes = sample(&text, "users_api_sqlite_commit_batch_size_sum").expect("sum");
    let batches = sample(&text, "users_api_sqlite_commit_batch_size_count").expect("count");
    assert!(writes >= 8.0, "{text}");
    assert!((1.0..=writes).contains(&batches), "{text}");
    assert_eq!(
        sample(
            &text,
            "users_api_http_requests_total{route=\"/v1/users\",method=\"POST\",status=\"200\"}"
        ),
        Some(8.0),
        "{text}"
    );

    let public = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(!public.contains("users_api_"), "{public}");
}

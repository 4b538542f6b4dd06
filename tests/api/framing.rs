//! Request framing over raw TCP: bodies that never finish, ambiguous lengths, the connection cap.

use std::time::{Duration, Instant};

use server::{Backend, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Long enough that `/health` is surely answered before it passes, even on a busy machine.
const BODY_TIMEOUT: Duration = Duration::from_secs(2);

fn short_body_timeout() -> Settings {
    let mut settings = test_settings(Backend::Memory);
    settings.application.body_timeout_secs = BODY_TIMEOUT.as_secs();
    settings
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Everything the server sends until it closes the connection, or `None` when it is still
/// open after `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut received)).await {
        Ok(Ok(_)) => Some(String::from_utf8_lossy(&received).into_owned()),
        // A reset after the answer also closes the connection.
        Ok(Err(_)) if !received.is_empty() => Some(String::from_utf8_lossy(&received).into_owned()),
        Ok(Err(error)) => panic!("read failed before any answer: {error}"),
        Err(_) => None,
    }
}

/// Headers announcing a 4,000-byte body, and the first bytes of it.
fn partial_request(app: &TestApp, method: &str, path: &str, framing: &str, start: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nx-app-id: site\r\n\
         Content-Type: application/json\r\n{framing}\r\n\r\n{start}",
        host = app.address.trim_start_matches("http://"),
        origin = app.address,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_never_finish_get_408_and_the_connection_is_closed() {
    let app = spawn_with(short_body_timeout()).await;
    app.create_app("site").await;
    let cookie = {
        app.create_admin().await;
        app.admin_session().await
    };
    let length = "Content-Length: 4000";
    let chunked = "Transfer-Encoding: chunked";
    let requests = [
        partial_request(&app, "POST", "/auth/login", length, r#"{"email": "#),
        partial_request(&app, "POST", "/v1/users", length, r#"{"email": "a@"#),
        partial_request(&app, "POST", "/v1/users", chunked, "fa0\r\n{\"email\":"),
        partial_request(
            &app,
            "PUT",
            "/v1/apps/site/schema",
            length,
            r#"{"fields": ["#,
        )
        .replacen("\r\n\r\n", &format!("\r\nCookie: {cookie}\r\n\r\n"), 1),
        partial_request(
            &app,
            "PUT",
            "/v1/apps/site/mail-settings",
            length,
            r#"{"senderName": "#,
        )
        .replacen("\r\n\r\n", &format!("\r\nCookie: {cookie}\r\n\r\n"), 1),
        partial_request(&app, "POST", "/v1/apps/site/api-keys", chunked, "fa0\r\n{").replacen(
            "\r\n\r\n",
            &format!("\r\nCookie: {cookie}\r\n\r\n"),
            1,
        ),
    ];
    let started = Instant::now();
    let mut streams = Vec::new();
    for request in &requests {
        for _ in 0..5 {
            let mut stream = connect(&app).await;
            stream.write_all(request.as_bytes()).await.expect("write");
            streams.push(stream);
        }
    }
    // The service answers others while those wait.
    let health = app
        .client
        .get(app.url("/health"))
        .timeout(BODY_TIMEOUT - Duration::from_millis(500))
        .send()
        .await
        .expect("/health answers while slow bodies wait");
    assert_eq!(health.status(), 200);
    for (index, mut stream) in streams.into_iter().enumerate() {
        let answer = read_until_closed(&mut stream, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("request {} still open", index / 5));
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= BODY_TIMEOUT - Duration::from_millis(100),
        "answered before the timeout: {elapsed:?}"
    );
    assert!(elapsed < BODY_TIMEOUT * 3, "{elapsed:?}");
}

/// Every management route with a body refuses one announced over 256 KiB at once, in the
/// error envelope, before reading it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_bodies_announced_over_256_kib_are_413_in_the_envelope() {
    let app = spawn_with(short_body_timeout()).await;
    app.create_app("site").await;
    app.create_admin().await;
    let cookie = app.admin_session().await;
    for (method, path) in [
        ("PATCH", "/v1/apps/site"),
        ("PUT", "/v1/apps/site/mail-settings"),
        ("POST", "/v1/apps/site/mail-settings/preview"),
        ("POST", "/v1/apps/site/mail/test"),
        ("POST", "/v1/apps/site/api-keys"),
    ] {
        let request = partial_request(&app, method, path, "Content-Length: 300000", "").replacen(
            "\r\n\r\n",
            &format!("\r\nCookie: {cookie}\r\n\r\n"),
            1,
        );
        let mut stream = connect(&app).await;
        stream.write_all(request.as_bytes()).await.expect("write");
        let answer = read_until_closed(&mut stream, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("{method} {path}: still open"));
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{method} {path}: {answer}"
        );
        assert!(
            answer.contains(r#""code":"payload_too_large""#),
            "{method} {path}: {answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_arrives_in_time_is_served() {
    let app = spawn_with(short_body_timeout()).await;
    app.create_app("site").await;
    let body = signup("slow@example.com").to_string();
    let (first, rest) = body.split_at(10);
    let mut stream = connect(&app).await;
    let head = partial_request(
        &app,
        "POST",
        "/v1/users",
        &format!("Content-Length: {}\r\nConnection: close", body.len()),
        first,
    )
    .replace(&app.address, "https://site.example");
    stream.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(rest.as_bytes()).await.expect("write");
    let answer = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_length_with_transfer_encoding_is_refused_and_the_connection_closed() {
    let app = spawn_app(Backend::Memory).await;
    app.create_app("site").await;
    let body = signup("smuggled@example.com").to_string();
    let request = format!(
        "POST /v1/users HTTP/1.1\r\nHost: localhost\r\nx-app-id: site\r\n\
         Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let mut stream = connect(&app).await;
    stream.write_all(request.as_bytes()).await.expect("write");
    let answer = read_until_closed(&mut stream, Duration::from_secs(3))
        .await
        .expect("the connection is closed after the answer");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains(r#""code":"bad_request""#), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert_eq!(app.user_count("site").await, 0, "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_until_one_closes() {
    let mut settings = test_settings(Backend::Memory);
    settings.application.workers = Some(1);
    settings.application.max_connections = Some(2);
    let app = spawn_with(settings).await;
    let idle = [connect(&app).await, connect(&app).await];
    // Give the worker time to take both.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health = "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut third = connect(&app).await;
    third.write_all(health.as_bytes()).await.expect("write");
    assert_eq!(
        read_until_closed(&mut third, Duration::from_millis(700)).await,
        None,
        "a third connection is not served while two are open"
    );
    drop(idle);
    let answer = read_until_closed(&mut third, Duration::from_secs(3))
        .await
        .expect("served once one closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

//! What an operator sees: one quiet log line for an expected client error, and a drain, not a
//! cut, on Ctrl-C.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Running, SESSION_KEY, create_app, start, users_api};

/// Sends `signal` (`INT`, `TERM`) to the server, waits for it to exit and returns its exit
/// status and everything it logged.
pub(crate) async fn stop(mut server: Running, signal: &str) -> (ExitStatus, String) {
    let pid = server.child.id().to_string();
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "still running 15 s after SIG{signal}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut logs = String::new();
    server
        .child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("read logs");
    (exit, logs)
}

fn json_lines(logs: &str) -> Vec<Value> {
    logs.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expected_401_is_one_debug_line_and_no_warning() {
    let folder = tempfile::tempdir().expect("temp dir");
    let mut command = users_api(folder.path());
    command
        .env("USERS_API__LOG__FORMAT", "json")
        .env("USERS_API__LOG__LEVEL", "info,http_adapter=debug")
        .env("USERS_API__SESSION__SECRET_KEY", SESSION_KEY);
    let server = start(command).await;
    let probe = reqwest::get(format!("{}/auth/session", server.base))
        .await
        .expect("request");
    assert_eq!(probe.status(), 401);

    let (exit, logs) = stop(server, "TERM").await;
    assert!(exit.success(), "{exit}");
    let lines = json_lines(&logs);
    // Start-up may warn about the installation; nothing about the request may.
    let warnings: Vec<_> = lines
        .iter()
        .filter(|line| matches!(line["level"].as_str(), Some("WARN" | "ERROR")))
        .filter(|line| line.get("span").is_some() || line.to_string().contains("401"))
        .collect();
    assert!(warnings.is_empty(), "warnings for a 401: {warnings:#?}");
    let about_it: Vec<_> = lines
        .iter()
        .filter(|line| {
            let mut line = (*line).clone();
            line.as_object_mut()
                .map(|fields| fields.remove("timestamp"));
            line.to_string().contains("401")
        })
        .collect();
    assert_eq!(about_it.len(), 1, "{about_it:#?}");
    assert_eq!(about_it[0]["level"], "DEBUG", "{}", about_it[0]);
    assert_eq!(about_it[0]["code"], "unauthenticated", "{}", about_it[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_lets_an_in_flight_request_finish() {
    let folder = tempfile::tempdir().expect("temp dir");
    create_app(folder.path(), "site");
    let mut command = users_api(folder.path());
    command
        .env("USERS_API__LOG__FORMAT", "json")
        .env("USERS_API__LOG__LEVEL", "info");
    let server = start(command).await;
    let address = server.base.trim_start_matches("http://").to_owned();

    // A slow client: the head now, the body after the signal. `Expect: 100-continue` makes
    // the server say when it holds the request, so the signal comes while it is in flight.
    let body = br#"{"email":"slow@example.com"}"#;
    let mut stream = TcpStream::connect(&address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "POST /v1/users HTTP/1.1\r\nHost: {address}\r\nx-app-id: site\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\n\
         connection: close\r\n\r\n",
        body.len()
    )
    .expect("head");
    let mut interim = [0; 25];
    stream.read_exact(&mut interim).expect("100 Continue");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");

    let stopping = tokio::spawn(stop(server, "INT"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    stream.write_all(body).expect("body");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let (exit, logs) = stopping.await.expect("join");
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the in-flight sign-up was cut off by SIGINT: {answer:?}\n{logs}"
    );
    assert!(exit.success(), "a graceful stop exits 0, got {exit}");
    assert!(!logs.contains("forced"), "{logs}");
    let drained = json_lines(&logs).into_iter().any(|line| {
        line["signal"] == "SIGINT"
            && line["message"]
                .as_str()
                .is_some_and(|m| m.contains("graceful"))
    });
    assert!(drained, "no graceful-shutdown line for SIGINT: {logs}");
}

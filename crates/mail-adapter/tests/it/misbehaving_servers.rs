//! Servers that fail: nobody listening, a server that never answers, one that hangs up in the
//! middle of a message. Each is a plain TCP listener on 127.0.0.1 played by a thread, so these
//! tests need no SMTP test server. Every failure is transient, and comes within the timeout.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use domain::{Mailer, SendError};
use mail_adapter::SmtpMailer;

use crate::outbox_message;

/// Accepts one connection on a free port and hands it to `script` on a thread of its own.
fn scripted_server(script: impl FnOnce(TcpStream) + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("bound").port();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            script(stream);
        }
    });
    port
}

/// Plays an SMTP server up to the end of the message's data, then closes the connection
/// without answering it: what a server that crashes or drops an idle connection looks like.
fn hang_up_after_the_data(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    let mut writer = stream;
    let mut reply = |text: &str| {
        writer.write_all(text.as_bytes()).expect("reply");
    };
    reply("220 scripted ESMTP\r\n");
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => reply("250-scripted\r\n250 8BITMIME\r\n"),
            "MAIL" | "RCPT" => reply("250 OK\r\n"),
            "DATA" => {
                reply("354 go ahead\r\n");
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                        return; // drops both handles: the connection closes unanswered
                    }
                }
            }
            _ => reply("502 not scripted\r\n"),
        }
    }
}

#[tokio::test]
async fn a_closed_port_is_transient_at_once() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("bound").port()
    }; // dropped: nobody listens there now
    let mailer = SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}"), Duration::from_secs(5))
        .expect("valid");
    let started = Instant::now();

    let error = mailer
        .send(&outbox_message("ada@example.com"))
        .await
        .expect_err("nobody listens");

    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a refused connection fails at once, not at the timeout: {:?}",
        started.elapsed()
    );
    let SendError::Transient(text) = &error else {
        panic!("a closed port is transient: {error:?}");
    };
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_transient_at_the_timeout() {
    let port = scripted_server(|stream| {
        // Accepted, and then silence: no greeting.
        std::thread::sleep(Duration::from_secs(10));
        drop(stream);
    });
    let timeout = Duration::from_millis(300);
    let mailer = SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}"), timeout).expect("valid");
    let started = Instant::now();

    let error = mailer
        .send(&outbox_message("ada@example.com"))
        .await
        .expect_err("no answer");

    let elapsed = started.elapsed();
    assert!(
        elapsed >= timeout && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let SendError::Transient(text) = &error else {
        panic!("a timeout is transient: {error:?}");
    };
    assert!(text.contains("no answer within 300ms"), "{text}");
}

#[tokio::test]
async fn a_connection_that_dies_in_the_middle_of_a_message_is_transient() {
    let port = scripted_server(hang_up_after_the_data);
    let mailer = SmtpMailer::from_url(&format!("smtp://127.0.0.1:{port}"), Duration::from_secs(5))
        .expect("valid");
    let started = Instant::now();

    let error = mailer
        .send(&outbox_message("ada@example.com"))
        .await
        .expect_err("the server hung up");

    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(error, SendError::Transient(_)), "{error:?}");
}

#[tokio::test]
async fn a_message_that_cannot_be_built_is_permanent_before_any_connection() {
    // Nobody listens on port 9 here, and it does not matter: the message fails first.
    let mailer = SmtpMailer::from_url("smtp://127.0.0.1:9", Duration::from_secs(5)).expect("valid");
    let mut message = outbox_message("ada@example.com");
    message.to = "not an address".to_owned();

    let error = mailer.send(&message).await.expect_err("bad recipient");

    let SendError::Permanent(text) = &error else {
        panic!("a bad address is permanent: {error:?}");
    };
    assert!(text.contains("not an address"), "{text}");
}

//! `SmtpMailer::from_url`: each form of URL, refusals, and `describe`, which never shows a
//! password. No server is needed: nothing connects before the first message.

use std::time::Duration;

use domain::Mailer;
use mail_adapter::{MailConfigError, SmtpMailer};

use crate::TIMEOUT;

fn describe(url: &str) -> String {
    SmtpMailer::from_url(url, TIMEOUT)
        .unwrap_or_else(|error| panic!("{url}: {error}"))
        .describe()
}

#[test]
fn every_form_of_url_is_accepted_and_described() {
    let cases = [
        (
            "smtp://127.0.0.1:1025",
            "smtp://127.0.0.1:1025 (no TLS, no auth)",
        ),
        (
            "smtp://mail.example.com",
            "smtp://mail.example.com:25 (no TLS, no auth)",
        ),
        (
            "smtp://user:secret-pass@smtp.example.com:587?tls=required",
            "smtp://smtp.example.com:587 (STARTTLS, auth as user)",
        ),
        (
            "smtp://smtp.example.com?tls=opportunistic",
            "smtp://smtp.example.com:587 (STARTTLS if offered, no auth)",
        ),
        (
            "smtps://user:secret-pass@smtp.example.com",
            "smtps://smtp.example.com:465 (TLS, auth as user)",
        ),
        (
            "smtps://user:secret-pass@smtp.example.com:2465",
            "smtps://smtp.example.com:2465 (TLS, auth as user)",
        ),
        (
            "smtp://mailer:secret-pass@127.0.0.1:2525",
            "smtp://127.0.0.1:2525 (no TLS, auth as mailer)",
        ),
        (
            "smtp://apikey%40acme.example:s%3Acret%2Fpass@[::1]:2525/users-api.acme.example",
            "smtp://[::1]:2525 (no TLS, auth as apikey@acme.example)",
        ),
    ];
    for (url, expected) in cases {
        assert_eq!(describe(url), expected, "{url}");
    }
}

#[test]
fn neither_describe_nor_debug_shows_the_password() {
    for url in [
        "smtp://mailer:secret-pass@127.0.0.1:2525",
        "smtps://mailer:secret-pass@smtp.example.com",
        "smtp://mailer:secret%2Dpass@smtp.example.com?tls=required",
    ] {
        let mailer = SmtpMailer::from_url(url, TIMEOUT).expect("valid");
        for text in [mailer.describe(), format!("{mailer:?}")] {
            assert!(!text.contains("secret"), "{url}: {text}");
            assert!(text.contains("mailer"), "{url}: {text}");
        }
    }
}

#[test]
fn bad_urls_are_refused_with_a_reason_and_without_the_password() {
    let cases = [
        ("", MailConfigError::Scheme),
        (
            "mailer:secret-pass@smtp.example.com",
            MailConfigError::Scheme,
        ),
        ("https://smtp.example.com", MailConfigError::Scheme),
        ("smtp://", MailConfigError::MissingHost),
        ("smtp://smtp.example.com:99999", MailConfigError::Port),
        ("smtp://smtp.example.com:secret-pass", MailConfigError::Port),
        (
            "smtp://mailer@smtp.example.com",
            MailConfigError::Credentials,
        ),
        (
            "smtp://mailer:secret%GGpass@smtp.example.com",
            MailConfigError::Credentials,
        ),
        (
            "smtp://smtp.example.com?tls=secret-pass",
            MailConfigError::Tls,
        ),
        (
            "smtps://smtp.example.com?tls=required",
            MailConfigError::Tls,
        ),
        (
            "smtp://smtp.example.com?secret-pass=1",
            MailConfigError::Parameter,
        ),
        (
            "smtp://mailer:secret#pass@smtp.example.com",
            MailConfigError::Fragment,
        ),
        (
            "smtp://mailer:secret/pass@smtp.example.com",
            MailConfigError::Port,
        ),
    ];
    for (url, expected) in cases {
        let error = SmtpMailer::from_url(url, TIMEOUT).expect_err(url);
        assert_eq!(error, expected, "{url}");
        let message = error.to_string();
        assert!(message.starts_with("the SMTP"), "{url}: {message}");
        assert!(!message.contains("secret"), "{url}: {message}");
    }
}

#[test]
fn a_zero_timeout_is_refused() {
    assert_eq!(
        SmtpMailer::from_url("smtp://127.0.0.1:1025", Duration::ZERO).expect_err("zero"),
        MailConfigError::Timeout
    );
}

#[test]
fn the_mailer_is_a_domain_mailer() {
    let mailer: Box<dyn Mailer> =
        Box::new(SmtpMailer::from_url("smtp://127.0.0.1:1025", TIMEOUT).expect("valid"));
    assert_eq!(mailer.describe(), "smtp://127.0.0.1:1025 (no TLS, no auth)");
}

//! Small promises of the documentation: cursors, messages for people, `userCount`, the CSRF
//! origin behind proxies, and the headers of pages.

use reqwest::Method;
use serde_json::{Value, json};
use server::Backend;

use crate::helpers::*;

crate::on_every_backend!(one_app_reports_its_user_count);

async fn admin_app() -> (TestApp, String) {
    let app = spawn_app(Backend::Memory).await;
    app.create_app("site").await;
    app.create_admin().await;
    let cookie = app.admin_session().await;
    (app, cookie)
}

fn base64url(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_must_hold_one_of_our_ids() {
    let (app, cookie) = admin_app().await;
    for text in [
        "hello",
        "00000000-0000-0000-0000-000000000000",
        "' OR 1=1 --",
    ] {
        let path = format!("/v1/apps/site/users?cursor={}", base64url(text));
        let response = app
            .dashboard(Method::GET, &path, Some(&cookie))
            .send()
            .await
            .expect("request");
        expect_error(response, 400, "invalid_cursor").await;
    }
    // A cursor the API handed out still works.
    for i in 0..3 {
        app.submit("site", signup(&format!("u{i}@example.com")))
            .await;
    }
    let (status, page) = app
        .dashboard_get("/v1/apps/site/users?limit=2", &cookie)
        .await;
    assert_eq!(status, 200);
    let next = page["nextCursor"].as_str().expect("a next page");
    let (status, page) = app
        .dashboard_get(&format!("/v1/apps/site/users?cursor={next}"), &cookie)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["users"].as_array().expect("users").len(), 1);
}

/// A message for people names no Rust type or serde internals.
fn assert_readable(message: &str) {
    for internal in [
        "`",
        "u64",
        "u32",
        "invalid type",
        "invalid value",
        "expected",
    ] {
        assert!(!message.contains(internal), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_query_strings_get_messages_for_people() {
    let (app, cookie) = admin_app().await;
    for (query, status, message) in [
        (
            "limit=-1",
            422,
            "limit must be a whole number from 1 to 500",
        ),
        ("limit=0", 422, "limit must be a whole number from 1 to 500"),
        (
            "limit=501",
            422,
            "limit must be a whole number from 1 to 500",
        ),
        (
            "limit=ten",
            422,
            "limit must be a whole number from 1 to 500",
        ),
        (
            "limit=1&limit=2",
            400,
            "limit is given twice in the query string",
        ),
        ("q=a&q=b", 400, "q is given twice in the query string"),
    ] {
        let (actual, body) = app
            .dashboard_get(&format!("/v1/apps/site/users?{query}"), &cookie)
            .await;
        assert_eq!(actual, status, "{query}: {body}");
        let text = body["error"]["message"].as_str().expect("message");
        assert_eq!(text, message, "{query}");
        assert_readable(text);
    }
    let response = app
        .dashboard(
            Method::PUT,
            "/v1/apps/site/schema?dryRun=maybe",
            Some(&cookie),
        )
        .json(&example_schema())
        .send()
        .await
        .expect("request");
    let body = expect_error(response, 422, "validation_failed").await;
    assert_eq!(body["error"]["message"], "dryRun must be true or false");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_schema_bodies_get_messages_for_people() {
    let (app, cookie) = admin_app().await;
    let put = |schema: Value| {
        app.dashboard(Method::PUT, "/v1/apps/site/schema", Some(&cookie))
            .json(&schema)
            .send()
    };
    let cases: [(Value, &[(&str, &str)]); 4] = [
        (
            json!({"fields": [{"key": "name", "kind": "text", "minLength": -1, "maxLength": 2.5}]}),
            &[
                (
                    "fields[0].minLength",
                    "must be a whole number of at least 0",
                ),
                (
                    "fields[0].maxLength",
                    "must be a whole number of at least 0",
                ),
            ],
        ),
        (
            json!({"rejectUnknown": "yes", "fields": [{"key": 7, "kind": "text", "required": "no"}, "x"]}),
            &[
                ("rejectUnknown", "must be true or false"),
                ("fields[0].key", "must be a string"),
                ("fields[0].required", "must be true or false"),
                ("fields[1]", "must be an object"),
            ],
        ),
        (
            json!({"fields": [{"label": "Plan", "enum": ["a", 1]}]}),
            &[
                ("fields[0].key", "is required"),
                ("fields[0].kind", "is required"),
                ("fields[0].enum", "must be an array of strings"),
            ],
        ),
        (
            json!({"fields": {"key": "x"}}),
            &[("fields", "must be an array of fields")],
        ),
    ];
    for (schema, expected) in cases {
        let body = expect_error(
            put(schema.clone()).await.expect("request"),
            422,
            "validation_failed",
        )
        .await;
        assert_readable(body["error"]["message"].as_str().expect("message"));
        let details: Vec<(String, String)> = body["error"]["details"]
            .as_array()
            .expect("details")
            .iter()
            .map(|d| {
                assert_readable(d["message"].as_str().expect("message"));
                (
                    d["field"].as_str().expect("field").to_owned(),
                    d["message"].as_str().expect("message").to_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(f, m)| ((*f).to_owned(), (*m).to_owned()))
            .collect();
        assert_eq!(details, expected, "{schema}");
    }
    // Nulls are absent members; version and createdAt (as GET answers them) are ignored.
    let mut schema = example_schema();
    schema["version"] = json!(3);
    schema["createdAt"] = json!("2025-01-01T00:00:00Z");
    schema["fields"][0]["regex"] = Value::Null;
    let (status, body) = read(put(schema).await.expect("request")).await;
    assert_eq!(status, 200, "{body}");
}

async fn one_app_reports_its_user_count(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    app.create_admin().await;
    for i in 0..3 {
        app.submit("site", signup(&format!("u{i}@example.com")))
            .await;
    }
    let admin = app.admin_session().await;
    let (status, body) = app.dashboard_get("/v1/apps/site", &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userCount"], 3, "{body}");
    let owner = app.owner_session("site", &password).await;
    let (_, body) = app.dashboard_get("/v1/apps/site", &owner).await;
    assert_eq!(body["userCount"], 3, "{body}");
}

/// A login from a page claiming, through forwarding headers, that `https://evil.example` is
/// our own origin.
async fn forged_forwarded_login(app: &TestApp, forwarding: &[(&str, &str)]) -> u16 {
    let mut request = app
        .client
        .post(app.url("/auth/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"sourceAppId": "site", "password": "guess"}));
    for (name, value) in forwarding {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request").status().as_u16()
}

const X_FORWARDED: [(&str, &str); 2] = [
    ("x-forwarded-host", "evil.example"),
    ("x-forwarded-proto", "https"),
];
const FORWARDED: [(&str, &str); 1] = [("forwarded", "host=evil.example;proto=https")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarding_headers_do_not_name_our_origin_unless_a_trusted_proxy_sent_them() {
    let app = spawn_app(Backend::Memory).await;
    app.create_app("site").await;
    for forwarding in [&X_FORWARDED[..], &FORWARDED[..]] {
        assert_eq!(
            forged_forwarded_login(&app, forwarding).await,
            403,
            "{forwarding:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_says_which_origin_we_are_reached_at() {
    let mut settings = test_settings(Backend::Memory);
    settings.rate_limit.trusted_proxies = vec!["127.0.0.1".into()];
    let app = spawn_with(settings).await;
    app.create_app("site").await;
    for forwarding in [&X_FORWARDED[..], &FORWARDED[..]] {
        // Past the CSRF check: the credentials are what is wrong.
        assert_eq!(
            forged_forwarded_login(&app, forwarding).await,
            401,
            "{forwarding:?}"
        );
    }
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_a_content_security_policy_and_refuse_frames() {
    let app = spawn_app(Backend::Memory).await;
    app.create_app("site").await;
    let get = |path: &str| app.client.get(app.url(path)).send();
    let docs = get("/docs/").await.expect("request");
    assert_eq!(docs.status(), 200);
    let policy = header(&docs, "content-security-policy");
    for directive in [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "default-src 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    let thanks = get("/v1/thanks").await.expect("request");
    let error_page = app
        .client
        .post(app.url("/v1/users"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .body("_appId=site&email=nope")
        .send()
        .await
        .expect("request");
    assert_eq!(error_page.status(), 422);
    for page in [&thanks, &error_page] {
        let policy = header(page, "content-security-policy");
        assert!(policy.contains("default-src 'none'"), "{policy}");
        assert!(!policy.contains("script-src"), "{policy}");
    }
    let health = get("/health").await.expect("request");
    for response in [&docs, &thanks, &error_page, &health] {
        assert_eq!(header(response, "x-frame-options"), "DENY");
        assert_eq!(header(response, "x-content-type-options"), "nosniff");
        assert!(header(response, "content-security-policy").contains("frame-ancestors 'none'"));
    }
}

//! E-mail flows over HTTP (ACCOUNTS.md §2–§3, issue 15), read back from the real SMTP test
//! server (`tests/api/mailbox.rs`): email verification and its resend, password reset, expired
//! links, invitations (escaping, replacing, revoking, racing accepts, existing accounts), the
//! set-password invitation of an admin-created account, `requireVerifiedEmail`, the operators'
//! mail settings, preview, test send and e-mail log, refusing and unreachable SMTP servers, the
//! development mailer, and two instances sharing one outbox. Every scenario runs on memory,
//! SQLite and MongoDB unless its comment says otherwise; the kill -9 test is in `mail_crash.rs`.
//!
//! All tests share one SMTP server: each sends to addresses of its own (`address`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use domain::{AccountSwitches, AdminAccess, NewApiKey};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use server::{Backend, Settings};
use sha2::{Digest as _, Sha256};
use storage_port::{
    AppChanges, MailStatus, OneTimeToken, OrganizationCreation, OutboxMessage, Timestamp,
    TokenPurpose,
};

use crate::helpers::{
    TestApp, expect_error, mongodb_settings, read, spawn_beside, spawn_with, test_settings,
};
use crate::mailbox::{Delivered, Mailbox, first_link, link_token, smtp_url};

// ---------------------------------------------------------------------------------------------
// Which scenario runs where.

/// Runs each `async fn(Settings)` with mail settings on memory, SQLite and MongoDB (the lists
/// after `every_store`), or on memory and SQLite only (after `memory_and_sqlite`). Every one
/// needs the SMTP test server; the MongoDB ones also the MongoDB test server.
macro_rules! mail_scenarios {
    (every_store: [$($every:ident),* $(,)?], memory_and_sqlite: [$($local:ident),* $(,)?] $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(smtp_test_server), ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh")]
            async fn $every() {
                super::$every(super::mail_settings(server::Backend::Memory)).await
            })*
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(smtp_test_server), ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh")]
            async fn $local() {
                super::$local(super::mail_settings(server::Backend::Memory)).await
            })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(smtp_test_server), ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh")]
            async fn $every() {
                super::$every(super::mail_settings(server::Backend::Sqlite)).await
            })*
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(smtp_test_server), ignore = "needs the SMTP test server: run through scripts/with-smtp-test-server.sh")]
            async fn $local() {
                super::$local(super::mail_settings(server::Backend::Sqlite)).await
            })*
        }
        mod mongodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(all(smtp_test_server, mongo_test_server)),
                ignore = "needs the SMTP and MongoDB test servers: run through scripts/with-smtp-test-server.sh bash scripts/with-mongo-test-server.sh"
            )]
            async fn $every() {
                super::$every(super::mail_settings(server::Backend::Mongodb)).await
            })*
        }
    };
}

mail_scenarios!(
    every_store: [
        a_verification_link_verifies_the_address_once,
        a_resend_replaces_the_older_link_and_waits_its_interval,
        a_reset_link_sets_the_password_once_and_ends_every_session,
        forgot_password_answers_alike_for_unknown_addresses_and_sends_them_nothing,
        a_burst_of_forgot_requests_sends_one_message,
        links_are_stored_hashed_and_expired_ones_are_refused_and_not_sent,
        an_invitation_escapes_its_message_and_a_new_person_accepts_it,
        a_new_invitation_replaces_the_older_and_a_revoked_one_is_not_sent,
        racing_accepts_of_one_invitation_make_one_membership,
        an_existing_account_accepts_only_with_its_own_token,
        an_admin_created_account_sets_its_password_through_the_invitation,
        verification_joins_the_invited_organization_and_those_of_its_domain,
        a_resend_keeps_the_organization_named_at_registration,
        an_invitation_to_a_deleted_organization_no_longer_works,
        a_disabled_account_cannot_accept_its_set_password_invitation,
        required_verification_holds_login_until_the_link_is_opened,
        an_apps_mail_settings_shape_its_next_invitation,
        the_development_mailer_keeps_messages_in_the_log_only,
        two_instances_deliver_each_message_once,
    ],
    memory_and_sqlite: [
        refused_recipients_fail_and_other_mail_still_goes,
        an_unreachable_mail_server_keeps_messages_pending_then_fails_them,
    ],
);

// ---------------------------------------------------------------------------------------------
// Settings, addresses, requests.

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "violet kettle marching softly";
/// A name with markup: escaped in the HTML part, as it is in the text part.
const NAME_WITH_MARKUP: &str = r#"Ada <b>Lovelace</b> & "Co""#;
/// Long enough, but too common (`too_common`).
const WEAK_PASSWORD: &str = "password123";
/// How long a message may take to arrive.
const WAIT: Duration = Duration::from_secs(10);
/// How long to wait before saying that no (further) message came.
const QUIET: Duration = Duration::from_millis(1500);

/// The test settings on `backend` with the SMTP test server, fast retries and short polls.
fn mail_settings(backend: Backend) -> Settings {
    let mut settings = match backend {
        Backend::Mongodb => mongodb_settings(),
        other => test_settings(other),
    };
    settings.mail.smtp_url = Some(smtp_url().into());
    settings.mail.from = "accounts@users-api.test".into();
    settings.mail.poll_interval_ms = 100;
    settings.mail.retry_base_seconds = 1;
    settings.mail.retry_max_seconds = 2;
    settings.mail.max_attempts = 3;
    settings.mail.send_timeout_seconds = 5;
    settings
}

/// An address no other test (nor any other run on the same SMTP server) uses; `label` starts
/// its local part (`refuse…` and `tempfail…` make the server refuse it).
fn address(label: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!(
        "{label}-{}-{nanos}-{}@example.com",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A request to the accounts routes of app `site`, with a bearer token (an access token or an
/// API key) when given; no `Origin` (a server or a native app calling).
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("x-app-id", "site");
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

async fn post(app: &TestApp, path: &str, bearer: Option<&str>, body: Value) -> (u16, Value) {
    read(send(app, Method::POST, path, bearer, Some(body)).await).await
}

async fn get(app: &TestApp, path: &str, bearer: Option<&str>) -> (u16, Value) {
    read(send(app, Method::GET, path, bearer, None).await).await
}

/// The `data` of an accounts-envelope success with `status`.
fn data(answer: (u16, Value), status: u16, what: &str) -> Value {
    let (actual, body) = answer;
    assert_eq!(actual, status, "{what}: {body}");
    assert_eq!(body["success"], true, "{what}: {body}");
    body["data"].clone()
}

/// Asserts an accounts-envelope error: status and code.
fn assert_error(answer: &(u16, Value), status: u16, code: &str, what: &str) {
    let (actual, body) = answer;
    assert_eq!(
        (*actual, body["error"]["code"].as_str().unwrap_or_default()),
        (status, code),
        "{what}: {body}"
    );
    assert_eq!(body["success"], false, "{what}: {body}");
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("a string, not {value}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Set-up: the app, its operator, accounts, organizations.

/// The application with app `site` ("App site") and the dashboard cookie of a platform admin.
struct Site {
    app: TestApp,
    operator: String,
}

async fn site(settings: Settings) -> Site {
    let app = spawn_with(settings).await;
    app.create_app("site").await;
    app.create_admin().await;
    let operator = app.admin_session().await;
    Site { app, operator }
}

/// An account that is logged in.
#[derive(Debug, Clone)]
struct Account {
    id: String,
    email: String,
    token: String,
    refresh: String,
}

impl Account {
    fn of(data: &Value) -> Self {
        Self {
            id: text(&data["user"]["id"]),
            email: text(&data["user"]["email"]),
            token: text(&data["token"]),
            refresh: text(&data["refresh_token"]),
        }
    }
}

async fn register(app: &TestApp, email: &str, name: &str) -> Account {
    let answer = post(
        app,
        "/v1/auth/register",
        None,
        json!({"email": email, "password": PASSWORD, "name": name}),
    )
    .await;
    Account::of(&data(answer, 201, "register"))
}

async fn log_in(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    post(
        app,
        "/v1/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await
}

async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    get(app, "/v1/users/me", Some(token)).await
}

/// An API key of `site` with every built-in permission.
async fn api_key(app: &TestApp) -> String {
    app.services
        .api_keys
        .create(
            &AdminAccess::command_line().app("site"),
            NewApiKey {
                name: "backend".to_owned(),
                role: Some("tenant_admin".to_owned()),
                permissions: Vec::new(),
                expires_at: None,
            },
        )
        .await
        .expect("create key")
        .key
}

/// An organization of `site` created by `bearer` (its creator becomes its admin); its id.
async fn organization(app: &TestApp, bearer: &str, name: &str) -> String {
    let created = data(
        post(
            app,
            "/v1/organizations",
            Some(bearer),
            json!({"name": name}),
        )
        .await,
        201,
        "create organization",
    );
    text(&created["id"])
}

/// Lets any account of `site` create organizations (the default asks for a verified address).
async fn allow_any_account_to_create_organizations(app: &TestApp) {
    app.services
        .apps
        .update_app(
            &AdminAccess::command_line().app("site"),
            AppChanges::default(),
            AccountSwitches {
                organization_creation: Some(OrganizationCreation::AnyAccount),
                ..AccountSwitches::default()
            },
        )
        .await
        .expect("update app");
}

/// A registered account that created an organization and is its admin: (admin, org id).
async fn organization_with_admin(app: &TestApp, name: &str) -> (Account, String) {
    allow_any_account_to_create_organizations(app).await;
    let admin = register(app, &address("boss"), "Charles Babbage").await;
    let org = organization(app, &admin.token, name).await;
    (admin, org)
}

async fn invite(app: &TestApp, bearer: &str, org: &str, body: Value) -> (u16, Value) {
    post(
        app,
        &format!("/v1/organizations/{org}/invites"),
        Some(bearer),
        body,
    )
    .await
}

/// The pending invitations of `org`, as `bearer` lists them.
async fn pending_invitations(app: &TestApp, bearer: &str, org: &str) -> Vec<Value> {
    let listed = data(
        get(
            app,
            &format!("/v1/organizations/{org}/invites"),
            Some(bearer),
        )
        .await,
        200,
        "list invitations",
    );
    listed["invites"].as_array().expect("invites").clone()
}

/// The members of `org` with `email`, as the API key reads them.
async fn members_with_email(app: &TestApp, key: &str, org: &str, email: &str) -> Vec<Value> {
    let page = data(
        get(
            app,
            &format!("/v1/organizations/{org}/users?limit=500"),
            Some(key),
        )
        .await,
        200,
        "members",
    );
    page["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|member| member["email"] == email)
        .cloned()
        .collect()
}

/// The role of `account_data` (an `AccountUser`) in `org`, if it is a member.
fn role_in(user: &Value, org: &str) -> Option<String> {
    user["organizations"]
        .as_array()
        .expect("organizations")
        .iter()
        .find(|joined| joined["id"] == org)
        .map(|joined| text(&joined["role"]))
}

// ---------------------------------------------------------------------------------------------
// The mailbox and the e-mail log.

/// Waits for the `n`-th message (1-based) to `to` and returns it.
async fn nth_mail(to: &str, n: usize) -> Delivered {
    let mut found = Mailbox::from_env().wait_for(to, n, WAIT).await;
    found.swap_remove(n - 1)
}

/// Waits for the first message to `to`, then asserts that no second one comes.
async fn the_only_mail(to: &str) -> Delivered {
    let first = nth_mail(to, 1).await;
    tokio::time::sleep(QUIET).await;
    let all = Mailbox::from_env().delivered_to(to);
    assert_eq!(all.len(), 1, "exactly one message to {to}: {all:#?}");
    first
}

/// Asserts that no message reaches `to` within [`QUIET`].
async fn assert_no_mail(to: &str) {
    Mailbox::from_env().assert_none_for(to, QUIET).await;
}

/// Asserts that `to` got exactly `count` messages, after [`QUIET`].
async fn assert_mail_count(to: &str, count: usize) {
    tokio::time::sleep(QUIET).await;
    let all = Mailbox::from_env().delivered_to(to);
    assert_eq!(all.len(), count, "messages to {to}: {all:#?}");
}

/// The token of the link in the text part.
fn token_of(mail: &Delivered) -> String {
    let text = mail.text.as_deref().expect("a text part");
    link_token(text).unwrap_or_else(|| panic!("a link with a token in {text}"))
}

/// The lower-hex SHA-256 of a link's token: what the store keeps.
fn hash_of(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The display name of a `From` header (`"Name" <address>` or `Name <address>`).
fn display_name(from: &str) -> &str {
    from.split('<')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_matches('"')
}

/// The address of a `From` header.
fn from_address(from: &str) -> &str {
    from.rsplit('<')
        .next()
        .unwrap_or_default()
        .trim_end_matches('>')
}

/// `site`'s e-mail log as its operator reads it, with `query` (`status=…`, `limit=…`).
async fn outbox(app: &TestApp, operator: &str, query: &str) -> Vec<Value> {
    let (status, body) = app
        .dashboard_get(&format!("/v1/apps/site/mail/messages?{query}"), operator)
        .await;
    assert_eq!(status, 200, "{body}");
    body["messages"].as_array().expect("messages").clone()
}

/// The log's messages to `to`, newest first.
async fn logged_for(app: &TestApp, operator: &str, to: &str) -> Vec<Value> {
    outbox(app, operator, "limit=500")
        .await
        .into_iter()
        .filter(|message| message["to"] == to)
        .collect()
}

/// Polls the log until its newest message to `to` satisfies `done` (within `timeout`), and
/// returns it; panics with the message as it was.
async fn wait_in_log(
    app: &TestApp,
    operator: &str,
    to: &str,
    timeout: Duration,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let newest = logged_for(app, operator, to).await.into_iter().next();
        if let Some(message) = &newest
            && done(message)
        {
            return message.clone();
        }
        assert!(
            Instant::now() < deadline,
            "waited {timeout:?} for the message to {to} to be {what}: {newest:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Verification.

/// Registering sends one verification message (the app's name in the sender and subject, the
/// link to the built-in page in the text and the HTML); opening it verifies the address, shows
/// the data a lead left before registering, and works only once. A resend right after the
/// registration is too soon (429 with Retry-After within the 60 s interval).
async fn a_verification_link_verifies_the_address_once(settings: Settings) {
    let Site { app, operator } = site(settings).await;
    let email = address("verify");
    let lead = app
        .submit(
            "site",
            json!({"email": email, "data": {"fullName": "Ada Lovelace", "plan": "pro", "consentRequired": true}}),
        )
        .await;
    assert_eq!(lead.status(), 200);
    let ada = register(&app, &email, NAME_WITH_MARKUP).await;
    let (_, before) = me(&app, &ada.token).await;
    assert_eq!(before["data"]["email_verified"], false, "{before}");
    assert_eq!(before["data"]["data"], json!({}), "hidden until verified");

    let mail = the_only_mail(&email).await;
    assert_eq!(mail.subject, "Confirm your email address for App site");
    assert_eq!(display_name(&mail.from), "App site", "{}", mail.from);
    assert_eq!(from_address(&mail.from), "accounts@users-api.test");
    assert_eq!(mail.mail_from, "accounts@users-api.test");
    assert_eq!(mail.to, email);
    assert_eq!(mail.content_type, "multipart/alternative");
    let token = token_of(&mail);
    let link = first_link(mail.text.as_deref().expect("text")).expect("a link");
    assert!(
        link.starts_with("https://users-api.test/account/verify-email?token="),
        "{link}"
    );
    let html = mail.html.as_deref().expect("an HTML part");
    assert_eq!(
        link_token(html).as_deref(),
        Some(token.as_str()),
        "the HTML carries the same link: {html}"
    );
    assert!(
        html.contains("Hello Ada &lt;b&gt;Lovelace&lt;/b&gt; &amp; &quot;Co&quot;,"),
        "the name is escaped in HTML: {html}"
    );
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        mail.text
            .as_deref()
            .is_some_and(|text| text.contains(&format!("Hello {NAME_WITH_MARKUP},"))),
        "the text part has the name as written: {mail:#?}"
    );

    let too_soon = send(
        &app,
        Method::POST,
        "/v1/auth/verify-email/resend",
        Some(&ada.token),
        None,
    )
    .await;
    let retry_after: u64 = too_soon
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("Retry-After in seconds");
    assert!(
        (50..=60).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_error(
        &read(too_soon).await,
        429,
        "rate_limited",
        "a resend at once",
    );

    let answer = post(&app, "/v1/auth/verify-email", None, json!({"token": token})).await;
    let verified = data(answer, 200, "verify");
    assert_eq!(
        verified,
        json!({"email": email, "email_verified": true, "joined_organizations": []})
    );
    let (status, after) = me(&app, &ada.token).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["data"]["email_verified"], true, "{after}");
    assert_eq!(
        after["data"]["data"],
        json!({"fullName": "Ada Lovelace", "plan": "pro", "consentRequired": true}),
        "the lead's data shows once the address is verified"
    );

    let again = post(&app, "/v1/auth/verify-email", None, json!({"token": token})).await;
    assert_error(&again, 400, "invalid_link", "the same link again");
    let unknown = post(
        &app,
        "/v1/auth/verify-email",
        None,
        json!({"token": "not-a-token-we-issued"}),
    )
    .await;
    assert_error(&unknown, 400, "invalid_link", "an unknown token");

    let logged = logged_for(&app, &operator, &email).await;
    assert_eq!(logged.len(), 1, "{logged:#?}");
    assert_eq!(logged[0]["kind"], "verify_email");
    assert_eq!(logged[0]["status"], "sent");
    assert_eq!(logged[0]["attempts"], 1);
    assert_eq!(logged[0]["subject"], mail.subject);
}

// ---------------------------------------------------------------------------------------------
// 2. Resend.

/// A resend (once the interval has passed; 2 s here) sends a new link and the older one stops
/// working; a second resend at once is 429 with Retry-After; once verified, a resend answers
/// `sent: false` and sends nothing.
async fn a_resend_replaces_the_older_link_and_waits_its_interval(mut settings: Settings) {
    settings.mail.resend_interval_seconds = 2;
    let Site { app, .. } = site(settings).await;
    let email = address("resend");
    let ada = register(&app, &email, "Ada").await;
    let first = token_of(&nth_mail(&email, 1).await);

    let resend = || async {
        send(
            &app,
            Method::POST,
            "/v1/auth/verify-email/resend",
            Some(&ada.token),
            None,
        )
        .await
    };
    let too_soon = resend().await;
    assert_eq!(too_soon.status(), 429);
    let retry_after = too_soon
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .expect("Retry-After in seconds");
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    assert_error(
        &read(too_soon).await,
        429,
        "rate_limited",
        "resend too soon",
    );

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let sent = data(read(resend().await).await, 202, "resend");
    assert_eq!(sent["sent"], true, "{sent}");
    let second = token_of(&nth_mail(&email, 2).await);
    assert_ne!(first, second, "a new link");
    let quick = read(resend().await).await;
    assert_error(&quick, 429, "rate_limited", "a second resend at once");

    let old = post(&app, "/v1/auth/verify-email", None, json!({"token": first})).await;
    assert_error(&old, 400, "invalid_link", "the replaced link");
    let verified = data(
        post(
            &app,
            "/v1/auth/verify-email",
            None,
            json!({"token": second}),
        )
        .await,
        200,
        "the new link",
    );
    assert_eq!(verified["email_verified"], true);

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let nothing = data(read(resend().await).await, 202, "resend when verified");
    assert_eq!(nothing["sent"], false, "{nothing}");
    assert_mail_count(&email, 2).await;
}

// ---------------------------------------------------------------------------------------------
// 3. Forgot and reset.

/// A reset link: a weak password is refused (422) and the link still works; a good one sets the
/// password (the old one no longer logs in), verifies the address, and ends every session (the
/// old refresh token at once, the old access token within about a second); the link works once.
async fn a_reset_link_sets_the_password_once_and_ends_every_session(settings: Settings) {
    let Site { app, .. } = site(settings).await;
    let email = address("reset");
    let ada = register(&app, &email, "Ada").await;
    nth_mail(&email, 1).await; // the verification message, left unopened
    let other_session = Account::of(&data(log_in(&app, &email, PASSWORD).await, 200, "login"));

    let asked = data(
        post(
            &app,
            "/v1/auth/password/forgot",
            None,
            json!({"email": email.to_uppercase()}),
        )
        .await,
        202,
        "forgot",
    );
    let mail = nth_mail(&email, 2).await;
    assert_eq!(mail.subject, "Reset your App site password");
    let link = first_link(mail.text.as_deref().expect("text")).expect("a link");
    assert!(
        link.starts_with("https://users-api.test/account/reset-password?token="),
        "{link}"
    );
    let token = token_of(&mail);
    assert_eq!(asked["sent"], true, "{asked}");

    let weak = post(
        &app,
        "/v1/auth/password/reset",
        None,
        json!({"token": token, "new_password": WEAK_PASSWORD}),
    )
    .await;
    assert_error(&weak, 422, "validation_failed", "a weak password");
    assert_eq!(
        weak.1["error"]["details"][0]["field"], "new_password",
        "{}",
        weak.1
    );
    assert_eq!(
        log_in(&app, &email, PASSWORD).await.0,
        200,
        "nothing changed yet"
    );

    let reset = data(
        post(
            &app,
            "/v1/auth/password/reset",
            None,
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await,
        200,
        "reset",
    );
    assert_eq!(reset, json!({"password_reset": true}));

    assert_error(
        &log_in(&app, &email, PASSWORD).await,
        401,
        "invalid_credentials",
        "the old password",
    );
    let fresh = Account::of(&data(
        log_in(&app, &email, NEW_PASSWORD).await,
        200,
        "the new password",
    ));
    for old in [&ada, &other_session] {
        let refreshed = post(
            &app,
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": old.refresh}),
        )
        .await;
        assert_eq!(refreshed.0, 401, "an old refresh token: {}", refreshed.1);
    }
    let deadline = Instant::now() + Duration::from_millis(1500);
    loop {
        let (status, body) = me(&app, &ada.token).await;
        if status == 401 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the old access token still works after 1.5 s: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, mine) = me(&app, &fresh.token).await;
    assert_eq!(
        mine["data"]["email_verified"], true,
        "the link reached the address"
    );

    let again = post(
        &app,
        "/v1/auth/password/reset",
        None,
        json!({"token": token, "new_password": "another fine passphrase"}),
    )
    .await;
    assert_error(&again, 400, "invalid_link", "the link a second time");
    assert_eq!(log_in(&app, &email, NEW_PASSWORD).await.0, 200);
}

/// `forgot` answers an unknown address exactly as a known one (status and body) and sends it
/// nothing; a second `forgot` for a known address within the interval sends no second message.
async fn forgot_password_answers_alike_for_unknown_addresses_and_sends_them_nothing(
    settings: Settings,
) {
    let Site { app, .. } = site(settings).await;
    let known = address("known");
    let unknown = address("unknown");
    register(&app, &known, "Ada").await;
    nth_mail(&known, 1).await;

    let for_known = post(
        &app,
        "/v1/auth/password/forgot",
        None,
        json!({"email": known}),
    )
    .await;
    let for_unknown = post(
        &app,
        "/v1/auth/password/forgot",
        None,
        json!({"email": unknown}),
    )
    .await;
    assert_eq!(for_known.0, 202, "{}", for_known.1);
    assert_eq!(for_known, for_unknown, "the same answer");
    nth_mail(&known, 2).await;
    assert_no_mail(&unknown).await;

    let again = post(
        &app,
        "/v1/auth/password/forgot",
        None,
        json!({"email": known}),
    )
    .await;
    assert_eq!(again, for_known);
    assert_mail_count(&known, 2).await;

    let malformed = post(
        &app,
        "/v1/auth/password/forgot",
        None,
        json!({"email": "not an address"}),
    )
    .await;
    assert_error(&malformed, 422, "validation_failed", "a malformed address");
}

/// Eight `forgot` requests for one address at once leave one usable reset link and send one
/// message: the per-address limit and the replacement of older links hold under concurrency.
async fn a_burst_of_forgot_requests_sends_one_message(settings: Settings) {
    let Site { app, .. } = site(settings).await;
    let email = address("burst");
    register(&app, &email, "Ada").await;
    nth_mail(&email, 1).await;
    let burst = (0..8).map(|_| {
        post(
            &app,
            "/v1/auth/password/forgot",
            None,
            json!({"email": email}),
        )
    });
    for (status, body) in futures::future::join_all(burst).await {
        assert_eq!(status, 202, "{body}");
    }
    nth_mail(&email, 2).await;
    let usable: Vec<OneTimeToken> = app
        .storage
        .list_usable_tokens("site", TokenPurpose::ResetPassword, None, Timestamp::now())
        .await
        .expect("list")
        .into_iter()
        .filter(|token| token.email == email)
        .collect();
    assert_eq!(usable.len(), 1, "one usable reset link: {usable:#?}");
    assert_mail_count(&email, 2).await;
}

// ---------------------------------------------------------------------------------------------
// 4. Tokens at rest and expiry.

/// A link's token has at least 256 bits and is stored only as its SHA-256, with the lifetime of
/// its kind (verification 24 h, reset 1 h); a link past its expiry is refused (400) on every
/// route, and a queued message whose link has expired is never sent.
async fn links_are_stored_hashed_and_expired_ones_are_refused_and_not_sent(settings: Settings) {
    let Site { app, operator } = site(settings).await;
    let email = address("expiry");
    let ada = register(&app, &email, "Ada").await;
    let secret = token_of(&nth_mail(&email, 1).await);
    assert!(
        secret.len() >= 43
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "at least 256 bits, URL-safe: {secret}"
    );
    assert_eq!(
        app.storage.find_token(&secret).await.expect("find"),
        None,
        "the token itself is not what is stored"
    );
    let stored = app
        .storage
        .find_token(&hash_of(&secret))
        .await
        .expect("find")
        .expect("stored under its SHA-256");
    assert_eq!(stored.purpose, TokenPurpose::VerifyEmail);
    assert_eq!(stored.user_id.as_deref(), Some(ada.id.as_str()));
    assert_eq!(stored.email, email);
    assert_eq!(
        stored.expires_at.as_unix_millis() - stored.created_at.as_unix_millis(),
        24 * 3600 * 1000
    );

    post(
        &app,
        "/v1/auth/password/forgot",
        None,
        json!({"email": email}),
    )
    .await;
    let reset_secret = token_of(&nth_mail(&email, 2).await);
    let reset = app
        .storage
        .find_token(&hash_of(&reset_secret))
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(reset.purpose, TokenPurpose::ResetPassword);
    assert_eq!(
        reset.expires_at.as_unix_millis() - reset.created_at.as_unix_millis(),
        3600 * 1000
    );

    // Expired tokens of each kind, planted with their messages.
    let now = Timestamp::now().as_unix_millis();
    let mut expired = Vec::new();
    for purpose in [TokenPurpose::VerifyEmail, TokenPurpose::ResetPassword] {
        let secret = format!("expired-{}-{}", purpose.as_str(), address("x"));
        let id = format!("planted-{}", purpose.as_str());
        let token = OneTimeToken {
            id: id.clone(),
            app_id: "site".to_owned(),
            purpose,
            token_hash: hash_of(&secret),
            user_id: Some(ada.id.clone()),
            email: email.clone(),
            organization_id: None,
            role: None,
            invited_by: None,
            message: None,
            // Issued now, as every issue is (so it is the newest of its kind and replaces
            // the real one on every store), and expired already.
            created_at: Timestamp::now(),
            expires_at: Timestamp::from_unix_millis(now - 1000),
            used_at: None,
        };
        let message = OutboxMessage {
            id: format!("0190aaaa-0000-7000-8000-00000000000{}", expired.len()),
            app_id: "site".to_owned(),
            kind: purpose.as_str().to_owned(),
            from: "accounts@users-api.test".to_owned(),
            to: email.clone(),
            subject: format!("planted expired {}", purpose.as_str()),
            text: format!("https://users-api.test/x?token={secret}"),
            html: String::new(),
            token_id: Some(id),
            status: MailStatus::Pending,
            attempts: 0,
            next_attempt_at: Timestamp::from_unix_millis(now),
            lease_owner: None,
            lease_until: None,
            last_error: None,
            created_at: Timestamp::from_unix_millis(now),
            sent_at: None,
        };
        app.storage
            .issue_token(&token, &message)
            .await
            .expect("plant an expired token");
        expired.push((purpose, secret, message.id));
    }
    for (purpose, secret, _) in &expired {
        let answer = match purpose {
            TokenPurpose::VerifyEmail => {
                post(
                    &app,
                    "/v1/auth/verify-email",
                    None,
                    json!({"token": secret}),
                )
                .await
            }
            _ => {
                post(
                    &app,
                    "/v1/auth/password/reset",
                    None,
                    json!({"token": secret, "new_password": NEW_PASSWORD}),
                )
                .await
            }
        };
        assert_error(&answer, 400, "invalid_link", purpose.as_str());
    }
    assert_eq!(
        log_in(&app, &email, PASSWORD).await.0,
        200,
        "password unchanged"
    );
    let (_, mine) = me(&app, &ada.token).await;
    assert_eq!(mine["data"]["email_verified"], false, "{mine}");

    for (purpose, _, message_id) in &expired {
        let deadline = Instant::now() + WAIT;
        loop {
            let message = logged_for(&app, &operator, &email)
                .await
                .into_iter()
                .find(|message| message["id"] == message_id.as_str())
                .expect("the planted message is in the log");
            if message["status"] == "failed" {
                assert!(text(&message["lastError"]).contains("expired"), "{message}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the message of an expired {} link is still {}",
                purpose.as_str(),
                message["status"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let subjects: Vec<String> = Mailbox::from_env()
        .delivered_to(&email)
        .into_iter()
        .map(|mail| mail.subject)
        .collect();
    assert!(
        subjects
            .iter()
            .all(|subject| !subject.starts_with("planted")),
        "an expired link was mailed: {subjects:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Invitations.

/// An invitation with a hostile message: the HTML part escapes it, the text part has it as
/// written, the accept page shows it; a new person accepts with a password and becomes a member
/// with the offered role, verified; the link then reads `accepted` and works no more; inviting
/// someone who is a member already is 409.
async fn an_invitation_escapes_its_message_and_a_new_person_accepts_it(settings: Settings) {
    let Site { app, .. } = site(settings).await;
    let (boss, org) = organization_with_admin(&app, "Analytical Engines").await;
    let grace = address("grace");
    let hostile = r#"<script>alert(1)</script> & "q""#;
    let created = data(
        invite(
            &app,
            &boss.token,
            &org,
            json!({"email": grace, "role": "guest", "message": hostile}),
        )
        .await,
        201,
        "invite",
    );
    assert_eq!(created["organization_id"], org.as_str());
    assert_eq!(created["email"], grace.as_str());
    assert_eq!(created["role"], "guest");
    assert_eq!(created["invited_by"], boss.id.as_str());
    assert_eq!(created["message"], hostile);
    for member in ["id", "created_at", "expires_at"] {
        assert!(created[member].is_string(), "{member}: {created}");
    }

    let mail = the_only_mail(&grace).await;
    assert_eq!(
        mail.subject,
        "Charles Babbage invites you to Analytical Engines on App site"
    );
    let html = mail.html.as_deref().expect("an HTML part");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    let plain = mail.text.as_deref().expect("a text part");
    assert!(plain.contains(hostile), "{plain}");
    let token = token_of(&mail);
    let link = first_link(plain).expect("a link");
    assert!(
        link.starts_with("https://users-api.test/account/accept-invite?token="),
        "{link}"
    );
    let stored = app
        .storage
        .find_token(&hash_of(&token))
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(
        stored.expires_at.as_unix_millis() - stored.created_at.as_unix_millis(),
        7 * 24 * 3600 * 1000
    );

    let page = data(
        get(&app, &format!("/v1/invites/{token}"), None).await,
        200,
        "the accept page",
    );
    assert_eq!(page["app_id"], "site");
    assert_eq!(page["app_name"], "App site");
    assert_eq!(page["organization_id"], org.as_str());
    assert_eq!(page["organization_name"], "Analytical Engines");
    assert_eq!(page["email"], grace.as_str());
    assert_eq!(page["role"], "guest");
    assert_eq!(page["inviter"], "Charles Babbage");
    assert_eq!(page["message"], hostile);
    assert_eq!(page["status"], "pending");
    assert_eq!(page["account_exists"], false);
    assert_eq!(page["expires_at"], created["expires_at"]);

    let no_password = post(&app, "/v1/invites/accept", None, json!({"token": token})).await;
    assert_error(&no_password, 422, "validation_failed", "no password");
    let accepted = data(
        post(
            &app,
            "/v1/invites/accept",
            None,
            json!({"token": token, "password": NEW_PASSWORD, "name": "Grace Hopper"}),
        )
        .await,
        200,
        "accept",
    );
    for member in ["token", "expires_at", "refresh_token"] {
        assert!(accepted[member].is_string(), "{member}: {accepted}");
    }
    let user = &accepted["user"];
    assert_eq!(user["email"], grace.as_str());
    assert_eq!(user["name"], "Grace Hopper");
    assert_eq!(user["email_verified"], true);
    assert_eq!(role_in(user, &org).as_deref(), Some("guest"), "{user}");
    let (_, mine) = me(&app, &text(&accepted["token"])).await;
    assert_eq!(role_in(&mine["data"], &org).as_deref(), Some("guest"));
    assert_eq!(
        log_in(&app, &grace, NEW_PASSWORD).await.0,
        200,
        "the chosen password logs in"
    );

    let page = data(
        get(&app, &format!("/v1/invites/{token}"), None).await,
        200,
        "the accepted link",
    );
    assert_eq!(page["status"], "accepted", "{page}");
    let twice = post(
        &app,
        "/v1/invites/accept",
        None,
        json!({"token": token, "password": NEW_PASSWORD}),
    )
    .await;
    assert_error(&twice, 400, "invalid_link", "accepting twice");
    assert!(
        pending_invitations(&app, &boss.token, &org)
            .await
            .is_empty()
    );

    let member = invite(&app, &boss.token, &org, json!({"email": grace})).await;
    assert_error(&member, 409, "already_member", "inviting a member");
    let creator = invite(&app, &boss.token, &org, json!({"email": boss.email})).await;
    assert_error(&creator, 409, "already_member", "inviting the creator");
    assert_mail_count(&grace, 1).await;
}

/// Inviting a pending address again replaces its invitation: one pending, the older link is
/// refused. Revoking ends a link and is 404 the second time; an invitation revoked before the
/// sender got to it is never mailed (a second instance with a sender starts only after the
/// revocation; an invitation that was not revoked goes out from it).
async fn a_new_invitation_replaces_the_older_and_a_revoked_one_is_not_sent(settings: Settings) {
    let mut quiet = settings.clone();
    quiet.mail.sender = false;
    let app = spawn_with(quiet).await;
    app.create_app("site").await;
    let key = api_key(&app).await;
    let org = organization(&app, &key, "Difference Engines").await;

    let replaced = address("replaced");
    let first = data(
        invite(
            &app,
            &key,
            &org,
            json!({"email": replaced, "role": "member"}),
        )
        .await,
        201,
        "invite",
    );
    let second = data(
        invite(
            &app,
            &key,
            &org,
            json!({"email": replaced, "role": "admin"}),
        )
        .await,
        201,
        "invite again",
    );
    assert_ne!(first["id"], second["id"]);
    let revoked = address("revoked");
    let doomed = data(
        invite(&app, &key, &org, json!({"email": revoked})).await,
        201,
        "invite to revoke",
    );
    let pending = pending_invitations(&app, &key, &org).await;
    let ids: Vec<&Value> = pending.iter().map(|invitation| &invitation["id"]).collect();
    assert_eq!(pending.len(), 2, "{pending:#?}");
    assert!(
        ids.contains(&&second["id"]) && ids.contains(&&doomed["id"]),
        "{pending:#?}"
    );

    let path = format!("/v1/organizations/{org}/invites/{}", text(&doomed["id"]));
    let (status, body) = read(send(&app, Method::DELETE, &path, Some(&key), None).await).await;
    assert_eq!(status, 200, "{body}");
    let again = read(send(&app, Method::DELETE, &path, Some(&key), None).await).await;
    assert_error(&again, 404, "not_found", "revoking twice");
    let pending = pending_invitations(&app, &key, &org).await;
    assert_eq!(pending.len(), 1, "{pending:#?}");
    assert_eq!(pending[0]["id"], second["id"]);
    assert_eq!(pending[0]["role"], "admin");

    // Now a sender runs, over the same store.
    let _sending = spawn_beside(&app, settings).await;
    let mails = Mailbox::from_env().wait_for(&replaced, 1, WAIT).await;
    assert_no_mail(&revoked).await;
    let mails_now = Mailbox::from_env().delivered_to(&replaced);
    assert!(
        !mails_now.is_empty() && mails_now.len() <= 2,
        "the replaced address: {mails:#?}"
    );
    // The newest link works, and is the admin one; the older one (if its message went out)
    // does not.
    let tokens: Vec<String> = mails_now.iter().map(token_of).collect();
    let mut working = Vec::new();
    for token in &tokens {
        let (status, page) = get(&app, &format!("/v1/invites/{token}"), None).await;
        if status == 200 {
            working.push(page["data"].clone());
        } else {
            assert_error(&(status, page), 400, "invalid_link", "the replaced link");
        }
    }
    assert_eq!(working.len(), 1, "one working link of {tokens:?}");
    assert_eq!(working[0]["role"], "admin", "{}", working[0]);

    // With the sender running: a mailed link that was replaced is refused, then a revoked one.
    let twice = address("twice");
    data(
        invite(&app, &key, &org, json!({"email": twice})).await,
        201,
        "invite",
    );
    let older = token_of(&nth_mail(&twice, 1).await);
    let newer_invitation = data(
        invite(&app, &key, &org, json!({"email": twice, "role": "guest"})).await,
        201,
        "invite again",
    );
    let newer = token_of(&nth_mail(&twice, 2).await);
    let accept = |token: &str| {
        post(
            &app,
            "/v1/invites/accept",
            None,
            json!({"token": token, "password": NEW_PASSWORD}),
        )
    };
    let page = get(&app, &format!("/v1/invites/{older}"), None).await;
    assert_error(&page, 400, "invalid_link", "the replaced link's page");
    assert_error(
        &accept(&older).await,
        400,
        "invalid_link",
        "accepting the replaced link",
    );
    let page = data(
        get(&app, &format!("/v1/invites/{newer}"), None).await,
        200,
        "the newer link's page",
    );
    assert_eq!(
        (&page["status"], &page["role"]),
        (&json!("pending"), &json!("guest"))
    );
    let path = format!(
        "/v1/organizations/{org}/invites/{}",
        text(&newer_invitation["id"])
    );
    let (status, body) = read(send(&app, Method::DELETE, &path, Some(&key), None).await).await;
    assert_eq!(status, 200, "{body}");
    let page = get(&app, &format!("/v1/invites/{newer}"), None).await;
    assert_error(&page, 400, "invalid_link", "the revoked link's page");
    assert_error(
        &accept(&newer).await,
        400,
        "invalid_link",
        "accepting the revoked link",
    );
    assert_error(
        &log_in(&app, &twice, NEW_PASSWORD).await,
        401,
        "invalid_credentials",
        "no account was made",
    );
}

/// Eight accepts of one invitation at once: exactly one succeeds, the others are refused
/// (the link is spent, or the account now exists), and there is one account and one
/// membership.
async fn racing_accepts_of_one_invitation_make_one_membership(settings: Settings) {
    let Site { app, .. } = site(settings).await;
    let key = api_key(&app).await;
    let org = organization(&app, &key, "Racers").await;
    let email = address("race");
    data(
        invite(&app, &key, &org, json!({"email": email, "role": "member"})).await,
        201,
        "invite",
    );
    let token = token_of(&nth_mail(&email, 1).await);
    let racers = (0..8).map(|_| {
        post(
            &app,
            "/v1/invites/accept",
            None,
            json!({"token": token, "password": NEW_PASSWORD}),
        )
    });
    let answers = futures::future::join_all(racers).await;
    let winners = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(winners, 1, "{answers:#?}");
    for answer in answers.iter().filter(|(status, _)| *status != 200) {
        let code = answer.1["error"]["code"].as_str().unwrap_or_default();
        assert!(
            (answer.0, code) == (400, "invalid_link")
                || (answer.0, code) == (401, "login_required"),
            "a losing accept: {answer:?}"
        );
    }
    let members = members_with_email(&app, &key, &org, &email).await;
    assert_eq!(members.len(), 1, "{members:#?}");
    let (_, accounts) = get(&app, &format!("/v1/users?q={email}"), Some(&key)).await;
    let same: Vec<&Value> = accounts["data"]["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|user| user["email"] == email.as_str())
        .collect();
    assert_eq!(same.len(), 1, "{accounts}");
}

/// An invitation to an address whose account has a password: the accept page says so;
/// accepting without a token is 401 `login_required`, with another account's token 403
/// `invitation_for_another_account` (the link stays usable), with its own 200 and the
/// membership with the offered role.
async fn an_existing_account_accepts_only_with_its_own_token(settings: Settings) {
    let Site { app, .. } = site(settings).await;
    let (boss, org) = organization_with_admin(&app, "Lovelace Labs").await;
    let email = address("eve");
    let eve = register(&app, &email, "Eve").await;
    nth_mail(&email, 1).await; // verification
    data(
        invite(
            &app,
            &boss.token,
            &org,
            json!({"email": email, "role": "admin"}),
        )
        .await,
        201,
        "invite",
    );
    let token = token_of(&nth_mail(&email, 2).await);
    let page = data(
        get(&app, &format!("/v1/invites/{token}"), None).await,
        200,
        "page",
    );
    assert_eq!(page["account_exists"], true, "{page}");

    let body = json!({"token": token});
    let anonymous = post(&app, "/v1/invites/accept", None, body.clone()).await;
    assert_error(&anonymous, 401, "login_required", "without a token");
    let with_password = post(
        &app,
        "/v1/invites/accept",
        None,
        json!({"token": token, "password": NEW_PASSWORD}),
    )
    .await;
    assert_error(
        &with_password,
        401,
        "login_required",
        "a new password does not take over an account",
    );
    let someone_else = post(&app, "/v1/invites/accept", Some(&boss.token), body.clone()).await;
    assert_error(
        &someone_else,
        403,
        "invitation_for_another_account",
        "another account's token",
    );
    let accepted = data(
        post(&app, "/v1/invites/accept", Some(&eve.token), body.clone()).await,
        200,
        "its own token",
    );
    assert_eq!(accepted["user"]["id"], eve.id.as_str());
    assert_eq!(
        role_in(&accepted["user"], &org).as_deref(),
        Some("admin"),
        "{accepted}"
    );
    assert_eq!(
        log_in(&app, &email, PASSWORD).await.0,
        200,
        "its password is unchanged"
    );
    let twice = post(&app, "/v1/invites/accept", Some(&eve.token), body).await;
    assert_error(&twice, 400, "invalid_link", "accepting twice");
}

// ---------------------------------------------------------------------------------------------
// 6. Admin-created accounts.

/// `POST /v1/users` with `send_invite: true` creates the account without a password and mails
/// an invitation; accepting it sets the password (the account and membership stay the same),
/// verifies the address and logs in; the password then logs in.
async fn an_admin_created_account_sets_its_password_through_the_invitation(settings: Settings) {
    let Site { app, .. } = site(settings).await;
    let key = api_key(&app).await;
    let org = organization(&app, &key, "Staff").await;
    let email = address("staff");
    let created = data(
        post(
            &app,
            "/v1/users",
            Some(&key),
            json!({"email": email, "name": "Mary Somerville", "role": "member", "organization_id": org, "send_invite": true}),
        )
        .await,
        201,
        "create user",
    );
    let user_id = text(&created["user"]["id"]);
    assert_eq!(created["user"]["has_password"], false, "{created}");
    assert_error(
        &log_in(&app, &email, NEW_PASSWORD).await,
        401,
        "invalid_credentials",
        "no password yet",
    );

    let mail = the_only_mail(&email).await;
    let token = token_of(&mail);
    let page = data(
        get(&app, &format!("/v1/invites/{token}"), None).await,
        200,
        "page",
    );
    assert_eq!(page["email"], email.as_str());
    assert_eq!(page["organization_id"], org.as_str());
    assert_eq!(page["account_exists"], false, "no password yet: {page}");

    let accepted = data(
        post(
            &app,
            "/v1/invites/accept",
            None,
            json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await,
        200,
        "accept",
    );
    assert_eq!(accepted["user"]["id"], user_id.as_str(), "the same account");
    assert_eq!(accepted["user"]["email_verified"], true);
    assert_eq!(accepted["user"]["name"], "Mary Somerville");
    assert_eq!(role_in(&accepted["user"], &org).as_deref(), Some("member"));
    assert_eq!(members_with_email(&app, &key, &org, &email).await.len(), 1);
    let logged_in = data(log_in(&app, &email, NEW_PASSWORD).await, 200, "login");
    assert_eq!(logged_in["user"]["id"], user_id.as_str());
    let (_, read_back) = get(&app, &format!("/v1/users/{user_id}"), Some(&key)).await;
    assert_eq!(read_back["data"]["has_password"], true, "{read_back}");
}

/// Registering with the `organization_id` of an organization that invited the address joins it
/// with the invitation's role once the verification link is opened (the invitation is spent
/// then), together with every organization whose email domains include the address's (as
/// `member`); before that the account is in none. Naming an organization with neither is 403.
async fn verification_joins_the_invited_organization_and_those_of_its_domain(settings: Settings) {
    let Site { app, .. } = site(settings).await;
    let key = api_key(&app).await;
    let invited = organization(&app, &key, "Invited").await;
    let by_domain = text(
        &data(
            post(
                &app,
                "/v1/organizations",
                Some(&key),
                json!({"name": "Everyone at example.com", "allowed_email_domains": ["example.com"]}),
            )
            .await,
            201,
            "an organization of a domain",
        )["id"],
    );
    let closed = organization(&app, &key, "Closed").await;
    let email = address("joiner");
    data(
        invite(
            &app,
            &key,
            &invited,
            json!({"email": email, "role": "guest"}),
        )
        .await,
        201,
        "invite",
    );
    let invitation = token_of(&nth_mail(&email, 1).await);

    let refused = post(
        &app,
        "/v1/auth/register",
        None,
        json!({"email": address("outsider"), "password": PASSWORD, "organization_id": closed}),
    )
    .await;
    assert_error(
        &refused,
        403,
        "organization_access_denied",
        "naming an organization that did not invite the address",
    );
    let joiner = Account::of(&data(
        post(
            &app,
            "/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "organization_id": invited}),
        )
        .await,
        201,
        "register into the inviting organization",
    ));
    let (_, before) = me(&app, &joiner.token).await;
    assert_eq!(
        before["data"]["organizations"],
        json!([]),
        "no membership before verification: {before}"
    );

    let verification = nth_mail(&email, 2).await;
    assert_eq!(
        verification.subject,
        "Confirm your email address for App site"
    );
    let verified = data(
        post(
            &app,
            "/v1/auth/verify-email",
            None,
            json!({"token": token_of(&verification)}),
        )
        .await,
        200,
        "verify",
    );
    let mut joined: Vec<String> = verified["joined_organizations"]
        .as_array()
        .expect("joined_organizations")
        .iter()
        .map(text)
        .collect();
    joined.sort();
    let mut expected = vec![invited.clone(), by_domain.clone()];
    expected.sort();
    assert_eq!(joined, expected, "{verified}");
    let (_, after) = me(&app, &joiner.token).await;
    assert_eq!(
        role_in(&after["data"], &invited).as_deref(),
        Some("guest"),
        "{after}"
    );
    assert_eq!(
        role_in(&after["data"], &by_domain).as_deref(),
        Some("member"),
        "{after}"
    );
    assert_eq!(role_in(&after["data"], &closed), None, "{after}");

    let page = data(
        get(&app, &format!("/v1/invites/{invitation}"), None).await,
        200,
        "the invitation's page",
    );
    assert_eq!(
        page["status"], "accepted",
        "spent by the verification: {page}"
    );
    let again = post(
        &app,
        "/v1/invites/accept",
        Some(&joiner.token),
        json!({"token": invitation}),
    )
    .await;
    assert_error(&again, 400, "invalid_link", "the spent invitation");
}

/// A resend's link still joins the organization named at registration (through its
/// invitation), and the first link no longer works.
async fn a_resend_keeps_the_organization_named_at_registration(mut settings: Settings) {
    settings.mail.resend_interval_seconds = 1;
    let Site { app, .. } = site(settings).await;
    let key = api_key(&app).await;
    let org = organization(&app, &key, "Named").await;
    let email = address("named");
    data(
        invite(&app, &key, &org, json!({"email": email, "role": "admin"})).await,
        201,
        "invite",
    );
    nth_mail(&email, 1).await;
    let joiner = Account::of(&data(
        post(
            &app,
            "/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "organization_id": org}),
        )
        .await,
        201,
        "register",
    ));
    let first = token_of(&nth_mail(&email, 2).await);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resent = data(
        post(
            &app,
            "/v1/auth/verify-email/resend",
            Some(&joiner.token),
            json!({}),
        )
        .await,
        202,
        "resend",
    );
    assert_eq!(resent["sent"], true, "{resent}");
    let second = token_of(&nth_mail(&email, 3).await);
    let old = post(&app, "/v1/auth/verify-email", None, json!({"token": first})).await;
    assert_error(&old, 400, "invalid_link", "the first link");
    let verified = data(
        post(
            &app,
            "/v1/auth/verify-email",
            None,
            json!({"token": second}),
        )
        .await,
        200,
        "the resent link",
    );
    assert_eq!(verified["joined_organizations"], json!([org]), "{verified}");
    let (_, mine) = me(&app, &joiner.token).await;
    assert_eq!(
        role_in(&mine["data"], &org).as_deref(),
        Some("admin"),
        "{mine}"
    );
}

/// An invitation whose organization was deleted leads nowhere: its page and accepting it are
/// 400 `invalid_link`, and no account is made for the address.
async fn an_invitation_to_a_deleted_organization_no_longer_works(settings: Settings) {
    let Site { app, .. } = site(settings).await;
    let key = api_key(&app).await;
    let org = organization(&app, &key, "Short-lived").await;
    let email = address("orphan");
    data(
        invite(&app, &key, &org, json!({"email": email})).await,
        201,
        "invite",
    );
    let token = token_of(&nth_mail(&email, 1).await);
    let (status, body) = read(
        send(
            &app,
            Method::DELETE,
            &format!("/v1/organizations/{org}"),
            Some(&key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let page = get(&app, &format!("/v1/invites/{token}"), None).await;
    assert_error(
        &page,
        400,
        "invalid_link",
        "the page of a deleted organization's invitation",
    );
    let accepted = post(
        &app,
        "/v1/invites/accept",
        None,
        json!({"token": token, "password": NEW_PASSWORD}),
    )
    .await;
    assert_error(
        &accepted,
        400,
        "invalid_link",
        "accepting a deleted organization's invitation",
    );
    assert_error(
        &log_in(&app, &email, NEW_PASSWORD).await,
        401,
        "invalid_credentials",
        "no account was made",
    );
}

/// An account an admin created and then disabled cannot use its set-password invitation: the
/// accept is refused (4xx, no tokens) and the account still cannot log in; a `forgot` for it
/// sends nothing.
async fn a_disabled_account_cannot_accept_its_set_password_invitation(settings: Settings) {
    let Site { app, .. } = site(settings).await;
    let key = api_key(&app).await;
    let org = organization(&app, &key, "Careful").await;
    let email = address("disabled");
    let created = data(
        post(
            &app,
            "/v1/users",
            Some(&key),
            json!({"email": email, "role": "member", "organization_id": org, "send_invite": true}),
        )
        .await,
        201,
        "create user",
    );
    let user_id = text(&created["user"]["id"]);
    let token = token_of(&nth_mail(&email, 1).await);
    let (status, body) = read(
        send(
            &app,
            Method::PUT,
            &format!("/v1/users/{user_id}"),
            Some(&key),
            Some(json!({"disabled": true})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["disabled"], true, "{body}");

    let (status, answer) = post(
        &app,
        "/v1/invites/accept",
        None,
        json!({"token": token, "password": NEW_PASSWORD}),
    )
    .await;
    assert!(
        (400..500).contains(&status) && answer["data"]["token"].is_null(),
        "a disabled account accepted its invitation and got tokens: {status} {answer}"
    );
    assert_error(
        &log_in(&app, &email, NEW_PASSWORD).await,
        401,
        "invalid_credentials",
        "a disabled account",
    );
    post(
        &app,
        "/v1/auth/password/forgot",
        None,
        json!({"email": email}),
    )
    .await;
    assert_mail_count(&email, 1).await;
}

// ---------------------------------------------------------------------------------------------
// 7. requireVerifiedEmail.

/// With `requireVerifiedEmail` set by an operator, login is 403 `email_not_verified` until the
/// verification link is opened, then 200.
async fn required_verification_holds_login_until_the_link_is_opened(settings: Settings) {
    let Site { app, operator } = site(settings).await;
    let (status, body) = read(
        app.dashboard(Method::PATCH, "/v1/apps/site", Some(&operator))
            .json(&json!({"requireVerifiedEmail": true}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["requireVerifiedEmail"], true, "{body}");

    let email = address("strict");
    post(
        &app,
        "/v1/auth/register",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    let token = token_of(&nth_mail(&email, 1).await);
    assert_error(
        &log_in(&app, &email, PASSWORD).await,
        403,
        "email_not_verified",
        "before verification",
    );
    assert_error(
        &log_in(&app, &email, "a wrong password entirely").await,
        401,
        "invalid_credentials",
        "a wrong password says nothing about verification",
    );
    data(
        post(&app, "/v1/auth/verify-email", None, json!({"token": token})).await,
        200,
        "verify",
    );
    let logged_in = data(
        log_in(&app, &email, PASSWORD).await,
        200,
        "after verification",
    );
    assert_eq!(logged_in["user"]["email_verified"], true);
}

// ---------------------------------------------------------------------------------------------
// 8. Operators' mail settings, preview, test send, log.

/// An operator's mail settings: a template with an unknown variable or without the link is
/// refused (422 naming the template); saved settings (sender name, accept URL, invitation
/// template) shape the next invitation (From, subject, link) and the preview; a test send arrives
/// with `[test]` in the subject; the log lists the messages as sent, and filters by status.
async fn an_apps_mail_settings_shape_its_next_invitation(settings: Settings) {
    let Site { app, operator } = site(settings).await;
    let put = |body: Value| {
        app.dashboard(Method::PUT, "/v1/apps/site/mail-settings", Some(&operator))
            .json(&body)
            .send()
    };
    let (status, initial) = app
        .dashboard_get("/v1/apps/site/mail-settings", &operator)
        .await;
    assert_eq!(status, 200, "{initial}");
    assert_eq!(initial["templates"], json!({}), "{initial}");
    assert_eq!(initial["fromAddress"], "accounts@users-api.test");
    assert_eq!(
        initial["defaults"]["acceptInviteUrl"],
        "https://users-api.test/account/accept-invite"
    );

    let refused = expect_error(
        put(json!({"templates": {"invitation": {
            "subject": "Join {{organisation}}",
            "text": "no link here",
            "html": "<p>none</p>",
        }}}))
        .await
        .expect("request"),
        422,
        "validation_failed",
    )
    .await;
    let problems: Vec<(String, String)> = refused["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|detail| (text(&detail["field"]), text(&detail["code"])))
        .collect();
    assert!(
        problems.contains(&(
            "templates.invitation.subject".to_owned(),
            "unknown_variable".to_owned()
        )),
        "{problems:?}"
    );
    assert!(
        problems.contains(&("templates.invitation".to_owned(), "missing_link".to_owned())),
        "{problems:?}"
    );

    let template = json!({
        "subject": "Join {{organization_name}} at {{app_name}}",
        "text": "Accept: {{link}}\n{{inviter}} wrote: {{message}}\n",
        "html": "<p><a href=\"{{link}}\">Join {{organization_name}}</a></p><p>{{message}}</p>",
    });
    let (status, saved) = read(
        put(json!({
            "senderName": "Acme Team",
            "acceptInviteUrl": "https://acme.example/join",
            "templates": {"invitation": template},
        }))
        .await
        .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["senderName"], "Acme Team");
    assert_eq!(saved["acceptInviteUrl"], "https://acme.example/join");
    assert_eq!(saved["templates"]["invitation"], template);

    let preview = |body: Value| {
        app.dashboard(
            Method::POST,
            "/v1/apps/site/mail-settings/preview",
            Some(&operator),
        )
        .json(&body)
        .send()
    };
    let (status, shown) = read(
        preview(json!({"kind": "invitation"}))
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(display_name(&text(&shown["from"])), "Acme Team", "{shown}");
    assert_eq!(
        from_address(&text(&shown["from"])),
        "accounts@users-api.test"
    );
    assert_eq!(shown["subject"], "Join Analytical Engines at App site");
    assert!(
        text(&shown["text"]).starts_with("Accept: https://acme.example/join?token="),
        "{shown}"
    );
    let unsaved = expect_error(
        preview(json!({"kind": "invitation", "template": {"subject": "{{nope}}", "text": "{{link}}", "html": "{{link}}"}}))
            .await
            .expect("request"),
        422,
        "validation_failed",
    )
    .await;
    assert!(
        unsaved.to_string().contains("unknown_variable"),
        "{unsaved}"
    );

    let key = api_key(&app).await;
    let org = organization(&app, &key, "Acme Research").await;
    let invited = address("acme");
    data(
        invite(
            &app,
            &key,
            &org,
            json!({"email": invited, "message": "Welcome aboard"}),
        )
        .await,
        201,
        "invite",
    );
    let mail = the_only_mail(&invited).await;
    assert_eq!(display_name(&mail.from), "Acme Team", "{}", mail.from);
    assert_eq!(from_address(&mail.from), "accounts@users-api.test");
    assert_eq!(mail.subject, "Join Acme Research at App site");
    let link = first_link(mail.text.as_deref().expect("text")).expect("a link");
    assert!(
        link.starts_with("https://acme.example/join?token="),
        "{link}"
    );
    assert!(
        mail.text
            .as_deref()
            .is_some_and(|t| t.contains("The App site team wrote: Welcome aboard")),
        "{mail:#?}"
    );
    let token = token_of(&mail);
    let page = data(
        get(&app, &format!("/v1/invites/{token}"), None).await,
        200,
        "the custom link's token is the invitation's",
    );
    assert_eq!(page["organization_id"], org.as_str());

    let tester = address("tester");
    let (status, queued) = read(
        app.dashboard(Method::POST, "/v1/apps/site/mail/test", Some(&operator))
            .json(&json!({"kind": "verify_email", "to": tester}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    let message_id = text(&queued["messageId"]);
    let test_mail = the_only_mail(&tester).await;
    assert_eq!(
        test_mail.subject,
        "[test] Confirm your email address for App site"
    );
    assert_eq!(display_name(&test_mail.from), "Acme Team");

    let logged = wait_in_log(&app, &operator, &tester, WAIT, "sent", |message| {
        message["status"] == "sent"
    })
    .await;
    assert_eq!(logged["id"], message_id.as_str());
    assert_eq!(logged["kind"], "test");
    assert_eq!(logged["attempts"], 1);
    assert!(logged["sentAt"].is_string(), "{logged}");
    assert_eq!(logged["lastError"], Value::Null);
    let sent = outbox(&app, &operator, "status=sent").await;
    assert!(sent.iter().all(|message| message["status"] == "sent"));
    for to in [&invited, &tester] {
        assert!(
            sent.iter().any(|message| message["to"] == to.as_str()),
            "{to} in {sent:#?}"
        );
    }
    assert!(outbox(&app, &operator, "status=failed").await.is_empty());
    let (status, body) = app
        .dashboard_get("/v1/apps/site/mail/messages?status=lost", &operator)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("validation_failed")),
        "{body}"
    );
}

// ---------------------------------------------------------------------------------------------
// 9–10. A refusing or unreachable mail server (memory and SQLite).

/// A recipient the server refuses for good (550) fails after one attempt with the answer in
/// `lastError`; one it defers (451) is retried and fails after `max_attempts` (3); mail to
/// others still goes meanwhile.
async fn refused_recipients_fail_and_other_mail_still_goes(settings: Settings) {
    let Site { app, operator } = site(settings).await;
    let refused = address("refuse");
    let deferred = address("tempfail");
    let fine = address("fine");
    for to in [&refused, &deferred, &fine] {
        register(&app, to, "Ada").await;
    }
    nth_mail(&fine, 1).await;

    let failed = wait_in_log(&app, &operator, &refused, WAIT, "failed", |message| {
        message["status"] == "failed"
    })
    .await;
    assert_eq!(failed["attempts"], 1, "no retry after a 550: {failed}");
    assert!(text(&failed["lastError"]).contains("550"), "{failed}");

    let retried = wait_in_log(&app, &operator, &deferred, WAIT, "retried", |message| {
        message["status"] == "pending" && message["attempts"].as_u64() >= Some(1)
    })
    .await;
    assert!(text(&retried["lastError"]).contains("451"), "{retried}");
    assert!(retried["nextAttemptAt"].is_string(), "{retried}");
    let given_up = wait_in_log(&app, &operator, &deferred, WAIT, "failed", |message| {
        message["status"] == "failed"
    })
    .await;
    assert_eq!(given_up["attempts"], 3, "{given_up}");
    assert!(text(&given_up["lastError"]).contains("451"), "{given_up}");

    let later = address("later");
    register(&app, &later, "Ada").await;
    the_only_mail(&later).await;
    assert_no_mail(&refused).await;
    assert!(Mailbox::from_env().delivered_to(&deferred).is_empty());
    assert_eq!(
        logged_for(&app, &operator, &fine).await[0]["status"],
        "sent"
    );
}

/// With the mail server unreachable (a closed port), a message stays pending with attempts and
/// the connection error, then fails after `max_attempts` (3); the request that queued it
/// succeeded all the same.
async fn an_unreachable_mail_server_keeps_messages_pending_then_fails_them(mut settings: Settings) {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    settings.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
    let Site { app, operator } = site(settings).await;
    let email = address("unreachable");
    register(&app, &email, "Ada").await;
    let waiting = wait_in_log(&app, &operator, &email, WAIT, "retried", |message| {
        message["status"] == "pending" && message["attempts"].as_u64() >= Some(1)
    })
    .await;
    assert!(
        waiting["lastError"]
            .as_str()
            .is_some_and(|error| !error.is_empty()),
        "{waiting}"
    );
    let failed = wait_in_log(&app, &operator, &email, WAIT, "failed", |message| {
        message["status"] == "failed"
    })
    .await;
    assert_eq!(failed["attempts"], 3, "{failed}");
    assert!(failed["lastError"].is_string(), "{failed}");
    assert_no_mail(&email).await;
}

// ---------------------------------------------------------------------------------------------
// 11. The development mailer.

/// Without `smtp_url` the development mailer "sends": the message is `sent` in the e-mail log
/// with its link in the text (which works), and nothing reaches any SMTP server.
async fn the_development_mailer_keeps_messages_in_the_log_only(mut settings: Settings) {
    settings.mail.smtp_url = None;
    let Site { app, operator } = site(settings).await;
    let email = address("devmail");
    register(&app, &email, "Ada").await;
    let logged = wait_in_log(&app, &operator, &email, WAIT, "sent", |message| {
        message["status"] == "sent"
    })
    .await;
    assert_eq!(logged["kind"], "verify_email");
    assert_eq!(logged["subject"], "Confirm your email address for App site");
    let token = link_token(&text(&logged["text"])).expect("the link in the logged text");
    data(
        post(&app, "/v1/auth/verify-email", None, json!({"token": token})).await,
        200,
        "the logged link works",
    );
    assert_no_mail(&email).await;
}

// ---------------------------------------------------------------------------------------------
// 13. Two instances.

/// Two instances over one store, each with its sender, registering 20 addresses between them:
/// every address gets its message exactly once, and the log shows each sent after one attempt.
async fn two_instances_deliver_each_message_once(settings: Settings) {
    let Site { app, operator } = site(settings.clone()).await;
    let second = spawn_beside(&app, settings).await;
    let addresses: Vec<String> = (0..20).map(|_| address("pair")).collect();
    let registrations = addresses.iter().enumerate().map(|(i, email)| {
        let instance = if i % 2 == 0 { &app } else { &second };
        post(
            instance,
            "/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD}),
        )
    });
    for (status, body) in futures::future::join_all(registrations).await {
        assert_eq!(status, 201, "{body}");
    }
    let mailbox = Mailbox::from_env();
    for email in &addresses {
        mailbox.wait_for(email, 1, WAIT).await;
    }
    tokio::time::sleep(QUIET).await;
    for email in &addresses {
        let count = mailbox.delivered_to(email).len();
        assert_eq!(count, 1, "{email} got {count} messages");
    }
    let log = outbox(&app, &operator, "limit=500").await;
    for email in &addresses {
        let mine: Vec<&Value> = log.iter().filter(|m| m["to"] == email.as_str()).collect();
        assert_eq!(mine.len(), 1, "{mine:#?}");
        assert_eq!(mine[0]["status"], "sent", "{}", mine[0]);
        assert_eq!(mine[0]["attempts"], 1, "{}", mine[0]);
    }
}

use reqwest::Method;
use serde_json::json;
use server::Backend;

use crate::helpers::*;

crate::on_every_backend!(
    an_owner_logs_in_and_sees_its_session,
    an_admin_logs_in_and_sees_its_session,
    bad_credentials_get_one_generic_401,
    login_issues_a_new_session_id_every_time,
    a_logged_out_cookie_replayed_is_refused,
    a_tampered_cookie_is_refused,
    a_password_rotation_ends_the_owners_sessions,
    deleting_the_app_ends_its_owners_sessions,
    a_re_created_app_does_not_revive_the_old_apps_sessions,
    a_rotated_out_session_stays_ended_when_the_app_is_re_created,
    auth_users_lists_the_owners_own_users,
);

async fn an_owner_logs_in_and_sees_its_session(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    let response = app
        .login(json!({"sourceAppId": "site", "password": password}))
        .await;
    let set_cookie = session_set_cookie(&response).expect("set-cookie");
    let lower = set_cookie.to_ascii_lowercase();
    assert!(lower.contains("httponly"), "{set_cookie}");
    assert!(lower.contains("samesite=strict"), "{set_cookie}");
    assert!(lower.contains("secure"), "{set_cookie}");
    assert!(lower.contains("path=/"), "{set_cookie}");
    let cookie = session_cookie(&response).expect("cookie");
    let (status, body) = read(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"ok": true, "role": "owner", "sourceAppId": "site"})
    );
    let (status, body) = app.dashboard_get("/auth/session", &cookie).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"role": "owner", "sourceAppId": "site"}));
}

async fn an_admin_logs_in_and_sees_its_session(app: &TestApp) {
    app.create_admin().await;
    let response = app
        .login(json!({"email": "  ADMIN@example.com ", "password": ADMIN_PASSWORD}))
        .await;
    let cookie = session_cookie(&response).expect("cookie");
    let (status, body) = read(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"ok": true, "role": "admin"}));
    let (status, body) = app.dashboard_get("/auth/session", &cookie).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"role": "admin", "email": ADMIN_EMAIL}));
}

async fn bad_credentials_get_one_generic_401(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    app.create_admin().await;
    let attempts = [
        json!({"sourceAppId": "site", "password": "wrong"}),
        json!({"sourceAppId": "nope", "password": password}),
        json!({"sourceAppId": "not an id!", "password": password}),
        json!({"email": ADMIN_EMAIL, "password": "wrong"}),
        json!({"email": "nobody@example.com", "password": ADMIN_PASSWORD}),
    ];
    let mut messages = Vec::new();
    for attempt in attempts {
        let response = app.login(attempt.clone()).await;
        assert!(session_cookie(&response).is_none(), "{attempt}");
        let body = expect_error(response, 401, "invalid_credentials").await;
        messages.push(body["error"]["message"].clone());
    }
    assert!(
        messages.iter().all(|m| m == "Invalid credentials"),
        "{messages:?}"
    );
    // Neither or both identifiers, or no password: a malformed request, not a failed login.
    for body in [
        json!({"password": "x"}),
        json!({"sourceAppId": "site", "email": ADMIN_EMAIL, "password": "x"}),
        json!({"sourceAppId": "site"}),
    ] {
        expect_error(app.login(body).await, 422, "validation_failed").await;
    }
    let deleted = app.create_app_with_password("gone").await;
    app.services
        .apps
        .delete_app(&domain::AdminAccess::command_line(), "gone")
        .await
        .expect("delete");
    expect_error(
        app.login(json!({"sourceAppId": "gone", "password": deleted}))
            .await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn login_issues_a_new_session_id_every_time(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    let first = app.owner_session("site", &password).await;
    // Logging in again while holding a session (a planted one, in a fixation attack) gives a
    // different cookie; the server keeps no state, so the new one is all that counts.
    let response = app
        .dashboard(Method::POST, "/auth/login", Some(&first))
        .json(&json!({"sourceAppId": "site", "password": password}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let second = session_cookie(&response).expect("cookie");
    assert_ne!(first, second);
    assert_eq!(app.dashboard_get("/auth/session", &second).await.0, 200);
}

async fn a_logged_out_cookie_replayed_is_refused(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    let cookie = app.owner_session("site", &password).await;
    let response = app
        .dashboard(Method::POST, "/auth/logout", Some(&cookie))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let removal = session_set_cookie(&response).expect("the cookie is removed");
    assert!(
        removal.starts_with("users_api_session=;") || removal.contains("Max-Age=0"),
        "{removal}"
    );
    // The old cookie, replayed (a copy kept by an attacker), no longer works.
    expect_error(
        app.dashboard(Method::GET, "/auth/session", Some(&cookie))
            .send()
            .await
            .expect("request"),
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(app.dashboard_get("/v1/apps/site", &cookie).await.0, 401);
}

async fn a_tampered_cookie_is_refused(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    let cookie = app.owner_session("site", &password).await;
    let (name, value) = cookie.split_once('=').expect("name=value");
    let mut bytes = value.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{name}={}", String::from_utf8(bytes).expect("ascii"));
    expect_error(
        app.dashboard(Method::GET, "/auth/session", Some(&tampered))
            .send()
            .await
            .expect("request"),
        401,
        "unauthenticated",
    )
    .await;
    let forged = "users_api_session={\"auth\":\"{\\\"role\\\":\\\"admin\\\"}\"}";
    assert_eq!(app.dashboard_get("/auth/session", forged).await.0, 401);
    assert_eq!(app.dashboard_get("/v1/apps", forged).await.0, 401);
}

async fn a_password_rotation_ends_the_owners_sessions(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    let owner = app.owner_session("site", &password).await;
    app.create_admin().await;
    let admin = app.admin_session().await;
    let (status, body) = read(
        app.dashboard(Method::POST, "/v1/apps/site/password", Some(&admin))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let new_password = body["password"].as_str().expect("password").to_owned();
    assert_ne!(new_password, password);
    expect_error(
        app.dashboard(Method::GET, "/auth/session", Some(&owner))
            .send()
            .await
            .expect("request"),
        401,
        "unauthenticated",
    )
    .await;
    expect_error(
        app.login(json!({"sourceAppId": "site", "password": password}))
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    let renewed = app.owner_session("site", &new_password).await;
    assert_eq!(app.dashboard_get("/auth/session", &renewed).await.0, 200);
    assert_eq!(app.dashboard_get("/auth/session", &admin).await.0, 200);
}

async fn deleting_the_app_ends_its_owners_sessions(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    let owner = app.owner_session("site", &password).await;
    app.services
        .apps
        .delete_app(&domain::AdminAccess::command_line(), "site")
        .await
        .expect("delete");
    assert_eq!(app.dashboard_get("/auth/session", &owner).await.0, 401);
    assert_eq!(
        app.dashboard_get("/v1/apps/site/users", &owner).await.0,
        401
    );
}

/// Every route that a session of the new `app-c` could reach, as `cookie`: all must be 401.
async fn assert_session_is_dead(app: &TestApp, cookie: &str) {
    for path in [
        "/auth/session",
        "/auth/users",
        "/v1/apps/app-c",
        "/v1/apps/app-c/users",
        "/v1/apps/app-c/users/export?format=ndjson",
    ] {
        let (status, body) = app.dashboard_get(path, cookie).await;
        assert_eq!(status, 401, "{path}: {body}");
    }
    let response = app
        .dashboard(Method::PATCH, "/v1/apps/app-c", Some(cookie))
        .json(&json!({"name": "Taken over"}))
        .send()
        .await
        .expect("request");
    expect_error(response, 401, "unauthenticated").await;
    let name = app
        .services
        .apps
        .find_app(&domain::AdminAccess::command_line().app("app-c"))
        .await
        .expect("the new app")
        .name;
    assert_eq!(name, "App app-c");
}

async fn a_re_created_app_does_not_revive_the_old_apps_sessions(app: &TestApp) {
    let password = app.create_app_with_password("app-c").await;
    let old = app.owner_session("app-c", &password).await;
    app.services
        .apps
        .delete_app(&domain::AdminAccess::command_line(), "app-c")
        .await
        .expect("delete");
    assert_eq!(app.dashboard_get("/auth/session", &old).await.0, 401);
    // A new tenant under the same id, with data of its own.
    let new_password = app.create_app_with_password("app-c").await;
    app.submit("app-c", signup("new-tenant@example.com")).await;
    assert_session_is_dead(app, &old).await;
    // The new app's owner is not affected.
    let fresh = app.owner_session("app-c", &new_password).await;
    assert_eq!(app.dashboard_get("/auth/session", &fresh).await.0, 200);
}

async fn a_rotated_out_session_stays_ended_when_the_app_is_re_created(app: &TestApp) {
    let password = app.create_app_with_password("app-c").await;
    let old = app.owner_session("app-c", &password).await;
    app.services
        .apps
        .rotate_password(&domain::AdminAccess::command_line(), "app-c")
        .await
        .expect("rotate");
    assert_eq!(app.dashboard_get("/auth/session", &old).await.0, 401);
    // Deleting and re-creating starts the app's credentials over: the cookie must not count.
    app.services
        .apps
        .delete_app(&domain::AdminAccess::command_line(), "app-c")
        .await
        .expect("delete");
    app.create_app_with_password("app-c").await;
    app.submit("app-c", signup("new-tenant@example.com")).await;
    assert_session_is_dead(app, &old).await;
}

async fn auth_users_lists_the_owners_own_users(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    app.create_app("other").await;
    app.submit("site", signup("mine@example.com")).await;
    app.submit("other", signup("theirs@example.com")).await;
    let owner = app.owner_session("site", &password).await;
    let (status, alias) = app.dashboard_get("/auth/users", &owner).await;
    assert_eq!(status, 200, "{alias}");
    let (_, direct) = app.dashboard_get("/v1/apps/site/users", &owner).await;
    assert_eq!(alias, direct);
    let emails: Vec<&str> = alias["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["email"].as_str().expect("email"))
        .collect();
    assert_eq!(emails, ["mine@example.com"]);
    assert_eq!(alias["nextCursor"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends() {
    let mut settings = test_settings(Backend::Memory);
    settings.session.idle_timeout_minutes = 0;
    let app = spawn_with(settings).await;
    let password = app.create_app_with_password("site").await;
    let cookie = app.owner_session("site", &password).await;
    expect_error(
        app.dashboard(Method::GET, "/auth/session", Some(&cookie))
            .send()
            .await
            .expect("request"),
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_logins_are_rate_limited_per_account_and_per_address() {
    let mut settings = test_settings(Backend::Memory);
    settings.rate_limit.enabled = true;
    settings.rate_limit.login_per_account_burst = 3;
    settings.rate_limit.login_per_account_interval_seconds = 60;
    settings.rate_limit.login_per_ip_burst = 6;
    settings.rate_limit.login_per_ip_interval_seconds = 60;
    let app = spawn_with(settings).await;
    let password = app.create_app_with_password("site").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = app
            .login(json!({"sourceAppId": "site", "password": "guess"}))
            .await;
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let retry_after: u64 = response.headers()["retry-after"]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("seconds");
            assert!(retry_after >= 1);
            expect_error(response, 429, "rate_limited").await;
        }
    }
    assert_eq!(statuses, [401, 401, 401, 429], "per account");
    // Even the right password waits: the account is being guessed at.
    assert_eq!(
        app.login(json!({"sourceAppId": "site", "password": password}))
            .await
            .status(),
        429
    );
    // Other accounts from the same address: it has used 5 of its 6 attempts.
    assert_eq!(
        app.login(json!({"sourceAppId": "a", "password": "x"}))
            .await
            .status(),
        401
    );
    assert_eq!(
        app.login(json!({"sourceAppId": "b", "password": "x"}))
            .await
            .status(),
        429,
        "per address"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_public_origin_is_the_only_one_accepted() {
    let mut settings = test_settings(Backend::Memory);
    settings.session.public_origin = Some("https://Users.Example.com/".into());
    let app = spawn_with(settings).await;
    let password = app.create_app_with_password("site").await;
    let own_address = app.address.clone();
    for (origin, expected) in [
        ("https://users.example.com", 200),
        (own_address.as_str(), 403),
    ] {
        let response = app
            .client
            .post(app.url("/auth/login"))
            .header("origin", origin)
            .json(&json!({"sourceAppId": "site", "password": password}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), expected, "{origin}");
    }
}

/// Operators' sessions are rows of the session store: a logout made on one instance holds on
/// another one over the same store (and would across a restart), even for a copy of the cookie.
async fn a_logout_holds_on_every_instance(backend: Backend) {
    let mut settings = test_settings(backend);
    // One session key for both instances, as a deployment behind a load balancer has.
    settings.session.secret_key = Some(
        "c2Vzc2lvbiBrZXkgc2Vzc2lvbiBrZXkgc2Vzc2lvbiBrZXkgc2Vzc2lvbiBrZXkgc2Vzc2lvbiBrZXkgc2Vzc2lvbiBr"
            .to_owned()
            .into(),
    );
    let first = spawn_with(settings.clone()).await;
    let second = spawn_beside(&first, settings).await;
    first.create_admin().await;
    let cookie = first.admin_session().await;
    assert_eq!(second.dashboard_get("/auth/session", &cookie).await.0, 200);
    let out = first
        .dashboard(Method::POST, "/auth/logout", Some(&cookie))
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 200);
    assert_eq!(
        second.dashboard_get("/auth/session", &cookie).await.0,
        401,
        "the copied cookie is refused by the other instance"
    );
    assert_eq!(first.dashboard_get("/auth/session", &cookie).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_holds_on_every_instance_on_memory() {
    a_logout_holds_on_every_instance(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_holds_on_every_instance_on_sqlite() {
    a_logout_holds_on_every_instance(Backend::Sqlite).await;
}

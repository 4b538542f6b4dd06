use server::Backend;

use crate::helpers::*;

fn limited(per_ip_burst: u32, per_app_burst: u32, trusted: &[&str]) -> server::Settings {
    let mut settings = test_settings(Backend::Memory);
    settings.rate_limit.enabled = true;
    settings.rate_limit.per_ip_per_second = 1;
    settings.rate_limit.per_ip_burst = per_ip_burst;
    settings.rate_limit.per_app_per_second = 1;
    settings.rate_limit.per_app_burst = per_app_burst;
    settings.rate_limit.trusted_proxies = trusted.iter().map(|s| (*s).to_owned()).collect();
    settings
}

async fn statuses(
    app: &TestApp,
    count: usize,
    forwarded_for: impl Fn(usize) -> Option<String>,
) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..count {
        let mut request = app
            .post_users("site")
            .json(&signup(&format!("u{i}@example.com")));
        if let Some(ip) = forwarded_for(i) {
            request = request.header("x-forwarded-for", ip);
        }
        let response = request.send().await.expect("request");
        if response.status() == 429 {
            let retry_after: u64 = response.headers()["retry-after"]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("seconds");
            assert!(retry_after >= 1);
            expect_error(response, 429, "rate_limited").await;
            statuses.push(429);
        } else {
            statuses.push(response.status().as_u16());
        }
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_ip_limit_gets_429_with_retry_after() {
    let app = spawn_with(limited(3, 1000, &[])).await;
    app.create_app("site").await;
    assert_eq!(statuses(&app, 5, |_| None).await, [200, 200, 200, 429, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_can_read_its_rate_limit_answer() {
    let app = spawn_with(limited(1, 1000, &[])).await;
    app.create_app("site").await;
    let send = || {
        app.post_users("site")
            .header("origin", "https://site.example")
            .json(&signup("a@example.com"))
            .send()
    };
    assert_eq!(send().await.expect("request").status(), 200);
    let limited = send().await.expect("request");
    assert_eq!(
        limited.headers()["access-control-allow-origin"],
        "https://site.example"
    );
    assert!(
        limited.headers()["access-control-expose-headers"]
            .to_str()
            .expect("ascii")
            .contains("retry-after")
    );
    expect_error(limited, 429, "rate_limited").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = spawn_with(limited(2, 1000, &[])).await;
    app.create_app("site").await;
    let spoofed = statuses(&app, 4, |i| Some(format!("198.51.100.{i}"))).await;
    assert_eq!(
        spoofed,
        [200, 200, 429, 429],
        "a client cannot escape its limit by forging the header"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let app = spawn_with(limited(2, 1000, &["127.0.0.0/8"])).await;
    app.create_app("site").await;
    let distinct = statuses(&app, 4, |i| Some(format!("198.51.100.{i}"))).await;
    assert_eq!(distinct, [200, 200, 200, 200]);
    let same = statuses(&app, 3, |_| Some("203.0.113.1".to_owned())).await;
    assert_eq!(same, [200, 200, 429]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_over_its_limit_gets_429_whatever_the_client() {
    let app = spawn_with(limited(1000, 3, &["127.0.0.1/32"])).await;
    app.create_app("site").await;
    assert_eq!(
        statuses(&app, 5, |i| Some(format!("198.51.100.{i}"))).await,
        [200, 200, 200, 429, 429]
    );
}

/// Logins limited per account as in production, with the client IP read from
/// `X-Forwarded-For` (the tests' peer, 127.0.0.1, is the trusted proxy).
fn login_limited(per_account_burst: u32, total_burst: u32) -> server::Settings {
    let mut settings = limited(1000, 1000, &["127.0.0.0/8"]);
    settings.rate_limit.login_per_ip_burst = 100;
    settings.rate_limit.login_per_account_burst = per_account_burst;
    settings.rate_limit.login_per_account_interval_seconds = 60;
    settings.rate_limit.login_per_account_total_burst = total_burst;
    settings.rate_limit.login_per_account_total_interval_seconds = 60;
    settings
}

async fn login_from(app: &TestApp, ip: &str, body: serde_json::Value) -> reqwest::Response {
    app.client
        .post(app.url("/auth/login"))
        .header("origin", &app.address)
        .header("x-forwarded-for", ip)
        .json(&body)
        .send()
        .await
        .expect("request")
}

const ATTACKER: &str = "203.0.113.66";
const OWNER: &str = "198.51.100.7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_failing_on_an_account_cannot_lock_its_owner_out() {
    let app = spawn_with(login_limited(3, 30)).await;
    let password = app.create_app_with_password("site").await;
    let guess = serde_json::json!({"sourceAppId": "site", "password": "guess"});
    let right = serde_json::json!({"sourceAppId": "site", "password": password});
    for _ in 0..3 {
        assert_eq!(
            login_from(&app, ATTACKER, guess.clone()).await.status(),
            401
        );
    }
    for body in [&guess, &right] {
        let refused = login_from(&app, ATTACKER, body.clone()).await;
        let retry_after: u64 = refused.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        expect_error(refused, 429, "rate_limited").await;
    }
    // The owner, elsewhere, logs in; successes do not count, so again and again.
    for _ in 0..5 {
        let response = login_from(&app, OWNER, right.clone()).await;
        assert_eq!(response.status(), 200);
        assert!(session_cookie(&response).is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_ids_that_differ_only_in_case_are_limited_apart() {
    let app = spawn_with(login_limited(2, 30)).await;
    let password = app.create_app_with_password("app-b").await;
    for _ in 0..2 {
        let response = login_from(
            &app,
            ATTACKER,
            serde_json::json!({"sourceAppId": "APP-B", "password": "guess"}),
        )
        .await;
        assert_eq!(response.status(), 401);
    }
    let response = login_from(
        &app,
        ATTACKER,
        serde_json::json!({"sourceAppId": "app-b", "password": password}),
    )
    .await;
    assert_eq!(response.status(), 200, "app-b is not APP-B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_from_many_addresses_spend_the_accounts_own_budget() {
    let app = spawn_with(login_limited(2, 4)).await;
    let password = app.create_app_with_password("site").await;
    for attacker in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..2 {
            let response = login_from(
                &app,
                attacker,
                serde_json::json!({"sourceAppId": "site", "password": "guess"}),
            )
            .await;
            assert_eq!(response.status(), 401);
        }
    }
    let refused = login_from(
        &app,
        OWNER,
        serde_json::json!({"sourceAppId": "site", "password": password}),
    )
    .await;
    expect_error(refused, 429, "rate_limited").await;
}

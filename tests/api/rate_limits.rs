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

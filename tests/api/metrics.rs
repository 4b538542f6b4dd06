//! `GET /metrics` on its own address: requests by route pattern and status, latency, sign-up
//! outcomes and store errors; never on the public port.

use serde_json::json;
use server::Backend;

use crate::helpers::*;

async fn spawn_with_metrics(backend: Backend) -> (TestApp, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let mut settings = test_settings(backend);
    settings.metrics.enabled = true;
    settings.metrics.address = format!("127.0.0.1:{port}");
    (
        spawn_with(settings).await,
        format!("http://127.0.0.1:{port}"),
    )
}

/// The value of the sample `name{labels}`, or `None` when there is no such line.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.parse().ok()
    })
}

async fn metrics_count_requests_sign_ups_and_store_errors(backend: Backend) {
    let (app, metrics) = spawn_with_metrics(backend).await;
    app.create_app("site").await;
    for i in 0..3 {
        let response = app
            .submit("site", signup(&format!("u{i}@example.com")))
            .await;
        assert_eq!(response.status(), 200);
    }
    let invalid = app
        .submit("site", json!({"email": "v@example.com", "data": {}}))
        .await;
    assert_eq!(invalid.status(), 422);
    let foreign = app
        .post_users("site")
        .header("origin", "https://evil.example")
        .json(&signup("o@example.com"))
        .send()
        .await
        .expect("request");
    assert_eq!(foreign.status(), 403);
    assert_eq!(
        app.submit("nope", signup("n@example.com")).await.status(),
        404
    );
    app.set_storage_down(true);
    assert_eq!(
        app.submit("site", signup("d@example.com")).await.status(),
        503
    );
    app.set_storage_down(false);
    let management = app
        .client
        .get(app.url("/v1/apps/site"))
        .send()
        .await
        .expect("request");
    assert_eq!(management.status(), 401);

    let scraped = app
        .client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        scraped.headers()
    );
    let text = scraped.text().await.expect("body");
    let requests = |route: &str, method: &str, status: u16| {
        sample(
            &text,
            &format!(
                "users_api_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
            ),
        )
    };
    assert_eq!(requests("/v1/users", "POST", 200), Some(3.0), "{text}");
    assert_eq!(requests("/v1/users", "POST", 422), Some(1.0), "{text}");
    assert_eq!(requests("/v1/users", "POST", 403), Some(1.0), "{text}");
    assert_eq!(requests("/v1/users", "POST", 503), Some(1.0), "{text}");
    // The route pattern, never the raw path.
    assert_eq!(
        requests("/v1/apps/{appId}", "GET", 401),
        Some(1.0),
        "{text}"
    );
    assert!(!text.contains("/v1/apps/site"), "{text}");
    assert_eq!(
        sample(
            &text,
            "users_api_http_request_duration_seconds_count{route=\"/v1/users\"}"
        ),
        Some(7.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "users_api_http_request_duration_seconds_bucket{route=\"/v1/users\",le=\"+Inf\"}"
        ),
        Some(7.0),
        "{text}"
    );
    for (outcome, count) in [
        ("accepted", 3.0),
        ("validation", 1.0),
        ("origin", 1.0),
        ("unknown_app", 1.0),
        ("server_error", 1.0),
        ("rate_limited", 0.0),
    ] {
        assert_eq!(
            sample(
                &text,
                &format!("users_api_signups_total{{outcome=\"{outcome}\"}}")
            ),
            Some(count),
            "{outcome}: {text}"
        );
    }
    assert_eq!(
        sample(&text, "users_api_store_errors_total{kind=\"unavailable\"}"),
        Some(1.0),
        "{text}"
    );

    // The public port does not serve them.
    let public = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request");
    let body = public.text().await.expect("body");
    assert!(!body.contains("users_api_http_requests_total"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_sign_ups_and_store_errors_on_memory() {
    metrics_count_requests_sign_ups_and_store_errors(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_sign_ups_and_store_errors_on_sqlite() {
    metrics_count_requests_sign_ups_and_store_errors(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_by_default() {
    let settings = test_settings(Backend::Memory);
    assert!(!settings.metrics.enabled);
    assert_eq!(settings.metrics.address, "127.0.0.1:9090");
    let app = spawn_with(settings).await;
    let public = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request");
    let body = public.text().await.expect("body");
    assert!(!body.contains("users_api_"), "{body}");
}

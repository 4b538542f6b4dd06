use domain::NewApp;

use crate::helpers::*;

crate::on_every_backend!(
    preflights_are_answered_for_any_origin,
    an_allowed_origin_may_read_the_answer,
    a_foreign_origin_is_refused_without_cors_headers,
    requests_without_an_origin_are_not_origin_checked,
    a_wildcard_app_accepts_any_origin,
    validation_errors_are_readable_by_an_allowed_origin,
);

async fn preflights_are_answered_for_any_origin(app: &TestApp) {
    for path in ["/v1/users", "/v1/schema"] {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", "https://anyone.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type, x-app-id")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 204);
        let headers = response.headers();
        assert_eq!(
            headers["access-control-allow-origin"],
            "https://anyone.example"
        );
        assert!(
            headers["access-control-allow-headers"]
                .to_str()
                .expect("ascii")
                .contains("x-app-id")
        );
        assert!(
            headers["access-control-allow-methods"]
                .to_str()
                .expect("ascii")
                .contains("POST")
        );
        assert!(headers.contains_key("access-control-max-age"));
    }
}

async fn an_allowed_origin_may_read_the_answer(app: &TestApp) {
    app.create_app("site").await;
    let response = app
        .post_users("site")
        .header("origin", "https://site.example")
        .json(&signup("a@example.com"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://site.example"
    );
    assert_eq!(response.headers()["vary"], "Origin");
}

async fn a_foreign_origin_is_refused_without_cors_headers(app: &TestApp) {
    app.create_app("site").await;
    for origin in [
        "https://evil.example",
        "http://site.example",
        "https://site.example.evil.example",
        "null",
    ] {
        let response = app
            .post_users("site")
            .header("origin", origin)
            .json(&signup("a@example.com"))
            .send()
            .await
            .expect("request");
        assert!(
            !response
                .headers()
                .contains_key("access-control-allow-origin"),
            "{origin}"
        );
        expect_error(response, 403, "origin_not_allowed").await;
    }
    let response = app
        .client
        .get(app.url("/v1/schema"))
        .header("x-app-id", "site")
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("request");
    expect_error(response, 403, "origin_not_allowed").await;
    assert_eq!(app.user_count("site").await, 0);
}

async fn requests_without_an_origin_are_not_origin_checked(app: &TestApp) {
    app.create_app("site").await;
    assert_eq!(
        app.submit("site", signup("server@example.com"))
            .await
            .status(),
        200
    );
}

async fn a_wildcard_app_accepts_any_origin(app: &TestApp) {
    app.create_app_with(NewApp {
        id: "open".into(),
        name: "Open".into(),
        allowed_origins: vec!["*".into()],
        ..Default::default()
    })
    .await;
    let response = app
        .post_users("open")
        .header("origin", "https://whoever.example")
        .json(&serde_json::json!({"email": "a@example.com"}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://whoever.example"
    );
}

async fn validation_errors_are_readable_by_an_allowed_origin(app: &TestApp) {
    app.create_app("site").await;
    let response = app
        .post_users("site")
        .header("origin", "https://site.example")
        .json(&serde_json::json!({"email": "nope"}))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://site.example"
    );
    expect_error(response, 422, "validation_failed").await;
}

use serde_json::json;

use crate::helpers::*;

crate::on_every_backend!(
    a_missing_app_id_header_is_400_with_the_original_message,
    a_malformed_app_id_header_is_400_with_the_original_message,
    an_unknown_app_is_404,
    malformed_json_is_400,
    a_json_body_that_is_not_an_object_is_400,
    other_content_types_are_415,
    bodies_over_16_kib_are_413,
    wrong_methods_and_unknown_paths_get_the_error_envelope,
);

async fn a_missing_app_id_header_is_400_with_the_original_message(app: &TestApp) {
    let response = app
        .client
        .post(app.url("/v1/users"))
        .json(&signup("a@example.com"))
        .send()
        .await
        .expect("request");
    let body = expect_error(response, 400, "bad_request").await;
    assert_eq!(body["error"]["message"], "Missing x-app-id header");
    let response = app
        .client
        .get(app.url("/v1/schema"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        expect_error(response, 400, "bad_request").await["error"]["message"],
        "Missing x-app-id header"
    );
}

async fn a_malformed_app_id_header_is_400_with_the_original_message(app: &TestApp) {
    for bad in ["has space", "slash/", "$where", &"x".repeat(81), ""] {
        let response = app.submit(bad, signup("a@example.com")).await;
        let body = expect_error(response, 400, "bad_request").await;
        assert_eq!(
            body["error"]["message"], "Invalid x-app-id header",
            "{bad:?}"
        );
    }
}

async fn an_unknown_app_is_404(app: &TestApp) {
    expect_error(
        app.submit("no-such-app", signup("a@example.com")).await,
        404,
        "unknown_app",
    )
    .await;
    let response = app
        .client
        .get(app.url("/v1/schema"))
        .header("x-app-id", "no-such-app")
        .send()
        .await
        .expect("request");
    expect_error(response, 404, "unknown_app").await;
}

async fn malformed_json_is_400(app: &TestApp) {
    app.create_app("site").await;
    for body in [
        "{",
        "{\"email\": }",
        "not json",
        "{\"email\": \"a@b.io\"} trailing",
        "",
    ] {
        let response = app
            .post_users("site")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        expect_error(response, 400, "invalid_json").await;
    }
}

async fn a_json_body_that_is_not_an_object_is_400(app: &TestApp) {
    app.create_app("site").await;
    for body in [json!([1, 2]), json!("text"), json!(42), json!(null)] {
        expect_error(app.submit("site", body).await, 400, "invalid_json").await;
    }
}

async fn other_content_types_are_415(app: &TestApp) {
    app.create_app("site").await;
    let body = signup("a@example.com").to_string();
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/xml",
    ] {
        let response = app
            .post_users("site")
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .expect("request");
        expect_error(response, 415, "unsupported_media_type").await;
    }
    let response = app
        .post_users("site")
        .body(body)
        .send()
        .await
        .expect("request");
    expect_error(response, 415, "unsupported_media_type").await;
    let response = app
        .post_users("site")
        .header("content-type", "application/json; charset=utf-8")
        .body(signup("a@example.com").to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        200,
        "parameters on the JSON media type are fine"
    );
}

async fn bodies_over_16_kib_are_413(app: &TestApp) {
    app.create_app("site").await;
    let mut data = valid_data();
    data["fullName"] = json!("x".repeat(17 * 1024));
    expect_error(
        app.submit("site", json!({"email": "a@example.com", "data": data}))
            .await,
        413,
        "payload_too_large",
    )
    .await;
    // Without Content-Length (chunked), the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 1024])).collect();
    let response = app
        .post_users("site")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("request");
    expect_error(response, 413, "payload_too_large").await;
    assert_eq!(app.user_count("site").await, 0);
}

async fn wrong_methods_and_unknown_paths_get_the_error_envelope(app: &TestApp) {
    // (`GET /v1/users` is the accounts listing since organizations came; PATCH never was.)
    let response = app
        .client
        .patch(app.url("/v1/users"))
        .send()
        .await
        .expect("request");
    expect_error(response, 405, "method_not_allowed").await;
    let response = app
        .client
        .delete(app.url("/v1/schema"))
        .send()
        .await
        .expect("request");
    expect_error(response, 405, "method_not_allowed").await;
    // Unknown API paths, under any method, get the JSON envelope...
    for path in [
        "/v1/nowhere",
        "/auth/nowhere",
        "/v1/apps/site/nowhere/deeper",
    ] {
        let response = app.client.get(app.url(path)).send().await.expect("request");
        expect_error(response, 404, "not_found").await;
    }
    let response = app
        .client
        .post(app.url("/nowhere"))
        .send()
        .await
        .expect("request");
    expect_error(response, 404, "not_found").await;
    // ...while a GET of any other path belongs to the dashboard (a single-page app routes it
    // itself): its page, or, with no dashboard built, the page that says how to build it.
    let response = app
        .client
        .get(app.url("/nowhere"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
}

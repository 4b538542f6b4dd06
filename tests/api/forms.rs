use domain::NewApp;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

crate::on_every_backend!(
    a_plain_html_form_is_stored_and_redirected,
    a_form_redirects_to_the_apps_thank_you_page,
    a_bad_form_gets_an_html_page_listing_the_problems,
    a_form_from_a_foreign_page_is_refused,
    a_form_without_an_app_id_is_400,
    a_refused_forms_page_names_the_origin_and_how_to_serve_the_form,
    the_error_page_names_fields_by_their_labels,
    a_failed_form_redirects_to_the_apps_error_page,
    only_an_admin_sets_the_error_page_and_it_must_be_a_url,
);

const FORM: &str = "application/x-www-form-urlencoded";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn a_plain_html_form_is_stored_and_redirected(app: &TestApp) {
    app.create_app("site").await;
    let body = "_appId=site&email=Form%40Example.com&fullName=Zo%C3%AB+Form&age=42&plan=pro&consentRequired=on&website=";
    let response = no_redirects()
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .header("origin", "https://site.example")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/v1/thanks");
    let page = app
        .client
        .get(app.url("/v1/thanks"))
        .send()
        .await
        .expect("request");
    assert!(page.text().await.expect("text").contains("Thank you"));
    let users = app
        .storage
        .list_users("site", &storage_port::UserQuery::first(10))
        .await
        .expect("list")
        .users;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].email, "form@example.com");
    assert_eq!(
        serde_json::Value::Object(users[0].data.clone()),
        serde_json::json!({"fullName": "Zoë Form", "age": 42, "plan": "pro", "consentRequired": true})
    );
}

async fn a_form_redirects_to_the_apps_thank_you_page(app: &TestApp) {
    app.create_app_with(NewApp {
        id: "thanks".into(),
        name: "Thanks".into(),
        allowed_origins: vec!["https://site.example".into()],
        thank_you_url: Some("https://site.example/thank-you".into()),
        ..Default::default()
    })
    .await;
    let response = no_redirects()
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .header("referer", "https://site.example/signup?x=1")
        .body("_appId=thanks&email=a%40example.com")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "https://site.example/thank-you"
    );
}

async fn a_bad_form_gets_an_html_page_listing_the_problems(app: &TestApp) {
    app.create_app("site").await;
    let response = no_redirects()
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", "https://site.example/signup")
        .body("_appId=site&email=nope&fullName=%3Cscript%3Ealert(1)%3C%2Fscript%3E&age=abc&plan=pro&consentRequired=on")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 422);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let page = response.text().await.expect("text");
    assert!(page.contains("must be a valid email address"), "{page}");
    assert!(page.contains("must be a number"), "{page}");
    assert!(
        !page.contains("<script>"),
        "user input is never echoed as markup"
    );
    assert!(page.contains(r#"href="https://site.example/signup""#));
    // Without Accept: text/html, the JSON envelope.
    let response = app
        .client
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .body("_appId=site&email=nope")
        .send()
        .await
        .expect("request");
    expect_error(response, 422, "validation_failed").await;
    assert_eq!(app.user_count("site").await, 0);
}

async fn a_form_from_a_foreign_page_is_refused(app: &TestApp) {
    app.create_app("site").await;
    let body = "_appId=site&email=a%40example.com&fullName=Ada&plan=pro&consentRequired=on";
    let by_referer = app
        .client
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .header("referer", "https://evil.example/page")
        .body(body)
        .send()
        .await
        .expect("request");
    expect_error(by_referer, 403, "origin_not_allowed").await;
    let by_origin = app
        .client
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .header("origin", "https://evil.example")
        .body(body)
        .send()
        .await
        .expect("request");
    expect_error(by_origin, 403, "origin_not_allowed").await;
    assert_eq!(app.user_count("site").await, 0);
}

async fn a_form_without_an_app_id_is_400(app: &TestApp) {
    let response = app
        .client
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .body("email=a%40example.com")
        .send()
        .await
        .expect("request");
    expect_error(response, 400, "bad_request").await;
    let response = app
        .client
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .body("_appId=bad%20id&email=a%40example.com")
        .send()
        .await
        .expect("request");
    expect_error(response, 400, "bad_request").await;
}

fn html_form(app: &TestApp) -> reqwest::RequestBuilder {
    no_redirects()
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .header("accept", "text/html,application/xhtml+xml")
}

async fn a_refused_forms_page_names_the_origin_and_how_to_serve_the_form(app: &TestApp) {
    app.create_app("site").await;
    let body = "_appId=site&email=a%40example.com&fullName=Ada&plan=pro&consentRequired=on";
    // A form opened from a file (file://) sends `Origin: null`.
    let response = html_form(app)
        .header("origin", "null")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 403);
    let page = response.text().await.expect("text");
    assert!(page.contains("<code>null</code>"), "{page}");
    assert!(page.contains("python3 -m http.server 8000"), "{page}");
    assert!(page.contains("http://localhost:8000"), "{page}");
    let response = html_form(app)
        .header("referer", "https://evil.example/page?<b>")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 403);
    let page = response.text().await.expect("text");
    assert!(page.contains("<code>https://evil.example</code>"), "{page}");
    assert!(!page.contains("http.server"), "{page}");
    assert_eq!(app.user_count("site").await, 0);
}

async fn the_error_page_names_fields_by_their_labels(app: &TestApp) {
    app.create_app("site").await;
    let response = html_form(app)
        .header("origin", "https://site.example")
        .body("_appId=site&email=a%40example.com&fullName=Ada&plan=pro&age=7")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 422);
    let page = response.text().await.expect("text");
    assert!(
        page.contains("<strong>I agree to the terms</strong> is required"),
        "{page}"
    );
    assert!(
        page.contains("<strong>Age</strong> must be at least 13"),
        "{page}"
    );
    assert!(!page.contains("consentRequired"), "{page}");
    let response = html_form(app)
        .header("origin", "https://site.example")
        .body("_appId=site&email=nope&fullName=Ada&plan=pro&consentRequired=on")
        .send()
        .await
        .expect("request");
    let page = response.text().await.expect("text");
    assert!(page.contains("<strong>Email</strong>"), "{page}");
}

/// Creates `site` through the admin API with an error page, and the example schema.
async fn create_with_error_url(app: &TestApp, error_url: &str) {
    app.create_admin().await;
    let admin = app.admin_session().await;
    let (status, body) = read(
        app.dashboard(Method::POST, "/v1/apps", Some(&admin))
            .json(&json!({"sourceAppId": "site", "name": "Site",
                "allowedOrigins": ["https://site.example"], "errorUrl": error_url}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["app"]["errorUrl"], error_url);
    app.set_schema("site", example_schema()).await;
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

async fn a_failed_form_redirects_to_the_apps_error_page(app: &TestApp) {
    create_with_error_url(app, "https://site.example/oops?from=form#top").await;
    let response = html_form(app)
        .header("origin", "https://site.example")
        .body("_appId=site&email=nope&fullName=Ada&plan=pro")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "https://site.example/oops?from=form&error=validation_failed&field=email&field=consentRequired#top"
    );
    // Refused origins go there too, without a field; so do clients that do not ask for HTML.
    let response = no_redirects()
        .post(app.url("/v1/users"))
        .header("content-type", FORM)
        .header("origin", "null")
        .body("_appId=site&email=a%40example.com&fullName=Ada&plan=pro&consentRequired=on")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303);
    assert_eq!(
        location(&response),
        "https://site.example/oops?from=form&error=origin_not_allowed#top"
    );
    assert_eq!(app.user_count("site").await, 0);
    // Before the app is known there is no error page to go to.
    let response = html_form(app)
        .body("_appId=nope&email=a%40example.com")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
    // JSON submissions keep their JSON errors.
    expect_error(
        app.post_users("site")
            .header("origin", "https://site.example")
            .json(&json!({"email": "nope", "data": {}}))
            .send()
            .await
            .expect("request"),
        422,
        "validation_failed",
    )
    .await;
    // Success still goes to the thank-you page.
    let response = html_form(app)
        .header("origin", "https://site.example")
        .body("_appId=site&email=a%40example.com&fullName=Ada&plan=pro&consentRequired=on")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/v1/thanks");
}

async fn only_an_admin_sets_the_error_page_and_it_must_be_a_url(app: &TestApp) {
    let password = app.create_app_with_password("owned").await;
    let owner = app.owner_session("owned", &password).await;
    expect_error(
        app.dashboard(Method::PATCH, "/v1/apps/owned", Some(&owner))
            .json(&json!({"errorUrl": "https://x.example/oops"}))
            .send()
            .await
            .expect("request"),
        403,
        "forbidden",
    )
    .await;
    app.create_admin().await;
    let admin = app.admin_session().await;
    let patch = |body: Value| {
        app.dashboard(Method::PATCH, "/v1/apps/owned", Some(&admin))
            .json(&body)
            .send()
    };
    for bad in ["/oops", "javascript:alert(1)", "https://x.example/a b"] {
        let error = expect_error(
            patch(json!({"errorUrl": bad})).await.expect("request"),
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(error["error"]["details"][0]["field"], "errorUrl", "{error}");
    }
    let (status, body) = read(
        patch(json!({"errorUrl": "https://x.example/oops"}))
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errorUrl"], "https://x.example/oops");
    let (_, body) = app.dashboard_get("/v1/apps/owned", &owner).await;
    assert_eq!(body["errorUrl"], "https://x.example/oops");
    let (status, body) = read(patch(json!({"errorUrl": null})).await.expect("request")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errorUrl"], Value::Null);
}

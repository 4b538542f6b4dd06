use domain::NewApp;

use crate::helpers::*;

crate::on_every_backend!(
    a_plain_html_form_is_stored_and_redirected,
    a_form_redirects_to_the_apps_thank_you_page,
    a_bad_form_gets_an_html_page_listing_the_problems,
    a_form_from_a_foreign_page_is_refused,
    a_form_without_an_app_id_is_400,
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
        .services
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

//! A fresh install: `GET /auth/setup` tells the login page that no admin exists yet.

use serde_json::json;

use crate::helpers::*;

crate::on_every_backend!(
    setup_says_an_admin_is_needed_while_none_exists,
    setup_reveals_nothing_once_an_admin_exists,
);

async fn setup_says_an_admin_is_needed_while_none_exists(app: &TestApp) {
    // Apps and their owners are not admins.
    app.create_app("site").await;
    let response = app
        .client
        .get(app.url("/auth/setup"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert!(session_cookie(&response).is_none());
    let (status, body) = read(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"needsAdmin": true}));
}

async fn setup_reveals_nothing_once_an_admin_exists(app: &TestApp) {
    let get_setup = || async {
        read(
            app.client
                .get(app.url("/auth/setup"))
                .send()
                .await
                .expect("request"),
        )
        .await
    };
    assert_eq!(get_setup().await, (200, json!({"needsAdmin": true})));
    app.create_admin().await;
    let (status, body) = get_setup().await;
    assert_eq!(status, 200, "{body}");
    // Only the flag: no email, no count, nothing about who the admins are.
    assert_eq!(body, json!({"needsAdmin": false}));
    // Also with a session, and it stays false.
    let cookie = app.admin_session().await;
    assert_eq!(
        app.dashboard_get("/auth/setup", &cookie).await,
        (200, json!({"needsAdmin": false}))
    );
    let response = app
        .client
        .post(app.url("/auth/setup"))
        .header("origin", &app.address)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 405);
}

use serde_json::Value;
use server::Backend;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_every_dashboard_route_and_its_auth() {
    let app = spawn_app(Backend::Memory).await;
    let (status, document) = read(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200);
    let scheme = &document["components"]["securitySchemes"]["session_cookie"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "cookie");
    assert_eq!(scheme["name"], "users_api_session");
    let expected = [
        ("/auth/login", "post", false),
        ("/auth/session", "get", true),
        ("/auth/setup", "get", false),
        ("/auth/logout", "post", false),
        ("/auth/users", "get", true),
        ("/v1/apps", "get", true),
        ("/v1/apps", "post", true),
        ("/v1/apps/{appId}", "get", true),
        ("/v1/apps/{appId}", "patch", true),
        ("/v1/apps/{appId}", "delete", true),
        ("/v1/apps/{appId}/password", "post", true),
        ("/v1/apps/{appId}/schema", "get", true),
        ("/v1/apps/{appId}/schema", "put", true),
        ("/v1/apps/{appId}/schema/versions", "get", true),
        ("/v1/apps/{appId}/users", "get", true),
        ("/v1/apps/{appId}/users/export", "get", true),
        ("/v1/apps/{appId}/users/{userId}", "get", true),
        ("/v1/apps/{appId}/users/{userId}", "delete", true),
    ];
    for (path, method, secured) in expected {
        let operation = &document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is documented");
        if secured {
            assert_eq!(
                operation["security"][0]["session_cookie"],
                Value::Array(vec![]),
                "{method} {path} names the cookie"
            );
            assert!(
                operation["responses"]["401"].is_object(),
                "{method} {path} documents 401"
            );
        }
    }
    let description = document["info"]["description"].as_str().expect("text");
    assert!(
        description.contains("csrf_rejected"),
        "the CSRF rule is documented"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_render_the_document_without_the_internet() {
    let app = spawn_app(Backend::Memory).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = client.get(app.url("/docs")).send().await.expect("request");
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()["location"], "/docs/");
    let response = client.get(app.url("/docs/")).send().await.expect("request");
    assert_eq!(response.status(), 200);
    let page = response.text().await.expect("body");
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(
        !page.contains("https://"),
        "nothing is loaded from elsewhere"
    );
    let initializer = client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(initializer.contains("/openapi.json"), "{initializer}");
}

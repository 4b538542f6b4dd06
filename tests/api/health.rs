use serde_json::json;

use crate::helpers::*;

crate::on_every_backend!(
    health_and_readiness_answer_ok,
    readiness_says_why_writes_fail_without_driver_details,
    the_openapi_document_describes_the_public_routes
);

async fn health_and_readiness_answer_ok(app: &TestApp) {
    for path in ["/health", "/ready"] {
        let (status, body) =
            read(app.client.get(app.url(path)).send().await.expect("request")).await;
        assert_eq!((status, body), (200, json!({"status": "ok"})), "{path}");
    }
}

async fn readiness_says_why_writes_fail_without_driver_details(app: &TestApp) {
    let ready = || async {
        app.client
            .get(app.url("/ready"))
            .send()
            .await
            .expect("request")
    };
    *app.not_ready.lock().expect("lock") = Some(crate::flaky::NotReady::DiskFull);
    let body = expect_error(ready().await, 503, "storage_unavailable").await;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("the disk or the database is full"),
        "{body}"
    );
    assert!(
        !body.to_string().contains("driver"),
        "no driver detail: {body}"
    );

    *app.not_ready.lock().expect("lock") = Some(crate::flaky::NotReady::Corrupt);
    let body = expect_error(ready().await, 503, "storage_corrupt").await;
    assert!(
        !body.to_string().contains("driver"),
        "no driver detail: {body}"
    );

    *app.not_ready.lock().expect("lock") = None;
    assert_eq!(ready().await.status(), 200);
}

async fn the_openapi_document_describes_the_public_routes(app: &TestApp) {
    let (status, document) = read(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    for (path, method) in [
        ("/v1/users", "post"),
        ("/v1/schema", "get"),
        ("/health", "get"),
        ("/ready", "get"),
    ] {
        assert!(
            document["paths"][path][method].is_object(),
            "{method} {path}"
        );
    }
    let responses = &document["paths"]["/v1/users"]["post"]["responses"];
    for status in [
        "200", "303", "400", "403", "404", "413", "415", "422", "429", "503",
    ] {
        assert!(
            responses[status].is_object(),
            "POST /v1/users documents {status}"
        );
    }
    let submitted = &document["components"]["schemas"]["SubmittedResponse"]["properties"];
    let mut names: Vec<&String> = submitted.as_object().expect("properties").keys().collect();
    names.sort();
    assert_eq!(names, ["createdAt", "id", "updatedAt"]);
}

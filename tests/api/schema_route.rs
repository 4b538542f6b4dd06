use domain::NewApp;
use serde_json::json;

use crate::helpers::*;

crate::on_every_backend!(
    the_current_schema_is_served_in_field_order,
    a_new_app_serves_the_empty_strict_schema
);

async fn the_current_schema_is_served_in_field_order(app: &TestApp) {
    app.create_app("site").await;
    let response = app
        .client
        .get(app.url("/v1/schema"))
        .header("x-app-id", "site")
        .header("origin", "https://site.example")
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://site.example"
    );
    let (status, body) = read(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["version"], 1);
    assert_eq!(body["rejectUnknown"], true);
    let mut expected = example_schema();
    expected["version"] = json!(1);
    assert_eq!(body, expected, "the design's shape, as saved");

    let mut next = example_schema();
    next["fields"].as_array_mut().expect("fields").truncate(2);
    app.set_schema("site", next).await;
    let (_, body) = read(
        app.client
            .get(app.url("/v1/schema"))
            .header("x-app-id", "site")
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(body["version"], 2);
    assert_eq!(body["fields"].as_array().map(Vec::len), Some(2));
}

async fn a_new_app_serves_the_empty_strict_schema(app: &TestApp) {
    app.create_app_with(NewApp {
        id: "fresh".into(),
        name: "Fresh".into(),
        allowed_origins: vec!["*".into()],
        ..Default::default()
    })
    .await;
    let (status, body) = read(
        app.client
            .get(app.url("/v1/schema"))
            .header("x-app-id", "fresh")
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            200,
            json!({"version": 0, "rejectUnknown": true, "fields": []})
        )
    );
}

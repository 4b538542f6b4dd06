use serde_json::{Value, json};

use crate::helpers::*;

crate::on_every_backend!(
    operator_looking_keys_never_reach_storage,
    operator_looking_values_are_type_errors,
    deeply_nested_json_is_refused_without_harm,
    wrong_json_types_for_every_kind_are_reported,
);

async fn operator_looking_keys_never_reach_storage(app: &TestApp) {
    app.create_app("site").await;
    let mut data = valid_data();
    data["$where"] = json!("function() { return true }");
    data["a.b"] = json!(1);
    data["$set"] = json!({"email": "victim@example.com"});
    let error = expect_error(
        app.submit("site", json!({"email": "a@example.com", "data": data}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = error["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d["field"].as_str().expect("f"))
        .collect();
    for key in ["data.$where", "data.a.b", "data.$set"] {
        assert!(fields.contains(&key), "{key} in {fields:?}");
    }
    assert_eq!(app.user_count("site").await, 0);
}

async fn operator_looking_values_are_type_errors(app: &TestApp) {
    app.create_app("site").await;
    for email in [
        json!({"$ne": null}),
        json!({"$gt": ""}),
        json!(["a@example.com"]),
        json!(1),
    ] {
        let error = expect_error(
            app.submit("site", json!({"email": email, "data": valid_data()}))
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(error["error"]["details"][0]["field"], "email");
        assert_eq!(error["error"]["details"][0]["code"], "type");
    }
    let mut data = valid_data();
    data["fullName"] = json!({"$regex": ".*"});
    let error = expect_error(
        app.submit("site", json!({"email": "a@example.com", "data": data}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(error["error"]["details"][0]["code"], "type");
    expect_error(
        app.submit(
            "site",
            json!({"email": "a@example.com", "data": [valid_data()]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(app.user_count("site").await, 0);
}

async fn deeply_nested_json_is_refused_without_harm(app: &TestApp) {
    app.create_app("site").await;
    let depth = 5_000;
    let nested = format!(
        r#"{{"email": "a@example.com", "data": {{"fullName": {}1{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let response = app
        .post_users("site")
        .header("content-type", "application/json")
        .body(nested)
        .send()
        .await
        .expect("request");
    expect_error(response, 400, "invalid_json").await;
    // Shallow nesting parses, and is a type error.
    let mut data = valid_data();
    data["fullName"] = json!({"a": {"b": {"c": [1, 2, {"d": null}]}}});
    expect_error(
        app.submit("site", json!({"email": "a@example.com", "data": data}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let (status, _) = read(
        app.client
            .get(app.url("/health"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "the server is still up");
}

async fn wrong_json_types_for_every_kind_are_reported(app: &TestApp) {
    app.create_app("site").await;
    for (key, value) in [
        ("fullName", json!(12)),
        ("age", json!("36")),
        ("age", json!(true)),
        ("plan", json!(["pro"])),
        ("birthday", json!(19901210)),
        ("consentRequired", json!("yes")),
        ("consentRequired", json!(1)),
    ] {
        let mut data = valid_data();
        data[key] = value.clone();
        let error = expect_error(
            app.submit("site", json!({"email": "a@example.com", "data": data}))
                .await,
            422,
            "validation_failed",
        )
        .await;
        let detail = &error["error"]["details"][0];
        assert_eq!(
            (detail["field"].clone(), detail["code"].clone()),
            (Value::from(format!("data.{key}")), json!("type")),
            "{key}={value}"
        );
    }
}

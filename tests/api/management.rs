use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

crate::on_every_backend!(
    every_route_answers_each_kind_of_caller_as_documented,
    an_admin_creates_an_app_and_its_owner_logs_in_with_the_one_time_password,
    a_taken_or_invalid_app_id_is_refused,
    app_ids_are_unique_regardless_of_case,
    concurrent_creates_of_one_id_in_two_cases_make_one_app,
    owners_may_rename_but_not_change_admin_settings,
    a_schema_change_reports_the_records_it_would_reject,
    a_user_record_is_read_and_erased,
    cross_site_requests_with_the_cookie_are_refused,
);

struct Callers {
    admin: String,
    owner: String,
    other_owner: String,
}

/// Apps `site` (with one user) and `other`, `spare` for the destructive admin routes, and a
/// session for the admin and for each owner.
async fn arrange(app: &TestApp) -> (Callers, String) {
    let site = app.create_app_with_password("site").await;
    let other = app.create_app_with_password("other").await;
    app.create_app("spare").await;
    app.create_admin().await;
    let (_, body) = read(app.submit("site", signup("ada@example.com")).await).await;
    let user_id = body["id"].as_str().expect("id").to_owned();
    let callers = Callers {
        admin: app.admin_session().await,
        owner: app.owner_session("site", &site).await,
        other_owner: app.owner_session("other", &other).await,
    };
    (callers, user_id)
}

async fn every_route_answers_each_kind_of_caller_as_documented(app: &TestApp) {
    let (callers, user) = arrange(app).await;
    let schema = example_schema();
    let user_path = format!("/v1/apps/site/users/{user}");
    // Each row: method, path, body, then the status for no session, another app's owner,
    // this app's owner, and an admin (callers are tried in that order).
    let table: Vec<(Method, &str, Option<Value>, [u16; 4])> = vec![
        (Method::GET, "/auth/session", None, [401, 200, 200, 200]),
        (Method::GET, "/auth/users", None, [401, 200, 200, 403]),
        (Method::GET, "/v1/apps", None, [401, 403, 403, 200]),
        (
            Method::POST,
            "/v1/apps",
            Some(json!({"sourceAppId": "made", "name": "Made"})),
            [401, 403, 403, 201],
        ),
        (Method::GET, "/v1/apps/site", None, [401, 403, 200, 200]),
        (Method::GET, "/v1/apps/nope", None, [401, 403, 403, 404]),
        (
            Method::PATCH,
            "/v1/apps/site",
            Some(json!({"name": "Renamed"})),
            [401, 403, 200, 200],
        ),
        (
            Method::GET,
            "/v1/apps/site/schema",
            None,
            [401, 403, 200, 200],
        ),
        (
            Method::PUT,
            "/v1/apps/site/schema?dryRun=true",
            Some(schema.clone()),
            [401, 403, 200, 200],
        ),
        (
            Method::PUT,
            "/v1/apps/site/schema",
            Some(schema),
            [401, 403, 200, 200],
        ),
        (
            Method::GET,
            "/v1/apps/site/schema/versions",
            None,
            [401, 403, 200, 200],
        ),
        (
            Method::GET,
            "/v1/apps/site/users",
            None,
            [401, 403, 200, 200],
        ),
        (
            Method::GET,
            "/v1/apps/site/users/export",
            None,
            [401, 403, 200, 200],
        ),
        (
            Method::GET,
            "/v1/apps/site/users/export?format=ndjson",
            None,
            [401, 403, 200, 200],
        ),
        (Method::GET, &user_path, None, [401, 403, 200, 200]),
        (Method::DELETE, &user_path, None, [401, 403, 204, 404]),
        (
            Method::POST,
            "/v1/apps/spare/password",
            None,
            [401, 403, 403, 200],
        ),
        (Method::DELETE, "/v1/apps/spare", None, [401, 403, 403, 204]),
    ];
    let callers = [
        None,
        Some(callers.other_owner.as_str()),
        Some(callers.owner.as_str()),
        Some(callers.admin.as_str()),
    ];
    for (method, path, body, expected) in table {
        for (caller, expected) in callers.iter().zip(expected) {
            let mut request = app.dashboard(method.clone(), path, *caller);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let (_, answer) = read(response).await;
            assert_eq!(
                status, expected,
                "{method} {path} as caller #{caller:?}: {answer}"
            );
            match status {
                401 => assert_eq!(
                    answer["error"]["code"], "unauthenticated",
                    "{method} {path}"
                ),
                403 => assert_eq!(answer["error"]["code"], "forbidden", "{method} {path}"),
                404 => assert!(answer["error"]["code"].is_string(), "{method} {path}"),
                _ => {}
            }
        }
    }
    assert!(
        app.services
            .apps
            .find_app(&domain::AdminAccess::command_line().app("spare"))
            .await
            .is_err()
    );
    assert!(
        app.services
            .apps
            .find_app(&domain::AdminAccess::command_line().app("made"))
            .await
            .is_ok()
    );
}

async fn an_admin_creates_an_app_and_its_owner_logs_in_with_the_one_time_password(app: &TestApp) {
    app.create_admin().await;
    let admin = app.admin_session().await;
    let response = app
        .dashboard(Method::POST, "/v1/apps", Some(&admin))
        .json(&json!({"sourceAppId": "launch", "name": "Launch page",
            "allowedOrigins": ["https://launch.example"], "thankYouUrl": "https://launch.example/thanks"}))
        .send()
        .await
        .expect("request");
    let (status, body) = read(response).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["app"]["sourceAppId"], "launch");
    assert_eq!(
        body["app"]["allowedOrigins"],
        json!(["https://launch.example"])
    );
    assert!(body["app"].get("passwordHash").is_none());
    let password = body["password"].as_str().expect("password");
    assert!(password.len() >= 22, "at least 128 bits");
    let owner = app.owner_session("launch", password).await;
    let (status, body) = app.dashboard_get("/v1/apps/launch", &owner).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Launch page");
    assert!(body.get("password").is_none());
    app.set_schema("launch", example_schema()).await;
    app.submit("launch", signup("a@example.com")).await;
    let (status, body) = app.dashboard_get("/v1/apps", &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["apps"][0]["sourceAppId"], "launch");
    assert_eq!(body["apps"][0]["userCount"], 1);
}

async fn a_taken_or_invalid_app_id_is_refused(app: &TestApp) {
    app.create_app("site").await;
    app.create_admin().await;
    let admin = app.admin_session().await;
    let create = |body: Value| {
        app.dashboard(Method::POST, "/v1/apps", Some(&admin))
            .json(&body)
            .send()
    };
    expect_error(
        create(json!({"sourceAppId": "site", "name": "Again"}))
            .await
            .expect("request"),
        409,
        "duplicate_app",
    )
    .await;
    let error = expect_error(
        create(json!({"sourceAppId": "bad id!", "name": "", "allowedOrigins": ["nope"]}))
            .await
            .expect("request"),
        422,
        "validation_failed",
    )
    .await;
    let mut fields: Vec<&str> = error["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d["field"].as_str().expect("field"))
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["allowedOrigins", "id", "name"]);
    expect_error(
        create(json!({"sourceAppId": "x", "name": "X", "colour": "red"}))
            .await
            .expect("request"),
        422,
        "validation_failed",
    )
    .await;
}

async fn app_ids_are_unique_regardless_of_case(app: &TestApp) {
    app.create_admin().await;
    let admin = app.admin_session().await;
    let create = |id: &str| {
        app.dashboard(Method::POST, "/v1/apps", Some(&admin))
            .json(&json!({"sourceAppId": id, "name": "App"}))
            .send()
    };
    // A browser cannot reach `/v1/apps/.` or `/v1/apps/..`: such ids are refused.
    for id in [".", "..", "..."] {
        let error =
            expect_error(create(id).await.expect("request"), 422, "validation_failed").await;
        let details = &error["error"]["details"];
        assert_eq!(details[0]["field"], "id", "{error}");
        assert!(
            details[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("dots")),
            "{error}"
        );
    }
    for id in [".well-known", "a.", "..a"] {
        assert_eq!(create(id).await.expect("request").status(), 201, "{id}");
    }
    assert_eq!(create("app-a").await.expect("request").status(), 201);
    for id in ["APP-A", "App-A", "app-a"] {
        expect_error(create(id).await.expect("request"), 409, "duplicate_app").await;
    }
    // Ids are matched exactly: the case a site sends must be the case the app was created in.
    app.set_schema("app-a", example_schema()).await;
    let (status, _) = read(app.submit("app-a", signup("a@example.com")).await).await;
    assert_eq!(status, 200);
    expect_error(
        app.submit("APP-A", signup("a@example.com")).await,
        404,
        "unknown_app",
    )
    .await;
    let (_, listed) = app.dashboard_get("/v1/apps", &admin).await;
    let ids: Vec<&str> = listed["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .map(|a| a["sourceAppId"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["..a", ".well-known", "a.", "app-a"]);
}

async fn concurrent_creates_of_one_id_in_two_cases_make_one_app(app: &TestApp) {
    app.create_admin().await;
    let admin = app.admin_session().await;
    for round in 0..5 {
        let ids = [format!("race-{round}"), format!("RACE-{round}")];
        let answers = futures::future::join_all(ids.iter().map(|id| {
            app.dashboard(Method::POST, "/v1/apps", Some(&admin))
                .json(&json!({"sourceAppId": id, "name": "Race"}))
                .send()
        }))
        .await;
        let mut statuses: Vec<u16> = answers
            .into_iter()
            .map(|answer| answer.expect("request").status().as_u16())
            .collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}");
    }
}

async fn owners_may_rename_but_not_change_admin_settings(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    let owner = app.owner_session("site", &password).await;
    let patch = |body: Value| {
        app.dashboard(Method::PATCH, "/v1/apps/site", Some(&owner))
            .json(&body)
            .send()
    };
    let (status, body) = read(
        patch(json!({"name": " New name ", "allowedOrigins": ["https://new.example"]}))
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "New name");
    assert_eq!(body["allowedOrigins"], json!(["https://new.example"]));
    assert_eq!(body["honeypotField"], "website");
    for forbidden in [
        json!({"honeypotField": null}),
        json!({"thankYouUrl": "https://x.example"}),
    ] {
        expect_error(patch(forbidden).await.expect("request"), 403, "forbidden").await;
    }
    expect_error(
        patch(json!({"allowedOrigins": ["not an origin"]}))
            .await
            .expect("request"),
        422,
        "validation_failed",
    )
    .await;
    app.create_admin().await;
    let admin = app.admin_session().await;
    let (status, body) = read(
        app.dashboard(Method::PATCH, "/v1/apps/site", Some(&admin))
            .json(&json!({"honeypotField": null, "thankYouUrl": "https://new.example/thanks"}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["honeypotField"], Value::Null);
    assert_eq!(body["thankYouUrl"], "https://new.example/thanks");
}

async fn a_schema_change_reports_the_records_it_would_reject(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    for i in 0..7 {
        let mut data = valid_data();
        if i % 3 == 0 {
            data["age"] = json!(15);
        }
        let (status, _) = read(
            app.submit("site", json!({"email": format!("u{i}@x.io"), "data": data}))
                .await,
        )
        .await;
        assert_eq!(status, 200);
    }
    let owner = app.owner_session("site", &password).await;
    let mut stricter = example_schema();
    stricter["fields"][1]["min"] = json!(18);
    let put = |path: &'static str, body: Value| {
        app.dashboard(Method::PUT, path, Some(&owner))
            .json(&body)
            .send()
    };
    let (status, dry) = read(
        put("/v1/apps/site/schema?dryRun=true", stricter.clone())
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["dryRun"], true);
    assert_eq!(dry["impact"]["checked"], 7);
    assert_eq!(dry["impact"]["failing"], 3);
    assert_eq!(dry["impact"]["examples"].as_array().expect("ids").len(), 3);
    assert!(dry.get("schema").is_none());
    let (_, current) = app.dashboard_get("/v1/apps/site/schema", &owner).await;
    assert_eq!(current["version"], 1, "a dry run saves nothing");

    let (status, saved) = read(
        put("/v1/apps/site/schema", stricter)
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["schema"]["version"], 2);
    assert_eq!(saved["impact"]["failing"], 3);
    let (_, current) = app.dashboard_get("/v1/apps/site/schema", &owner).await;
    assert_eq!(current["version"], 2);
    assert_eq!(current["fields"][1]["min"], 18);
    let (_, versions) = app
        .dashboard_get("/v1/apps/site/schema/versions", &owner)
        .await;
    let numbers: Vec<i64> = versions["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["version"].as_i64().expect("number"))
        .collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(app.user_count("site").await, 7, "records are kept");

    let bad = json!({"fields": [{"key": "1bad", "kind": "text"}, {"key": "n", "kind": "number", "min": 5, "max": 1}]});
    let error = expect_error(
        put("/v1/apps/site/schema", bad).await.expect("request"),
        422,
        "validation_failed",
    )
    .await;
    assert!(
        error["error"]["details"].as_array().expect("details").len() >= 2,
        "{error}"
    );
}

async fn a_user_record_is_read_and_erased(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    app.create_app("other").await;
    let (_, created) = read(app.submit("site", signup("Ada@Example.com")).await).await;
    let id = created["id"].as_str().expect("id");
    let owner = app.owner_session("site", &password).await;
    let (status, user) = app
        .dashboard_get(&format!("/v1/apps/site/users/{id}"), &owner)
        .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["data"], valid_data());
    assert_eq!(user["schemaVersion"], 1);
    assert_eq!(user["createdAt"], created["createdAt"]);
    let delete = |path: String| app.dashboard(Method::DELETE, &path, Some(&owner)).send();
    let response = delete(format!("/v1/apps/site/users/{id}"))
        .await
        .expect("request");
    assert_eq!(response.status(), 204);
    assert_eq!(app.user_count("site").await, 0);
    expect_error(
        delete(format!("/v1/apps/site/users/{id}"))
            .await
            .expect("request"),
        404,
        "user_not_found",
    )
    .await;
    expect_error(
        app.dashboard(Method::GET, "/v1/apps/site/users/nope", Some(&owner))
            .send()
            .await
            .expect("request"),
        404,
        "user_not_found",
    )
    .await;
}

async fn cross_site_requests_with_the_cookie_are_refused(app: &TestApp) {
    let password = app.create_app_with_password("site").await;
    let owner = app.owner_session("site", &password).await;
    let url = app.url("/v1/apps/site");
    let patch = || {
        app.client
            .patch(&url)
            .header("cookie", &owner)
            .header("content-type", "application/json")
            .body(r#"{"name": "Hacked"}"#)
    };
    let attempts = [
        (
            "foreign Origin",
            patch().header("origin", "https://evil.example"),
        ),
        ("null Origin", patch().header("origin", "null")),
        ("no Origin, no Sec-Fetch-Site", patch()),
        (
            "cross-site fetch",
            patch().header("sec-fetch-site", "cross-site"),
        ),
        (
            "same-site fetch",
            patch().header("sec-fetch-site", "same-site"),
        ),
        (
            "own Origin but cross-site",
            patch()
                .header("origin", &app.address)
                .header("sec-fetch-site", "cross-site"),
        ),
    ];
    for (what, request) in attempts {
        let (status, body) = read(request.send().await.expect("request")).await;
        assert_eq!(status, 403, "{what}: {body}");
        assert_eq!(body["error"]["code"], "csrf_rejected", "{what}");
    }
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .client
            .patch(&url)
            .header("cookie", &owner)
            .header("origin", &app.address)
            .header("content-type", content_type)
            .body(r#"{"name": "Hacked"}"#)
            .send()
            .await
            .expect("request");
        expect_error(response, 415, "unsupported_media_type").await;
    }
    let no_type = app
        .client
        .patch(&url)
        .header("cookie", &owner)
        .header("origin", &app.address)
        .body(r#"{"name": "Hacked"}"#)
        .send()
        .await
        .expect("request");
    expect_error(no_type, 415, "unsupported_media_type").await;
    let (_, body) = app.dashboard_get("/v1/apps/site", &owner).await;
    assert_eq!(body["name"], "App site", "nothing changed");
    // A same-origin fetch without Origin (Sec-Fetch-Site only) is accepted.
    let response = patch()
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    // Logging in from another site's page is refused too.
    let response = app
        .client
        .post(app.url("/auth/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"sourceAppId": "site", "password": password}))
        .send()
        .await
        .expect("request");
    expect_error(response, 403, "csrf_rejected").await;
    // A login form posted as a simple (preflight-free) request is refused too.
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let response = app
            .client
            .post(app.url("/auth/login"))
            .header("content-type", content_type)
            .body(format!(
                r#"{{"sourceAppId": "site", "password": "{password}"}}"#
            ))
            .send()
            .await
            .expect("request");
        assert!(session_cookie(&response).is_none());
        expect_error(response, 415, "unsupported_media_type").await;
    }
}

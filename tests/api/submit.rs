use futures::future::join_all;
use serde_json::{Value, json};

use crate::helpers::*;

crate::on_every_backend!(
    a_signup_is_stored_and_answered_with_id_and_times,
    a_second_signup_of_the_same_email_updates_one_record,
    sixty_four_concurrent_signups_of_one_email_make_one_record,
    every_validation_problem_is_reported_and_nothing_is_stored,
    a_rejected_update_keeps_what_was_stored,
    unicode_text_is_stored_exactly,
    a_filled_honeypot_is_answered_but_not_stored,
    a_dropped_resubmission_is_indistinguishable_from_a_stored_one,
    a_formspree_style_honeypot_name_works_in_json_and_forms,
    one_mailbox_is_one_record_whatever_the_spelling_of_its_domain,
    the_same_email_in_two_apps_is_two_records,
    unknown_keys_are_dropped_when_the_schema_allows_them,
);

async fn a_signup_is_stored_and_answered_with_id_and_times(app: &TestApp) {
    app.create_app("site").await;
    let response = app
        .submit(
            "site",
            json!({"email": "  Ada@Example.COM ", "data": valid_data()}),
        )
        .await;
    assert!(response.headers().contains_key("x-request-id"));
    let (status, body) = read(response).await;
    assert_eq!(status, 200, "{body}");
    let mut keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["createdAt", "id", "updatedAt"],
        "nothing else is revealed"
    );
    assert!(body["createdAt"].as_str().expect("time").ends_with('Z'));
    let stored = app
        .storage
        .find_user("site", body["id"].as_str().expect("id"))
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(stored.email, "ada@example.com");
    assert_eq!(Value::Object(stored.data), valid_data());
}

async fn a_second_signup_of_the_same_email_updates_one_record(app: &TestApp) {
    app.create_app("site").await;
    let (_, first) = read(app.submit("site", signup("ada@example.com")).await).await;
    let mut changed = valid_data();
    changed["plan"] = json!("free");
    changed.as_object_mut().expect("object").remove("age");
    let (status, second) = read(
        app.submit("site", json!({"email": "ADA@example.com", "data": changed}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["createdAt"], first["createdAt"]);
    assert!(second["updatedAt"].as_str() >= first["updatedAt"].as_str());
    assert_eq!(app.user_count("site").await, 1);
    let data = app
        .stored_data("site", first["id"].as_str().expect("id"))
        .await;
    assert_eq!(data["plan"], "free", "submitted fields overwrite");
    assert_eq!(data["age"], 36, "fields not submitted keep their values");
}

async fn sixty_four_concurrent_signups_of_one_email_make_one_record(app: &TestApp) {
    app.create_app("site").await;
    let responses = join_all((0..64).map(|_| app.submit("site", signup("race@example.com")))).await;
    let mut ids = std::collections::HashSet::new();
    for response in responses {
        let (status, body) = read(response).await;
        assert_eq!(status, 200, "{body}");
        ids.insert(body["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(app.user_count("site").await, 1);
}

async fn every_validation_problem_is_reported_and_nothing_is_stored(app: &TestApp) {
    app.create_app("site").await;
    let body = json!({"email": "not an email", "data": {"fullName": "A", "age": 121, "plan": "gold",
        "birthday": "2023-02-29", "consentRequired": false, "extra": 1}});
    let error = expect_error(app.submit("site", body).await, 422, "validation_failed").await;
    let mut details: Vec<(String, String)> = error["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| {
            (
                d["field"].as_str().expect("field").to_owned(),
                d["code"].as_str().expect("code").to_owned(),
            )
        })
        .collect();
    details.sort();
    let expected = [
        ("data.age", "max"),
        ("data.birthday", "date"),
        ("data.consentRequired", "required"),
        ("data.extra", "unknown"),
        ("data.fullName", "minLength"),
        ("data.plan", "enum"),
        ("email", "email"),
    ];
    assert_eq!(details, expected.map(|(f, c)| (f.to_owned(), c.to_owned())));
    assert_eq!(app.user_count("site").await, 0);
}

async fn a_rejected_update_keeps_what_was_stored(app: &TestApp) {
    app.create_app("site").await;
    let (_, first) = read(app.submit("site", signup("keep@example.com")).await).await;
    let bad = json!({"email": "keep@example.com", "data": {"fullName": "Ada", "plan": "pro", "consentRequired": true, "age": "old"}});
    expect_error(app.submit("site", bad).await, 422, "validation_failed").await;
    assert_eq!(
        app.stored_data("site", first["id"].as_str().expect("id"))
            .await,
        valid_data()
    );
}

async fn unicode_text_is_stored_exactly(app: &TestApp) {
    app.create_app("site").await;
    let mut data = valid_data();
    // 80 characters of 4-byte emoji: at the limit in characters, far over it in bytes.
    data["fullName"] = json!(format!("Zoë 山田 {}", "😀".repeat(72)));
    let (status, body) = read(
        app.submit(
            "site",
            json!({"email": "u@example.com", "data": data.clone()}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.stored_data("site", body["id"].as_str().expect("id"))
            .await["fullName"],
        data["fullName"]
    );
}

async fn a_filled_honeypot_is_answered_but_not_stored(app: &TestApp) {
    app.create_app("site").await;
    let mut data = valid_data();
    data["website"] = json!("http://spam.example");
    let (status, body) = read(
        app.submit("site", json!({"email": "bot@example.com", "data": data}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(3),
        "same shape as a real success"
    );
    assert_eq!(app.user_count("site").await, 0);
    let mut human = valid_data();
    human["website"] = json!("");
    assert_eq!(
        read(
            app.submit("site", json!({"email": "human@example.com", "data": human}))
                .await
        )
        .await
        .0,
        200
    );
    assert_eq!(app.user_count("site").await, 1);
}

async fn the_same_email_in_two_apps_is_two_records(app: &TestApp) {
    app.create_app("one").await;
    app.create_app("two").await;
    let (_, a) = read(app.submit("one", signup("same@example.com")).await).await;
    let (_, b) = read(app.submit("two", signup("same@example.com")).await).await;
    assert_ne!(a["id"], b["id"]);
    assert!(
        app.storage
            .find_user("two", a["id"].as_str().expect("id"))
            .await
            .expect("find")
            .is_none()
    );
}

async fn unknown_keys_are_dropped_when_the_schema_allows_them(app: &TestApp) {
    app.create_app("site").await;
    let mut lenient = example_schema();
    lenient["rejectUnknown"] = json!(false);
    app.set_schema("site", lenient).await;
    let mut data = valid_data();
    data["$where"] = json!("sleep(1000)");
    data["a.b"] = json!({"$gt": ""});
    data["utm_source"] = json!("ad");
    let (status, body) = read(
        app.submit("site", json!({"email": "x@example.com", "data": data}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.stored_data("site", body["id"].as_str().expect("id"))
            .await,
        valid_data()
    );
}

/// For a known email a real resubmission answers the record's id and original `createdAt`;
/// one the honeypot drops must answer the same, and a bot's mistakes get the same 422.
async fn a_dropped_resubmission_is_indistinguishable_from_a_stored_one(app: &TestApp) {
    app.create_app("site").await;
    let (_, first) = read(app.submit("site", signup("ada@example.com")).await).await;
    let (_, real) = read(app.submit("site", signup("ada@example.com")).await).await;
    let mut bait = valid_data();
    bait["website"] = json!("http://spam.example");
    let (status, dropped) = read(
        app.submit("site", json!({"email": "ada@example.com", "data": bait}))
            .await,
    )
    .await;
    assert_eq!(status, 200, "{dropped}");
    assert_eq!(real["id"], first["id"]);
    assert_eq!(
        dropped["id"], first["id"],
        "the record's own id, as a real resubmission"
    );
    assert_eq!(dropped["createdAt"], first["createdAt"]);
    // Stamped now, as a real resubmission is (the same millisecond is possible, so not `!=`).
    assert!(dropped["updatedAt"].as_str() >= first["updatedAt"].as_str());

    let mut invalid = valid_data();
    invalid["website"] = json!("http://spam.example");
    invalid["age"] = json!(500);
    let (status, with_bait) = read(
        app.submit("site", json!({"email": "new@example.com", "data": invalid}))
            .await,
    )
    .await;
    invalid.as_object_mut().expect("object").remove("website");
    let (_, without_bait) = read(
        app.submit("site", json!({"email": "new@example.com", "data": invalid}))
            .await,
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(with_bait, without_bait);
    assert_eq!(app.user_count("site").await, 1);
}

/// Sites moving from Formspree already have `_gotcha` in their HTML.
async fn a_formspree_style_honeypot_name_works_in_json_and_forms(app: &TestApp) {
    app.create_admin().await;
    let cookie = app.admin_session().await;
    app.create_app("site").await;
    let (status, body) = read(
        app.dashboard(reqwest::Method::PATCH, "/v1/apps/site", Some(&cookie))
            .json(&json!({"honeypotField": "_gotcha"}))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["honeypotField"], "_gotcha");

    let mut bait = valid_data();
    bait["_gotcha"] = json!("spam");
    let (status, _) = read(
        app.submit("site", json!({"email": "bot@example.com", "data": bait}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let form = "_appId=site&email=bot2%40example.com&fullName=Bot+Bot&plan=pro&consentRequired=on&_gotcha=spam";
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let response = no_redirects
        .post(format!("{}/v1/users", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303);
    assert_eq!(app.user_count("site").await, 0, "both bots were dropped");

    let human =
        "_appId=site&email=human%40example.com&fullName=Ada+L&plan=pro&consentRequired=on&_gotcha=";
    let response = no_redirects
        .post(format!("{}/v1/users", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(human)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 303);
    assert_eq!(app.user_count("site").await, 1);
}

async fn one_mailbox_is_one_record_whatever_the_spelling_of_its_domain(app: &TestApp) {
    app.create_app("site").await;
    for email in [
        "ada@example.com",
        "ada@ｅｘａｍｐｌｅ.com",
        "Ada@EXAMPLE.com",
    ] {
        let (status, body) = read(app.submit("site", signup(email)).await).await;
        assert_eq!(status, 200, "{email}: {body}");
    }
    for email in ["zoe@exämple.org", "zoe@xn--exmple-cua.org"] {
        let (status, body) = read(app.submit("site", signup(email)).await).await;
        assert_eq!(status, 200, "{email}: {body}");
    }
    assert_eq!(app.user_count("site").await, 2);
    let (status, body) = read(app.submit("site", signup("ada@ex\u{200b}ample.com")).await).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["field"], "email");
    assert_eq!(app.user_count("site").await, 2);
}

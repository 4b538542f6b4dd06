use std::sync::Arc;
use std::time::Duration;

use domain::{AppCache, AppId, SubmissionInput, SubmissionService, SubmitError};
use serde_json::{Value, json};
use storage_port::StorageError;

use crate::mocks::{MockStore, app_record};
use domain::SchemaSave;

use crate::{admin, example_draft, new_app, record_count, services};

fn input(email: Value, data: Value) -> SubmissionInput {
    SubmissionInput { email, data }
}

fn id(text: &str) -> AppId {
    AppId::parse(text).expect("valid id")
}

#[tokio::test]
async fn a_second_submission_updates_the_same_record() {
    let services = services();
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    services
        .apps
        .save_schema(&admin().app("site"), example_draft(), SchemaSave::Save)
        .await
        .expect("schema");
    let context = services
        .submissions
        .app_context(&id("site"))
        .await
        .expect("context");

    let first = services
        .submissions
        .submit(
            &context,
            input(
                json!(" Ada@Example.com "),
                json!({"fullName": "Ada", "plan": "free", "age": 36}),
            ),
        )
        .await
        .expect("first");
    let second = services
        .submissions
        .submit(
            &context,
            input(
                json!("ada@example.com"),
                json!({"fullName": "Ada L.", "plan": "pro"}),
            ),
        )
        .await
        .expect("second");

    assert_eq!(first.id, second.id);
    assert_eq!(first.created_at, second.created_at);
    let stored = services
        .records
        .find(&admin().app("site"), &first.id)
        .await
        .expect("stored");
    assert_eq!(stored.email, "ada@example.com");
    assert_eq!(
        Value::Object(stored.data),
        json!({"fullName": "Ada L.", "plan": "pro", "age": 36})
    );
    assert_eq!(stored.schema_version, 1);
}

#[tokio::test]
async fn every_problem_is_reported_together() {
    let services = services();
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    services
        .apps
        .save_schema(&admin().app("site"), example_draft(), SchemaSave::Save)
        .await
        .expect("schema");
    let context = services
        .submissions
        .app_context(&id("site"))
        .await
        .expect("context");
    let error = services
        .submissions
        .submit(
            &context,
            input(json!("not-an-email"), json!({"age": 7, "$where": "1"})),
        )
        .await
        .expect_err("invalid");
    let SubmitError::Invalid(violations) = error else {
        panic!("expected Invalid, got {error:?}")
    };
    let mut found: Vec<_> = violations
        .iter()
        .map(|v| (v.field.as_str(), v.code))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("data.$where", "unknown"),
            ("data.age", "min"),
            ("data.fullName", "required"),
            ("data.plan", "required"),
            ("email", "email")
        ]
    );
    assert_eq!(record_count(&services, "site").await, 0);
}

#[tokio::test]
async fn wrong_json_types_for_email_and_data_are_violations() {
    let services = services();
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    let context = services
        .submissions
        .app_context(&id("site"))
        .await
        .expect("context");
    for (email, data, field, code) in [
        (json!(null), json!({}), "email", "required"),
        (json!(42), json!({}), "email", "type"),
        (json!({"$ne": ""}), json!({}), "email", "type"),
        (json!("a@b.io"), json!([1, 2]), "data", "type"),
        (json!("a@b.io"), json!("text"), "data", "type"),
    ] {
        let error = services
            .submissions
            .submit(&context, input(email, data))
            .await
            .expect_err("invalid");
        let SubmitError::Invalid(violations) = error else {
            panic!("expected Invalid")
        };
        assert_eq!(violations.0[0].field, field);
        assert_eq!(violations.0[0].code, code);
    }
}

#[tokio::test]
async fn a_filled_honeypot_is_answered_but_never_stored() {
    let mut store = MockStore::new();
    store
        .expect_find_app()
        .returning(|_| Ok(Some(app_record("site", Some("website")))));
    store.expect_current_schema().returning(|_| Ok(None));
    store.expect_upsert_user_by_email().never();
    store.expect_find_user_by_email().returning(|_, _| Ok(None));
    let service = SubmissionService::new(Arc::new(store), Arc::new(AppCache::new(Duration::ZERO)));
    let context = service.app_context(&id("site")).await.expect("context");
    let answer = service
        .submit(
            &context,
            input(json!("bot@spam.io"), json!({"website": "http://spam.io"})),
        )
        .await
        .expect("looks like success");
    assert_eq!(answer.created_at, answer.updated_at);
    assert_eq!(answer.id.len(), 36);
}

#[tokio::test]
async fn a_caught_resubmission_answers_like_a_stored_one() {
    let services = services();
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    let context = services
        .submissions
        .app_context(&id("site"))
        .await
        .expect("context");
    let first = services
        .submissions
        .submit(&context, input(json!("ada@x.io"), json!({})))
        .await
        .expect("stored");
    let caught = services
        .submissions
        .submit(
            &context,
            input(json!("ADA@x.io"), json!({"website": "http://spam.io"})),
        )
        .await
        .expect("looks like success");
    assert_eq!(caught.id, first.id, "a known email answers its record's id");
    assert_eq!(caught.created_at, first.created_at);
    assert!(caught.updated_at >= first.updated_at);

    // The same mistakes get the same 422 with or without the bait.
    let error = services
        .submissions
        .submit(
            &context,
            input(json!("not an email"), json!({"website": "http://spam.io"})),
        )
        .await
        .expect_err("invalid like any submission");
    assert!(matches!(error, SubmitError::Invalid(_)));
    assert_eq!(record_count(&services, "site").await, 1);
}

#[tokio::test]
async fn an_empty_honeypot_is_removed_before_validation() {
    let services = services();
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    let context = services
        .submissions
        .app_context(&id("site"))
        .await
        .expect("context");
    services
        .submissions
        .submit(&context, input(json!("human@x.io"), json!({"website": ""})))
        .await
        .expect("a person leaves the honeypot empty; the strict empty schema still accepts");
    assert_eq!(record_count(&services, "site").await, 1);
}

#[tokio::test]
async fn unknown_apps_are_reported() {
    let services = services();
    let error = services
        .submissions
        .app_context(&id("nobody"))
        .await
        .expect_err("unknown");
    assert!(matches!(error, SubmitError::UnknownApp));
}

#[tokio::test]
async fn storage_failures_surface_as_storage_errors() {
    let mut store = MockStore::new();
    store
        .expect_find_app()
        .returning(|_| Ok(Some(app_record("site", None))));
    store.expect_current_schema().returning(|_| Ok(None));
    store.expect_upsert_user_by_email().returning(|_, _| {
        Err(StorageError::unavailable(std::io::Error::other(
            "connection refused",
        )))
    });
    let service = SubmissionService::new(Arc::new(store), Arc::new(AppCache::new(Duration::ZERO)));
    let context = service.app_context(&id("site")).await.expect("context");
    let error = service
        .submit(&context, input(json!("a@b.io"), json!({})))
        .await
        .expect_err("down");
    assert!(
        matches!(error, SubmitError::Storage(StorageError::Unavailable(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn app_context_is_read_once_while_cached() {
    let mut store = MockStore::new();
    store
        .expect_find_app()
        .times(1)
        .returning(|_| Ok(Some(app_record("site", None))));
    store
        .expect_current_schema()
        .times(1)
        .returning(|_| Ok(None));
    let service = SubmissionService::new(
        Arc::new(store),
        Arc::new(AppCache::new(Duration::from_secs(60))),
    );
    for _ in 0..5 {
        service.app_context(&id("site")).await.expect("context");
    }
}

#[tokio::test]
async fn unknown_apps_are_not_cached() {
    let mut store = MockStore::new();
    store.expect_find_app().times(3).returning(|_| Ok(None));
    let service = SubmissionService::new(
        Arc::new(store),
        Arc::new(AppCache::new(Duration::from_secs(60))),
    );
    for _ in 0..3 {
        assert!(matches!(
            service.app_context(&id("ghost")).await,
            Err(SubmitError::UnknownApp)
        ));
    }
}

#[tokio::test]
async fn a_saved_schema_applies_at_once_despite_the_cache() {
    let services = services();
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    let before = services
        .submissions
        .app_context(&id("site"))
        .await
        .expect("context");
    assert_eq!(before.schema_version, 0);
    services
        .apps
        .save_schema(&admin().app("site"), example_draft(), SchemaSave::Save)
        .await
        .expect("schema");
    let after = services
        .submissions
        .app_context(&id("site"))
        .await
        .expect("context");
    assert_eq!(after.schema_version, 1);
    assert_eq!(after.schema.fields().len(), 3);
}

use domain::{AccountSwitches, AppError, NewApp, SchemaSave};
use secrecy::ExposeSecret;
use serde_json::json;
use storage_port::AppChanges;

use crate::{admin, new_app, services};

#[tokio::test]
async fn created_apps_get_a_one_time_password_stored_as_a_hash() {
    let services = services();
    let (app, password) = services
        .apps
        .create_app(&admin(), new_app("my-site"))
        .await
        .expect("created");
    assert_eq!(password.expose_secret().len(), 32);
    assert!(app.password_hash.starts_with("$argon2id$"));
    assert!(!app.password_hash.contains(password.expose_secret()));
    assert!(
        services
            .hasher
            .verify(password, Some(app.password_hash))
            .await
            .expect("verify")
    );
}

#[tokio::test]
async fn ids_origins_and_settings_are_checked_together() {
    let services = services();
    let bad = NewApp {
        id: "bad id!".into(),
        name: " ".into(),
        allowed_origins: vec!["example.com".into()],
        honeypot_field: Some("$bait".into()),
        thank_you_url: Some("javascript:alert(1)".into()),
        error_url: Some("/relative".into()),
    };
    let Err(AppError::Invalid(violations)) = services.apps.create_app(&admin(), bad).await else {
        panic!("should be invalid")
    };
    let fields: Vec<_> = violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "id",
            "name",
            "allowedOrigins",
            "honeypotField",
            "thankYouUrl",
            "errorUrl"
        ]
    );
}

#[tokio::test]
async fn ids_of_dots_only_are_refused_and_created_apps_get_distinct_incarnations() {
    let services = services();
    for id in [".", "..", "...."] {
        let Err(AppError::Invalid(violations)) =
            services.apps.create_app(&admin(), new_app(id)).await
        else {
            panic!("{id} should be invalid")
        };
        assert_eq!(
            violations.iter().next().map(|v| v.field.as_str()),
            Some("id")
        );
    }
    let (first, _) = services
        .apps
        .create_app(&admin(), new_app(".a"))
        .await
        .expect("created");
    services
        .apps
        .delete_app(&admin(), ".a")
        .await
        .expect("delete");
    let (second, _) = services
        .apps
        .create_app(&admin(), new_app(".a"))
        .await
        .expect("created again");
    assert_eq!(first.incarnation.len(), 32);
    assert_ne!(first.incarnation, second.incarnation);
}

#[tokio::test]
async fn duplicate_ids_are_refused() {
    let services = services();
    services
        .apps
        .create_app(&admin(), new_app("my-site"))
        .await
        .expect("created");
    assert!(matches!(
        services.apps.create_app(&admin(), new_app("my-site")).await,
        Err(AppError::DuplicateId)
    ));
}

#[tokio::test]
async fn rotation_changes_the_password_and_the_credential_version() {
    let services = services();
    let (app, old) = services
        .apps
        .create_app(&admin(), new_app("my-site"))
        .await
        .expect("created");
    let (rotated, new) = services
        .apps
        .rotate_password(&admin(), "my-site")
        .await
        .expect("rotated");
    assert_eq!(rotated.credential_version, app.credential_version + 1);
    assert!(
        !services
            .hasher
            .verify(old, Some(rotated.password_hash.clone()))
            .await
            .expect("verify")
    );
    assert!(
        services
            .hasher
            .verify(new, Some(rotated.password_hash))
            .await
            .expect("verify")
    );
    assert!(matches!(
        services.apps.rotate_password(&admin(), "ghost").await,
        Err(AppError::NotFound)
    ));
}

#[tokio::test]
async fn updates_normalize_origins() {
    let services = services();
    services
        .apps
        .create_app(&admin(), new_app("my-site"))
        .await
        .expect("created");
    let changes = AppChanges {
        allowed_origins: Some(vec!["HTTPS://Shop.Example.com/".into()]),
        ..Default::default()
    };
    let updated = services
        .apps
        .update_app(&admin().app("my-site"), changes, AccountSwitches::default())
        .await
        .expect("updated");
    assert_eq!(updated.allowed_origins, vec!["https://shop.example.com"]);
    assert_eq!(
        services
            .apps
            .find_app(&admin().app("my-site"))
            .await
            .expect("app")
            .allowed_origins,
        updated.allowed_origins
    );
}

#[tokio::test]
async fn bad_schemas_are_refused_with_every_problem() {
    let services = services();
    services
        .apps
        .create_app(&admin(), new_app("my-site"))
        .await
        .expect("created");
    let draft =
        serde_json::from_value(json!({"fields": [{"key": "$x", "kind": "blob"}]})).expect("draft");
    let Err(AppError::Invalid(violations)) = services
        .apps
        .save_schema(&admin().app("my-site"), draft, SchemaSave::Save)
        .await
    else {
        panic!("invalid")
    };
    assert_eq!(violations.0.len(), 2);
}

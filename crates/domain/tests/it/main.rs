//! The domain services against the in-memory store and against mockall mocks.

mod accounts;
mod admins;
mod apps;
mod fake_crypto;
mod mail;
mod mocks;
mod organizations;
mod submission;

use std::sync::Arc;
use std::time::Duration;

use domain::{AdminAccess, DomainSettings, HashingSettings, NewApp, Services};
use storage_port::MemoryStorage;

pub fn settings() -> DomainSettings {
    DomainSettings {
        hashing: HashingSettings::fast_for_tests(),
        app_cache_ttl: Duration::from_secs(60),
        ..DomainSettings::default()
    }
}

pub fn services() -> Services<MemoryStorage> {
    services_on(Arc::new(MemoryStorage::new()))
}

pub fn services_on(storage: Arc<MemoryStorage>) -> Services<MemoryStorage> {
    Services::new(
        storage,
        &settings(),
        Arc::new(fake_crypto::FakeCrypto::default()),
    )
    .expect("services")
}

/// The tests act as the server's command line: an admin of every app.
pub fn admin() -> AdminAccess {
    AdminAccess::command_line()
}

/// How many records the app holds, read through the services.
pub async fn record_count(services: &Services<MemoryStorage>, app_id: &str) -> u64 {
    services
        .apps
        .summary(&admin().app(app_id))
        .await
        .expect("summary")
        .user_count
}

pub fn new_app(id: &str) -> NewApp {
    NewApp {
        id: id.into(),
        name: "Marketing site".into(),
        allowed_origins: vec!["https://example.com".into()],
        honeypot_field: Some("website".into()),
        thank_you_url: None,
        error_url: None,
    }
}

pub fn example_draft() -> schema_validation::SchemaDraft {
    serde_json::from_value(serde_json::json!({"rejectUnknown": true, "fields": [
        {"key": "fullName", "label": "Full name", "kind": "text", "required": true, "minLength": 2, "maxLength": 80},
        {"key": "age", "label": "Age", "kind": "number", "required": false, "min": 13, "max": 120, "integer": true},
        {"key": "plan", "label": "Plan", "kind": "select", "required": true, "enum": ["free", "pro"]}
    ]}))
    .expect("draft")
}

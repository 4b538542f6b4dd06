use async_trait::async_trait;
use schema_validation::Schema;
use storage_port::*;

mockall::mock! {
    pub Store {}

    #[async_trait]
    impl AppStore for Store {
        async fn insert_app(&self, app: &AppRecord) -> Result<(), StorageError>;
        async fn find_app(&self, app_id: &str) -> Result<Option<AppRecord>, StorageError>;
        async fn list_apps(&self) -> Result<Vec<AppSummary>, StorageError>;
        async fn update_app(&self, app_id: &str, changes: &AppChanges, now: Timestamp) -> Result<AppRecord, StorageError>;
        async fn replace_app_password(&self, app_id: &str, password_hash: &str, now: Timestamp) -> Result<AppRecord, StorageError>;
        async fn delete_app(&self, app_id: &str) -> Result<(), StorageError>;
    }

    #[async_trait]
    impl SchemaStore for Store {
        async fn current_schema(&self, app_id: &str) -> Result<Option<SchemaVersion>, StorageError>;
        async fn save_schema(&self, app_id: &str, schema: &Schema, now: Timestamp) -> Result<SchemaVersion, StorageError>;
        async fn list_schema_versions(&self, app_id: &str) -> Result<Vec<SchemaVersion>, StorageError>;
    }

    #[async_trait]
    impl UserStore for Store {
        async fn upsert_user_by_email(&self, app_id: &str, upsert: &UserUpsert) -> Result<Upserted, StorageError>;
        async fn find_user(&self, app_id: &str, user_id: &str) -> Result<Option<UserRecord>, StorageError>;
        async fn find_user_by_email(&self, app_id: &str, email: &str) -> Result<Option<UserRecord>, StorageError>;
        async fn list_users(&self, app_id: &str, query: &UserQuery) -> Result<UserPage, StorageError>;
        async fn delete_user(&self, app_id: &str, user_id: &str) -> Result<bool, StorageError>;
        async fn count_users(&self, app_id: &str) -> Result<u64, StorageError>;
    }
}

pub fn app_record(id: &str, honeypot: Option<&str>) -> AppRecord {
    let now = Timestamp::now();
    AppRecord {
        id: id.into(),
        name: "Mocked".into(),
        allowed_origins: vec!["*".into()],
        honeypot_field: honeypot.map(str::to_owned),
        thank_you_url: None,
        error_url: None,
        password_hash: String::new(),
        credential_version: 1,
        incarnation: format!("incarnation-of-{id}"),
        account_settings: storage_port::AccountSettings::default(),
        created_at: now,
        updated_at: now,
    }
}

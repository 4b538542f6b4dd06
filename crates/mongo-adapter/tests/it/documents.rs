//! What lands in MongoDB: our ids, BSON dates (also after updates), embedded data, and user
//! input that never turns into an operator; and stored garbage that is reported, not skipped.

use mongodb::bson::{Bson, doc};
use serde_json::json;
use storage_port::{
    AppChanges, AppRecord, AppStore, SchemaStore, StorageError, Timestamp, UserQuery, UserStore,
    UserUpsert,
};

use super::FreshStore;

fn app(id: &str) -> AppRecord {
    let at = Timestamp::from_unix_millis(1_700_000_000_123);
    AppRecord {
        id: id.to_owned(),
        name: "Site".to_owned(),
        allowed_origins: vec!["https://example.com".to_owned()],
        honeypot_field: None,
        thank_you_url: None,
        error_url: None,
        password_hash: "$argon2id$placeholder".to_owned(),
        credential_version: 1,
        incarnation: format!("incarnation-of-{id}"),
        account_settings: storage_port::AccountSettings::default(),
        created_at: at,
        updated_at: at,
    }
}

fn submission(email: &str, data: serde_json::Value, now: Timestamp) -> UserUpsert {
    UserUpsert {
        new_id: uuid::Uuid::now_v7().to_string(),
        email: email.to_owned(),
        data: data.as_object().cloned().unwrap_or_default(),
        schema_version: 1,
        now,
    }
}

fn date_millis(value: Option<&Bson>) -> Option<i64> {
    match value {
        Some(Bson::DateTime(at)) => Some(at.timestamp_millis()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn user_documents_hold_our_id_bson_dates_and_embedded_data_also_after_a_merge() {
    let fresh = FreshStore::connect().await;
    fresh.store.insert_app(&app("site-a")).await.expect("app");
    let t1 = Timestamp::from_unix_millis(1_700_000_000_001);
    let t2 = Timestamp::from_unix_millis(1_700_000_009_002);
    let first = fresh
        .store
        .upsert_user_by_email(
            "site-a",
            &submission("ada@x.io", json!({"name": "Ada"}), t1),
        )
        .await
        .expect("create");
    fresh
        .store
        .upsert_user_by_email("site-a", &submission("ada@x.io", json!({"age": 36}), t2))
        .await
        .expect("merge");

    let stored = fresh
        .raw("users")
        .find_one(doc! { "_id": &first.id })
        .await
        .expect("read")
        .expect("stored under our id");
    assert_eq!(stored.get("_id"), Some(&Bson::String(first.id.clone())));
    assert_eq!(stored.get_str("appId").expect("appId"), "site-a");
    let data = stored
        .get_document("data")
        .expect("data is an embedded document");
    assert_eq!(data.get_str("name").expect("name"), "Ada");
    assert_eq!(data.get("age").and_then(Bson::as_i32), Some(36));
    assert_eq!(
        date_millis(stored.get("createdAt")),
        Some(t1.as_unix_millis())
    );
    assert_eq!(
        date_millis(stored.get("updatedAt")),
        Some(t2.as_unix_millis()),
        "still a BSON date after a merge"
    );
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn app_and_schema_documents_keep_bson_dates_through_updates() {
    let fresh = FreshStore::connect().await;
    fresh.store.insert_app(&app("site-a")).await.expect("app");
    let later = Timestamp::from_unix_millis(1_800_000_000_456);
    let changes = AppChanges {
        name: Some("Renamed".into()),
        ..Default::default()
    };
    fresh
        .store
        .update_app("site-a", &changes, later)
        .await
        .expect("update");
    fresh
        .store
        .replace_app_password("site-a", "$argon2id$new", later)
        .await
        .expect("rotate");
    let stored = fresh
        .raw("apps")
        .find_one(doc! { "_id": "site-a" })
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        date_millis(stored.get("createdAt")),
        Some(1_700_000_000_123)
    );
    assert_eq!(
        date_millis(stored.get("updatedAt")),
        Some(later.as_unix_millis())
    );
    assert_eq!(
        stored
            .get("credentialVersion")
            .and_then(|v| v.as_i64().or(v.as_i32().map(i64::from))),
        Some(2)
    );

    let schema = serde_json::from_value(json!({"fields": [{"key": "name", "kind": "text"}]}))
        .expect("schema");
    fresh
        .store
        .save_schema("site-a", &schema, later)
        .await
        .expect("save");
    let version = fresh
        .raw("schema_versions")
        .find_one(doc! { "_id": "site-a:1" })
        .await
        .expect("read");
    let version = version.expect("schema version documents are keyed appId:version");
    assert!(
        version.get_document("schema").is_ok(),
        "the schema is an embedded document"
    );
    assert_eq!(
        date_millis(version.get("createdAt")),
        Some(later.as_unix_millis())
    );
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn operator_or_path_keys_are_refused_and_store_nothing() {
    let fresh = FreshStore::connect().await;
    fresh.store.insert_app(&app("site-a")).await.expect("app");
    let now = Timestamp::now();
    for data in [
        json!({"$set": {"admin": true}}),
        json!({"a.b": 1}),
        json!({"ok": {"$gt": ""}}),
    ] {
        let refused = fresh
            .store
            .upsert_user_by_email("site-a", &submission("evil@x.io", data.clone(), now))
            .await;
        assert!(refused.is_err(), "{data} must be refused");
    }
    assert_eq!(fresh.store.count_users("site-a").await.expect("count"), 0);

    // Refused on the update path as well, leaving the stored record as it was.
    fresh
        .store
        .upsert_user_by_email("site-a", &submission("evil@x.io", json!({"n": 1}), now))
        .await
        .expect("plain");
    let refused = fresh
        .store
        .upsert_user_by_email("site-a", &submission("evil@x.io", json!({"$inc": 1}), now))
        .await;
    assert!(refused.is_err());
    let users = fresh
        .store
        .list_users("site-a", &UserQuery::first(10))
        .await
        .expect("list")
        .users;
    assert_eq!(
        serde_json::Value::Object(users[0].data.clone()),
        json!({"n": 1})
    );
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn search_text_is_matched_literally_never_as_a_pattern_or_operator() {
    let fresh = FreshStore::connect().await;
    fresh.store.insert_app(&app("site-a")).await.expect("app");
    let now = Timestamp::now();
    for email in ["a+b@x.io", "ab@x.io", "c$d@x.io", "star*@x.io"] {
        fresh
            .store
            .upsert_user_by_email("site-a", &submission(email, json!({}), now))
            .await
            .expect("upsert");
    }
    let search = |text: &str| {
        let mut query = UserQuery::first(100);
        query.email_contains = Some(text.to_owned());
        let store = fresh.store.clone();
        async move {
            let mut emails: Vec<String> = store
                .list_users("site-a", &query)
                .await
                .expect("search")
                .users
                .into_iter()
                .map(|u| u.email)
                .collect();
            emails.sort();
            emails
        }
    };
    assert_eq!(
        search("a+b").await,
        vec!["a+b@x.io"],
        "`+` is not a quantifier"
    );
    assert_eq!(
        search(".*").await,
        Vec::<String>::new(),
        "`.*` is not match-all"
    );
    assert_eq!(search("c$d").await, vec!["c$d@x.io"]);
    assert_eq!(search("r*@").await, vec!["star*@x.io"]);
    assert_eq!(
        search("{\"$ne\": null}").await,
        Vec::<String>::new(),
        "JSON text is only text"
    );
    assert_eq!(search("AB@").await, vec!["ab@x.io"], "case-insensitive");
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn app_documents_from_before_incarnations_still_load() {
    let fresh = FreshStore::connect().await;
    let created = mongodb::bson::DateTime::from_millis(1_700_000_000_123);
    fresh
        .raw("apps")
        .insert_one(
            doc! { "_id": "old-site", "name": "Old", "allowedOrigins": ["*"],
            "passwordHash": "$argon2id$placeholder", "credentialVersion": 2_i64,
            "createdAt": created, "updatedAt": created, "revision": 1_i64 },
        )
        .await
        .expect("raw insert");
    let found = fresh
        .store
        .find_app("old-site")
        .await
        .expect("an old document decodes")
        .expect("found");
    assert_eq!(found.incarnation, "created-1700000000123");
    assert_eq!(found.credential_version, 2);
    let listed = fresh.store.list_apps().await.expect("list");
    assert_eq!(listed[0].app.incarnation, found.incarnation);
    // The next write stores the same value, so sessions opened meanwhile stay valid.
    let renamed = fresh
        .store
        .update_app(
            "old-site",
            &AppChanges {
                name: Some("Renamed".into()),
                ..AppChanges::default()
            },
            Timestamp::now(),
        )
        .await
        .expect("update");
    assert_eq!(renamed.incarnation, found.incarnation);
    let stored = fresh
        .raw("apps")
        .find_one(doc! { "_id": "old-site" })
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        stored.get_str("incarnation").expect("incarnation"),
        "created-1700000000123"
    );
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn undecodable_documents_are_reported_as_corrupt_never_skipped() {
    let fresh = FreshStore::connect().await;
    fresh.store.insert_app(&app("site-a")).await.expect("app");
    let now = Timestamp::now();
    let good = fresh
        .store
        .upsert_user_by_email("site-a", &submission("good@x.io", json!({}), now))
        .await
        .expect("upsert");
    fresh
        .raw("users")
        .insert_one(doc! { "_id": "zzz-broken", "appId": "site-a", "email": "broken@x.io", "data": {}, "schemaVersion": 1_i64 })
        .await
        .expect("raw insert");

    let listed = fresh
        .store
        .list_users("site-a", &UserQuery::first(10))
        .await;
    assert!(
        matches!(listed, Err(StorageError::Corrupt(ref why)) if why.contains("zzz-broken")),
        "{listed:?}"
    );
    let found = fresh.store.find_user("site-a", "zzz-broken").await;
    assert!(matches!(found, Err(StorageError::Corrupt(_))), "{found:?}");
    assert!(
        fresh
            .store
            .find_user("site-a", &good.id)
            .await
            .expect("the good record still reads")
            .is_some()
    );

    fresh
        .raw("apps")
        .insert_one(doc! { "_id": "no-name" })
        .await
        .expect("raw insert");
    assert!(matches!(
        fresh.store.list_apps().await,
        Err(StorageError::Corrupt(_))
    ));

    let bad_schema = doc! { "_id": "site-a:1", "appId": "site-a", "version": 1_i64, "schema": { "fields": "nope" },
    "createdAt": mongodb::bson::DateTime::now() };
    fresh
        .raw("schema_versions")
        .insert_one(bad_schema)
        .await
        .expect("raw insert");
    assert!(matches!(
        fresh.store.current_schema("site-a").await,
        Err(StorageError::Corrupt(_))
    ));
    fresh.drop_database().await;
}

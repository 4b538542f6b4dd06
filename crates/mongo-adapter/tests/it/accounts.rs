//! What accounts, sessions and signing keys look like in MongoDB, and the risks of a store
//! without transactions: user documents from before accounts are leads; the phase-1 merge,
//! itself a whole-document replace, never drops an account, even while a registration races it;
//! dates stay BSON dates through every change.

use futures::future::join_all;
use mongodb::bson::{Bson, doc};
use serde_json::json;
use storage_port::{
    AccountStore, AppRecord, AppStore, NewAccount, ProfileChanges, Registered, Rotation,
    RotationOutcome, SessionRecord, SessionStore, SigningKeyRecord, SigningKeyStore, StorageError,
    Timestamp, UserStore, UserUpsert,
};

use super::FreshStore;

const T0: i64 = 1_700_000_000_000;

fn at(offset: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0 + offset)
}

fn date_millis(value: Option<&Bson>) -> Option<i64> {
    match value {
        Some(Bson::DateTime(at)) => Some(at.timestamp_millis()),
        _ => None,
    }
}

async fn with_app(fresh: &FreshStore) {
    fresh
        .store
        .insert_app(&AppRecord {
            id: "site".to_owned(),
            name: "Site".to_owned(),
            allowed_origins: vec![],
            honeypot_field: None,
            thank_you_url: None,
            error_url: None,
            password_hash: "$argon2id$app".to_owned(),
            credential_version: 1,
            incarnation: "incarnation".to_owned(),
            account_settings: storage_port::AccountSettings::default(),
            created_at: at(0),
            updated_at: at(0),
        })
        .await
        .expect("app");
}

fn registration(email: &str) -> NewAccount {
    NewAccount {
        new_id: uuid::Uuid::now_v7().to_string(),
        email: email.to_owned(),
        password_hash: Some("$argon2id$ada".to_owned()),
        name: Some("Ada".to_owned()),
        data: json!({"plan": "pro"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        schema_version: 1,
        tenant_admin: false,
        joining: None,
        now: at(1_000),
    }
}

fn sign_up(email: &str, data: serde_json::Value, now: Timestamp) -> UserUpsert {
    UserUpsert {
        new_id: uuid::Uuid::now_v7().to_string(),
        email: email.to_owned(),
        data: data.as_object().cloned().unwrap_or_default(),
        schema_version: 1,
        now,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn user_documents_from_before_accounts_are_leads_and_register_in_place() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    let created = mongodb::bson::DateTime::from_millis(T0 - 5_000);
    fresh
        .raw("users")
        .insert_one(
            doc! { "_id": "old-user", "appId": "site", "email": "ada@example.com",
            "data": { "age": 40 }, "schemaVersion": 1_i64, "createdAt": created,
            "updatedAt": created, "revision": 3_i64 },
        )
        .await
        .expect("raw insert");
    let user = fresh
        .store
        .find_user("site", "old-user")
        .await
        .expect("an old document decodes")
        .expect("found");
    assert_eq!(user.email, "ada@example.com");
    assert_eq!(
        fresh
            .store
            .find_account("site", "old-user")
            .await
            .expect("find"),
        None,
        "a document without `account` is a lead"
    );
    assert_eq!(
        fresh
            .store
            .find_account_by_email("site", "ada@example.com")
            .await
            .expect("find"),
        None
    );

    let registered = fresh
        .store
        .register_account("site", &registration("ada@example.com"))
        .await
        .expect("register");
    let Registered::FromLead(account) = registered else {
        panic!("the old document is the lead: {registered:?}")
    };
    assert_eq!(account.user.id, "old-user");
    assert_eq!(
        account.user.created_at,
        Timestamp::from_unix_millis(T0 - 5_000)
    );
    assert_eq!(account.account.lead_keys, ["age"]);

    let stored = fresh
        .raw("users")
        .find_one(doc! { "_id": "old-user" })
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        stored
            .get("revision")
            .and_then(|v| v.as_i64().or(v.as_i32().map(i64::from))),
        Some(4),
        "one more write"
    );
    let embedded = stored
        .get_document("account")
        .expect("the account is a subdocument");
    assert_eq!(
        date_millis(embedded.get("registeredAt")),
        Some(at(1_000).as_unix_millis())
    );
    assert_eq!(embedded.get_str("passwordHash").ok(), Some("$argon2id$ada"));
    let data = stored.get_document("data").expect("data");
    assert_eq!(data.get("age").and_then(Bson::as_i32), Some(40));
    assert_eq!(data.get_str("plan").ok(), Some("pro"));
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn a_sign_up_merge_keeps_the_account_and_its_bson_dates() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    let id = fresh
        .store
        .register_account("site", &registration("ada@example.com"))
        .await
        .expect("register")
        .into_record()
        .user
        .id;
    let changes = ProfileChanges {
        bio: Some(Some("Mathematician".to_owned())),
        ..ProfileChanges::default()
    };
    fresh
        .store
        .update_profile("site", &id, &changes, at(2_000))
        .await
        .expect("profile");
    fresh
        .store
        .record_login("site", &id, at(3_000))
        .await
        .expect("login");
    let before = fresh
        .store
        .find_account("site", &id)
        .await
        .expect("find")
        .expect("account");

    let merged = fresh
        .store
        .upsert_user_by_email(
            "site",
            &sign_up("ada@example.com", json!({"age": 36}), at(4_000)),
        )
        .await
        .expect("sign-up");
    assert_eq!(merged.id, id);
    let after = fresh
        .store
        .find_account("site", &id)
        .await
        .expect("find")
        .expect("still an account");
    assert_eq!(after.account, before.account, "every account field kept");
    assert_eq!(
        serde_json::Value::Object(after.user.data),
        json!({"plan": "pro", "age": 36})
    );

    let stored = fresh
        .raw("users")
        .find_one(doc! { "_id": &id })
        .await
        .expect("read")
        .expect("stored");
    let embedded = stored.get_document("account").expect("account");
    assert_eq!(
        date_millis(embedded.get("lastLoginAt")),
        Some(at(3_000).as_unix_millis()),
        "a BSON date after a profile change, a login and a merge"
    );
    assert_eq!(
        date_millis(embedded.get("registeredAt")),
        Some(at(1_000).as_unix_millis())
    );
    assert_eq!(
        date_millis(stored.get("updatedAt")),
        Some(at(4_000).as_unix_millis())
    );
    fresh.drop_database().await;
}

/// The lead's merge and its registration are both replaces of one document guarded by its
/// revision: whichever loses reads again, so no sign-up's data and no account is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn a_registration_racing_sign_ups_of_its_lead_loses_neither() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    fresh
        .store
        .upsert_user_by_email("site", &sign_up("ada@example.com", json!({}), at(0)))
        .await
        .expect("lead");
    let store = &fresh.store;
    let sign_ups = (0..8).map(|i| async move {
        let data = json!({ format!("k{i}"): i });
        store
            .upsert_user_by_email("site", &sign_up("ada@example.com", data, at(10 + i)))
            .await
            .map(|_| ())
    });
    let new = registration("ada@example.com");
    let (merges, registered) =
        futures::join!(join_all(sign_ups), store.register_account("site", &new));
    for merge in merges {
        merge.expect("every sign-up merges");
    }
    let id = registered.expect("registers").into_record().user.id;
    let account = store
        .find_account("site", &id)
        .await
        .expect("find")
        .expect("the account survived every merge");
    assert_eq!(
        account.account.password_hash.as_deref(),
        Some("$argon2id$ada")
    );
    for i in 0..8 {
        assert_eq!(
            account.user.data.get(&format!("k{i}")),
            Some(&json!(i)),
            "sign-up {i} kept: {:?}",
            account.user.data
        );
    }
    assert_eq!(account.user.data.get("plan"), Some(&json!("pro")));
    assert_eq!(store.count_users("site").await.expect("count"), 1);
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn session_and_signing_key_documents_hold_our_ids_and_bson_dates_after_changes() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    let session = SessionRecord {
        id: "session-1".to_owned(),
        app_id: "site".to_owned(),
        user_id: "user-1".to_owned(),
        organization_id: None,
        refresh_hash: "h0".to_owned(),
        previous_hash: None,
        rotated_at: None,
        sealed_refresh: None,
        created_at: at(0),
        last_used_at: at(0),
        idle_expires_at: at(86_400_000),
        absolute_expires_at: at(7 * 86_400_000),
        user_agent: None,
        client_ip: None,
        revoked_at: None,
    };
    fresh.store.insert_session(&session).await.expect("insert");
    let rotation = |presented: &str, now: Timestamp| Rotation {
        presented_hash: presented.to_owned(),
        next_hash: "h1".to_owned(),
        next_sealed: "sealed-h1".to_owned(),
        now,
        idle_expires_at: Timestamp::from_unix_millis(now.as_unix_millis() + 86_400_000),
        grace_millis: 10_000,
    };
    let rotated = fresh
        .store
        .rotate_refresh("site", "session-1", &rotation("h0", at(1_000)))
        .await
        .expect("rotate");
    assert!(
        matches!(rotated, RotationOutcome::Rotated(_)),
        "{rotated:?}"
    );
    let reused = fresh
        .store
        .rotate_refresh("site", "session-1", &rotation("h0", at(60_000)))
        .await
        .expect("rotate");
    assert!(matches!(reused, RotationOutcome::Reused(_)), "{reused:?}");

    let stored = fresh
        .raw("sessions")
        .find_one(doc! { "_id": "session-1" })
        .await
        .expect("read")
        .expect("stored under our id");
    assert_eq!(stored.get_str("appId").ok(), Some("site"));
    assert_eq!(stored.get_str("userId").ok(), Some("user-1"));
    assert_eq!(stored.get_str("refreshHash").ok(), Some("h1"));
    assert_eq!(stored.get_str("previousHash").ok(), Some("h0"));
    for (field, expected) in [
        ("createdAt", at(0)),
        ("rotatedAt", at(1_000)),
        ("lastUsedAt", at(1_000)),
        ("idleExpiresAt", at(1_000 + 86_400_000)),
        ("absoluteExpiresAt", at(7 * 86_400_000)),
        ("revokedAt", at(60_000)),
    ] {
        assert_eq!(
            date_millis(stored.get(field)),
            Some(expected.as_unix_millis()),
            "{field}: {stored}"
        );
    }

    let key = SigningKeyRecord {
        kid: "kid-1".to_owned(),
        algorithm: "EdDSA".to_owned(),
        public_key: "public".to_owned(),
        sealed_private_key: "sealed".to_owned(),
        created_at: at(5),
    };
    fresh.store.insert_signing_key(&key).await.expect("insert");
    let stored = fresh
        .raw("signing_keys")
        .find_one(doc! { "_id": "kid-1" })
        .await
        .expect("read")
        .expect("stored under its kid");
    assert_eq!(
        date_millis(stored.get("createdAt")),
        Some(at(5).as_unix_millis())
    );
    assert!(matches!(
        fresh.store.insert_signing_key(&key).await,
        Err(StorageError::Duplicate(_))
    ));
    fresh.drop_database().await;
}

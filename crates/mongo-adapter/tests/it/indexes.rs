//! The indexes are there after `connect`, however often it runs.

use mongodb::bson::{Bson, Document, doc};
use mongodb::options::IndexOptions;

use super::{FreshStore, URI_VARIABLE, required_env, settings};

/// Every index of a collection as (key document, unique).
async fn indexes_of(fresh: &FreshStore, collection: &str) -> Vec<(Document, bool)> {
    use futures::TryStreamExt;
    let cursor = fresh
        .raw(collection)
        .list_indexes()
        .await
        .expect("list indexes");
    let models: Vec<mongodb::IndexModel> = cursor.try_collect().await.expect("read indexes");
    models
        .into_iter()
        .map(|model| {
            let unique = model
                .options
                .as_ref()
                .and_then(|o: &IndexOptions| o.unique)
                .unwrap_or(false);
            (model.keys, unique)
        })
        .collect()
}

fn field_names(keys: &Document) -> Vec<&str> {
    keys.keys().map(String::as_str).collect()
}

async fn connect_twice() -> FreshStore {
    let fresh = FreshStore::connect().await;
    let uri = required_env(URI_VARIABLE);
    let again = mongo_adapter::MongoStorage::connect(&settings(&uri, fresh.database.name())).await;
    assert!(
        again.is_ok(),
        "creating the indexes again must succeed: {again:?}"
    );
    fresh
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn connect_is_idempotent_and_leaves_the_unique_and_range_indexes() {
    let fresh = connect_twice().await;
    let users = indexes_of(&fresh, "users").await;
    assert!(
        users
            .iter()
            .any(|(keys, unique)| field_names(keys) == ["appId", "email"] && *unique),
        "{users:?}"
    );
    assert!(
        users
            .iter()
            .any(|(keys, _)| field_names(keys) == ["appId", "createdAt"]),
        "{users:?}"
    );
    let versions = indexes_of(&fresh, "schema_versions").await;
    assert!(
        versions
            .iter()
            .any(|(keys, unique)| field_names(keys) == ["appId", "version"] && *unique),
        "{versions:?}"
    );
    let admins = indexes_of(&fresh, "admins").await;
    assert!(
        admins
            .iter()
            .any(|(keys, unique)| field_names(keys) == ["email"] && *unique),
        "{admins:?}"
    );
    let sessions = indexes_of(&fresh, "sessions").await;
    assert!(
        sessions
            .iter()
            .any(|(keys, unique)| field_names(keys) == ["appId", "userId"] && !*unique),
        "{sessions:?}"
    );
    for (collection, fields, unique) in [
        ("organizations", &["appId", "slug"][..], true),
        (
            "memberships",
            &["appId", "organizationId", "userId"][..],
            true,
        ),
        ("memberships", &["appId", "userId"][..], false),
        ("api_keys", &["keyHash"][..], true),
        ("api_keys", &["appId"][..], false),
        ("one_time_tokens", &["tokenHash"][..], true),
        ("one_time_tokens", &["appId", "purpose", "email"][..], false),
        ("outbox", &["status", "nextAttemptAt"][..], false),
    ] {
        let indexes = indexes_of(&fresh, collection).await;
        assert!(
            indexes
                .iter()
                .any(|(keys, is_unique)| field_names(keys) == fields && *is_unique == unique),
            "{collection}: {fields:?} (unique: {unique}) missing in {indexes:?}"
        );
    }
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB 7: nx-27017 cannot index _id inside a compound index (the adapter skips it there) and reports -1 keys as 1"]
async fn indexes_have_exactly_the_mongodb_keys() {
    let fresh = connect_twice().await;
    let users = indexes_of(&fresh, "users").await;
    for expected in [
        doc! { "appId": 1, "email": 1 },
        doc! { "appId": 1, "_id": 1 },
        doc! { "appId": 1, "createdAt": 1 },
    ] {
        assert!(
            users.iter().any(|(keys, _)| same_keys(keys, &expected)),
            "{expected} missing in {users:?}"
        );
    }
    let versions = indexes_of(&fresh, "schema_versions").await;
    assert!(
        versions
            .iter()
            .any(|(keys, unique)| same_keys(keys, &doc! { "appId": 1, "version": -1 }) && *unique)
    );
    let sessions = indexes_of(&fresh, "sessions").await;
    assert!(
        sessions
            .iter()
            .any(|(keys, _)| same_keys(keys, &doc! { "appId": 1, "userId": 1 })),
        "{sessions:?}"
    );
    let organizations = indexes_of(&fresh, "organizations").await;
    for expected in [
        doc! { "appId": 1, "slug": 1 },
        doc! { "appId": 1, "_id": 1 },
    ] {
        assert!(
            organizations
                .iter()
                .any(|(keys, _)| same_keys(keys, &expected)),
            "{expected} missing in {organizations:?}"
        );
    }
    fresh.drop_database().await;
}

/// Index key values come back as Int32, Int64 or Double depending on the server.
fn same_keys(actual: &Document, expected: &Document) -> bool {
    let number = |value: &Bson| match value {
        Bson::Int32(n) => Some(f64::from(*n)),
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(n) => Some(*n),
        _ => None,
    };
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected.iter())
            .all(|((ak, av), (ek, ev))| ak == ek && number(av) == number(ev))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB 7: nx-27017 has no query planner to explain, and no {appId, _id} index"]
async fn a_user_page_is_read_through_the_app_and_id_index() {
    let fresh = FreshStore::connect().await;
    let explain = doc! {
        "explain": {
            "find": "users",
            "filter": { "appId": "site-a", "_id": { "$gt": "0" } },
            "sort": { "_id": 1 },
            "limit": 51,
        },
        "verbosity": "queryPlanner",
    };
    let plan = fresh.database.run_command(explain).await.expect("explain");
    let winning = plan
        .get_document("queryPlanner")
        .and_then(|planner| planner.get_document("winningPlan"));
    let winning = winning.expect("a winning plan").to_string();
    assert!(
        winning.contains("appId_id") && !winning.contains("SORT"),
        "{winning}"
    );
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs MongoDB 7: nx-27017 has no query planner to explain"]
async fn a_member_page_is_read_through_the_membership_index_without_a_sort() {
    let fresh = FreshStore::connect().await;
    let explain = doc! {
        "explain": {
            "find": "memberships",
            "filter": {
                "appId": "site", "organizationId": "org_a",
                "userId": { "$gt": "01900000-0000-7000-8000-000000099000" },
            },
            "sort": { "userId": 1 },
            "limit": 51,
        },
        "verbosity": "queryPlanner",
    };
    let plan = fresh.database.run_command(explain).await.expect("explain");
    let winning = plan
        .get_document("queryPlanner")
        .and_then(|planner| planner.get_document("winningPlan"));
    let winning = winning.expect("a winning plan").to_string();
    assert!(
        winning.contains("appId_organizationId_userId_unique") && !winning.contains("SORT"),
        "{winning}"
    );
    fresh.drop_database().await;
}

/// Apps stored before `idFolded` get it at the next start-up, the first of ids that differ
/// only in case keeps the folded id, and from then on no new app can take it in any case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn apps_stored_before_folded_ids_get_them_at_start_up() {
    use storage_port::{AppStore, StorageError};
    let fresh = FreshStore::connect().await;
    let uri = required_env(URI_VARIABLE);
    let created = mongodb::bson::DateTime::from_millis(1_700_000_000_000);
    for id in ["Legacy", "legacy", "other"] {
        fresh
            .raw("apps")
            .insert_one(doc! { "_id": id, "name": "Old", "allowedOrigins": ["*"],
            "passwordHash": "$argon2id$placeholder", "credentialVersion": 1_i64,
            "createdAt": created, "updatedAt": created, "revision": 1_i64 })
            .await
            .expect("raw insert");
    }
    let store = mongo_adapter::MongoStorage::connect(&settings(&uri, fresh.database.name()))
        .await
        .expect("start-up with ids that differ only in case");
    let mut folded = Vec::new();
    for id in ["Legacy", "legacy", "other"] {
        let stored = fresh
            .raw("apps")
            .find_one(doc! { "_id": id })
            .await
            .expect("read")
            .expect("stored");
        folded.push(stored.get_str("idFolded").ok().map(str::to_owned));
    }
    assert_eq!(
        folded,
        [Some("legacy".to_owned()), None, Some("other".to_owned())]
    );
    // Both old twins still read and write.
    for id in ["Legacy", "legacy"] {
        let app = store.find_app(id).await.expect("find").expect("found");
        store
            .update_app(id, &storage_port::AppChanges::default(), app.updated_at)
            .await
            .expect("update");
    }
    let mut twin = store.find_app("other").await.expect("find").expect("found");
    twin.id = "OTHER".into();
    assert!(matches!(
        store.insert_app(&twin).await,
        Err(StorageError::Duplicate(_))
    ));
    twin.id = "LEGACY".into();
    assert!(matches!(
        store.insert_app(&twin).await,
        Err(StorageError::Duplicate(_))
    ));
    fresh.drop_database().await;
}

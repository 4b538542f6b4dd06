//! The behaviour every [`Storage`] implementation must have, as test functions. An adapter runs
//! them all against itself with [`conformance_tests!`](crate::conformance_tests):
//!
//! ```ignore
//! storage_port::conformance_tests!(async { (MyStore::open_fresh().await, ()) });
//! ```
//!
//! The expression is evaluated once per test and yields `(store, guard)`; the guard (a temporary
//! directory, say) lives until the test ends. The long form also puts attributes on every test
//! (`#[cfg_attr(not(…), ignore = "…")]` for a store that needs a server) and runs an
//! expression with the guard once a check has passed (dropping a test database, say):
//!
//! ```ignore
//! storage_port::conformance_tests!(
//!     fresh_database(),
//!     attributes { #[cfg_attr(not(my_server), ignore = "needs the server")] },
//!     after database => database.drop().await.expect("drop")
//! );
//! ```

use futures::future::join_all;
use schema_validation::Schema;
use serde_json::{Map, Value, json};

use crate::*;

mod accounts;
pub mod mail;
mod organizations;

pub use accounts::*;
pub use organizations::*;

/// Expands to one `#[tokio::test]` per conformance check. The calling crate needs `tokio` with
/// the `macros` and `rt-multi-thread` features among its dev-dependencies.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!($make, attributes {}, after _guard => ());
    };
    ($make:expr, attributes { $(#[$meta:meta])* }, after $guard:ident => $cleanup:expr) => {
        $crate::conformance_tests!(@each { $(#[$meta])* } $make, { $guard => $cleanup };
            apps_insert_find_and_refuse_duplicates,
            app_ids_are_unique_ignoring_case_even_when_inserted_together,
            apps_update_and_rotate_password,
            an_app_keeps_its_incarnation_until_it_is_deleted,
            apps_list_with_user_counts,
            delete_app_removes_its_schemas_and_users_only,
            schema_versions_count_up_and_list_newest_first,
            concurrent_schema_saves_get_distinct_versions,
            upsert_creates_then_merges,
            tenants_are_isolated,
            concurrent_upserts_of_one_email_make_one_record,
            keyset_pagination_never_skips_or_repeats,
            list_filters_by_email_text_and_creation_time,
            delete_user_erases_one_record,
            stored_data_round_trips_exactly,
            admins_insert_find_and_refuse_duplicates,
            admins_list_by_email_and_reset_passwords,
            ping_answers,
            accounts_register_new_emails_and_turn_leads_into_accounts,
            an_email_registers_once_even_when_registrations_race,
            accounts_change_their_profile_password_and_last_login,
            refresh_tokens_rotate_then_get_a_grace_then_a_replay_revokes,
            concurrent_rotations_of_one_token_make_one_successor,
            sessions_are_listed_and_revoked_per_user_and_app,
            deleting_a_record_or_an_app_deletes_its_sessions,
            signing_keys_are_kept_newest_first,
            a_session_switches_its_active_organization,
            organizations_are_created_with_their_admin_and_unique_slugs,
            organizations_update_list_and_delete_with_their_memberships,
            memberships_are_unique_even_when_added_together,
            the_last_admin_cannot_be_demoted_or_removed,
            racing_demotions_of_the_last_two_admins_leave_one,
            members_page_by_user_id_with_their_accounts,
            accounts_are_created_by_admins_into_organizations_and_changed,
            accounts_list_by_text_role_and_organization,
            erasing_an_account_or_an_app_removes_memberships_and_keys,
            api_keys_are_found_by_hash_listed_and_revoked
        );
    };
    // The attributes and the cleanup travel as one token tree each, so that they can be
    // repeated for every name.
    (@each $attributes:tt $make:expr, $after:tt; $($name:ident),*) => {
        $(
            $crate::conformance_tests!(@one $name $attributes $make, $after);
        )*
    };
    (@one $name:ident { $(#[$meta:meta])* } $make:expr, { $guard:ident => $cleanup:expr }) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $(#[$meta])*
        async fn $name() {
            let (store, $guard) = $make.await;
            $crate::conformance::$name(&store).await;
            $cleanup;
        }
    };
}

fn app(id: &str) -> AppRecord {
    let now = Timestamp::from_unix_millis(1_700_000_000_000);
    AppRecord {
        id: id.to_owned(),
        name: format!("App {id}"),
        allowed_origins: vec!["https://example.com".to_owned()],
        honeypot_field: None,
        thank_you_url: None,
        error_url: None,
        password_hash: "$argon2id$placeholder".to_owned(),
        credential_version: 1,
        incarnation: format!("incarnation-of-{id}"),
        account_settings: AccountSettings::default(),
        created_at: now,
        updated_at: now,
    }
}

fn data(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn upsert(email: &str, value: Value, now: Timestamp) -> UserUpsert {
    UserUpsert {
        new_id: uuid::Uuid::now_v7().to_string(),
        email: email.to_owned(),
        data: data(value),
        schema_version: 1,
        now,
    }
}

fn schema(value: Value) -> Schema {
    serde_json::from_value(value).expect("conformance schemas are valid")
}

async fn with_app<S: Storage>(store: &S, id: &str) {
    store.insert_app(&app(id)).await.expect("insert app");
}

async fn all_users<S: Storage>(store: &S, app_id: &str) -> Vec<UserRecord> {
    store
        .list_users(app_id, &UserQuery::first(500))
        .await
        .expect("list")
        .users
}

pub async fn apps_insert_find_and_refuse_duplicates<S: Storage>(store: &S) {
    assert_eq!(store.find_app("site-a").await.expect("find"), None);
    with_app(store, "site-a").await;
    assert_eq!(
        store.find_app("site-a").await.expect("find"),
        Some(app("site-a"))
    );
    assert_eq!(
        store.find_app("SITE-A").await.expect("find"),
        None,
        "app ids are case-sensitive"
    );
    let again = store.insert_app(&app("site-a")).await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(_))),
        "{again:?}"
    );
}

pub async fn app_ids_are_unique_ignoring_case_even_when_inserted_together<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    for twin in ["SITE-A", "Site-A"] {
        let again = store.insert_app(&app(twin)).await;
        assert!(
            matches!(again, Err(StorageError::Duplicate(_))),
            "{twin}: {again:?}"
        );
        assert_eq!(store.find_app(twin).await.expect("find"), None);
    }
    for round in 0..10 {
        let (lower, upper) = (format!("race-{round}"), format!("RACE-{round}"));
        let (first, second) = (app(&lower), app(&upper));
        let results = join_all([store.insert_app(&first), store.insert_app(&second)]).await;
        let stored = results.iter().filter(|result| result.is_ok()).count();
        assert_eq!(stored, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .any(|result| matches!(result, Err(StorageError::Duplicate(_)))),
            "round {round}: {results:?}"
        );
    }
    // Deleting frees the id in every case.
    store.delete_app("site-a").await.expect("delete");
    store.insert_app(&app("SITE-A")).await.expect("insert");
    assert_eq!(store.find_app("site-a").await.expect("find"), None);
}

pub async fn apps_update_and_rotate_password<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    let later = Timestamp::from_unix_millis(1_800_000_000_000);
    let changes = AppChanges {
        name: Some("Renamed".into()),
        allowed_origins: Some(vec!["*".into()]),
        honeypot_field: Some(Some("website".into())),
        thank_you_url: Some(Some("https://example.com/thanks".into())),
        error_url: Some(Some("https://example.com/oops".into())),
        account_settings: Some(AccountSettings {
            organization_creation: OrganizationCreation::AnyAccount,
            require_verified_email: true,
            mail: crate::MailSettings {
                sender_name: Some("Acme “Sites”".into()),
                accept_invite_url: Some("https://example.com/join?x=1".into()),
                templates: [(
                    "invitation".to_owned(),
                    crate::MailTemplate {
                        subject: "Join {{organization_name}}".into(),
                        text: "{{link}}".into(),
                        html: "<a href=\"{{link}}\">Join</a>".into(),
                    },
                )]
                .into(),
                ..crate::MailSettings::default()
            },
            lifetimes: crate::TokenLifetimes {
                access_token_minutes: Some(5),
                session_idle_days: None,
                session_absolute_days: Some(30),
            },
        }),
    };
    let updated = store
        .update_app("site-a", &changes, later)
        .await
        .expect("update");
    assert_eq!(updated.name, "Renamed");
    assert_eq!(
        updated.account_settings,
        changes.account_settings.clone().expect("set"),
        "account settings, mail settings included, are stored whole"
    );
    assert_eq!(updated.allowed_origins, vec!["*"]);
    assert_eq!(updated.honeypot_field.as_deref(), Some("website"));
    assert_eq!(
        updated.error_url.as_deref(),
        Some("https://example.com/oops")
    );
    assert_eq!(updated.updated_at, later);
    assert_eq!(
        store.find_app("site-a").await.expect("find"),
        Some(updated.clone())
    );

    let partial = AppChanges {
        honeypot_field: Some(None),
        error_url: Some(None),
        ..Default::default()
    };
    let cleared = store
        .update_app("site-a", &partial, later)
        .await
        .expect("update");
    assert_eq!(cleared.honeypot_field, None);
    assert_eq!(cleared.error_url, None);
    assert_eq!(
        cleared.thank_you_url.as_deref(),
        Some("https://example.com/thanks")
    );
    assert_eq!(
        cleared.name, "Renamed",
        "fields not named in the changes stay"
    );

    let rotated = store
        .replace_app_password("site-a", "$argon2id$new", later)
        .await
        .expect("rotate");
    assert_eq!(rotated.password_hash, "$argon2id$new");
    assert_eq!(rotated.credential_version, updated.credential_version + 1);

    assert!(matches!(
        store.update_app("nope", &changes, later).await,
        Err(StorageError::NotFound(_))
    ));
    assert!(matches!(
        store.replace_app_password("nope", "x", later).await,
        Err(StorageError::NotFound(_))
    ));
}

pub async fn an_app_keeps_its_incarnation_until_it_is_deleted<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    let incarnation = |app: Option<AppRecord>| app.expect("the app").incarnation;
    let later = Timestamp::from_unix_millis(1_800_000_000_000);
    let changes = AppChanges {
        name: Some("Renamed".into()),
        ..AppChanges::default()
    };
    let updated = store
        .update_app("site-a", &changes, later)
        .await
        .expect("update");
    assert_eq!(updated.incarnation, "incarnation-of-site-a");
    let rotated = store
        .replace_app_password("site-a", "$argon2id$new", later)
        .await
        .expect("rotate");
    assert_eq!(rotated.incarnation, "incarnation-of-site-a");
    assert_eq!(rotated.credential_version, 2);
    assert_eq!(
        incarnation(store.find_app("site-a").await.expect("find")),
        "incarnation-of-site-a"
    );
    store.delete_app("site-a").await.expect("delete");
    let successor = AppRecord {
        incarnation: "a-later-app".into(),
        ..app("site-a")
    };
    store.insert_app(&successor).await.expect("insert again");
    let found = store.find_app("site-a").await.expect("find");
    assert_eq!(found.as_ref().map(|a| a.credential_version), Some(1));
    assert_eq!(incarnation(found), "a-later-app");
    let listed = store.list_apps().await.expect("list");
    assert_eq!(listed[0].app.incarnation, "a-later-app");
}

pub async fn apps_list_with_user_counts<S: Storage>(store: &S) {
    with_app(store, "b-site").await;
    with_app(store, "a-site").await;
    let now = Timestamp::now();
    for email in ["1@x.io", "2@x.io", "3@x.io"] {
        store
            .upsert_user_by_email("b-site", &upsert(email, json!({}), now))
            .await
            .expect("upsert");
    }
    let listed: Vec<(String, u64)> = store
        .list_apps()
        .await
        .expect("list")
        .into_iter()
        .map(|s| (s.app.id, s.user_count))
        .collect();
    assert_eq!(
        listed,
        vec![("a-site".to_owned(), 0), ("b-site".to_owned(), 3)]
    );
}

pub async fn delete_app_removes_its_schemas_and_users_only<S: Storage>(store: &S) {
    with_app(store, "doomed").await;
    with_app(store, "kept").await;
    let now = Timestamp::now();
    let fields = schema(json!({"fields": [{"key": "name", "kind": "text"}]}));
    for id in ["doomed", "kept"] {
        store.save_schema(id, &fields, now).await.expect("schema");
        store
            .upsert_user_by_email(id, &upsert("same@x.io", json!({"name": id}), now))
            .await
            .expect("upsert");
    }
    store.delete_app("doomed").await.expect("delete");
    assert_eq!(store.find_app("doomed").await.expect("find"), None);
    assert_eq!(store.current_schema("doomed").await.expect("schema"), None);
    assert_eq!(store.count_users("doomed").await.expect("count"), 0);
    assert_eq!(store.count_users("kept").await.expect("count"), 1);
    assert!(
        store
            .current_schema("kept")
            .await
            .expect("schema")
            .is_some()
    );
    assert!(matches!(
        store.delete_app("doomed").await,
        Err(StorageError::NotFound(_))
    ));

    // The id can be used again, and starts empty.
    with_app(store, "doomed").await;
    assert!(all_users(store, "doomed").await.is_empty());
    assert_eq!(
        store
            .list_schema_versions("doomed")
            .await
            .expect("versions"),
        vec![]
    );
}

pub async fn schema_versions_count_up_and_list_newest_first<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    assert_eq!(store.current_schema("site-a").await.expect("current"), None);
    let first = schema(json!({"fields": [{"key": "name", "kind": "text", "regex": "[a-z]+"}]}));
    let second = schema(json!({"rejectUnknown": false, "fields": [
        {"key": "name", "kind": "text"}, {"key": "age", "kind": "number", "min": 0, "integer": true}]}));
    let t1 = Timestamp::from_unix_millis(1_700_000_000_000);
    let t2 = Timestamp::from_unix_millis(1_700_000_001_000);
    let v1 = store.save_schema("site-a", &first, t1).await.expect("save");
    let v2 = store
        .save_schema("site-a", &second, t2)
        .await
        .expect("save");
    assert_eq!((v1.version, v2.version), (1, 2));
    let current = store
        .current_schema("site-a")
        .await
        .expect("current")
        .expect("saved");
    assert_eq!(current, v2);
    assert_eq!(current.schema, second);
    let versions: Vec<i64> = store
        .list_schema_versions("site-a")
        .await
        .expect("list")
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, vec![2, 1]);
    let missing = store.save_schema("no-such-app", &first, t1).await;
    assert!(
        matches!(missing, Err(StorageError::NotFound(_))),
        "{missing:?}"
    );
}

pub async fn concurrent_schema_saves_get_distinct_versions<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    let fields = schema(json!({"fields": []}));
    let now = Timestamp::now();
    let saves = join_all((0..8).map(|_| store.save_schema("site-a", &fields, now))).await;
    let mut versions: Vec<i64> = saves
        .into_iter()
        .map(|s| s.expect("save").version)
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=8).collect::<Vec<_>>());
}

pub async fn upsert_creates_then_merges<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    let t1 = Timestamp::from_unix_millis(1_700_000_000_000);
    let t2 = Timestamp::from_unix_millis(1_700_000_005_000);
    let first = store
        .upsert_user_by_email(
            "site-a",
            &upsert("ada@x.io", json!({"name": "Ada", "plan": "free"}), t1),
        )
        .await
        .expect("create");
    assert!(first.created);
    assert_eq!((first.created_at, first.updated_at), (t1, t1));

    let mut second_upsert = upsert("ada@x.io", json!({"plan": "pro", "age": 36}), t2);
    second_upsert.schema_version = 2;
    let second = store
        .upsert_user_by_email("site-a", &second_upsert)
        .await
        .expect("update");
    assert!(!second.created);
    assert_eq!(second.id, first.id, "the record keeps its id");
    assert_eq!((second.created_at, second.updated_at), (t1, t2));

    let stored = store
        .find_user("site-a", &first.id)
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(
        Value::Object(stored.data.clone()),
        json!({"name": "Ada", "plan": "pro", "age": 36})
    );
    assert_eq!(stored.schema_version, 2);
    assert_eq!(stored.email, "ada@x.io");
    assert_eq!((stored.created_at, stored.updated_at), (t1, t2));
    assert_eq!(store.count_users("site-a").await.expect("count"), 1);

    let by_email = store
        .find_user_by_email("site-a", "ada@x.io")
        .await
        .expect("find by email");
    assert_eq!(by_email, Some(stored), "found by email as by id");
    assert_eq!(
        store
            .find_user_by_email("site-a", "bob@x.io")
            .await
            .expect("find by email"),
        None
    );
}

pub async fn tenants_are_isolated<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    with_app(store, "site-b").await;
    let now = Timestamp::now();
    let a = store
        .upsert_user_by_email("site-a", &upsert("same@x.io", json!({"v": "a"}), now))
        .await
        .expect("a");
    let b = store
        .upsert_user_by_email("site-b", &upsert("same@x.io", json!({"v": "b"}), now))
        .await
        .expect("b");
    assert!(a.created && b.created, "one email is one record per app");
    assert_ne!(a.id, b.id);
    assert_eq!(store.find_user("site-b", &a.id).await.expect("find"), None);
    let found_b = store
        .find_user_by_email("site-b", "same@x.io")
        .await
        .expect("find by email")
        .expect("b's record");
    assert_eq!(
        found_b.id, b.id,
        "an email is looked up in its own app only"
    );
    assert!(!store.delete_user("site-b", &a.id).await.expect("delete"));
    assert!(
        store
            .find_user("site-a", &a.id)
            .await
            .expect("find")
            .is_some()
    );
    let listed_b = all_users(store, "site-b").await;
    assert_eq!(listed_b.len(), 1);
    assert_eq!(listed_b[0].data["v"], "b");
    assert_eq!(store.count_users("site-a").await.expect("count"), 1);
}

pub async fn concurrent_upserts_of_one_email_make_one_record<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    let now = Timestamp::now();
    let upserts: Vec<UserUpsert> = (0..64)
        .map(|i| upsert("race@x.io", json!({ "n": i }), now))
        .collect();
    let results = join_all(
        upserts
            .iter()
            .map(|u| store.upsert_user_by_email("site-a", u)),
    )
    .await;
    let ids: std::collections::HashSet<String> = results
        .into_iter()
        .map(|r| r.expect("no upsert may fail").id)
        .collect();
    assert_eq!(ids.len(), 1, "every upsert names the same record");
    assert_eq!(store.count_users("site-a").await.expect("count"), 1);
}

pub async fn keyset_pagination_never_skips_or_repeats<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    let now = Timestamp::now();
    for i in 0..25 {
        store
            .upsert_user_by_email("site-a", &upsert(&format!("u{i:02}@x.io"), json!({}), now))
            .await
            .expect("upsert");
    }
    let mut seen = Vec::new();
    let mut query = UserQuery::first(7);
    let mut inserted = 0;
    loop {
        let page = store.list_users("site-a", &query).await.expect("page");
        assert!(page.users.len() <= 7);
        seen.extend(page.users.iter().map(|u| u.id.clone()));
        // New sign-ups arrive between page loads.
        if inserted < 3 {
            store
                .upsert_user_by_email(
                    "site-a",
                    &upsert(&format!("late{inserted}@x.io"), json!({}), now),
                )
                .await
                .expect("late");
            inserted += 1;
        }
        match page.next_cursor {
            Some(cursor) => query.after_id = Some(cursor),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "ids come in ascending order, each once");
    assert_eq!(
        seen.len(),
        28,
        "every record, including the ones inserted while paging"
    );
}

pub async fn list_filters_by_email_text_and_creation_time<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    let at = |s: i64| Timestamp::from_unix_millis(1_700_000_000_000 + s * 1000);
    for (email, second) in [
        ("ann@alpha.io", 0),
        ("bob@beta.io", 10),
        ("al_x@alpha.io", 20),
        ("100%@x.io", 30),
    ] {
        store
            .upsert_user_by_email("site-a", &upsert(email, json!({}), at(second)))
            .await
            .expect("upsert");
    }
    let emails = |page: UserPage| -> Vec<String> {
        let mut e: Vec<String> = page.users.into_iter().map(|u| u.email).collect();
        e.sort();
        e
    };
    let query = |f: &dyn Fn(&mut UserQuery)| {
        let mut q = UserQuery::first(100);
        f(&mut q);
        q
    };
    let by_text = store
        .list_users(
            "site-a",
            &query(&|q| q.email_contains = Some("alpha".into())),
        )
        .await
        .expect("q");
    assert_eq!(emails(by_text), vec!["al_x@alpha.io", "ann@alpha.io"]);
    // Search text is literal: `_` and `%` are not wildcards, `.` is not a regex.
    let underscore = store
        .list_users("site-a", &query(&|q| q.email_contains = Some("l_".into())))
        .await
        .expect("q");
    assert_eq!(emails(underscore), vec!["al_x@alpha.io"]);
    let percent = store
        .list_users("site-a", &query(&|q| q.email_contains = Some("0%".into())))
        .await
        .expect("q");
    assert_eq!(emails(percent), vec!["100%@x.io"]);
    let dot = store
        .list_users("site-a", &query(&|q| q.email_contains = Some("l.x".into())))
        .await
        .expect("q");
    assert_eq!(
        emails(dot),
        Vec::<String>::new(),
        "as a regex, `l.x` would match al_x"
    );
    let window = store
        .list_users(
            "site-a",
            &query(&|q| {
                q.created_from = Some(at(10));
                q.created_before = Some(at(30));
            }),
        )
        .await
        .expect("q");
    assert_eq!(emails(window), vec!["al_x@alpha.io", "bob@beta.io"]);
    let combined = store
        .list_users(
            "site-a",
            &query(&|q| {
                q.email_contains = Some("alpha".into());
                q.created_from = Some(at(5));
            }),
        )
        .await
        .expect("q");
    assert_eq!(emails(combined), vec!["al_x@alpha.io"]);
}

pub async fn delete_user_erases_one_record<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    let now = Timestamp::now();
    let gone = store
        .upsert_user_by_email("site-a", &upsert("gone@x.io", json!({}), now))
        .await
        .expect("upsert");
    store
        .upsert_user_by_email("site-a", &upsert("kept@x.io", json!({}), now))
        .await
        .expect("upsert");
    assert!(store.delete_user("site-a", &gone.id).await.expect("delete"));
    assert!(
        !store
            .delete_user("site-a", &gone.id)
            .await
            .expect("delete twice")
    );
    assert_eq!(
        store.find_user("site-a", &gone.id).await.expect("find"),
        None
    );
    assert_eq!(store.count_users("site-a").await.expect("count"), 1);
    // The email is free again: a new submission makes a new record.
    let again = store
        .upsert_user_by_email("site-a", &upsert("gone@x.io", json!({}), now))
        .await
        .expect("again");
    assert!(again.created);
}

pub async fn stored_data_round_trips_exactly<S: Storage>(store: &S) {
    with_app(store, "site-a").await;
    let value = json!({
        "text": "Zoë 山田 😀 \"quoted\" \\ back\u{0}slash",
        "integer": 9_007_199_254_740_991_i64,
        "negative": -42,
        "float": 0.1,
        "flag": true,
        "date": "2024-02-29",
        "dollarKey": "$where"
    });
    let now = Timestamp::now();
    let saved = store
        .upsert_user_by_email("site-a", &upsert("data@x.io", value.clone(), now))
        .await
        .expect("upsert");
    let stored = store
        .find_user("site-a", &saved.id)
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(Value::Object(stored.data), value);
}

pub async fn admins_insert_find_and_refuse_duplicates<S: Storage>(store: &S) {
    assert_eq!(store.count_admins().await.expect("count"), 0);
    let admin = AdminRecord {
        id: uuid::Uuid::now_v7().to_string(),
        email: "root@example.com".into(),
        password_hash: "$argon2id$placeholder".into(),
        credential_version: 1,
        created_at: Timestamp::from_unix_millis(1_700_000_000_000),
    };
    store.insert_admin(&admin).await.expect("insert");
    assert_eq!(
        store
            .find_admin_by_email("root@example.com")
            .await
            .expect("find"),
        Some(admin.clone())
    );
    assert_eq!(
        store
            .find_admin_by_email("other@example.com")
            .await
            .expect("find"),
        None
    );
    let again = AdminRecord {
        id: uuid::Uuid::now_v7().to_string(),
        ..admin
    };
    assert!(matches!(
        store.insert_admin(&again).await,
        Err(StorageError::Duplicate(_))
    ));
    assert_eq!(store.count_admins().await.expect("count"), 1);
}

pub async fn admins_list_by_email_and_reset_passwords<S: Storage>(store: &S) {
    assert_eq!(store.list_admins().await.expect("list"), []);
    let admin = |email: &str| AdminRecord {
        id: uuid::Uuid::now_v7().to_string(),
        email: email.into(),
        password_hash: "$argon2id$old".into(),
        credential_version: 1,
        created_at: Timestamp::from_unix_millis(1_700_000_000_000),
    };
    for email in ["zed@example.com", "ada@example.com"] {
        store.insert_admin(&admin(email)).await.expect("insert");
    }
    let emails: Vec<String> = store
        .list_admins()
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.email)
        .collect();
    assert_eq!(emails, ["ada@example.com", "zed@example.com"]);

    let reset = store
        .replace_admin_password("ada@example.com", "$argon2id$new")
        .await
        .expect("reset");
    assert_eq!(reset.password_hash, "$argon2id$new");
    assert_eq!(reset.credential_version, 2);
    let again = store
        .replace_admin_password("ada@example.com", "$argon2id$newer")
        .await
        .expect("reset");
    assert_eq!(again.credential_version, 3);
    assert_eq!(
        store
            .find_admin_by_email("ada@example.com")
            .await
            .expect("find"),
        Some(again)
    );
    let other = store
        .find_admin_by_email("zed@example.com")
        .await
        .expect("find")
        .expect("exists");
    assert_eq!(
        (other.password_hash.as_str(), other.credential_version),
        ("$argon2id$old", 1)
    );
    assert!(matches!(
        store
            .replace_admin_password("nobody@example.com", "$argon2id$x")
            .await,
        Err(StorageError::NotFound(_))
    ));
}

pub async fn ping_answers<S: Storage>(store: &S) {
    store.ping().await.expect("a fresh store answers");
}

//! The SQLite store passes the storage conformance suite, and keeps what it acknowledged.

use sqlite_adapter::{SqliteSettings, SqliteStorage};

mod files;

async fn fresh() -> (SqliteStorage, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("temp dir");
    let store =
        SqliteStorage::open(&SqliteSettings::at(folder.path().join("users.db"))).expect("open");
    (store, folder)
}

storage_port::conformance_tests!(fresh());

mod mail {
    use super::*;

    storage_port::mail_conformance_tests!(fresh());
}

mod durability {
    use storage_port::{AppStore, UserQuery, UserStore};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn data_survives_reopening_and_migrations_are_idempotent() {
        let folder = tempfile::tempdir().expect("temp dir");
        let settings = SqliteSettings::at(folder.path().join("nested/dir/users.db"));
        {
            let store = SqliteStorage::open(&settings).expect("open");
            storage_port::conformance::upsert_creates_then_merges(&store).await;
        }
        let reopened = SqliteStorage::open(&settings).expect("reopen");
        assert!(reopened.find_app("site-a").await.expect("find").is_some());
        let users = reopened
            .list_users("site-a", &UserQuery::first(10))
            .await
            .expect("list")
            .users;
        assert_eq!(users.len(), 1);
    }

    /// The writer leaves checkpoints to a thread of its own (its automatic one fires only
    /// after about 40 MiB of log): a few writes reach the database file soon all the same.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_is_copied_into_the_database_file_in_the_background() {
        let (store, folder) = fresh().await;
        let file = folder.path().join("users.db");
        let size = || std::fs::metadata(&file).expect("database file").len();
        let before = size();
        storage_port::conformance::upsert_creates_then_merges(&store).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while size() <= before && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(size() > before, "the database file is still {before} bytes");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unopenable_path_is_reported_not_panicked() {
        let folder = tempfile::tempdir().expect("temp dir");
        let file = folder.path().join("a-file");
        std::fs::write(&file, b"not a directory").expect("write");
        let result = SqliteStorage::open(&SqliteSettings::at(file.join("users.db")));
        assert!(result.is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_that_is_not_a_database_is_reported() {
        let folder = tempfile::tempdir().expect("temp dir");
        let file = folder.path().join("users.db");
        std::fs::write(&file, vec![b'x'; 8192]).expect("write");
        assert!(SqliteStorage::open(&SqliteSettings::at(&file)).is_err());
    }
}

mod group_commit {
    use std::future::Future as _;
    use std::task::Poll;
    use std::time::Duration;

    use storage_port::{Timestamp, UserStore, UserUpsert};

    use super::*;

    fn sign_up(email: &str) -> UserUpsert {
        UserUpsert {
            new_id: format!("id-{email}"),
            email: email.to_owned(),
            data: serde_json::Map::new(),
            schema_version: 1,
            now: Timestamp::from_unix_millis(1_000),
        }
    }

    /// The first write to reach the sleeping writer yields before waking it; a request
    /// cancelled in that moment must still wake it, or every later write would wait forever.
    #[tokio::test]
    async fn a_write_cancelled_before_it_wakes_the_writer_still_wakes_it() {
        let (store, _folder) = fresh().await;
        tokio::time::sleep(Duration::from_millis(50)).await; // the writer is asleep by now
        let first_sign_up = sign_up("a@example.com");
        let mut first = Box::pin(store.upsert_user_by_email("site-a", &first_sign_up));
        let polled =
            std::future::poll_fn(|context| Poll::Ready(first.as_mut().poll(context))).await;
        assert!(polled.is_pending(), "the first write waits for the writer");
        drop(first);
        let second = tokio::time::timeout(
            Duration::from_secs(5),
            store.upsert_user_by_email("site-a", &sign_up("b@example.com")),
        )
        .await
        .expect("the writer was woken")
        .expect("stored");
        assert!(second.created);
        // The cancelled write had been handed over, so it was committed too.
        assert_eq!(store.count_users("site-a").await.expect("count"), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_commit_observer_is_told_every_batch() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};

        let folder = tempfile::tempdir().expect("temp dir");
        let (writes, batches) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let observer = {
            let (writes, batches) = (writes.clone(), batches.clone());
            sqlite_adapter::CommitObserver::new(move |size| {
                writes.fetch_add(size, Ordering::Relaxed);
                batches.fetch_add(1, Ordering::Relaxed);
            })
        };
        let settings = SqliteSettings {
            on_commit: Some(observer),
            ..SqliteSettings::at(folder.path().join("users.db"))
        };
        let store = Arc::new(SqliteStorage::open(&settings).expect("open"));
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .upsert_user_by_email("site-a", &sign_up(&format!("u{i}@example.com")))
                        .await
                        .expect("stored");
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("join");
        }
        assert_eq!(writes.load(Ordering::Relaxed), 40);
        let batches = batches.load(Ordering::Relaxed);
        assert!((1..=40).contains(&batches), "{batches} batches");
    }
}

mod accounts {
    use serde_json::json;
    use storage_port::{
        AccountStore, AppStore, NewAccount, ProfileChanges, Timestamp, UserStore, UserUpsert,
    };

    use super::*;

    /// The phase-1 upsert names only its own columns: a sign-up to an account's email merges
    /// its data and leaves every account column as it was.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sign_up_to_an_accounts_email_keeps_the_account() {
        let (store, _folder) = fresh().await;
        let at = Timestamp::from_unix_millis;
        store
            .insert_app(&storage_port::AppRecord {
                id: "site".into(),
                name: "Site".into(),
                allowed_origins: vec![],
                honeypot_field: None,
                thank_you_url: None,
                error_url: None,
                password_hash: "$argon2id$app".into(),
                credential_version: 1,
                incarnation: "inc".into(),
                account_settings: storage_port::AccountSettings::default(),
                created_at: at(0),
                updated_at: at(0),
            })
            .await
            .expect("app");
        let account = store
            .register_account(
                "site",
                &NewAccount {
                    new_id: "0190b7d2-0000-7000-8000-00000000000a".into(),
                    email: "ada@example.com".into(),
                    password_hash: Some("$argon2id$ada".into()),
                    name: Some("Ada".into()),
                    data: json!({"plan": "pro"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    schema_version: 1,
                    tenant_admin: false,
                    joining: None,
                    now: at(1_000),
                },
            )
            .await
            .expect("register")
            .into_record();
        let changes = ProfileChanges {
            bio: Some(Some("Mathematician".into())),
            ..ProfileChanges::default()
        };
        store
            .update_profile("site", &account.user.id, &changes, at(2_000))
            .await
            .expect("profile");
        store
            .record_login("site", &account.user.id, at(3_000))
            .await
            .expect("login");
        let before = store
            .find_account("site", &account.user.id)
            .await
            .expect("find")
            .expect("account");

        let upserted = store
            .upsert_user_by_email(
                "site",
                &UserUpsert {
                    new_id: "0190b7d2-0000-7000-8000-00000000000b".into(),
                    email: "ada@example.com".into(),
                    data: json!({"age": 36}).as_object().cloned().unwrap_or_default(),
                    schema_version: 2,
                    now: at(4_000),
                },
            )
            .await
            .expect("sign-up");
        assert!(!upserted.created);
        assert_eq!(upserted.id, account.user.id);
        let after = store
            .find_account("site", &account.user.id)
            .await
            .expect("find")
            .expect("still an account");
        assert_eq!(after.account, before.account, "every account field kept");
        assert_eq!(
            serde_json::Value::Object(after.user.data),
            json!({"plan": "pro", "age": 36})
        );
        assert_eq!(after.user.updated_at, at(4_000));
    }
}

//! The SQLite store passes the storage conformance suite, and keeps what it acknowledged.

use sqlite_adapter::{SqliteSettings, SqliteStorage};

async fn fresh() -> (SqliteStorage, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("temp dir");
    let store =
        SqliteStorage::open(&SqliteSettings::at(folder.path().join("users.db"))).expect("open");
    (store, folder)
}

storage_port::conformance_tests!(fresh());

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

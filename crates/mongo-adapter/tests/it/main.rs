//! The MongoDB store against a real wire-protocol server: the storage conformance suite, the
//! stored document shapes, indexes, corrupt data and outages.
//!
//! Needs `USERS_API_TEST_MONGO_URI`; `scripts/with-mongo-test-server.sh cargo test -p
//! mongo-adapter` starts a server and sets it. Without it every test here says it was skipped,
//! or fails when `USERS_API_REQUIRE_MONGO=1`.

use std::time::Duration;

use mongo_adapter::{MongoSettings, MongoStorage};
use mongodb::bson::Document;

const URI_VARIABLE: &str = "USERS_API_TEST_MONGO_URI";
const SERVER_CMD_VARIABLE: &str = "USERS_API_TEST_MONGO_SERVER_CMD";

/// The value of `variable`, or `None` after saying why the test is skipped.
fn required_env(variable: &str, test: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var("USERS_API_REQUIRE_MONGO").as_deref() == Ok("1") => {
            panic!(
                "{variable} is not set and USERS_API_REQUIRE_MONGO=1; run scripts/with-mongo-test-server.sh"
            )
        }
        _ => {
            let reason = format!(
                "skipped: {variable} not set (run `bash scripts/with-mongo-test-server.sh cargo test -p mongo-adapter`)"
            );
            eprintln!("{reason}; test {test}");
            // The harness hides what passing tests print; say it once where it is seen.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                use std::io::Write;
                let _ = writeln!(std::io::stderr(), "mongo-adapter tests {reason}");
            });
            None
        }
    }
}

fn settings(uri: &str, database: &str) -> MongoSettings {
    MongoSettings {
        uri: uri.to_owned(),
        database: database.to_owned(),
        max_pool_size: 16,
        connect_timeout: Duration::from_secs(5),
    }
}

/// A store on a database of its own, dropped when the test passes (a failed test leaves it for
/// inspection; the test server's data directory is temporary anyway).
struct FreshStore {
    store: MongoStorage,
    database: mongodb::Database,
}

impl FreshStore {
    async fn connect(test: &str) -> Option<Self> {
        let uri = required_env(URI_VARIABLE, test)?;
        let name = format!("users_api_test_{}", uuid::Uuid::now_v7().simple());
        let store = MongoStorage::connect(&settings(&uri, &name))
            .await
            .expect("connect to the test server");
        let client = mongodb::Client::with_uri_str(&uri)
            .await
            .expect("a raw client");
        Some(Self {
            store,
            database: client.database(&name),
        })
    }

    fn raw(&self, collection: &str) -> mongodb::Collection<Document> {
        self.database.collection(collection)
    }

    async fn drop_database(self) {
        self.database.drop().await.expect("drop the test database");
    }
}

/// `storage_port::conformance_tests!` cannot skip, so the same list runs through this wrapper;
/// keep it in step with the macro in `crates/storage-port/src/conformance.rs`.
macro_rules! conformance_on_mongo {
    ($($name:ident),* $(,)?) => {
        mod conformance {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(fresh) = super::FreshStore::connect(stringify!($name)).await else { return };
                    storage_port::conformance::$name(&fresh.store).await;
                    fresh.drop_database().await;
                }
            )*
        }
    };
}

conformance_on_mongo!(
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
    ping_answers,
);

mod documents;
mod indexes;
mod outages;

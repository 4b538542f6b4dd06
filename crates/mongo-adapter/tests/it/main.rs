//! The MongoDB store against a real wire-protocol server: the storage conformance suite, the
//! stored document shapes, indexes, corrupt data and outages.
//!
//! Needs the MongoDB test server: `bash scripts/with-mongo-test-server.sh cargo test -p
//! mongo-adapter` starts one and sets `USERS_API_TEST_MONGO=1` and `USERS_API_TEST_MONGO_URI`.
//! Without `USERS_API_TEST_MONGO=1` at build time (see `build.rs`) the tests that need it are
//! ignored, so the runner counts them as such instead of as passed.

use std::time::Duration;

use mongo_adapter::{MongoSettings, MongoStorage};
use mongodb::bson::Document;

const URI_VARIABLE: &str = "USERS_API_TEST_MONGO_URI";
const SERVER_CMD_VARIABLE: &str = "USERS_API_TEST_MONGO_SERVER_CMD";

/// The value of `variable`, which the test server script sets; a test that asks for it is
/// not ignored, so it runs with a server and its absence is a mistake.
fn required_env(variable: &str) -> String {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "{variable} is not set, but these tests were built for the MongoDB test server; run them with `bash scripts/with-mongo-test-server.sh cargo test -p mongo-adapter`"
        ),
    }
}

/// `scripts/test.sh` must run every MongoDB test: built without the test server's flag, they
/// would all be ignored and the run would still pass.
#[test]
fn mongodb_tests_are_not_ignored_when_required() {
    let required = std::env::var("USERS_API_REQUIRE_MONGO").as_deref() == Ok("1");
    assert!(
        !required || cfg!(mongo_test_server),
        "USERS_API_REQUIRE_MONGO=1, but the MongoDB tests were built without USERS_API_TEST_MONGO=1 and are ignored; run them through scripts/with-mongo-test-server.sh"
    );
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
    async fn connect() -> Self {
        let uri = required_env(URI_VARIABLE);
        let name = format!("users_api_test_{}", uuid::Uuid::now_v7().simple());
        let store = MongoStorage::connect(&settings(&uri, &name))
            .await
            .expect("connect to the test server");
        let client = mongodb::Client::with_uri_str(&uri)
            .await
            .expect("a raw client");
        Self {
            store,
            database: client.database(&name),
        }
    }

    fn raw(&self, collection: &str) -> mongodb::Collection<Document> {
        self.database.collection(collection)
    }

    async fn drop_database(self) {
        self.database.drop().await.expect("drop the test database");
    }
}

/// The storage conformance suite, on a database of its own per check (dropped once it passed).
mod conformance {
    storage_port::conformance_tests!(
        async {
            let fresh = super::FreshStore::connect().await;
            (fresh.store, fresh.database)
        },
        attributes {
            #[cfg_attr(not(mongo_test_server), ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test")]
        },
        after database => database.drop().await.expect("drop the test database")
    );
}

/// The mail conformance checks ([`storage_port::MailStore`]), until `MailStore` joins `Storage`
/// and `conformance_tests!` takes them over. `mail_conformance_tests!` has no long form (no
/// attributes, no async clean-up), so the database is dropped by a guard when the check passed,
/// and without the test server the same checks are stand-ins that are ignored.
#[cfg(mongo_test_server)]
mod mail {
    /// Drops the test database when the check passed (a failed one leaves it for inspection).
    struct DropWhenPassed(mongodb::Database);

    impl Drop for DropWhenPassed {
        fn drop(&mut self) {
            if std::thread::panicking() {
                return;
            }
            let database = self.0.clone();
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current()
                    .block_on(async { database.drop().await })
                    .expect("drop the test database");
            });
        }
    }

    storage_port::mail_conformance_tests!(async {
        let fresh = super::FreshStore::connect().await;
        (fresh.store, DropWhenPassed(fresh.database))
    });
}

#[cfg(not(mongo_test_server))]
mod mail {
    macro_rules! ignored {
        ($($name:ident),*) => {
            $(
                #[test]
                #[ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"]
                fn $name() {}
            )*
        };
    }

    ignored!(
        tokens_are_issued_with_their_message_and_replace_older_ones,
        a_token_is_spent_once_even_when_spent_together,
        expired_used_and_revoked_tokens_cannot_be_spent,
        due_messages_are_claimed_once_and_leases_run_out,
        deliveries_retry_then_fail_and_finished_mail_is_pruned,
        messages_page_newest_first_per_app
    );
}

mod accounts;
mod documents;
mod indexes;
mod mail_pruning;
mod organizations;
mod outages;

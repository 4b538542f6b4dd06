//! An unreachable or stopped server is `Unavailable`, and the store recovers by itself once the
//! server is back.

use std::process::Command;
use std::time::{Duration, Instant};

use mongo_adapter::{MongoSettings, MongoStorage};
use storage_port::{AppStore, Storage, StorageError};

use super::{SERVER_CMD_VARIABLE, required_env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_unavailable_at_connect() {
    let settings = MongoSettings {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        uri: "mongodb://127.0.0.1:1/?directConnection=true".to_owned(),
        database: "users_api".to_owned(),
        max_pool_size: 2,
        connect_timeout: Duration::from_millis(500),
    };
    let connected = MongoStorage::connect(&settings).await;
    assert!(
        matches!(connected, Err(StorageError::Unavailable(_))),
        "{connected:?}"
    );
}

/// Runs the restart command (`start` prints the server's URI, `stop` stops it).
fn control(command: &str, action: &str) -> String {
    let output = Command::new(command)
        .arg(action)
        .output()
        .expect("run the test server control command");
    assert!(
        output.status.success(),
        "{command} {action}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Stops the restartable server when the test ends, also when it fails half-way.
struct StopOnDrop<'a>(&'a str);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = Command::new(self.0).arg("stop").output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn operations_fail_unavailable_while_the_server_is_down_and_work_again_after() {
    let command = required_env(SERVER_CMD_VARIABLE);
    // A server of its own, so the other tests keep theirs while this one goes down.
    let uri = control(&command, "start");
    let _stop = StopOnDrop(&command);
    let settings = MongoSettings {
        uri,
        database: format!("users_api_restart_{}", uuid::Uuid::now_v7().simple()),
        max_pool_size: 4,
        connect_timeout: Duration::from_secs(1),
    };
    let store = MongoStorage::connect(&settings).await.expect("connect");
    let app = storage_port::AppRecord {
        id: "site-a".to_owned(),
        name: "Site".to_owned(),
        allowed_origins: vec!["*".to_owned()],
        honeypot_field: None,
        thank_you_url: None,
        error_url: None,
        password_hash: "$argon2id$placeholder".to_owned(),
        credential_version: 1,
        incarnation: "first".to_owned(),
        account_settings: storage_port::AccountSettings::default(),
        created_at: storage_port::Timestamp::from_unix_millis(1_700_000_000_000),
        updated_at: storage_port::Timestamp::from_unix_millis(1_700_000_000_000),
    };
    store.insert_app(&app).await.expect("insert while up");

    control(&command, "stop");
    let while_down = store.find_app("site-a").await;
    assert!(
        matches!(while_down, Err(StorageError::Unavailable(_))),
        "{while_down:?}"
    );
    assert!(matches!(
        store.ping().await,
        Err(StorageError::Unavailable(_))
    ));

    control(&command, "start");
    let deadline = Instant::now() + Duration::from_secs(30);
    let found = loop {
        match store.find_app("site-a").await {
            Ok(found) => break found,
            Err(StorageError::Unavailable(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(other) => panic!("the store did not recover: {other:?}"),
        }
    };
    assert_eq!(
        found,
        Some(app),
        "the same store object works again, and the data survived the restart"
    );
    store.ping().await.expect("ping after the restart");
}

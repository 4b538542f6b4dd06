//! What the store opens, and what it refuses: start-up errors name the file and the
//! operating system's reason; another program's file, a newer release's database and a
//! damaged one are refused without a byte of them changed; damage met later keeps the
//! readiness check failing.

use std::path::Path;

use rusqlite::Connection;
use sqlite_adapter::{SqliteSettings, SqliteStorage};
use storage_port::{AppStore, Storage, StorageError, UserQuery, UserStore};

/// Our `PRAGMA application_id` ("UAPI").
const APPLICATION_ID: i32 = 0x5541_5049;

fn pragma(path: &Path, name: &str) -> i64 {
    Connection::open(path)
        .expect("open")
        .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
        .expect("pragma")
}

fn open_error(settings: &SqliteSettings) -> String {
    match SqliteStorage::open(settings) {
        Ok(_) => panic!("{} was opened", settings.path.display()),
        Err(error) => {
            let mut text = error.to_string();
            let mut cause = std::error::Error::source(&error);
            while let Some(next) = cause {
                text.push_str(": ");
                text.push_str(&next.to_string());
                cause = next.source();
            }
            text
        }
    }
}

/// The bytes of the file and whether its log and shared-memory files exist.
fn snapshot(path: &Path) -> (Vec<u8>, bool, bool) {
    let beside = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        Path::new(&name).exists()
    };
    (
        std::fs::read(path).expect("read"),
        beside("-wal"),
        beside("-shm"),
    )
}

#[test]
fn a_folder_that_is_a_file_is_named_with_the_os_reason() {
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("write");
    let path = file.join("users.db");
    let message = open_error(&SqliteSettings::at(&path));
    assert!(
        message.contains(&path.display().to_string()),
        "names the path: {message}"
    );
    assert!(
        message.contains("Not a directory (os error 20)"),
        "gives the OS error: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_database_is_marked_as_ours() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    drop(SqliteStorage::open(&SqliteSettings::at(&path)).expect("open"));
    assert_eq!(pragma(&path, "application_id"), i64::from(APPLICATION_ID));
    assert!(pragma(&path, "user_version") >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_ours_from_before_the_marking_is_marked_and_kept() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    let settings = SqliteSettings::at(&path);
    {
        let store = SqliteStorage::open(&settings).expect("open");
        storage_port::conformance::upsert_creates_then_merges(&store).await;
    }
    Connection::open(&path)
        .expect("open")
        .pragma_update(None, "application_id", 0)
        .expect("unmark");
    let store = SqliteStorage::open(&settings).expect("reopen");
    assert!(store.find_app("site-a").await.expect("find").is_some());
    drop(store);
    assert_eq!(pragma(&path, "application_id"), i64::from(APPLICATION_ID));
}

#[test]
fn another_programs_database_is_refused_and_left_unchanged() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    Connection::open(&path)
        .expect("create")
        .execute_batch(
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);",
        )
        .expect("foreign tables");
    let before = snapshot(&path);
    let message = open_error(&SqliteSettings::at(&path));
    assert!(
        message.contains(&path.display().to_string())
            && message.contains("not a Users API database"),
        "{message}"
    );
    assert!(
        message.contains("invoices"),
        "says what it found: {message}"
    );
    assert_eq!(snapshot(&path), before, "the file is untouched");

    // Another program's mark is refused even with our tables in the file.
    Connection::open(&path)
        .expect("open")
        .pragma_update(None, "application_id", 0x1234)
        .expect("their mark");
    let before = snapshot(&path);
    let message = open_error(&SqliteSettings::at(&path));
    assert!(message.contains("0x00001234"), "{message}");
    assert_eq!(snapshot(&path), before, "the file is untouched");
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_unchanged() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    std::fs::write(&path, vec![b'x'; 8192]).expect("write");
    let before = snapshot(&path);
    let message = open_error(&SqliteSettings::at(&path));
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert_eq!(snapshot(&path), before, "the file is untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_a_newer_release_is_refused_and_left_unchanged() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    drop(SqliteStorage::open(&SqliteSettings::at(&path)).expect("create"));
    for application_id in [APPLICATION_ID, 0] {
        let connection = Connection::open(&path).expect("open");
        connection
            .pragma_update(None, "user_version", 99)
            .expect("newer");
        connection
            .pragma_update(None, "application_id", application_id)
            .expect("mark");
        drop(connection);
        let before = snapshot(&path);
        let message = open_error(&SqliteSettings::at(&path));
        assert!(
            message.contains(&path.display().to_string())
                && message.contains("schema version 99")
                && message.contains("up to "),
            "{message}"
        );
        assert_eq!(snapshot(&path), before, "the file is untouched");
    }
}

/// A database of ours with damage in the pages of the users table.
async fn damaged_database(path: &Path) {
    {
        let store = SqliteStorage::open(&SqliteSettings::at(path)).expect("open");
        storage_port::conformance::upsert_creates_then_merges(&store).await;
        for n in 0..300 {
            let upsert = storage_port::UserUpsert {
                new_id: format!("user-{n:04}"),
                email: format!("user{n}@example.com"),
                data: serde_json::Map::from_iter([(
                    "note".to_owned(),
                    serde_json::Value::String("x".repeat(200)),
                )]),
                schema_version: 1,
                now: storage_port::Timestamp::from_unix_millis(1_000 + n),
            };
            store
                .upsert_user_by_email("site-a", &upsert)
                .await
                .expect("upsert");
        }
    } // closing the last connection copies the log into the file and removes it
    let users_root: i64 = Connection::open(path)
        .expect("open")
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'users'",
            [],
            |row| row.get(0),
        )
        .expect("root page");
    // Garbage over the users table's root page, past its header.
    let page_size = 4096;
    let mut bytes = std::fs::read(path).expect("read");
    let start = (users_root as usize - 1) * page_size;
    for byte in &mut bytes[start..start + page_size] {
        *byte = 0xA5;
    }
    std::fs::write(path, bytes).expect("damage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_refused_at_start_up_without_a_change() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    damaged_database(&path).await;
    let before = snapshot(&path);
    let message = open_error(&SqliteSettings::at(&path));
    assert!(
        message.contains(&path.display().to_string()) && message.contains("damaged"),
        "{message}"
    );
    assert_eq!(snapshot(&path), before, "the file is untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_found_while_serving_keeps_the_readiness_check_failing() {
    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    damaged_database(&path).await;
    // Too large for the start-up check: the damage is met by a read.
    let settings = SqliteSettings {
        quick_check_max_bytes: 0,
        ..SqliteSettings::at(&path)
    };
    let store = SqliteStorage::open(&settings).expect("open");
    store
        .ping()
        .await
        .expect("ready before anything met the damage");
    let listed = store.list_users("site-a", &UserQuery::first(1000)).await;
    assert!(
        matches!(listed, Err(StorageError::Corrupt(_))),
        "{listed:?}"
    );
    for _ in 0..2 {
        let ping = store.ping().await;
        assert!(matches!(ping, Err(StorageError::Corrupt(_))), "{ping:?}");
    }
}

/// The schema as migrations 1 to 4 left it, the last release before accounts: a file of that
/// release, frozen here as it was written, not derived from the current migrations.
const SCHEMA_AT_MIGRATION_4: &str = r#"
CREATE TABLE apps (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, allowed_origins TEXT NOT NULL, honeypot_field TEXT,
    thank_you_url TEXT, password_hash TEXT NOT NULL, credential_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    incarnation TEXT NOT NULL DEFAULT '', id_folded TEXT, error_url TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX apps_by_folded_id ON apps (id_folded);
CREATE TABLE schema_versions (
    app_id TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,
    created_at INTEGER NOT NULL, PRIMARY KEY (app_id, version)
) WITHOUT ROWID;
CREATE TABLE users (
    app_id TEXT NOT NULL, id TEXT NOT NULL, email TEXT NOT NULL, data TEXT NOT NULL,
    schema_version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_by_email ON users (app_id, email);
CREATE INDEX users_by_creation ON users (app_id, created_at);
CREATE TABLE admins (
    email TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    credential_version INTEGER NOT NULL, created_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO apps VALUES ('site-a', 'Site', '["https://example.com"]', NULL, NULL, '$argon2id$app', 3,
    1700000000000, 1700000000001, 'incarnation-a', 'site-a', NULL);
INSERT INTO users VALUES ('site-a', '0190b7d2-0000-7000-8000-000000000001', 'ada@example.com',
    '{"age":40,"city":"Paris"}', 1, 1700000000100, 1700000000200);
INSERT INTO users VALUES ('site-a', '0190b7d2-0000-7000-8000-000000000002', 'bob@example.com',
    '{}', 1, 1700000000300, 1700000000300);
INSERT INTO admins VALUES ('root@example.com', 'admin-1', '$argon2id$admin', 1, 1700000000000);
PRAGMA user_version = 4;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_the_release_before_accounts_migrates_and_keeps_its_rows_as_leads() {
    use storage_port::{AccountStore, AdminStore, NewAccount, Registered, Timestamp};

    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    let connection = Connection::open(&path).expect("create");
    connection
        .execute_batch(SCHEMA_AT_MIGRATION_4)
        .expect("a file of migration 4");
    connection
        .pragma_update(None, "application_id", APPLICATION_ID)
        .expect("mark");
    drop(connection);

    let store = SqliteStorage::open(&SqliteSettings::at(&path)).expect("migrates");
    assert!(pragma(&path, "user_version") > 4);
    let app = store.find_app("site-a").await.expect("find").expect("kept");
    assert_eq!(app.credential_version, 3);
    assert_eq!(store.count_admins().await.expect("count"), 1);
    let users = store
        .list_users("site-a", &UserQuery::first(10))
        .await
        .expect("list")
        .users;
    assert_eq!(users.len(), 2);
    let ada = &users[0];
    assert_eq!(ada.email, "ada@example.com");
    assert_eq!(
        serde_json::Value::Object(ada.data.clone()),
        serde_json::json!({"age": 40, "city": "Paris"})
    );
    assert_eq!(
        ada.created_at,
        Timestamp::from_unix_millis(1_700_000_000_100)
    );
    assert_eq!(
        ada.updated_at,
        Timestamp::from_unix_millis(1_700_000_000_200)
    );
    for user in &users {
        assert_eq!(
            store.find_account("site-a", &user.id).await.expect("find"),
            None,
            "a sign-up of before is a lead"
        );
    }

    let registered = store
        .register_account(
            "site-a",
            &NewAccount {
                new_id: "unused".to_owned(),
                email: "ada@example.com".to_owned(),
                password_hash: Some("$argon2id$ada".to_owned()),
                name: None,
                data: serde_json::Map::new(),
                schema_version: 1,
                tenant_admin: false,
                joining: None,
                now: Timestamp::from_unix_millis(1_800_000_000_000),
            },
        )
        .await
        .expect("register");
    let Registered::FromLead(account) = registered else {
        panic!("the old row is the lead: {registered:?}")
    };
    assert_eq!(account.user.id, ada.id);
    assert_eq!(account.account.lead_keys, ["age", "city"]);
    assert_eq!(
        store.find_account("site-a", &ada.id).await.expect("find"),
        Some(account)
    );
}

/// The schema as migrations 1 to 5 left it, the last release before organizations, with a
/// lead, an account, its session and a signing key: frozen here as that release wrote it.
const SCHEMA_AT_MIGRATION_5: &str = r#"
CREATE TABLE apps (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, allowed_origins TEXT NOT NULL, honeypot_field TEXT,
    thank_you_url TEXT, password_hash TEXT NOT NULL, credential_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    incarnation TEXT NOT NULL DEFAULT '', id_folded TEXT, error_url TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX apps_by_folded_id ON apps (id_folded);
CREATE TABLE schema_versions (
    app_id TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,
    created_at INTEGER NOT NULL, PRIMARY KEY (app_id, version)
) WITHOUT ROWID;
CREATE TABLE users (
    app_id TEXT NOT NULL, id TEXT NOT NULL, email TEXT NOT NULL, data TEXT NOT NULL,
    schema_version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    account_name TEXT, bio TEXT, avatar_url TEXT, password_hash TEXT,
    email_verified INTEGER NOT NULL DEFAULT 0, credential_version INTEGER NOT NULL DEFAULT 1,
    disabled INTEGER NOT NULL DEFAULT 0, last_login_at INTEGER, registered_at INTEGER,
    lead_keys TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (app_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX users_by_email ON users (app_id, email);
CREATE INDEX users_by_creation ON users (app_id, created_at);
CREATE TABLE admins (
    email TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    credential_version INTEGER NOT NULL, created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, app_id TEXT NOT NULL, user_id TEXT NOT NULL, organization_id TEXT,
    refresh_hash TEXT NOT NULL, previous_hash TEXT, rotated_at INTEGER, sealed_refresh TEXT,
    created_at INTEGER NOT NULL, last_used_at INTEGER NOT NULL, idle_expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL, user_agent TEXT, client_ip TEXT, revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (app_id, user_id);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY, algorithm TEXT NOT NULL, public_key TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL, created_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO apps VALUES ('site-a', 'Site', '["https://example.com"]', NULL, NULL, '$argon2id$app', 3,
    1700000000000, 1700000000001, 'incarnation-a', 'site-a', NULL);
INSERT INTO users (app_id, id, email, data, schema_version, created_at, updated_at)
    VALUES ('site-a', '0190b7d2-0000-7000-8000-000000000001', 'lead@example.com', '{"age":40}', 1,
    1700000000100, 1700000000100);
INSERT INTO users VALUES ('site-a', '0190b7d2-0000-7000-8000-000000000002', 'ada@example.com',
    '{"plan":"pro"}', 1, 1700000000200, 1700000000300, 'Ada', 'Mathematician', NULL,
    '$argon2id$ada', 1, 2, 0, 1700000000400, 1700000000200, '["plan"]');
INSERT INTO sessions VALUES ('session-1', 'site-a', '0190b7d2-0000-7000-8000-000000000002', NULL,
    'refresh-hash', NULL, NULL, NULL, 1700000000400, 1700000000400, 1800000000000, 1900000000000,
    'Firefox', '192.0.2.1', NULL);
INSERT INTO signing_keys VALUES ('kid-1', 'EdDSA', 'public', 'sealed', 1700000000000);
INSERT INTO admins VALUES ('root@example.com', 'admin-1', '$argon2id$admin', 1, 1700000000000);
PRAGMA user_version = 5;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_the_release_before_organizations_migrates_and_keeps_its_rows() {
    use storage_port::{
        AccountQuery, AccountSettings, AccountStore, MemberQuery, MemberRole, MembershipRecord,
        MembershipStore, OrganizationQuery, OrganizationRecord, OrganizationStore, SessionStore,
        SigningKeyStore, Timestamp,
    };

    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    let connection = Connection::open(&path).expect("create");
    connection
        .execute_batch(SCHEMA_AT_MIGRATION_5)
        .expect("a file of migration 5");
    connection
        .pragma_update(None, "application_id", APPLICATION_ID)
        .expect("mark");
    drop(connection);

    let store = SqliteStorage::open(&SqliteSettings::at(&path)).expect("migrates");
    assert!(pragma(&path, "user_version") >= 6);
    let app = store.find_app("site-a").await.expect("find").expect("kept");
    assert_eq!(
        (app.credential_version, app.incarnation.as_str()),
        (3, "incarnation-a")
    );
    assert_eq!(app.account_settings, AccountSettings::default());

    let ada_id = "0190b7d2-0000-7000-8000-000000000002";
    let ada = store
        .find_account("site-a", ada_id)
        .await
        .expect("find")
        .expect("still an account");
    assert_eq!(ada.account.name.as_deref(), Some("Ada"));
    assert_eq!(ada.account.bio.as_deref(), Some("Mathematician"));
    assert_eq!(ada.account.password_hash.as_deref(), Some("$argon2id$ada"));
    assert!(ada.account.email_verified);
    assert_eq!(ada.account.credential_version, 2);
    assert_eq!(ada.account.lead_keys, ["plan"]);
    assert_eq!(
        ada.account.last_login_at,
        Some(Timestamp::from_unix_millis(1_700_000_000_400))
    );
    assert!(
        !ada.account.tenant_admin,
        "no account was a tenant admin before"
    );
    assert!(ada.account.permissions.is_empty());
    assert_eq!(
        store
            .find_account("site-a", "0190b7d2-0000-7000-8000-000000000001")
            .await
            .expect("find"),
        None,
        "the lead stays a lead"
    );
    assert_eq!(store.count_users("site-a").await.expect("count"), 2);
    let session = store
        .find_session("site-a", "session-1")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(session.user_id, ada_id);
    assert_eq!(
        store.list_signing_keys().await.expect("keys")[0].kid,
        "kid-1"
    );

    // The accounts index was built over the rows of before: the account is listed, the lead
    // is not.
    let listed = store
        .list_accounts(
            "site-a",
            &AccountQuery {
                limit: 10,
                after_id: None,
                text: None,
                tenant_admin: None,
                organization_id: None,
                role: None,
            },
        )
        .await
        .expect("list");
    assert_eq!(listed.accounts, std::slice::from_ref(&ada));

    // And the new tables take organizations at once.
    assert!(
        store
            .list_organizations(
                "site-a",
                &OrganizationQuery {
                    limit: 10,
                    after_id: None
                }
            )
            .await
            .expect("list")
            .organizations
            .is_empty()
    );
    let at = Timestamp::from_unix_millis(1_800_000_000_000);
    store
        .insert_organization(
            &OrganizationRecord {
                id: "org_a".to_owned(),
                app_id: "site-a".to_owned(),
                name: "Analytical".to_owned(),
                slug: "analytical".to_owned(),
                allowed_email_domains: vec!["example.com".to_owned()],
                created_at: at,
                updated_at: at,
            },
            Some(&MembershipRecord {
                app_id: "site-a".to_owned(),
                organization_id: "org_a".to_owned(),
                user_id: ada_id.to_owned(),
                role: MemberRole::Admin,
                permissions: Vec::new(),
                created_at: at,
                updated_at: at,
            }),
        )
        .await
        .expect("an organization");
    let members = store
        .list_members(
            "site-a",
            "org_a",
            &MemberQuery {
                limit: 10,
                after_user_id: None,
                role: None,
            },
        )
        .await
        .expect("members");
    assert_eq!(members.members.len(), 1);
    assert_eq!(members.members[0].account, ada);
}

/// What migration 6 (organizations) added to a file of migration 5, with a row in each new
/// table, as the release before e-mail left it.
const MIGRATION_6_AND_ROWS: &str = r#"
ALTER TABLE apps ADD COLUMN account_settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN tenant_admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN permissions TEXT NOT NULL DEFAULT '[]';
CREATE INDEX users_accounts ON users (app_id, id) WHERE registered_at IS NOT NULL;
CREATE TABLE organizations (
    id TEXT PRIMARY KEY, app_id TEXT NOT NULL, name TEXT NOT NULL, slug TEXT NOT NULL,
    allowed_email_domains TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    UNIQUE (app_id, slug)
) WITHOUT ROWID;
CREATE INDEX organizations_by_app ON organizations (app_id, id);
CREATE TABLE memberships (
    app_id TEXT NOT NULL, organization_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL,
    permissions TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, organization_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (app_id, user_id);
CREATE INDEX memberships_by_role ON memberships (app_id, organization_id, role, user_id);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY, app_id TEXT NOT NULL, name TEXT NOT NULL, prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE, role TEXT, permissions TEXT NOT NULL, expires_at INTEGER,
    last_used_at INTEGER, created_at INTEGER NOT NULL, revoked_at INTEGER
) WITHOUT ROWID;
CREATE INDEX api_keys_by_app ON api_keys (app_id);
UPDATE users SET tenant_admin = 1 WHERE id = '0190b7d2-0000-7000-8000-000000000002';
INSERT INTO organizations VALUES ('org_a', 'site-a', 'Analytical', 'analytical', '["example.com"]',
    1700000000500, 1700000000500);
INSERT INTO memberships VALUES ('site-a', 'org_a', '0190b7d2-0000-7000-8000-000000000002', 'admin',
    '[]', 1700000000500, 1700000000500);
INSERT INTO api_keys VALUES ('key-1', 'site-a', 'CI', 'uk_abc', 'key-hash', 'admin', '[]', NULL, NULL,
    1700000000600, NULL);
PRAGMA user_version = 6;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_of_the_release_before_mail_migrates_and_keeps_its_rows() {
    use storage_port::{
        AccountStore, ApiKeyStore, Claim, MailStatus, MailStore, MembershipStore, OneTimeToken,
        OrganizationStore, OutboxMessage, Timestamp, TokenPurpose,
    };

    let folder = tempfile::tempdir().expect("temp dir");
    let path = folder.path().join("users.db");
    let connection = Connection::open(&path).expect("create");
    connection
        .execute_batch(SCHEMA_AT_MIGRATION_5)
        .expect("a file of migration 5");
    connection
        .execute_batch(MIGRATION_6_AND_ROWS)
        .expect("a file of migration 6");
    connection
        .pragma_update(None, "application_id", APPLICATION_ID)
        .expect("mark");
    drop(connection);

    let store = SqliteStorage::open(&SqliteSettings::at(&path)).expect("migrates");
    assert!(pragma(&path, "user_version") >= 7);
    let ada_id = "0190b7d2-0000-7000-8000-000000000002";
    let ada = store
        .find_account("site-a", ada_id)
        .await
        .expect("find")
        .expect("kept");
    assert!(ada.account.tenant_admin);
    assert_eq!(ada.account.password_hash.as_deref(), Some("$argon2id$ada"));
    assert_eq!(store.count_users("site-a").await.expect("count"), 2);
    let organization = store
        .find_organization("site-a", "org_a")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(organization.allowed_email_domains, ["example.com"]);
    let membership = store
        .find_membership("site-a", "org_a", ada_id)
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(membership.role, storage_port::MemberRole::Admin);
    let key = store
        .find_api_key_by_hash("key-hash")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!((key.id.as_str(), key.name.as_str()), ("key-1", "CI"));

    // And the new tables take a token with its message at once.
    let at = Timestamp::from_unix_millis;
    let token = OneTimeToken {
        id: "tok-1".to_owned(),
        app_id: "site-a".to_owned(),
        purpose: TokenPurpose::VerifyEmail,
        token_hash: "hash-1".to_owned(),
        user_id: Some(ada_id.to_owned()),
        email: "ada@example.com".to_owned(),
        organization_id: None,
        role: None,
        invited_by: None,
        message: None,
        created_at: at(1_800_000_000_000),
        expires_at: at(1_800_086_400_000),
        used_at: None,
    };
    let message = OutboxMessage {
        id: "0190b7d2-0000-7000-8000-0000000000aa".to_owned(),
        app_id: "site-a".to_owned(),
        kind: "verify_email".to_owned(),
        from: "no-reply@example.com".to_owned(),
        to: "ada@example.com".to_owned(),
        subject: "Verify".to_owned(),
        text: "link".to_owned(),
        html: "<p>link</p>".to_owned(),
        token_id: Some("tok-1".to_owned()),
        status: MailStatus::Pending,
        attempts: 0,
        next_attempt_at: at(1_800_000_000_000),
        lease_owner: None,
        lease_until: None,
        last_error: None,
        created_at: at(1_800_000_000_000),
        sent_at: None,
    };
    store.issue_token(&token, &message).await.expect("issue");
    assert_eq!(store.find_token("hash-1").await.expect("find"), Some(token));
    let claimed = store
        .claim_messages(&Claim {
            owner: "sender".to_owned(),
            now: at(1_800_000_000_001),
            lease_until: at(1_800_000_030_001),
            limit: 10,
        })
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, message.id);
}

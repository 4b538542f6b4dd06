use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use domain::{AdminAccess, NewApp, SchemaSave, Services};
use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use server::{Application, Backend, Settings};
use storage_port::{MemoryStorage, Storage};

pub use crate::flaky::FlakyStorage;

/// The application under test, on a free port, with the domain services over its store.
pub struct TestApp {
    pub address: String,
    pub services: Arc<Services<dyn Storage>>,
    /// The store itself, for what a test must see or plant below the services.
    pub storage: Arc<dyn Storage>,
    pub client: Client,
    /// Flip to make every storage call fail as if the database were down.
    pub storage_down: Arc<AtomicBool>,
    /// Set to make the readiness check fail as a store reports it.
    pub not_ready: Arc<std::sync::Mutex<Option<crate::flaky::NotReady>>>,
    _data: Option<tempfile::TempDir>,
}

pub fn test_settings(backend: Backend) -> Settings {
    let mut settings = Settings::default();
    settings.application.port = 0;
    settings.application.workers = Some(2);
    settings.storage.backend = backend;
    settings.storage.app_cache_ttl_ms = 0;
    settings.hashing.memory_kib = 8;
    settings.hashing.iterations = 1;
    settings.rate_limit.enabled = false;
    settings.tokens.issuer = Some(ISSUER.to_owned());
    settings
}

/// The access tokens' `iss` in the tests.
pub const ISSUER: &str = "https://users-api.test";

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_with(test_settings(backend)).await
}

/// The app on the MongoDB test server with a database of its own. The tests that call it are
/// ignored unless built with `USERS_API_TEST_MONGO=1` (see `build.rs`), which the script that
/// starts the server sets; so a missing server is a mistake here, not a reason to skip.
pub async fn spawn_on_mongodb() -> TestApp {
    spawn_with(mongodb_settings()).await
}

/// The test settings on the MongoDB test server, with a database of their own.
pub fn mongodb_settings() -> Settings {
    let uri = mongo_test_variable("USERS_API_TEST_MONGO_URI");
    let mut settings = test_settings(Backend::Mongodb);
    settings.storage.mongodb.uri = Some(uri);
    settings.storage.mongodb.database = Some(format!("api_test_{}", uuid_like()));
    settings
}

/// A variable the MongoDB test server script sets.
pub fn mongo_test_variable(variable: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set, but the MongoDB tests were built for the test server; run them with `bash scripts/with-mongo-test-server.sh cargo test -p tests`"
        )
    })
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

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub async fn spawn_with(mut settings: Settings) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    settings.storage.sqlite.path = data.path().join("users.db");
    let storage: Arc<dyn Storage> = match settings.storage.backend {
        // The memory store is wrapped so tests can simulate an outage.
        Backend::Memory => Arc::new(MemoryStorage::new()),
        _ => server::startup::open_storage(&settings)
            .await
            .expect("open storage"),
    };
    let flaky = Arc::new(FlakyStorage::new(storage));
    let storage_down = flaky.down.clone();
    let not_ready = flaky.not_ready.clone();
    let application = Application::build_with_storage(settings, flaky.clone())
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let services = application.services();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        services,
        storage: flaky,
        client: Client::new(),
        storage_down,
        not_ready,
        _data: Some(data),
    }
}

/// A second instance of the application over the store of `first` (as a second server behind
/// a load balancer would be), with `settings`.
pub async fn spawn_beside(first: &TestApp, settings: Settings) -> TestApp {
    let application = Application::build_with_storage(settings, first.storage.clone())
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    let services = application.services();
    tokio::spawn(application.run_until_stopped());
    TestApp {
        address,
        services,
        storage: first.storage.clone(),
        client: Client::new(),
        storage_down: first.storage_down.clone(),
        not_ready: first.not_ready.clone(),
        _data: None,
    }
}

impl TestApp {
    /// The access tokens' `iss`.
    pub fn issuer(&self) -> String {
        ISSUER.to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Creates an app (allowing `https://site.example`) with the design's example schema.
    pub async fn create_app(&self, id: &str) {
        self.create_app_with(NewApp {
            id: id.into(),
            name: format!("App {id}"),
            allowed_origins: vec!["https://site.example".into()],
            honeypot_field: Some("website".into()),
            thank_you_url: None,
            error_url: None,
        })
        .await;
        self.set_schema(id, example_schema()).await;
    }

    pub async fn create_app_with(&self, new: NewApp) {
        self.services
            .apps
            .create_app(&AdminAccess::command_line(), new)
            .await
            .expect("create app");
    }

    pub async fn set_schema(&self, id: &str, schema: Value) {
        let draft = serde_json::from_value(schema).expect("draft");
        self.services
            .apps
            .save_schema(
                &AdminAccess::command_line().app(id),
                draft,
                SchemaSave::Save,
            )
            .await
            .expect("save schema");
    }

    pub fn post_users(&self, app_id: &str) -> RequestBuilder {
        self.client
            .post(self.url("/v1/users"))
            .header("x-app-id", app_id)
    }

    pub async fn submit(&self, app_id: &str, body: Value) -> Response {
        self.post_users(app_id)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn user_count(&self, app_id: &str) -> u64 {
        self.services
            .apps
            .summary(&AdminAccess::command_line().app(app_id))
            .await
            .expect("count")
            .user_count
    }

    pub async fn stored_data(&self, app_id: &str, user_id: &str) -> Value {
        let user = self
            .services
            .records
            .find(&AdminAccess::command_line().app(app_id), user_id)
            .await
            .expect("stored");
        Value::Object(user.data)
    }

    pub fn set_storage_down(&self, down: bool) {
        self.storage_down.store(down, Ordering::SeqCst);
    }
}

pub fn example_schema() -> Value {
    json!({ "rejectUnknown": true, "fields": [
        {"key": "fullName", "label": "Full name", "kind": "text", "required": true, "minLength": 2, "maxLength": 80},
        {"key": "age", "label": "Age", "kind": "number", "required": false, "min": 13, "max": 120, "integer": true},
        {"key": "plan", "label": "Plan", "kind": "select", "required": true, "enum": ["free", "pro"]},
        {"key": "birthday", "label": "Birthday", "kind": "date", "required": false, "min": "1900-01-01"},
        {"key": "consentRequired", "label": "I agree to the terms", "kind": "checkbox", "required": true},
        {"key": "consentOptional", "label": "Send me news", "kind": "checkbox", "required": false}
    ]})
}

pub fn valid_data() -> Value {
    json!({"fullName": "Ada Lovelace", "age": 36, "plan": "pro", "birthday": "1990-12-10", "consentRequired": true})
}

pub fn signup(email: &str) -> Value {
    json!({"email": email, "data": valid_data()})
}

/// Status and JSON body.
pub async fn read(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Asserts the documented error envelope and returns it.
pub async fn expect_error(response: Response, status: u16, code: &str) -> Value {
    let (actual, body) = read(response).await;
    assert_eq!(actual, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

/// Runs each named `async fn(&TestApp)` on every backend: memory and SQLite always; MongoDB
/// when built with `USERS_API_TEST_MONGO=1` (the README's test command sets it), else the
/// MongoDB variants are counted as ignored.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(&$crate::helpers::spawn_app(server::Backend::Memory).await).await })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(&$crate::helpers::spawn_app(server::Backend::Sqlite).await).await })*
        }
        mod mongodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(mongo_test_server), ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test")]
            async fn $name() {
                super::$name(&$crate::helpers::spawn_on_mongodb().await).await
            })*
        }
    };
}

/// The admin every dashboard test logs in as.
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A dashboard client: requests carry the session cookie (when given) and, like a browser on
/// the dashboard's own pages, the service's own `Origin`.
impl TestApp {
    /// Creates an app as `create_app` does and returns its one-time password.
    pub async fn create_app_with_password(&self, id: &str) -> String {
        let (_, password) = self
            .services
            .apps
            .create_app(
                &AdminAccess::command_line(),
                NewApp {
                    id: id.into(),
                    name: format!("App {id}"),
                    allowed_origins: vec!["https://site.example".into()],
                    honeypot_field: Some("website".into()),
                    thank_you_url: None,
                    error_url: None,
                },
            )
            .await
            .expect("create app");
        self.set_schema(id, example_schema()).await;
        secrecy::ExposeSecret::expose_secret(&password).to_owned()
    }

    pub async fn create_admin(&self) {
        self.services
            .admins
            .create_admin(ADMIN_EMAIL, ADMIN_PASSWORD.into())
            .await
            .expect("create admin");
    }

    pub async fn login(&self, body: Value) -> Response {
        self.client
            .post(self.url("/auth/login"))
            .header("origin", &self.address)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Logs in and returns the `cookie` header value to send from now on.
    pub async fn session_for(&self, body: Value) -> String {
        let response = self.login(body).await;
        assert_eq!(response.status(), 200);
        session_cookie(&response).expect("a session cookie")
    }

    pub async fn admin_session(&self) -> String {
        self.session_for(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .await
    }

    pub async fn owner_session(&self, app_id: &str, password: &str) -> String {
        self.session_for(json!({"sourceAppId": app_id, "password": password}))
            .await
    }

    /// A request as the dashboard's own pages make it.
    pub fn dashboard(
        &self,
        method: reqwest::Method,
        path: &str,
        cookie: Option<&str>,
    ) -> RequestBuilder {
        let request = self
            .client
            .request(method, self.url(path))
            .header("origin", &self.address);
        match cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    pub async fn dashboard_get(&self, path: &str, cookie: &str) -> (u16, Value) {
        read(
            self.dashboard(reqwest::Method::GET, path, Some(cookie))
                .send()
                .await
                .expect("request"),
        )
        .await
    }
}

/// `users_api_session=...` from a response's `set-cookie`, when it sets a non-empty one.
pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| {
            pair.starts_with("users_api_session=") && pair.len() > "users_api_session=".len()
        })
        .map(str::to_owned)
}

/// The whole `set-cookie` header of the session cookie, attributes included.
pub fn session_set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("users_api_session="))
        .map(str::to_owned)
}

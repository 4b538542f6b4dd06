//! End-user accounts over HTTP (ACCOUNTS.md §2) on every store: register, login, refresh with
//! rotation and reuse detection, logout, profile, password, sessions, and forged tokens.

use base64::Engine as _;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery staple";

async fn post(app: &TestApp, path: &str, body: Value, bearer: Option<&str>) -> Response {
    let mut request = app
        .client
        .post(app.url(path))
        .header("x-app-id", "site")
        .json(&body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

async fn get(app: &TestApp, path: &str, bearer: &str) -> Response {
    app.client
        .get(app.url(path))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("request")
}

async fn json(response: Response) -> Value {
    response.json().await.expect("json")
}

/// Registers `email` on `site` and returns the answer's `data`.
async fn register(app: &TestApp, email: &str) -> Value {
    let response = post(
        app,
        "/v1/auth/register",
        json!({"email": email, "password": PASSWORD, "name": "Ada"}),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json(response).await;
    assert_eq!(body["success"], true);
    body["data"].clone()
}

fn token(data: &Value) -> &str {
    data["token"].as_str().expect("token")
}

fn refresh_token(data: &Value) -> &str {
    data["refresh_token"].as_str().expect("refresh token")
}

async fn error_code(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body = json(response).await;
    assert_eq!(body["success"], false, "{body}");
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

async fn the_whole_flow(app: &TestApp) {
    app.create_app("site").await;
    let data = register(app, "Ada@Example.com").await;
    assert_eq!(data["user"]["email"], "ada@example.com");
    assert_eq!(data["user"]["name"], "Ada");
    assert_eq!(data["user"]["email_verified"], false);
    assert!(data["expires_at"].as_str().is_some());
    let me = get(app, "/v1/users/me", token(&data)).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me = json(me).await;
    assert_eq!(me["success"], true);
    assert_eq!(me["data"]["id"], data["user"]["id"]);

    let login = post(
        app,
        "/v1/auth/login",
        json!({"email": "ada@example.com", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(login.status(), StatusCode::OK);
    let login = json(login).await["data"].clone();
    assert!(login["user"]["last_login_at"].as_str().is_some());

    let refreshed = post(
        app,
        "/v1/auth/refresh",
        json!({"refresh_token": refresh_token(&login)}),
        None,
    )
    .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed = json(refreshed).await["data"].clone();
    assert_ne!(refresh_token(&refreshed), refresh_token(&login));
    assert_eq!(
        get(app, "/v1/users/me", token(&refreshed)).await.status(),
        StatusCode::OK
    );

    let sessions = json(get(app, "/v1/users/me/sessions", token(&refreshed)).await).await;
    let sessions = sessions["data"]["sessions"]
        .as_array()
        .expect("sessions")
        .clone();
    assert_eq!(sessions.len(), 2, "one per login");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions
        .iter()
        .find(|s| s["current"] == false)
        .expect("the registration's session");
    let ended = app
        .client
        .delete(app.url(&format!(
            "/v1/users/me/sessions/{}",
            other["id"].as_str().expect("id")
        )))
        .bearer_auth(token(&refreshed))
        .send()
        .await
        .expect("request");
    assert_eq!(ended.status(), StatusCode::OK);
    assert_eq!(
        error_code(get(app, "/v1/users/me", token(&data)).await).await,
        (StatusCode::UNAUTHORIZED, "invalid_token".to_owned()),
        "the ended session's token is refused within a second"
    );

    let out = post(app, "/v1/auth/logout", json!({}), Some(token(&refreshed))).await;
    assert_eq!(out.status(), StatusCode::OK);
    let after = get(app, "/v1/users/me", token(&refreshed)).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert!(
        after
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer")),
    );
    let (status, code) = error_code(
        post(
            app,
            "/v1/auth/refresh",
            json!({"refresh_token": refresh_token(&refreshed)}),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
}

async fn refresh_races_get_one_successor_and_a_late_replay_ends_the_session(app: &TestApp) {
    app.create_app("site").await;
    let data = register(app, "ada@example.com").await;
    let spent = refresh_token(&data).to_owned();
    let racers = (0..8).map(|_| {
        post(
            app,
            "/v1/auth/refresh",
            json!({"refresh_token": spent}),
            None,
        )
    });
    let answers = futures::future::join_all(racers).await;
    let mut successors = std::collections::BTreeSet::new();
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::OK);
        successors.insert(refresh_token(&json(answer).await["data"]).to_owned());
    }
    assert_eq!(
        successors.len(),
        1,
        "concurrent tabs get the same successor"
    );
    let successor = successors.into_iter().next().expect("one");
    let sessions = json(get(app, "/v1/users/me/sessions", token(&data)).await).await;
    assert_eq!(
        sessions["data"]["sessions"].as_array().map(Vec::len),
        Some(1),
        "no second session"
    );
    assert_eq!(
        post(
            app,
            "/v1/auth/refresh",
            json!({"refresh_token": successor}),
            None
        )
        .await
        .status(),
        StatusCode::OK
    );
}

async fn bad_input_gets_the_documented_errors(app: &TestApp) {
    app.create_app("site").await;
    let cases = [
        (
            json!({"email": "ada@example.com", "password": "short"}),
            "password",
            "too_short",
        ),
        (
            json!({"email": "ada@example.com", "password": "password123"}),
            "password",
            "too_common",
        ),
        (
            json!({"email": "not an email", "password": PASSWORD}),
            "email",
            "email",
        ),
        (json!({"password": PASSWORD}), "email", "required"),
        (
            json!({"email": "ada@example.com", "password": PASSWORD, "role": "admin"}),
            "role",
            "unknown",
        ),
    ];
    for (body, field, code) in cases {
        let response = post(app, "/v1/auth/register", body.clone(), None).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let body = json(response).await;
        assert_eq!(body["success"], false);
        assert!(
            body["error"]["details"]
                .as_array()
                .expect("details")
                .iter()
                .any(|d| d["field"] == field && d["code"] == code),
            "{field} {code}: {body}"
        );
    }
    assert_eq!(app.user_count("site").await, 0, "nothing stored");
    register(app, "ada@example.com").await;
    assert_eq!(
        error_code(
            post(
                app,
                "/v1/auth/register",
                json!({"email": "ADA@example.com", "password": PASSWORD}),
                None
            )
            .await
        )
        .await,
        (StatusCode::CONFLICT, "email_taken".to_owned())
    );
    for body in [
        json!({"email": "ada@example.com", "password": "wrong horse battery staple"}),
        json!({"email": "nobody@example.com", "password": PASSWORD}),
    ] {
        assert_eq!(
            error_code(post(app, "/v1/auth/login", body, None).await).await,
            (StatusCode::UNAUTHORIZED, "invalid_credentials".to_owned())
        );
    }
    let no_app = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(no_app.status(), StatusCode::BAD_REQUEST);
    let unauthorized = app
        .client
        .get(app.url("/v1/users/me"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(unauthorized).await,
        (StatusCode::UNAUTHORIZED, "unauthorized".to_owned())
    );
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens that are not ours, or no longer valid, are refused with 401 (or 403 for another
/// app's), whatever their header says.
async fn forged_and_foreign_tokens_are_refused(app: &TestApp) {
    app.create_app("site").await;
    app.create_app("other").await;
    let data = register(app, "ada@example.com").await;
    let real = token(&data).to_owned();
    let parts: Vec<&str> = real.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[0])
            .expect("header"),
    )
    .expect("json");
    assert_eq!(header["alg"], "EdDSA");
    let mut claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .expect("payload"),
    )
    .expect("json");
    assert_eq!(claims["aud"], "site");

    let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    let hs256_header = b64(json!({"alg": "HS256", "typ": "JWT", "kid": header["kid"]})
        .to_string()
        .as_bytes());
    let hs256 = format!("{hs256_header}.{}.{}", parts[1], parts[2]);
    claims["sub"] = json!("someone-else");
    let changed = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    let unknown_kid = format!(
        "{}.{}.{}",
        b64(json!({"alg": "EdDSA", "typ": "JWT", "kid": "not-a-key"})
            .to_string()
            .as_bytes()),
        parts[1],
        parts[2]
    );
    for forged in [
        none,
        hs256,
        changed,
        unknown_kid,
        "garbage".to_owned(),
        format!("{real}x"),
    ] {
        assert_eq!(
            error_code(get(app, "/v1/users/me", &forged).await).await,
            (StatusCode::UNAUTHORIZED, "invalid_token".to_owned()),
            "{forged}"
        );
    }
    let foreign = app
        .client
        .get(app.url("/v1/users/me"))
        .header("x-app-id", "other")
        .bearer_auth(&real)
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(foreign).await,
        (StatusCode::FORBIDDEN, "tenant_mismatch".to_owned())
    );
}

async fn a_password_change_ends_the_other_sessions(app: &TestApp) {
    app.create_app("site").await;
    let first = register(app, "ada@example.com").await;
    let second = json(
        post(
            app,
            "/v1/auth/login",
            json!({"email": "ada@example.com", "password": PASSWORD}),
            None,
        )
        .await,
    )
    .await["data"]
        .clone();
    let change = app
        .client
        .put(app.url("/v1/users/me/password"))
        .bearer_auth(token(&second))
        .json(&json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"}))
        .send()
        .await
        .expect("request");
    assert_eq!(change.status(), StatusCode::OK);
    assert_eq!(
        get(app, "/v1/users/me", token(&second)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get(app, "/v1/users/me", token(&first)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let old = post(
        app,
        "/v1/auth/login",
        json!({"email": "ada@example.com", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
}

async fn a_lead_becomes_the_account_without_showing_its_data(app: &TestApp) {
    app.create_app("site").await;
    let lead = app
        .submit(
            "site",
            json!({"email": "lead@example.com", "data": {"fullName": "Somebody Else", "plan": "pro", "consentRequired": true}}),
        )
        .await;
    assert_eq!(lead.status(), StatusCode::OK);
    let lead_id = json(lead).await["id"].clone();
    let data = register(app, "lead@example.com").await;
    assert_eq!(data["user"]["id"], lead_id, "the same record");
    assert_eq!(data["user"]["data"], json!({}));
    let me = json(get(app, "/v1/users/me", token(&data)).await).await;
    assert_eq!(me["data"]["data"], json!({}));
    assert_eq!(app.user_count("site").await, 1);
    assert_eq!(
        app.stored_data("site", lead_id.as_str().expect("id")).await,
        json!({"fullName": "Somebody Else", "plan": "pro", "consentRequired": true}),
        "operators still see it"
    );
    let update = app
        .client
        .put(app.url("/v1/users/me"))
        .bearer_auth(token(&data))
        .json(&json!({"bio": "Hello", "avatar_url": "http://insecure.example/a.png"}))
        .send()
        .await
        .expect("request");
    assert_eq!(update.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let update = app
        .client
        .put(app.url("/v1/users/me"))
        .bearer_auth(token(&data))
        .json(&json!({"bio": "Hello", "avatar_url": "https://cdn.example/a.png"}))
        .send()
        .await
        .expect("request");
    assert_eq!(update.status(), StatusCode::OK);
    let update = json(update).await;
    assert_eq!(update["data"]["bio"], "Hello");
    assert_eq!(update["data"]["avatar_url"], "https://cdn.example/a.png");
}

async fn the_key_set_is_public(app: &TestApp) {
    let response = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let keys = json(response).await;
    let key = &keys["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert!(key["kid"].as_str().is_some() && key["x"].as_str().is_some());
    assert!(key.get("d").is_none(), "no private part");
}

/// An independent JOSE library (PyJWT, with `cryptography` for EdDSA) verifies an issued token
/// against the served JWKS, as an app's backend would: signature, `aud`, `iss`.
async fn issued_tokens_verify_with_pyjwt_through_the_jwks(app: &TestApp) {
    app.create_app("site").await;
    let data = register(app, "ada@example.com").await;
    let jwks = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("token"), token(&data)).expect("write");
    std::fs::write(dir.path().join("jwks.json"), jwks).expect("write");
    let script = r#"
import json, sys
import cryptography, jwt
token = open(sys.argv[1] + "/token").read()
keys = jwt.PyJWKSet.from_dict(json.load(open(sys.argv[1] + "/jwks.json")))
key = keys[jwt.get_unverified_header(token)["kid"]]
print(json.dumps(jwt.decode(token, key.key, algorithms=["EdDSA"], audience="site", issuer=sys.argv[2])))
"#;
    let python = std::env::var_os("USERS_API_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
            venv.exists().then_some(venv)
        })
        .unwrap_or_else(|| "python3".into());
    let issuer = app.issuer();
    let output = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(dir.path())
        .arg(&issuer)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "PyJWT refused our token (pip install pyjwt cryptography into .venv; scripts/test.sh does): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let claims: Value = serde_json::from_slice(&output.stdout).expect("claims");
    assert_eq!(claims["sub"], data["user"]["id"]);
    assert_eq!(claims["aud"], "site");
    assert_eq!(claims["email"], "ada@example.com");
}

crate::on_every_backend!(
    an_apps_own_lifetimes_shape_its_tokens_and_sessions,
    the_accounts_routes_follow_the_apps_origins,
    issued_tokens_verify_with_pyjwt_through_the_jwks,
    the_whole_flow,
    refresh_races_get_one_successor_and_a_late_replay_ends_the_session,
    bad_input_gets_the_documented_errors,
    forged_and_foreign_tokens_are_refused,
    a_password_change_ends_the_other_sessions,
    a_lead_becomes_the_account_without_showing_its_data,
    the_key_set_is_public,
);

fn limited() -> server::Settings {
    let mut settings = crate::helpers::test_settings(server::Backend::Memory);
    settings.rate_limit.enabled = true;
    // The per-IP limit of the public routes stays out of the way.
    settings.rate_limit.per_ip_burst = 1_000;
    settings.rate_limit.register_per_ip_burst = 3;
    settings.rate_limit.register_per_ip_interval_seconds = 600;
    settings.rate_limit.login_per_account_burst = 2;
    settings.rate_limit.login_per_account_interval_seconds = 600;
    settings.rate_limit.refresh_per_session_burst = 2;
    settings.rate_limit.refresh_per_session_interval_seconds = 600;
    settings
}

async fn assert_limited(response: Response) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
    let (_, code) = error_code(response).await;
    assert_eq!(code, "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_logins_and_refreshes_are_rate_limited() {
    let app = crate::helpers::spawn_with(limited()).await;
    app.create_app("site").await;
    let data = register(&app, "a@example.com").await;
    register(&app, "b@example.com").await;
    register(&app, "c@example.com").await;
    assert_limited(
        post(
            &app,
            "/v1/auth/register",
            json!({"email": "d@example.com", "password": PASSWORD}),
            None,
        )
        .await,
    )
    .await;
    // Only failures count against an account: a right password goes through meanwhile.
    for _ in 0..2 {
        let wrong = post(
            &app,
            "/v1/auth/login",
            json!({"email": "a@example.com", "password": "not the password at all"}),
            None,
        )
        .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(
        post(
            &app,
            "/v1/auth/login",
            json!({"email": "a@example.com", "password": PASSWORD}),
            None,
        )
        .await,
    )
    .await;
    let other = post(
        &app,
        "/v1/auth/login",
        json!({"email": "b@example.com", "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another account is not limited"
    );
    let mut refresh = refresh_token(&data).to_owned();
    for _ in 0..2 {
        let answer = post(
            &app,
            "/v1/auth/refresh",
            json!({"refresh_token": refresh}),
            None,
        )
        .await;
        assert_eq!(answer.status(), StatusCode::OK);
        refresh = refresh_token(&json(answer).await["data"]).to_owned();
    }
    assert_limited(
        post(
            &app,
            "/v1/auth/refresh",
            json!({"refresh_token": refresh}),
            None,
        )
        .await,
    )
    .await;
}

/// With no grace window, the spent refresh token presented again is a replay: the whole
/// session ends, the successor with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_refresh_token_ends_the_session() {
    let mut settings = crate::helpers::test_settings(server::Backend::Sqlite);
    settings.tokens.refresh_grace_seconds = 0;
    let app = crate::helpers::spawn_with(settings).await;
    app.create_app("site").await;
    let data = register(&app, "ada@example.com").await;
    let next = post(
        &app,
        "/v1/auth/refresh",
        json!({"refresh_token": refresh_token(&data)}),
        None,
    )
    .await;
    assert_eq!(next.status(), StatusCode::OK);
    let next = json(next).await["data"].clone();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let replay = post(
        &app,
        "/v1/auth/refresh",
        json!({"refresh_token": refresh_token(&data)}),
        None,
    )
    .await;
    assert_eq!(
        error_code(replay).await,
        (StatusCode::UNAUTHORIZED, "invalid_token".to_owned())
    );
    let successor = post(
        &app,
        "/v1/auth/refresh",
        json!({"refresh_token": refresh_token(&next)}),
        None,
    )
    .await;
    assert_eq!(
        error_code(successor).await,
        (StatusCode::UNAUTHORIZED, "invalid_token".to_owned()),
        "the session is revoked"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(
        get(&app, "/v1/users/me", token(&next)).await.status(),
        StatusCode::UNAUTHORIZED,
        "and its access token stops within a second"
    );
}

/// An HS256 token whose HMAC secret is our public key: the classic algorithm confusion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hs256_token_signed_with_the_public_key_is_refused() {
    use hmac::{KeyInit as _, Mac as _};
    let app = crate::helpers::spawn_app(server::Backend::Memory).await;
    app.create_app("site").await;
    let data = register(&app, "ada@example.com").await;
    let jwks = json(
        app.client
            .get(app.url("/.well-known/jwks.json"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    let key = &jwks["keys"][0];
    let public = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key["x"].as_str().expect("x"))
        .expect("public key");
    let payload = token(&data).split('.').nth(1).expect("payload").to_owned();
    let header = b64(json!({"alg": "HS256", "typ": "JWT", "kid": key["kid"]})
        .to_string()
        .as_bytes());
    let signing_input = format!("{header}.{payload}");
    for secret in [
        public.clone(),
        key["x"].as_str().expect("x").as_bytes().to_vec(),
    ] {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).expect("any key length");
        mac.update(signing_input.as_bytes());
        let forged = format!("{signing_input}.{}", b64(&mac.finalize().into_bytes()));
        assert_eq!(
            error_code(get(&app, "/v1/users/me", &forged).await).await,
            (StatusCode::UNAUTHORIZED, "invalid_token".to_owned())
        );
    }
}

/// Pages of the app's allowed origins may read the answers; others get 403 and no CORS
/// headers; errors that say nothing of an app (a bad token) stay readable, so a page can tell
/// it must refresh.
async fn the_accounts_routes_follow_the_apps_origins(app: &TestApp) {
    app.create_app("site").await; // allows https://site.example
    let data = register(app, "ada@example.com").await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/auth/login"))
        .header("origin", "https://site.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, x-app-id",
        )
        .send()
        .await
        .expect("request");
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let allowed_headers = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
    let login = |origin: &'static str| {
        app.client
            .post(app.url("/v1/auth/login"))
            .header("x-app-id", "site")
            .header("origin", origin)
            .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
            .send()
    };
    let allowed = login("https://site.example").await.expect("request");
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://site.example"
    );
    let refused = login("https://evil.example").await.expect("request");
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(
        error_code(refused).await,
        (StatusCode::FORBIDDEN, "origin_not_allowed".to_owned())
    );
    let me = app
        .client
        .get(app.url("/v1/users/me"))
        .header("origin", "https://evil.example")
        .bearer_auth(token(&data))
        .send()
        .await
        .expect("request");
    assert_eq!(
        me.status(),
        StatusCode::FORBIDDEN,
        "a foreign page may not read the account"
    );
    assert!(me.headers().get("access-control-allow-origin").is_none());
    let bad_token = app
        .client
        .get(app.url("/v1/users/me"))
        .header("origin", "https://evil.example")
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("request");
    assert_eq!(bad_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        bad_token.headers()["access-control-allow-origin"],
        "https://evil.example"
    );
    let text = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-app-id", "site")
        .header("content-type", "text/plain")
        .body(json!({"email": "ada@example.com", "password": PASSWORD}).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(
        error_code(text).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type".to_owned()
        )
    );
}

/// The seconds an access token is valid for: its `exp` less its `iat`.
fn token_seconds(token: &str) -> i64 {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("claims");
    claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat")
}

/// Milliseconds from now until an RFC 3339 time.
fn millis_until(text: &Value) -> i64 {
    let at =
        storage_port::Timestamp::parse_rfc3339(text.as_str().expect("a time")).expect("RFC 3339");
    at.as_unix_millis() - storage_port::Timestamp::now().as_unix_millis()
}

/// An app's own token and session lifetimes (PATCH /v1/apps/{id}, by its admin or its owner):
/// at most the service's (422 naming the member beyond it, nothing changed), shaping the next
/// access tokens' `exp` and the sessions' end; `null` goes back to the service's.
async fn an_apps_own_lifetimes_shape_its_tokens_and_sessions(app: &TestApp) {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let password = app.create_app_with_password("site").await;
    app.create_admin().await;
    let admin = app.admin_session().await;
    let patch = |cookie: &str, body: Value| {
        app.dashboard(reqwest::Method::PATCH, "/v1/apps/site", Some(cookie))
            .json(&body)
            .send()
    };
    let (status, initial) = app.dashboard_get("/v1/apps/site", &admin).await;
    assert_eq!(status, 200, "{initial}");
    assert_eq!(initial["accessTokenMinutes"], Value::Null, "{initial}");
    assert_eq!(
        initial["lifetimeLimits"],
        json!({"accessTokenMinutes": 15, "sessionIdleDays": 30, "sessionAbsoluteDays": 90}),
        "the service's defaults"
    );
    assert_eq!(
        token_seconds(token(&register(app, "before@example.com").await)),
        15 * 60
    );

    let (status, body) = crate::helpers::read(
        patch(
            &admin,
            json!({"accessTokenMinutes": 5, "sessionIdleDays": 2, "sessionAbsoluteDays": 3}),
        )
        .await
        .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        [
            &body["accessTokenMinutes"],
            &body["sessionIdleDays"],
            &body["sessionAbsoluteDays"]
        ],
        [&json!(5), &json!(2), &json!(3)],
        "{body}"
    );

    let data = register(app, "ada@example.com").await;
    assert_eq!(
        token_seconds(token(&data)),
        5 * 60,
        "the app's own access lifetime"
    );
    assert!((4 * 60_000..=5 * 60_000 + 1000).contains(&millis_until(&data["expires_at"])));
    let refreshed = json(
        post(
            app,
            "/v1/auth/refresh",
            json!({"refresh_token": refresh_token(&data)}),
            None,
        )
        .await,
    )
    .await["data"]
        .clone();
    assert_eq!(
        token_seconds(token(&refreshed)),
        5 * 60,
        "and after a refresh"
    );
    let sessions = json(get(app, "/v1/users/me/sessions", token(&refreshed)).await).await;
    let ends = millis_until(&sessions["data"]["sessions"][0]["expires_at"]);
    assert!(
        (2 * DAY_MS - 60_000..=2 * DAY_MS).contains(&ends),
        "the session ends after the app's idle lifetime: {sessions}"
    );

    // Beyond the service's, not a whole number, or not a number: 422, nothing changed.
    for (body, field, code) in [
        (
            json!({"accessTokenMinutes": 16}),
            "accessTokenMinutes",
            "range",
        ),
        (
            json!({"accessTokenMinutes": 0}),
            "accessTokenMinutes",
            "range",
        ),
        (
            json!({"accessTokenMinutes": -1}),
            "accessTokenMinutes",
            "range",
        ),
        (
            json!({"accessTokenMinutes": 1.5}),
            "accessTokenMinutes",
            "range",
        ),
        (
            json!({"accessTokenMinutes": "5"}),
            "accessTokenMinutes",
            "type",
        ),
        (json!({"sessionIdleDays": 31}), "sessionIdleDays", "range"),
        (
            json!({"name": "Renamed", "sessionAbsoluteDays": 91}),
            "sessionAbsoluteDays",
            "range",
        ),
    ] {
        let refused = crate::helpers::expect_error(
            patch(&admin, body.clone()).await.expect("request"),
            422,
            "validation_failed",
        )
        .await;
        let details = refused["error"]["details"].as_array().expect("details");
        assert!(
            details
                .iter()
                .any(|d| d["field"] == field && d["code"] == code),
            "{body}: {refused}"
        );
    }
    let (_, kept) = app.dashboard_get("/v1/apps/site", &admin).await;
    assert_eq!(kept["name"], "App site", "{kept}");
    assert_eq!(kept["accessTokenMinutes"], 5, "{kept}");
    assert_eq!(kept["sessionAbsoluteDays"], 3, "{kept}");

    // The app's owner may choose them too; `null` follows the service's again.
    let owner = app.owner_session("site", &password).await;
    let (status, body) = crate::helpers::read(
        patch(
            &owner,
            json!({"accessTokenMinutes": null, "sessionIdleDays": 1}),
        )
        .await
        .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accessTokenMinutes"], Value::Null, "{body}");
    assert_eq!(body["sessionIdleDays"], 1, "{body}");
    assert_eq!(
        body["sessionAbsoluteDays"], 3,
        "an absent member stays: {body}"
    );
    let later = register(app, "later@example.com").await;
    assert_eq!(token_seconds(token(&later)), 15 * 60, "the service's again");

    // An absolute end before the idle one is the session's end, as its list says.
    let (status, body) = crate::helpers::read(
        patch(
            &admin,
            json!({"sessionIdleDays": 3, "sessionAbsoluteDays": 1}),
        )
        .await
        .expect("request"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let short = register(app, "short@example.com").await;
    let sessions = json(get(app, "/v1/users/me/sessions", token(&short)).await).await;
    let ends = millis_until(&sessions["data"]["sessions"][0]["expires_at"]);
    assert!(
        (DAY_MS - 60_000..=DAY_MS).contains(&ends),
        "the session ends after the absolute lifetime: {sessions}"
    );
}

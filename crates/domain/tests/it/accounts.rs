//! The accounts service over the in-memory store, with a stand-in for the crypto adapter.

use std::sync::Arc;

use domain::{AccountError, ClientInfo, LoggedIn, ProfileUpdate, Registration, Services};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use storage_port::{MemoryStorage, SessionStore, UserStore, UserUpsert};

use crate::{admin, new_app, services_on};

const PASSWORD: &str = "correct horse battery staple";

async fn with_site() -> (Services<MemoryStorage>, Arc<MemoryStorage>) {
    let storage = Arc::new(MemoryStorage::new());
    let services = services_on(storage.clone());
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    services.accounts.prepare_keys().await.expect("keys");
    (services, storage)
}

fn registration(email: &str) -> Registration {
    Registration {
        email: email.into(),
        password: PASSWORD.into(),
        name: Some("Ada".into()),
        data: None,
        organization_id: None,
    }
}

async fn register(services: &Services<MemoryStorage>, email: &str) -> LoggedIn {
    services
        .accounts
        .register("site", registration(email), ClientInfo::default())
        .await
        .expect("register")
}

fn codes(error: AccountError) -> Vec<String> {
    match error {
        AccountError::Invalid(violations) => violations
            .iter()
            .map(|v| format!("{}:{}", v.field, v.code))
            .collect(),
        other => panic!("not a validation error: {other:?}"),
    }
}

#[tokio::test]
async fn a_registration_logs_in_and_the_token_authenticates() {
    let (services, _) = with_site().await;
    let logged_in = register(&services, " Ada@Example.com ").await;
    assert_eq!(logged_in.account.record.user.email, "ada@example.com");
    let caller = services
        .accounts
        .authenticate(&logged_in.tokens.access_token, Some("site"))
        .await
        .expect("authenticates");
    assert_eq!(caller.user_id(), logged_in.account.record.user.id);
    assert_eq!(caller.claims().aud, "site");
    assert_eq!(caller.claims().exp - caller.claims().iat, 15 * 60);
    assert!(matches!(
        services
            .accounts
            .authenticate(&logged_in.tokens.access_token, Some("other"))
            .await,
        Err(AccountError::TenantMismatch)
    ));
    let again = services
        .accounts
        .register(
            "site",
            registration("ada@example.com"),
            ClientInfo::default(),
        )
        .await;
    assert!(matches!(again, Err(AccountError::EmailTaken)), "{again:?}");
}

#[tokio::test]
async fn registrations_are_checked_before_anything_is_stored() {
    let (services, storage) = with_site().await;
    let bad = Registration {
        email: "not an email".into(),
        password: "password".into(),
        name: Some(String::new()),
        data: Some(
            json!({"plan": "enterprise"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        ),
        organization_id: None,
    };
    let error = services
        .accounts
        .register("site", bad, ClientInfo::default())
        .await
        .expect_err("invalid");
    let found = codes(error);
    for expected in ["email:email", "password:too_common", "name:invalid"] {
        assert!(
            found.iter().any(|c| c == expected),
            "{expected} in {found:?}"
        );
    }
    assert_eq!(storage.count_users("site").await.expect("count"), 0);
    let short = Registration {
        password: "short".into(),
        ..registration("b@example.com")
    };
    let error = services
        .accounts
        .register("site", short, ClientInfo::default())
        .await
        .expect_err("short");
    assert_eq!(codes(error), ["password:too_short"]);
    assert!(matches!(
        services
            .accounts
            .register(
                "ghost",
                registration("c@example.com"),
                ClientInfo::default()
            )
            .await,
        Err(AccountError::UnknownApp)
    ));
}

#[tokio::test]
async fn logins_fail_alike_for_wrong_passwords_unknown_emails_and_leads() {
    let (services, storage) = with_site().await;
    register(&services, "ada@example.com").await;
    storage
        .upsert_user_by_email(
            "site",
            &UserUpsert {
                new_id: uuid::Uuid::now_v7().to_string(),
                email: "lead@example.com".into(),
                data: Default::default(),
                schema_version: 0,
                now: storage_port::Timestamp::now(),
            },
        )
        .await
        .expect("lead");
    for (email, password) in [
        ("ada@example.com", "wrong password here"),
        ("nobody@example.com", PASSWORD),
        ("lead@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ] {
        let outcome = services
            .accounts
            .login("site", email, password.into(), None, ClientInfo::default())
            .await;
        assert!(
            matches!(outcome, Err(AccountError::InvalidCredentials)),
            "{email}: {outcome:?}"
        );
    }
    let logged_in = services
        .accounts
        .login(
            "site",
            "ADA@example.com",
            PASSWORD.into(),
            None,
            ClientInfo::default(),
        )
        .await
        .expect("login");
    assert!(logged_in.account.record.account.last_login_at.is_some());
}

#[tokio::test]
async fn refresh_tokens_rotate_with_a_grace_and_a_replay_ends_the_session() {
    let (services, _) = with_site().await;
    let first = register(&services, "ada@example.com").await.tokens;
    let second = services
        .accounts
        .refresh(&first.refresh_token, None)
        .await
        .expect("refresh");
    assert_ne!(
        second.refresh_token.expose_secret(),
        first.refresh_token.expose_secret()
    );
    // Within the grace window the spent token gets the same successor.
    let retried = services
        .accounts
        .refresh(&first.refresh_token, None)
        .await
        .expect("retry within the grace window");
    assert_eq!(
        retried.refresh_token.expose_secret(),
        second.refresh_token.expose_secret()
    );
    let third = services
        .accounts
        .refresh(&second.refresh_token, None)
        .await
        .expect("refresh");
    // `second` was replaced just now, so it is within its grace; `first` is two rotations
    // old and unknown.
    assert!(matches!(
        services.accounts.refresh(&first.refresh_token, None).await,
        Err(AccountError::InvalidToken)
    ));
    services
        .accounts
        .authenticate(&third.access_token, None)
        .await
        .expect("the session goes on");
    for garbage in ["", "x.y.z", "a.b"] {
        let token: SecretString = garbage.into();
        assert!(matches!(
            services.accounts.refresh(&token, None).await,
            Err(AccountError::InvalidToken)
        ));
    }
}

#[tokio::test]
async fn a_replay_after_the_grace_window_revokes_the_session() {
    let storage = Arc::new(MemoryStorage::new());
    let mut settings = crate::settings();
    settings.accounts.refresh_grace = std::time::Duration::ZERO;
    settings.accounts.session_check_ttl = std::time::Duration::ZERO;
    let services = Services::new(
        storage.clone(),
        &settings,
        Arc::new(crate::fake_crypto::FakeCrypto::default()),
    )
    .expect("services");
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    let first = register(&services, "ada@example.com").await.tokens;
    let second = services
        .accounts
        .refresh(&first.refresh_token, None)
        .await
        .expect("refresh");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(matches!(
        services.accounts.refresh(&first.refresh_token, None).await,
        Err(AccountError::InvalidToken)
    ));
    assert!(
        matches!(
            services.accounts.refresh(&second.refresh_token, None).await,
            Err(AccountError::InvalidToken)
        ),
        "the whole session ended, the thief's successor with it"
    );
    assert!(matches!(
        services
            .accounts
            .authenticate(&second.access_token, None)
            .await,
        Err(AccountError::InvalidToken)
    ));
}

#[tokio::test]
async fn logout_ends_this_session_or_all() {
    let (services, storage) = with_site().await;
    let one = register(&services, "ada@example.com").await;
    let two = services
        .accounts
        .login(
            "site",
            "ada@example.com",
            PASSWORD.into(),
            None,
            ClientInfo::default(),
        )
        .await
        .expect("login");
    let caller = services
        .accounts
        .authenticate(&one.tokens.access_token, None)
        .await
        .expect("one");
    services
        .accounts
        .logout(&caller, false)
        .await
        .expect("logout");
    assert!(matches!(
        services
            .accounts
            .authenticate(&one.tokens.access_token, None)
            .await,
        Err(AccountError::InvalidToken)
    ));
    assert!(matches!(
        services
            .accounts
            .refresh(&one.tokens.refresh_token, None)
            .await,
        Err(AccountError::InvalidToken)
    ));
    let caller = services
        .accounts
        .authenticate(&two.tokens.access_token, None)
        .await
        .expect("two goes on");
    assert_eq!(
        services
            .accounts
            .sessions(&caller)
            .await
            .expect("list")
            .len(),
        1
    );
    let three = services
        .accounts
        .login(
            "site",
            "ada@example.com",
            PASSWORD.into(),
            None,
            ClientInfo::default(),
        )
        .await
        .expect("login");
    services.accounts.logout(&caller, true).await.expect("all");
    let user = caller.user_id().to_owned();
    assert!(
        storage
            .list_user_sessions("site", &user, storage_port::Timestamp::now())
            .await
            .expect("list")
            .is_empty()
    );
    assert!(
        services
            .accounts
            .authenticate(&three.tokens.access_token, None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let (services, _) = with_site().await;
    let this = register(&services, "ada@example.com").await;
    let other = services
        .accounts
        .login(
            "site",
            "ada@example.com",
            PASSWORD.into(),
            None,
            ClientInfo::default(),
        )
        .await
        .expect("login");
    let caller = services
        .accounts
        .authenticate(&this.tokens.access_token, None)
        .await
        .expect("caller");
    let wrong = services
        .accounts
        .change_password(
            &caller,
            "not it at all".into(),
            "a brand new passphrase".into(),
        )
        .await;
    assert!(
        matches!(wrong, Err(AccountError::WrongPassword)),
        "{wrong:?}"
    );
    let weak = services
        .accounts
        .change_password(&caller, PASSWORD.into(), "password123".into())
        .await
        .expect_err("weak");
    assert_eq!(codes(weak), ["new_password:too_common"]);
    services
        .accounts
        .change_password(&caller, PASSWORD.into(), "a brand new passphrase".into())
        .await
        .expect("changed");
    services
        .accounts
        .authenticate(&this.tokens.access_token, None)
        .await
        .expect("this session goes on");
    assert!(
        services
            .accounts
            .authenticate(&other.tokens.access_token, None)
            .await
            .is_err()
    );
    assert!(
        services
            .accounts
            .refresh(&other.tokens.refresh_token, None)
            .await
            .is_err()
    );
    assert!(
        services
            .accounts
            .login(
                "site",
                "ada@example.com",
                PASSWORD.into(),
                None,
                ClientInfo::default(),
            )
            .await
            .is_err()
    );
    services
        .accounts
        .login(
            "site",
            "ada@example.com",
            "a brand new passphrase".into(),
            None,
            ClientInfo::default(),
        )
        .await
        .expect("the new password works");
}

#[tokio::test]
async fn a_lead_becomes_the_account_and_its_old_data_stays_hidden_from_it() {
    let (services, storage) = with_site().await;
    storage
        .upsert_user_by_email(
            "site",
            &UserUpsert {
                new_id: uuid::Uuid::now_v7().to_string(),
                email: "lead@example.com".into(),
                data: json!({"fullName": "Somebody Else", "plan": "pro"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                schema_version: 0,
                now: storage_port::Timestamp::now(),
            },
        )
        .await
        .expect("lead");
    let logged_in = register(&services, "lead@example.com").await;
    assert_eq!(
        Value::Object(logged_in.account.record.user.data.clone()),
        json!({}),
        "registering someone's address reveals nothing"
    );
    let caller = services
        .accounts
        .authenticate(&logged_in.tokens.access_token, None)
        .await
        .expect("caller");
    let me = services.accounts.me(&caller).await.expect("me");
    assert!(me.record.user.data.is_empty());
    let stored = storage
        .find_user("site", &me.record.user.id)
        .await
        .expect("find")
        .expect("record");
    assert_eq!(
        Value::Object(stored.data),
        json!({"fullName": "Somebody Else", "plan": "pro"}),
        "operators still see the lead's data"
    );
    assert_eq!(storage.count_users("site").await.expect("count"), 1);
}

#[tokio::test]
async fn profiles_change_within_their_rules() {
    let (services, _) = with_site().await;
    let logged_in = register(&services, "ada@example.com").await;
    let caller = services
        .accounts
        .authenticate(&logged_in.tokens.access_token, None)
        .await
        .expect("caller");
    let bad = ProfileUpdate {
        avatar_url: Some(Some("http://example.com/a.png".into())),
        bio: Some(Some("x".repeat(2_001))),
        ..ProfileUpdate::default()
    };
    let error = services
        .accounts
        .update_me(&caller, bad)
        .await
        .expect_err("bad");
    assert_eq!(codes(error), ["bio:too_long", "avatar_url:url"]);
    let good = ProfileUpdate {
        name: Some(None),
        bio: Some(Some("  Mathematician ".into())),
        avatar_url: Some(Some("https://example.com/a.png".into())),
        data: None,
    };
    let changed = services
        .accounts
        .update_me(&caller, good)
        .await
        .expect("good");
    assert_eq!(changed.record.account.name, None);
    assert_eq!(changed.record.account.bio.as_deref(), Some("Mathematician"));
    assert_eq!(
        changed.record.account.avatar_url.as_deref(),
        Some("https://example.com/a.png")
    );
}

#[tokio::test]
async fn the_key_set_publishes_the_signing_key_and_rotation_adds_one() {
    let (services, _) = with_site().await;
    let first = services.accounts.jwks().await.expect("jwks");
    assert_eq!(first["keys"].as_array().map(Vec::len), Some(1));
    let before = register(&services, "ada@example.com").await.tokens;
    let kid = services.accounts.rotate_keys().await.expect("rotate");
    let after = services.accounts.jwks().await.expect("jwks");
    let kids: Vec<&str> = after["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|key| key["kid"].as_str())
        .collect();
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert_eq!(kids[0], kid, "the new key first");
    services
        .accounts
        .authenticate(&before.access_token, None)
        .await
        .expect("tokens of the replaced key stay valid");
    let new = services
        .accounts
        .login(
            "site",
            "ada@example.com",
            PASSWORD.into(),
            None,
            ClientInfo::default(),
        )
        .await
        .expect("login");
    assert!(
        new.tokens.access_token.ends_with(&kid),
        "signed with the new key"
    );
}

#[tokio::test]
async fn keys_that_do_not_open_with_this_kek_are_replaced_at_start() {
    let storage = Arc::new(MemoryStorage::new());
    let other = Services::new(
        storage.clone(),
        &crate::settings(),
        Arc::new(crate::fake_crypto::FakeCrypto {
            foreign_prefix: Some("other".into()),
            ..Default::default()
        }),
    )
    .expect("services");
    other.accounts.prepare_keys().await.expect("keys");
    let services = services_on(storage.clone());
    services.accounts.prepare_keys().await.expect("keys");
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    let logged_in = register(&services, "ada@example.com").await;
    assert!(
        logged_in.tokens.access_token.contains(".own-"),
        "signed with a key of its own"
    );
    let keys = services.accounts.jwks().await.expect("jwks");
    assert_eq!(keys["keys"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn an_expired_access_token_is_told_apart() {
    let storage = Arc::new(MemoryStorage::new());
    let mut settings = crate::settings();
    settings.accounts.access_token_ttl = std::time::Duration::ZERO;
    settings.accounts.leeway = std::time::Duration::ZERO;
    let services = Services::new(
        storage,
        &settings,
        Arc::new(crate::fake_crypto::FakeCrypto::default()),
    )
    .expect("services");
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    let tokens = register(&services, "ada@example.com").await.tokens;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert!(matches!(
        services
            .accounts
            .authenticate(&tokens.access_token, None)
            .await,
        Err(AccountError::TokenExpired)
    ));
    let fresh = services
        .accounts
        .refresh(&tokens.refresh_token, None)
        .await
        .expect("the refresh token outlives it");
    assert!(!fresh.access_token.is_empty());
}

//! The conformance checks of accounts, sessions and signing keys.

use futures::future::join_all;
use serde_json::{Value, json};

use super::{data, upsert, with_app};
use crate::*;

const T0: i64 = 1_700_000_000_000;

pub(super) fn at(offset_millis: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0 + offset_millis)
}

pub(super) fn new_account(email: &str, value: Value) -> NewAccount {
    NewAccount {
        new_id: uuid::Uuid::now_v7().to_string(),
        email: email.to_owned(),
        password_hash: Some("$argon2id$first".to_owned()),
        name: Some("Ada".to_owned()),
        data: data(value),
        schema_version: 1,
        tenant_admin: false,
        joining: None,
        now: at(0),
    }
}

/// A session of `user_id` created at T0, lasting a day idle and a week in all.
pub(super) fn session(app_id: &str, id: &str, user_id: &str, refresh_hash: &str) -> SessionRecord {
    SessionRecord {
        id: id.to_owned(),
        app_id: app_id.to_owned(),
        user_id: user_id.to_owned(),
        organization_id: None,
        refresh_hash: refresh_hash.to_owned(),
        previous_hash: None,
        rotated_at: None,
        sealed_refresh: None,
        created_at: at(0),
        last_used_at: at(0),
        idle_expires_at: at(86_400_000),
        absolute_expires_at: at(7 * 86_400_000),
        user_agent: Some("conformance".to_owned()),
        client_ip: Some("192.0.2.1".to_owned()),
        revoked_at: None,
    }
}

fn rotation(presented: &str, next: &str, now: Timestamp) -> Rotation {
    Rotation {
        presented_hash: presented.to_owned(),
        next_hash: next.to_owned(),
        next_sealed: format!("sealed-{next}"),
        now,
        idle_expires_at: Timestamp::from_unix_millis(now.as_unix_millis() + 86_400_000),
        grace_millis: 10_000,
    }
}

async fn registered<S: Storage>(store: &S, app_id: &str, email: &str) -> AccountRecord {
    store
        .register_account(app_id, &new_account(email, json!({})))
        .await
        .expect("register")
        .into_record()
}

pub async fn accounts_register_new_emails_and_turn_leads_into_accounts<S: Storage>(store: &S) {
    with_app(store, "site").await;
    let created = store
        .register_account(
            "site",
            &new_account("new@example.com", json!({"plan": "pro"})),
        )
        .await
        .expect("register");
    let Registered::Created(created) = created else {
        panic!("a new email makes a new record: {created:?}")
    };
    assert_eq!(created.user.email, "new@example.com");
    assert_eq!(
        Value::Object(created.user.data.clone()),
        json!({"plan": "pro"})
    );
    assert_eq!(created.account.name.as_deref(), Some("Ada"));
    assert_eq!(
        created.account.password_hash.as_deref(),
        Some("$argon2id$first")
    );
    assert_eq!(created.account.credential_version, 1);
    assert!(!created.account.email_verified && !created.account.disabled);
    assert_eq!(created.account.registered_at, at(0));
    assert!(created.account.lead_keys.is_empty());
    assert_eq!(
        store
            .find_account("site", &created.user.id)
            .await
            .expect("find"),
        Some(created.clone())
    );

    let lead = store
        .upsert_user_by_email(
            "site",
            &upsert(
                "lead@example.com",
                json!({"plan": "free", "age": 40}),
                at(-5),
            ),
        )
        .await
        .expect("lead");
    assert_eq!(
        store.find_account("site", &lead.id).await.expect("find"),
        None,
        "a lead is no account"
    );
    assert_eq!(
        store
            .find_account_by_email("site", "lead@example.com")
            .await
            .expect("find"),
        None
    );
    let from_lead = store
        .register_account(
            "site",
            &new_account("lead@example.com", json!({"plan": "pro"})),
        )
        .await
        .expect("register");
    let Registered::FromLead(from_lead) = from_lead else {
        panic!("a lead's email registers on the lead: {from_lead:?}")
    };
    assert_eq!(from_lead.user.id, lead.id, "the same record");
    assert_eq!(from_lead.user.created_at, at(-5));
    assert_eq!(
        Value::Object(from_lead.user.data.clone()),
        json!({"plan": "pro", "age": 40}),
        "the lead's data is kept, registration's merged over it"
    );
    assert_eq!(from_lead.account.lead_keys, vec!["age".to_owned()]);
    assert_eq!(
        store
            .find_account_by_email("site", "lead@example.com")
            .await
            .expect("find"),
        Some(from_lead)
    );
    assert_eq!(store.count_users("site").await.expect("count"), 2);
}

pub async fn an_email_registers_once_even_when_registrations_race<S: Storage>(store: &S) {
    with_app(store, "site").await;
    registered(store, "site", "once@example.com").await;
    let again = store
        .register_account("site", &new_account("once@example.com", json!({})))
        .await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(Entity::Account))),
        "{again:?}"
    );
    store
        .upsert_user_by_email("site", &upsert("raced@example.com", json!({"a": 1}), at(0)))
        .await
        .expect("lead");
    let attempts = (0..16).map(|_| {
        let new = new_account("raced@example.com", json!({}));
        async move { store.register_account("site", &new).await }
    });
    let outcomes = join_all(attempts).await;
    let won = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(won, 1, "{outcomes:?}");
    for outcome in &outcomes {
        assert!(
            matches!(
                outcome,
                Ok(_) | Err(StorageError::Duplicate(Entity::Account))
            ),
            "{outcome:?}"
        );
    }
    let fresh = (0..16).map(|_| {
        let new = new_account("fresh@example.com", json!({}));
        async move { store.register_account("site", &new).await }
    });
    let outcomes = join_all(fresh).await;
    assert_eq!(
        outcomes.iter().filter(|outcome| outcome.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(store.count_users("site").await.expect("count"), 3);
}

pub async fn accounts_change_their_profile_password_and_last_login<S: Storage>(store: &S) {
    with_app(store, "site").await;
    store
        .upsert_user_by_email(
            "site",
            &upsert(
                "ada@example.com",
                json!({"age": 40, "city": "Paris"}),
                at(0),
            ),
        )
        .await
        .expect("lead");
    let account = registered(store, "site", "ada@example.com").await;
    assert_eq!(
        account.account.lead_keys,
        vec!["age".to_owned(), "city".to_owned()]
    );
    let id = account.user.id.clone();
    let changes = ProfileChanges {
        name: Some(None),
        bio: Some(Some("Mathematician".to_owned())),
        avatar_url: Some(Some("https://example.com/ada.png".to_owned())),
        data: Some(data(json!({"age": 41}))),
        schema_version: Some(2),
    };
    let changed = store
        .update_profile("site", &id, &changes, at(1_000))
        .await
        .expect("update");
    assert_eq!(changed.account.name, None);
    assert_eq!(changed.account.bio.as_deref(), Some("Mathematician"));
    assert_eq!(
        changed.account.avatar_url.as_deref(),
        Some("https://example.com/ada.png")
    );
    assert_eq!(
        Value::Object(changed.user.data.clone()),
        json!({"age": 41, "city": "Paris"})
    );
    assert_eq!(
        changed.account.lead_keys,
        vec!["city".to_owned()],
        "a key written is the account's"
    );
    assert_eq!(changed.user.schema_version, 2);
    assert_eq!(changed.user.updated_at, at(1_000));
    assert_eq!(
        store.find_account("site", &id).await.expect("find"),
        Some(changed)
    );

    let rekeyed = store
        .replace_account_password("site", &id, "$argon2id$second", at(2_000))
        .await
        .expect("password");
    assert_eq!(
        rekeyed.account.password_hash.as_deref(),
        Some("$argon2id$second")
    );
    assert_eq!(rekeyed.account.credential_version, 2);
    store
        .record_login("site", &id, at(3_000))
        .await
        .expect("login");
    let logged_in = store
        .find_account("site", &id)
        .await
        .expect("find")
        .expect("account");
    assert_eq!(logged_in.account.last_login_at, Some(at(3_000)));
    assert_eq!(logged_in.account.credential_version, 2);

    let lead = store
        .upsert_user_by_email("site", &upsert("lead@example.com", json!({}), at(0)))
        .await
        .expect("lead");
    for outcome in [
        store
            .update_profile("site", &lead.id, &ProfileChanges::default(), at(0))
            .await
            .map(|_| ()),
        store
            .replace_account_password("site", &lead.id, "x", at(0))
            .await
            .map(|_| ()),
        store
            .update_profile("other", &id, &ProfileChanges::default(), at(0))
            .await
            .map(|_| ()),
        store.record_login("site", "no-such-id", at(0)).await,
    ] {
        assert!(
            matches!(outcome, Err(StorageError::NotFound(Entity::Account))),
            "{outcome:?}"
        );
    }
}

pub async fn refresh_tokens_rotate_then_get_a_grace_then_a_replay_revokes<S: Storage>(store: &S) {
    with_app(store, "site").await;
    let user = registered(store, "site", "ada@example.com").await.user.id;
    store
        .insert_session(&session("site", "s1", &user, "h0"))
        .await
        .expect("insert");
    let again = store
        .insert_session(&session("site", "s1", &user, "h9"))
        .await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(Entity::Session))),
        "{again:?}"
    );

    let RotationOutcome::Rotated(rotated) = store
        .rotate_refresh("site", "s1", &rotation("h0", "h1", at(1_000)))
        .await
        .expect("rotate")
    else {
        panic!("the current token rotates")
    };
    assert_eq!(rotated.refresh_hash, "h1");
    assert_eq!(rotated.previous_hash.as_deref(), Some("h0"));
    assert_eq!(rotated.sealed_refresh.as_deref(), Some("sealed-h1"));
    assert_eq!(rotated.rotated_at, Some(at(1_000)));
    assert_eq!(rotated.last_used_at, at(1_000));
    assert_eq!(rotated.idle_expires_at, at(1_000 + 86_400_000));
    assert_eq!(
        store.find_session("site", "s1").await.expect("find"),
        Some(rotated.clone())
    );

    let within = store
        .rotate_refresh("site", "s1", &rotation("h0", "h2", at(11_000)))
        .await
        .expect("rotate");
    assert_eq!(
        within,
        RotationOutcome::WithinGrace(rotated.clone()),
        "the same successor, nothing changed"
    );

    let other_app = store
        .rotate_refresh("other", "s1", &rotation("h1", "h2", at(2_000)))
        .await;
    assert_eq!(other_app.expect("rotate"), RotationOutcome::Unknown);
    let unknown = store
        .rotate_refresh("site", "s1", &rotation("nope", "h2", at(2_000)))
        .await;
    assert_eq!(unknown.expect("rotate"), RotationOutcome::Unknown);

    let replay = store
        .rotate_refresh("site", "s1", &rotation("h0", "h2", at(11_001)))
        .await
        .expect("rotate");
    let RotationOutcome::Reused(revoked) = replay else {
        panic!("a replay after the grace window is reuse: {replay:?}")
    };
    assert_eq!(revoked.revoked_at, Some(at(11_001)));
    let after = store
        .rotate_refresh("site", "s1", &rotation("h1", "h2", at(12_000)))
        .await;
    assert_eq!(
        after.expect("rotate"),
        RotationOutcome::Unknown,
        "the revoked session is over"
    );

    // The idle expiry never passes the absolute one, and an expired session does not rotate.
    let mut long_idle = session("site", "s2", &user, "k0");
    long_idle.idle_expires_at = long_idle.absolute_expires_at;
    store.insert_session(&long_idle).await.expect("insert");
    let late = at(7 * 86_400_000 - 1_000);
    let RotationOutcome::Rotated(capped) = store
        .rotate_refresh("site", "s2", &rotation("k0", "k1", late))
        .await
        .expect("rotate")
    else {
        panic!("still active")
    };
    assert_eq!(capped.idle_expires_at, capped.absolute_expires_at);
    let expired = store
        .rotate_refresh("site", "s2", &rotation("k1", "k2", at(7 * 86_400_000)))
        .await
        .expect("rotate");
    assert_eq!(expired, RotationOutcome::Unknown);
}

pub async fn concurrent_rotations_of_one_token_make_one_successor<S: Storage>(store: &S) {
    with_app(store, "site").await;
    let user = registered(store, "site", "ada@example.com").await.user.id;
    store
        .insert_session(&session("site", "s1", &user, "h0"))
        .await
        .expect("insert");
    let attempts = (0..32).map(|i| {
        let rotation = rotation("h0", &format!("next-{i}"), at(1_000));
        async move { store.rotate_refresh("site", "s1", &rotation).await }
    });
    let outcomes: Vec<RotationOutcome> = join_all(attempts)
        .await
        .into_iter()
        .map(|outcome| outcome.expect("rotate"))
        .collect();
    let winners: Vec<&SessionRecord> = outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            RotationOutcome::Rotated(session) => Some(session),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let successor = winners[0].refresh_hash.clone();
    for outcome in &outcomes {
        match outcome {
            RotationOutcome::Rotated(session) | RotationOutcome::WithinGrace(session) => {
                assert_eq!(session.refresh_hash, successor);
                assert_eq!(
                    session.sealed_refresh.as_deref(),
                    Some(format!("sealed-{successor}").as_str())
                );
            }
            other => panic!("every racer gets the one successor: {other:?}"),
        }
    }
    let sessions = store
        .list_user_sessions("site", &user, at(1_000))
        .await
        .expect("list");
    assert_eq!(sessions.len(), 1, "no second session");
    assert_eq!(sessions[0].refresh_hash, successor);
}

pub async fn sessions_are_listed_and_revoked_per_user_and_app<S: Storage>(store: &S) {
    with_app(store, "site").await;
    with_app(store, "other").await;
    let ada = registered(store, "site", "ada@example.com").await.user.id;
    let bob = registered(store, "site", "bob@example.com").await.user.id;
    for (id, user, created) in [
        ("a1", &ada, 0),
        ("a2", &ada, 1),
        ("a3", &ada, 2),
        ("b1", &bob, 0),
    ] {
        let mut record = session("site", id, user, &format!("hash-{id}"));
        record.created_at = at(created);
        store.insert_session(&record).await.expect("insert");
    }
    let ids = |sessions: Vec<SessionRecord>| sessions.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .list_user_sessions("site", &ada, at(10))
            .await
            .expect("list")),
        ["a3", "a2", "a1"]
    );
    assert!(
        store
            .find_session("other", "a1")
            .await
            .expect("find")
            .is_none(),
        "tenants are apart"
    );
    assert!(
        !store
            .revoke_session("other", "a1", at(10))
            .await
            .expect("revoke")
    );
    assert!(
        store
            .revoke_session("site", "a1", at(10))
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_session("site", "a1", at(11))
            .await
            .expect("revoke"),
        "already revoked"
    );
    assert_eq!(
        store
            .find_session("site", "a1")
            .await
            .expect("find")
            .and_then(|s| s.revoked_at),
        Some(at(10))
    );
    assert_eq!(
        ids(store
            .list_user_sessions("site", &ada, at(10))
            .await
            .expect("list")),
        ["a3", "a2"]
    );
    assert_eq!(
        store
            .revoke_user_sessions("other", &ada, None, at(12))
            .await
            .expect("revoke"),
        0
    );
    assert_eq!(
        store
            .revoke_user_sessions("site", &ada, Some("a3"), at(12))
            .await
            .expect("revoke"),
        1
    );
    assert_eq!(
        ids(store
            .list_user_sessions("site", &ada, at(12))
            .await
            .expect("list")),
        ["a3"]
    );
    assert_eq!(
        ids(store
            .list_user_sessions("site", &bob, at(12))
            .await
            .expect("list")),
        ["b1"]
    );
    assert!(
        store
            .list_user_sessions("site", &bob, at(86_400_000))
            .await
            .expect("list")
            .is_empty(),
        "an idle session is not listed"
    );
}

pub async fn deleting_a_record_or_an_app_deletes_its_sessions<S: Storage>(store: &S) {
    with_app(store, "site").await;
    with_app(store, "kept").await;
    let ada = registered(store, "site", "ada@example.com").await.user.id;
    let bob = registered(store, "site", "bob@example.com").await.user.id;
    let kept = registered(store, "kept", "ada@example.com").await.user.id;
    store
        .insert_session(&session("site", "ada-1", &ada, "h1"))
        .await
        .expect("insert");
    store
        .insert_session(&session("site", "bob-1", &bob, "h2"))
        .await
        .expect("insert");
    store
        .insert_session(&session("kept", "kept-1", &kept, "h3"))
        .await
        .expect("insert");
    assert!(store.delete_user("site", &ada).await.expect("delete"));
    assert!(
        store
            .find_session("site", "ada-1")
            .await
            .expect("find")
            .is_none()
    );
    assert!(
        store
            .find_account("site", &ada)
            .await
            .expect("find")
            .is_none()
    );
    assert!(
        store
            .find_session("site", "bob-1")
            .await
            .expect("find")
            .is_some()
    );
    store.delete_app("site").await.expect("delete app");
    assert!(
        store
            .find_session("site", "bob-1")
            .await
            .expect("find")
            .is_none()
    );
    assert!(
        store
            .find_session("kept", "kept-1")
            .await
            .expect("find")
            .is_some()
    );
    assert!(
        store
            .find_account("kept", &kept)
            .await
            .expect("find")
            .is_some()
    );
}

pub async fn signing_keys_are_kept_newest_first<S: Storage>(store: &S) {
    assert!(store.list_signing_keys().await.expect("list").is_empty());
    let key = |kid: &str, created: i64| SigningKeyRecord {
        kid: kid.to_owned(),
        algorithm: "EdDSA".to_owned(),
        public_key: format!("public-{kid}"),
        sealed_private_key: format!("sealed-{kid}"),
        created_at: at(created),
    };
    store
        .insert_signing_key(&key("k1", 0))
        .await
        .expect("insert");
    store
        .insert_signing_key(&key("k3", 2_000))
        .await
        .expect("insert");
    store
        .insert_signing_key(&key("k2", 1_000))
        .await
        .expect("insert");
    let again = store.insert_signing_key(&key("k2", 5_000)).await;
    assert!(
        matches!(again, Err(StorageError::Duplicate(Entity::SigningKey))),
        "{again:?}"
    );
    assert_eq!(
        store.list_signing_keys().await.expect("list"),
        vec![key("k3", 2_000), key("k2", 1_000), key("k1", 0)]
    );
}

pub async fn a_session_switches_its_active_organization<S: Storage>(store: &S) {
    with_app(store, "site").await;
    with_app(store, "other").await;
    let user = registered(store, "site", "ada@example.com").await.user.id;
    store
        .insert_session(&session("site", "s1", &user, "h1"))
        .await
        .expect("insert");
    assert!(
        store
            .set_session_organization("site", "s1", Some("org_a"))
            .await
            .expect("switch")
    );
    let found = store
        .find_session("site", "s1")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(found.organization_id.as_deref(), Some("org_a"));
    assert_eq!(found.refresh_hash, "h1", "nothing else changes");
    assert!(
        !store
            .set_session_organization("other", "s1", Some("org_b"))
            .await
            .expect("another app's"),
        "another app cannot reach it"
    );
    assert!(
        store
            .set_session_organization("site", "s1", None)
            .await
            .expect("clear")
    );
    let cleared = store
        .find_session("site", "s1")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(cleared.organization_id, None);
    store
        .revoke_session("site", "s1", at(5))
        .await
        .expect("revoke");
    assert!(
        !store
            .set_session_organization("site", "s1", Some("org_a"))
            .await
            .expect("revoked"),
        "a revoked session stays as it was"
    );
    assert!(
        !store
            .set_session_organization("site", "nope", Some("org_a"))
            .await
            .expect("unknown")
    );
}

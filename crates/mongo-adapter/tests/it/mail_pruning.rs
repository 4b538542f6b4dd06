//! What the mail conformance checks do not look at: pruning takes spent and expired tokens
//! created before the instant, and leaves usable ones and newer ones.

use storage_port::{MailStatus, MailStore, OneTimeToken, OutboxMessage, Timestamp, TokenPurpose};

use super::FreshStore;

fn at(millis: i64) -> Timestamp {
    Timestamp::from_unix_millis(millis)
}

fn token(hash: &str, email: &str, created: i64, expires: i64) -> OneTimeToken {
    OneTimeToken {
        id: format!("tok-{hash}"),
        app_id: "site".to_owned(),
        purpose: TokenPurpose::ResetPassword,
        token_hash: hash.to_owned(),
        user_id: None,
        email: email.to_owned(),
        organization_id: None,
        role: None,
        invited_by: None,
        message: None,
        created_at: at(created),
        expires_at: at(expires),
        used_at: None,
    }
}

fn message(token_id: &str) -> OutboxMessage {
    OutboxMessage {
        id: uuid::Uuid::now_v7().to_string(),
        app_id: "site".to_owned(),
        kind: "reset_password".to_owned(),
        from: "no-reply@example.com".to_owned(),
        to: "ada@example.com".to_owned(),
        subject: "Reset".to_owned(),
        text: "t".to_owned(),
        html: "h".to_owned(),
        token_id: Some(token_id.to_owned()),
        status: MailStatus::Pending,
        attempts: 0,
        next_attempt_at: at(0),
        lease_owner: None,
        lease_until: None,
        last_error: None,
        created_at: at(0),
        sent_at: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn pruning_takes_spent_and_expired_tokens_only() {
    let fresh = FreshStore::connect().await;
    let store = &fresh.store;
    // Each for another address, so that none replaces another.
    let spent = token("spent", "a@example.com", 0, 1_000_000);
    let expired = token("expired", "b@example.com", 0, 500);
    let usable = token("usable", "c@example.com", 0, 1_000_000);
    let newer = token("newer", "d@example.com", 5_000, 5_500);
    for t in [&spent, &expired, &usable, &newer] {
        store.issue_token(t, &message(&t.id)).await.expect("issue");
    }
    assert!(
        store
            .consume_token("spent", at(10))
            .await
            .expect("spend")
            .is_some()
    );
    store.prune_mail(at(1_000)).await.expect("prune");
    for (hash, kept) in [
        ("spent", false),
        ("expired", false),
        ("usable", true),
        ("newer", true),
    ] {
        assert_eq!(
            store.find_token(hash).await.expect("find").is_some(),
            kept,
            "{hash}"
        );
    }
    fresh.drop_database().await;
}

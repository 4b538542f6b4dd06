//! The conformance checks of one-time tokens and the outbox ([`MailStore`]), run on every store
//! with [`mail_conformance_tests!`](crate::mail_conformance_tests).

use futures::future::join_all;

use super::accounts::at;
use crate::*;

/// Expands to one `#[tokio::test]` per mail conformance check; `$make` yields `(store, guard)`
/// as for `conformance_tests!`.
#[macro_export]
macro_rules! mail_conformance_tests {
    ($make:expr) => {
        $crate::mail_conformance_tests!(@each $make;
            tokens_are_issued_with_their_message_and_replace_older_ones,
            a_token_is_spent_once_even_when_spent_together,
            expired_used_and_revoked_tokens_cannot_be_spent,
            due_messages_are_claimed_once_and_leases_run_out,
            deliveries_retry_then_fail_and_finished_mail_is_pruned,
            messages_page_newest_first_per_app
        );
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _guard) = $make.await;
                $crate::conformance::mail::$name(&store).await;
            }
        )*
    };
}

fn token(
    app: &str,
    purpose: TokenPurpose,
    email: &str,
    hash: &str,
    org: Option<&str>,
) -> OneTimeToken {
    OneTimeToken {
        id: format!("tok-{hash}"),
        app_id: app.to_owned(),
        purpose,
        token_hash: hash.to_owned(),
        user_id: None,
        email: email.to_owned(),
        organization_id: org.map(str::to_owned),
        role: org.map(|_| MemberRole::Member),
        invited_by: None,
        message: None,
        created_at: at(0),
        expires_at: at(3_600_000),
        used_at: None,
    }
}

/// A pending message due at `due`; ids are UUIDv7 so that they sort in creation order.
fn message(app: &str, kind: &str, token_id: Option<&str>, due: i64) -> OutboxMessage {
    OutboxMessage {
        id: uuid::Uuid::now_v7().to_string(),
        app_id: app.to_owned(),
        kind: kind.to_owned(),
        from: "Site <no-reply@example.com>".to_owned(),
        to: "ada@example.com".to_owned(),
        subject: "Verify your email".to_owned(),
        text: "Open the link".to_owned(),
        html: "<p>Open the link</p>".to_owned(),
        token_id: token_id.map(str::to_owned),
        status: MailStatus::Pending,
        attempts: 0,
        next_attempt_at: at(due),
        lease_owner: None,
        lease_until: None,
        last_error: None,
        created_at: at(0),
        sent_at: None,
    }
}

fn claim(owner: &str, now: i64, limit: u32) -> Claim {
    Claim {
        owner: owner.to_owned(),
        now: at(now),
        lease_until: at(now + 30_000),
        limit,
    }
}

async fn ids_of<S: MailStore>(store: &S, app: &str) -> Vec<String> {
    store
        .list_messages(
            app,
            &MessageQuery {
                limit: 100,
                before_id: None,
                status: None,
            },
        )
        .await
        .expect("list")
        .messages
        .into_iter()
        .map(|m| m.id)
        .collect()
}

pub async fn tokens_are_issued_with_their_message_and_replace_older_ones<S: MailStore>(store: &S) {
    let first = token(
        "site",
        TokenPurpose::VerifyEmail,
        "ada@example.com",
        "h1",
        None,
    );
    let first_mail = message("site", "verify_email", Some(&first.id), 0);
    store.issue_token(&first, &first_mail).await.expect("issue");
    assert_eq!(
        store.find_token("h1").await.expect("find"),
        Some(first.clone())
    );
    assert_eq!(ids_of(store, "site").await, vec![first_mail.id.clone()]);
    // The same hash again stores nothing.
    let again = store
        .issue_token(&first, &message("site", "verify_email", None, 0))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(again, StorageError::Duplicate(Entity::Token)),
        "{again:?}"
    );
    assert_eq!(ids_of(store, "site").await.len(), 1);
    // A newer verification for the address replaces the older; the message of the older stays
    // (it is already on its way), its token is gone.
    let second = token(
        "site",
        TokenPurpose::VerifyEmail,
        "ada@example.com",
        "h2",
        None,
    );
    store
        .issue_token(
            &second,
            &message("site", "verify_email", Some(&second.id), 0),
        )
        .await
        .expect("issue");
    assert_eq!(store.find_token("h1").await.expect("find"), None);
    assert!(store.find_token("h2").await.expect("find").is_some());
    // Other purposes, addresses, organizations and apps are not replaced.
    let others = [
        token(
            "site",
            TokenPurpose::ResetPassword,
            "ada@example.com",
            "h3",
            None,
        ),
        token(
            "site",
            TokenPurpose::VerifyEmail,
            "bob@example.com",
            "h4",
            None,
        ),
        token(
            "site",
            TokenPurpose::Invitation,
            "ada@example.com",
            "h5",
            Some("org_a"),
        ),
        token(
            "site",
            TokenPurpose::Invitation,
            "ada@example.com",
            "h6",
            Some("org_b"),
        ),
        token(
            "other",
            TokenPurpose::VerifyEmail,
            "ada@example.com",
            "h7",
            None,
        ),
    ];
    for other in &others {
        store
            .issue_token(other, &message(&other.app_id, "x", Some(&other.id), 0))
            .await
            .expect("issue");
    }
    for hash in ["h2", "h3", "h4", "h5", "h6", "h7"] {
        assert!(
            store.find_token(hash).await.expect("find").is_some(),
            "{hash} kept"
        );
    }
    // Re-inviting to org_a replaces only org_a's invitation.
    let reinvite = token(
        "site",
        TokenPurpose::Invitation,
        "ada@example.com",
        "h8",
        Some("org_a"),
    );
    store
        .issue_token(
            &reinvite,
            &message("site", "invitation", Some(&reinvite.id), 0),
        )
        .await
        .expect("issue");
    assert_eq!(store.find_token("h5").await.expect("find"), None);
    assert!(store.find_token("h6").await.expect("find").is_some());
    let pending = store
        .list_usable_tokens("site", TokenPurpose::Invitation, Some("org_a"), at(1))
        .await
        .expect("list");
    assert_eq!(
        pending
            .iter()
            .map(|t| t.token_hash.as_str())
            .collect::<Vec<_>>(),
        ["h8"]
    );
}

pub async fn a_token_is_spent_once_even_when_spent_together<S: MailStore>(store: &S) {
    let reset = token(
        "site",
        TokenPurpose::ResetPassword,
        "ada@example.com",
        "hr",
        None,
    );
    store
        .issue_token(
            &reset,
            &message("site", "reset_password", Some(&reset.id), 0),
        )
        .await
        .expect("issue");
    let spends = (0..32).map(|_| async move { store.consume_token("hr", at(1_000)).await });
    let results: Vec<Option<OneTimeToken>> = join_all(spends)
        .await
        .into_iter()
        .map(|r| r.expect("consume"))
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_some()).count(),
        1,
        "one winner"
    );
    let spent = store.find_token("hr").await.expect("find").expect("kept");
    assert_eq!(spent.used_at, Some(at(1_000)));
    assert_eq!(
        store.consume_token("hr", at(2_000)).await.expect("again"),
        None
    );
}

pub async fn expired_used_and_revoked_tokens_cannot_be_spent<S: MailStore>(store: &S) {
    let invite = token(
        "site",
        TokenPurpose::Invitation,
        "bob@example.com",
        "hi",
        Some("org_a"),
    );
    store
        .issue_token(&invite, &message("site", "invitation", Some(&invite.id), 0))
        .await
        .expect("issue");
    assert_eq!(
        store
            .consume_token("hi", at(3_600_000))
            .await
            .expect("expired"),
        None,
        "expired at expires_at"
    );
    assert!(
        !store
            .revoke_token("other", &invite.id)
            .await
            .expect("another app's")
    );
    assert_eq!(
        store
            .find_token_by_id("site", &invite.id)
            .await
            .expect("by id")
            .map(|found| found.token_hash),
        Some("hi".to_owned()),
        "an expired token is still found by its id"
    );
    assert_eq!(
        store
            .find_token_by_id("other", &invite.id)
            .await
            .expect("another app's id"),
        None
    );
    assert!(
        store
            .revoke_token("site", &invite.id)
            .await
            .expect("revoke")
    );
    assert!(!store.revoke_token("site", &invite.id).await.expect("again"));
    assert_eq!(
        store
            .find_token_by_id("site", &invite.id)
            .await
            .expect("revoked id"),
        None,
        "a revoked token is gone"
    );
    assert_eq!(
        store.consume_token("hi", at(1)).await.expect("revoked"),
        None
    );
    assert_eq!(
        store
            .consume_token("unknown", at(1))
            .await
            .expect("unknown"),
        None
    );
    // A spent token is not revocable and not listed.
    let verify = token(
        "site",
        TokenPurpose::VerifyEmail,
        "bob@example.com",
        "hv",
        None,
    );
    store
        .issue_token(
            &verify,
            &message("site", "verify_email", Some(&verify.id), 0),
        )
        .await
        .expect("issue");
    store.consume_token("hv", at(5)).await.expect("spend");
    assert!(
        store
            .find_token_by_id("site", &verify.id)
            .await
            .expect("spent id")
            .is_some_and(|found| found.used_at == Some(at(5))),
        "a spent token is found, used"
    );
    assert!(!store.revoke_token("site", &verify.id).await.expect("spent"));
    assert!(
        store
            .list_usable_tokens("site", TokenPurpose::VerifyEmail, None, at(6))
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn due_messages_are_claimed_once_and_leases_run_out<S: MailStore>(store: &S) {
    for due in [0, 0, 0, 0, 0, 0, 60_000] {
        store
            .enqueue_message(&message("site", "test", None, due))
            .await
            .expect("enqueue");
    }
    // Two senders at once: disjoint claims, together every due message, the later one not.
    let (claim_a, claim_b) = (claim("sender-a", 1_000, 4), claim("sender-b", 1_000, 4));
    let (a, b) = futures::join!(
        store.claim_messages(&claim_a),
        store.claim_messages(&claim_b)
    );
    let (a, b) = (a.expect("claim a"), b.expect("claim b"));
    let mut all: Vec<String> = a.iter().chain(&b).map(|m| m.id.clone()).collect();
    assert_eq!(all.len(), 6, "{a:?} {b:?}");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6, "no message claimed twice");
    assert!(
        a.iter()
            .all(|m| m.lease_owner.as_deref() == Some("sender-a"))
    );
    // Leased messages are not claimed again until their lease runs out.
    assert!(
        store
            .claim_messages(&claim("sender-c", 2_000, 10))
            .await
            .expect("claim")
            .is_empty()
    );
    // Only the lease's owner records the outcome.
    let first = &a[0];
    assert!(
        !store
            .record_delivery(&first.id, "sender-b", &Delivery::Sent { at: at(2_000) })
            .await
            .expect("not the owner")
    );
    assert!(
        store
            .record_delivery(&first.id, "sender-a", &Delivery::Sent { at: at(2_000) })
            .await
            .expect("owner")
    );
    // After the lease (30 s), another sender takes the rest over; the old owner cannot record.
    let taken = store
        .claim_messages(&claim("sender-c", 31_001, 10))
        .await
        .expect("claim");
    assert_eq!(taken.len(), 5, "the 5 unrecorded due messages: {taken:?}");
    assert!(
        !store
            .record_delivery(&b[0].id, "sender-b", &Delivery::Sent { at: at(31_002) })
            .await
            .expect("lease lost")
    );
    // The message due later comes when it is due.
    let later = store
        .claim_messages(&claim("sender-d", 60_000, 10))
        .await
        .expect("claim");
    assert_eq!(later.len(), 1);
}

pub async fn deliveries_retry_then_fail_and_finished_mail_is_pruned<S: MailStore>(store: &S) {
    let queued = message("site", "test", None, 0);
    store.enqueue_message(&queued).await.expect("enqueue");
    let claimed = store
        .claim_messages(&claim("s", 1, 1))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let retry = Delivery::Retry {
        error: "421 try later".to_owned(),
        next_attempt_at: at(10_000),
    };
    assert!(
        store
            .record_delivery(&queued.id, "s", &retry)
            .await
            .expect("retry")
    );
    assert!(
        store
            .claim_messages(&claim("s", 9_999, 1))
            .await
            .expect("not yet")
            .is_empty()
    );
    store
        .claim_messages(&claim("s", 10_000, 1))
        .await
        .expect("claim");
    let failed = Delivery::Failed {
        error: "550 no such user".to_owned(),
    };
    assert!(
        store
            .record_delivery(&queued.id, "s", &failed)
            .await
            .expect("fail")
    );
    let page = store
        .list_messages(
            "site",
            &MessageQuery {
                limit: 10,
                before_id: None,
                status: Some(MailStatus::Failed),
            },
        )
        .await
        .expect("list");
    let stored = &page.messages[0];
    assert_eq!(
        (
            stored.status,
            stored.attempts,
            stored.last_error.as_deref(),
            &stored.lease_owner
        ),
        (MailStatus::Failed, 2, Some("550 no such user"), &None)
    );
    assert!(
        store
            .claim_messages(&claim("s", 100_000, 10))
            .await
            .expect("failed is never claimed")
            .is_empty()
    );
    // Pruning takes finished messages created before the instant, never pending ones.
    store
        .enqueue_message(&message("site", "test", None, 1_000_000))
        .await
        .expect("enqueue");
    assert_eq!(store.prune_mail(at(1)).await.expect("prune"), 1);
    let left = ids_of(store, "site").await;
    assert_eq!(left.len(), 1, "the pending one stays");
}

pub async fn messages_page_newest_first_per_app<S: MailStore>(store: &S) {
    let mut ids = Vec::new();
    for _ in 0..5 {
        let m = message("site", "test", None, 0);
        store.enqueue_message(&m).await.expect("enqueue");
        ids.push(m.id);
        store
            .enqueue_message(&message("other", "test", None, 0))
            .await
            .expect("enqueue");
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_messages(
                "site",
                &MessageQuery {
                    limit: 2,
                    before_id: cursor,
                    status: None,
                },
            )
            .await
            .expect("page");
        seen.extend(page.messages.into_iter().map(|m| m.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ids, "newest first, every one once, this app's only");
}

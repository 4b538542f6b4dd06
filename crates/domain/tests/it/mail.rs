//! E-mail in the domain: the flows queue their message with its token, links work once and
//! for their purpose only, and the sender retries, gives up, and never sends a link that no
//! longer works. Against the in-memory store and a scripted mailer.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use domain::{
    Acceptance, AccountError, Caller, ClientInfo, DeliveryPolicy, Mailer, NewInvitation,
    NewOrganization, Registration, SendError, Services,
};
use storage_port::{
    MailStatus, MailStore, MemoryStorage, MessageQuery, OutboxMessage, TokenPurpose,
};

use crate::{admin, new_app, services_on};

const PASSWORD: &str = "a long and uncommon passphrase";

/// A mailer that records what it sends and answers from a script (then `Ok`).
#[derive(Debug, Default)]
struct ScriptedMailer {
    sent: Mutex<Vec<OutboxMessage>>,
    script: Mutex<VecDeque<Result<(), SendError>>>,
}

impl ScriptedMailer {
    fn answering(answers: impl IntoIterator<Item = Result<(), SendError>>) -> Arc<Self> {
        Arc::new(Self {
            sent: Mutex::default(),
            script: Mutex::new(answers.into_iter().collect()),
        })
    }

    fn sent_to(&self, to: &str) -> Vec<OutboxMessage> {
        self.sent
            .lock()
            .expect("lock")
            .iter()
            .filter(|m| m.to == to)
            .cloned()
            .collect()
    }
}

#[async_trait]
impl Mailer for ScriptedMailer {
    async fn send(&self, message: &OutboxMessage) -> Result<(), SendError> {
        let answer = self
            .script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or(Ok(()));
        if answer.is_ok() {
            self.sent.lock().expect("lock").push(message.clone());
        }
        answer
    }

    fn describe(&self) -> String {
        "scripted".to_owned()
    }
}

fn fast_policy() -> DeliveryPolicy {
    DeliveryPolicy {
        retry_base: Duration::from_millis(1),
        retry_max: Duration::from_millis(1),
        max_attempts: 3,
        orphan_grace: Duration::from_secs(30),
        ..DeliveryPolicy::default()
    }
}

async fn site() -> (Services<MemoryStorage>, Arc<MemoryStorage>) {
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

async fn register(services: &Services<MemoryStorage>, email: &str) -> String {
    services
        .accounts
        .register(
            "site",
            Registration {
                email: email.into(),
                password: PASSWORD.into(),
                name: Some("Ada".into()),
                data: None,
                organization_id: None,
            },
            ClientInfo::default(),
        )
        .await
        .expect("register")
        .tokens
        .access_token
}

async fn messages(storage: &MemoryStorage) -> Vec<OutboxMessage> {
    storage
        .list_messages(
            "site",
            &MessageQuery {
                limit: 500,
                before_id: None,
                status: None,
            },
        )
        .await
        .expect("messages")
        .messages
}

/// The token in the newest message of `kind` to `to`.
async fn link_token(storage: &MemoryStorage, kind: &str, to: &str) -> String {
    let message = messages(storage)
        .await
        .into_iter()
        .find(|m| m.kind == kind && m.to == to)
        .expect("a message");
    let start = message.text.find("token=").expect("a link") + "token=".len();
    message.text[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .expect("token")
        .to_owned()
}

#[tokio::test]
async fn registering_queues_a_verification_link_that_works_once() {
    let (services, storage) = site().await;
    register(&services, "ada@example.com").await;
    let queued = messages(&storage).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].kind, "verify_email");
    assert_eq!(queued[0].status, MailStatus::Pending);
    assert_eq!(queued[0].from, "\"Marketing site\" <no-reply@localhost>");
    assert!(
        queued[0]
            .text
            .contains("http://localhost:8080/account/verify-email?token="),
        "{}",
        queued[0].text
    );
    let token = link_token(&storage, "verify_email", "ada@example.com").await;
    // A verification token is no reset token: refused, and left usable.
    let refused = services
        .accounts
        .reset_password(&token, "another long passphrase".into())
        .await
        .expect_err("not a reset link");
    assert!(matches!(refused, AccountError::LinkInvalid), "{refused:?}");
    let verified = services
        .accounts
        .verify_email(&token)
        .await
        .expect("verify");
    assert_eq!(verified.email, "ada@example.com");
    let again = services
        .accounts
        .verify_email(&token)
        .await
        .expect_err("spent");
    assert!(matches!(again, AccountError::LinkInvalid), "{again:?}");
}

#[tokio::test]
async fn the_sender_delivers_retries_and_gives_up() {
    let (services, storage) = site().await;
    register(&services, "ok@example.com").await;
    register(&services, "flaky@example.com").await;
    register(&services, "refused@example.com").await;
    // Oldest first: ok, flaky, refused.
    let mailer = ScriptedMailer::answering([
        Ok(()),
        Err(SendError::Transient("451 try later".into())),
        Err(SendError::Permanent("550 no such mailbox".into())),
        // The flaky one's retries.
        Err(SendError::Transient("451 again".into())),
        Err(SendError::Transient("451 and again".into())),
    ]);
    let sender = services.outbox_sender(mailer.clone(), fast_policy());
    let first = sender.run_once().await.expect("round");
    assert_eq!(
        (first.claimed, first.sent, first.retried, first.failed),
        (3, 1, 1, 1)
    );
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        sender.run_once().await.expect("round");
    }
    let by_to = |to: &str| {
        let to = to.to_owned();
        move |m: &OutboxMessage| m.to == to
    };
    let all = messages(&storage).await;
    let ok = all.iter().find(|m| by_to("ok@example.com")(m)).expect("ok");
    assert_eq!((ok.status, ok.attempts), (MailStatus::Sent, 1));
    let refused = all
        .iter()
        .find(|m| by_to("refused@example.com")(m))
        .expect("refused");
    assert_eq!((refused.status, refused.attempts), (MailStatus::Failed, 1));
    assert_eq!(refused.last_error.as_deref(), Some("550 no such mailbox"));
    let flaky = all
        .iter()
        .find(|m| by_to("flaky@example.com")(m))
        .expect("flaky");
    assert_eq!((flaky.status, flaky.attempts), (MailStatus::Failed, 3));
    assert!(
        flaky
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("gave up after 3 attempts")),
        "{flaky:?}"
    );
    assert_eq!(mailer.sent_to("ok@example.com").len(), 1);
    assert!(mailer.sent_to("flaky@example.com").is_empty());
}

/// An account of `site` (which lets any account create organizations) and the organization
/// `name` it created: the account as a caller, and the organization's id.
async fn organization_of(
    services: &Services<MemoryStorage>,
    email: &str,
    name: &str,
) -> (Caller, String) {
    let token = register(services, email).await;
    let caller = Caller::Account(Box::new(
        services
            .accounts
            .authenticate(&token, Some("site"))
            .await
            .expect("caller"),
    ));
    services
        .apps
        .update_app(
            &admin().app("site"),
            storage_port::AppChanges::default(),
            domain::AccountSwitches {
                organization_creation: Some(storage_port::OrganizationCreation::AnyAccount),
                ..domain::AccountSwitches::default()
            },
        )
        .await
        .expect("settings");
    let org = services
        .organizations
        .create_organization(
            &caller,
            NewOrganization {
                name: name.into(),
                ..NewOrganization::default()
            },
        )
        .await
        .expect("organization")
        .organization
        .id;
    (caller, org)
}

#[tokio::test]
async fn a_revoked_or_replaced_link_is_never_sent() {
    let (services, storage) = site().await;
    let (caller, org) = organization_of(&services, "owner@example.com", "Acme").await;
    let invite = |email: &'static str| NewInvitation {
        email: email.into(),
        role: Some("member".into()),
        message: Some("<b>hi</b>".into()),
    };
    let revoked = services
        .organizations
        .invite(&caller, &org, invite("gone@example.com"))
        .await
        .expect("invite");
    services
        .organizations
        .revoke_invitation(&caller, &org, &revoked.id)
        .await
        .expect("revoke");
    services
        .organizations
        .invite(&caller, &org, invite("twice@example.com"))
        .await
        .expect("first");
    services
        .organizations
        .invite(&caller, &org, invite("twice@example.com"))
        .await
        .expect("replacing");
    let mailer = ScriptedMailer::answering([]);
    let sender = services.outbox_sender(mailer.clone(), fast_policy());
    // Young, a message whose token is missing waits (on MongoDB its token may be on its way)…
    sender.run_once().await.expect("round");
    assert!(mailer.sent_to("gone@example.com").is_empty(), "revoked");
    let waiting = messages(&storage)
        .await
        .into_iter()
        .filter(|m| m.kind == "invitation" && m.status == MailStatus::Pending && m.attempts == 1)
        .count();
    assert_eq!(waiting, 2, "the revoked and the replaced one wait");
    // …and once older than the grace period, it fails without being sent.
    let sender = services.outbox_sender(
        mailer.clone(),
        DeliveryPolicy {
            orphan_grace: Duration::ZERO,
            ..fast_policy()
        },
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sender.run_once().await.expect("round");
    assert!(mailer.sent_to("gone@example.com").is_empty(), "revoked");
    let twice = mailer.sent_to("twice@example.com");
    assert_eq!(twice.len(), 1, "only the newer invitation goes out");
    assert!(
        twice[0].html.contains("&lt;b&gt;hi&lt;/b&gt;") && !twice[0].html.contains("<b>hi"),
        "the inviter's words are escaped in HTML: {}",
        twice[0].html
    );
    assert!(
        twice[0].text.contains("<b>hi</b>"),
        "and kept in the text part"
    );
    let failed: Vec<_> = messages(&storage)
        .await
        .into_iter()
        .filter(|m| m.kind == "invitation" && m.status == MailStatus::Failed)
        .collect();
    assert_eq!(
        failed.len(),
        2,
        "the revoked and the replaced one: {failed:?}"
    );
}

#[tokio::test]
async fn racing_accepts_make_one_membership() {
    let (services, storage) = site().await;
    let (caller, org) = organization_of(&services, "boss@example.com", "Racers").await;
    services
        .organizations
        .invite(
            &caller,
            &org,
            NewInvitation {
                email: "new@example.com".into(),
                role: Some("guest".into()),
                message: None,
            },
        )
        .await
        .expect("invite");
    let link = link_token(&storage, "invitation", "new@example.com").await;
    // A weak password is refused before the link is spent.
    let weak = services
        .accounts
        .accept_invitation(
            Acceptance {
                token: link.clone(),
                password: Some("password".into()),
                name: None,
            },
            None,
            ClientInfo::default(),
        )
        .await
        .expect_err("weak");
    assert!(matches!(weak, AccountError::Invalid(_)), "{weak:?}");
    let services = Arc::new(services);
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let services = services.clone();
            let link = link.clone();
            tokio::spawn(async move {
                services
                    .accounts
                    .accept_invitation(
                        Acceptance {
                            token: link,
                            password: Some(PASSWORD.into()),
                            name: Some("Newcomer".into()),
                        },
                        None,
                        ClientInfo::default(),
                    )
                    .await
            })
        })
        .collect();
    let mut accepted = Vec::new();
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(logged_in) => accepted.push(logged_in),
            Err(AccountError::LinkInvalid) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(accepted.len(), 1, "one accept wins");
    let account = &accepted[0].account;
    assert!(account.record.account.email_verified);
    assert_eq!(account.organization_id.as_deref(), Some(org.as_str()));
    assert_eq!(
        account.role.map(|role| role.as_str()),
        Some("guest"),
        "the invitation's role"
    );
    let memberships = storage_port::MembershipStore::list_user_memberships(
        &*storage,
        "site",
        &account.record.user.id,
    )
    .await
    .expect("memberships");
    assert_eq!(memberships.len(), 1);
    assert!(
        storage
            .list_usable_tokens(
                "site",
                TokenPurpose::Invitation,
                Some(&org),
                storage_port::Timestamp::now()
            )
            .await
            .expect("pending")
            .is_empty()
    );
}

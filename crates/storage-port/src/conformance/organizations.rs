//! The conformance checks of organizations, memberships, admin-managed accounts and API keys.

use futures::future::join_all;
use serde_json::json;

use super::accounts::{at, new_account};
use super::{upsert, with_app};
use crate::*;

fn organization(app_id: &str, id: &str, slug: &str) -> OrganizationRecord {
    OrganizationRecord {
        id: id.to_owned(),
        app_id: app_id.to_owned(),
        name: format!("Org {id}"),
        slug: slug.to_owned(),
        allowed_email_domains: Vec::new(),
        created_at: at(0),
        updated_at: at(0),
    }
}

fn membership(app_id: &str, org: &str, user: &str, role: MemberRole) -> MembershipRecord {
    MembershipRecord {
        app_id: app_id.to_owned(),
        organization_id: org.to_owned(),
        user_id: user.to_owned(),
        role,
        permissions: Vec::new(),
        created_at: at(0),
        updated_at: at(0),
    }
}

fn api_key(app_id: &str, id: &str, hash: &str, created: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        app_id: app_id.to_owned(),
        name: format!("Key {id}"),
        prefix: format!("uak_{id}"),
        key_hash: hash.to_owned(),
        role: None,
        permissions: vec!["records:read".to_owned(), "billing:read".to_owned()],
        expires_at: None,
        last_used_at: None,
        created_at: at(created),
        revoked_at: None,
    }
}

async fn account<S: Storage>(store: &S, app_id: &str, email: &str) -> String {
    store
        .register_account(app_id, &new_account(email, json!({})))
        .await
        .expect("register")
        .into_record()
        .user
        .id
}

/// An organization `org` of app `site` whose admin is a new account; returns the admin's id.
async fn organization_with_admin<S: Storage>(store: &S, org: &str, email: &str) -> String {
    let admin = account(store, "site", email).await;
    store
        .insert_organization(
            &organization("site", org, org),
            Some(&membership("site", org, &admin, MemberRole::Admin)),
        )
        .await
        .expect("insert organization");
    admin
}

async fn role_of<S: Storage>(store: &S, org: &str, user: &str) -> Option<MemberRole> {
    store
        .find_membership("site", org, user)
        .await
        .expect("find membership")
        .map(|m| m.role)
}

pub async fn organizations_are_created_with_their_admin_and_unique_slugs<S: Storage>(store: &S) {
    with_app(store, "site").await;
    with_app(store, "other").await;
    let admin = organization_with_admin(store, "org_a", "ada@example.com").await;
    let found = store
        .find_organization("site", "org_a")
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(found, organization("site", "org_a", "org_a"));
    assert_eq!(
        role_of(store, "org_a", &admin).await,
        Some(MemberRole::Admin)
    );
    // Another app sees nothing of it, and may use the same slug.
    assert_eq!(
        store
            .find_organization("other", "org_a")
            .await
            .expect("find"),
        None
    );
    store
        .insert_organization(&organization("other", "org_o", "org_a"), None)
        .await
        .expect("a slug is unique per app only");
    // The same id or the same slug in one app is refused, storing nothing.
    let someone = account(store, "site", "bob@example.com").await;
    for (id, slug) in [("org_a", "fresh"), ("org_b", "org_a")] {
        let error = store
            .insert_organization(
                &organization("site", id, slug),
                Some(&membership("site", id, &someone, MemberRole::Admin)),
            )
            .await
            .expect_err("taken");
        assert!(
            matches!(error, StorageError::Duplicate(Entity::Organization)),
            "{error:?}"
        );
    }
    assert_eq!(role_of(store, "org_b", &someone).await, None);
    assert!(
        store
            .list_user_memberships("site", &someone)
            .await
            .expect("list")
            .is_empty()
    );
    // Two creations with one slug at once: exactly one wins.
    let racers = (0..8).map(|i| {
        let org = organization("site", &format!("org_r{i}"), "raced");
        async move { store.insert_organization(&org, None).await }
    });
    let results = join_all(racers).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    // A creator that is not an account of the app is refused.
    let stranger = store
        .insert_organization(
            &organization("site", "org_x", "x"),
            Some(&membership(
                "site",
                "org_x",
                "no-such-user",
                MemberRole::Admin,
            )),
        )
        .await
        .expect_err("unknown creator");
    assert!(
        matches!(stranger, StorageError::NotFound(Entity::Account)),
        "{stranger:?}"
    );
    assert_eq!(
        store
            .find_organization("site", "org_x")
            .await
            .expect("find"),
        None
    );
}

pub async fn organizations_update_list_and_delete_with_their_memberships<S: Storage>(store: &S) {
    with_app(store, "site").await;
    let admin = organization_with_admin(store, "org_a", "ada@example.com").await;
    organization_with_admin(store, "org_b", "bob@example.com").await;
    let mut with_domain = organization("site", "org_c", "org_c");
    with_domain.allowed_email_domains =
        vec!["example.org".to_owned(), "xn--bcher-kva.example".to_owned()];
    store
        .insert_organization(&with_domain, None)
        .await
        .expect("insert");
    let changes = OrganizationChanges {
        name: Some("Renamed".to_owned()),
        slug: Some("renamed".to_owned()),
        allowed_email_domains: Some(vec!["example.com".to_owned()]),
    };
    let updated = store
        .update_organization("site", "org_a", &changes, at(5_000))
        .await
        .expect("update");
    assert_eq!(
        (
            updated.name.as_str(),
            updated.slug.as_str(),
            updated.updated_at
        ),
        ("Renamed", "renamed", at(5_000))
    );
    assert_eq!(updated.created_at, at(0));
    assert_eq!(
        store
            .find_organization("site", "org_a")
            .await
            .expect("find"),
        Some(updated)
    );
    let taken = store
        .update_organization(
            "site",
            "org_b",
            &OrganizationChanges {
                slug: Some("renamed".to_owned()),
                ..OrganizationChanges::default()
            },
            at(6_000),
        )
        .await
        .expect_err("slug taken");
    assert!(
        matches!(taken, StorageError::Duplicate(Entity::Organization)),
        "{taken:?}"
    );
    let unknown = store
        .update_organization("site", "org_zz", &changes, at(6_000))
        .await
        .expect_err("unknown");
    assert!(
        matches!(unknown, StorageError::NotFound(Entity::Organization)),
        "{unknown:?}"
    );

    let by_domain = store
        .organizations_for_domain("site", "example.com")
        .await
        .expect("by domain");
    assert_eq!(
        by_domain.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(),
        ["org_a"]
    );
    let by_idna = store
        .organizations_for_domain("site", "xn--bcher-kva.example")
        .await
        .expect("by domain");
    assert_eq!(by_idna.len(), 1);

    let first = store
        .list_organizations(
            "site",
            &OrganizationQuery {
                limit: 2,
                after_id: None,
            },
        )
        .await
        .expect("list");
    assert_eq!(
        first
            .organizations
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        ["org_a", "org_b"]
    );
    assert_eq!(first.next_cursor.as_deref(), Some("org_b"));
    let rest = store
        .list_organizations(
            "site",
            &OrganizationQuery {
                limit: 2,
                after_id: first.next_cursor,
            },
        )
        .await
        .expect("list");
    assert_eq!(
        rest.organizations
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        ["org_c"]
    );
    assert_eq!(rest.next_cursor, None);

    assert!(
        store
            .delete_organization("site", "org_a")
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_organization("site", "org_a")
            .await
            .expect("delete again")
    );
    assert_eq!(
        store
            .find_organization("site", "org_a")
            .await
            .expect("find"),
        None
    );
    assert_eq!(role_of(store, "org_a", &admin).await, None);
    assert!(
        store
            .list_user_memberships("site", &admin)
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn memberships_are_unique_even_when_added_together<S: Storage>(store: &S) {
    with_app(store, "site").await;
    let admin = organization_with_admin(store, "org_a", "ada@example.com").await;
    organization_with_admin(store, "org_b", "bea@example.com").await;
    let user = account(store, "site", "cy@example.com").await;
    let adds = (0..16).map(|_| {
        let m = membership("site", "org_a", &user, MemberRole::Member);
        async move { store.add_membership(&m).await }
    });
    let results = join_all(adds).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for result in results.iter().filter(|r| r.is_err()) {
        assert!(
            matches!(result, Err(StorageError::Duplicate(Entity::Membership))),
            "{result:?}"
        );
    }
    let again = store
        .add_membership(&membership("site", "org_a", &admin, MemberRole::Guest))
        .await
        .expect_err("already a member");
    assert!(
        matches!(again, StorageError::Duplicate(Entity::Membership)),
        "{again:?}"
    );
    assert_eq!(
        role_of(store, "org_a", &admin).await,
        Some(MemberRole::Admin)
    );
    // A later membership of the same user in another organization.
    let mut later = membership("site", "org_b", &user, MemberRole::Guest);
    later.created_at = at(10);
    later.permissions = vec!["billing:read".to_owned()];
    store
        .add_membership(&later)
        .await
        .expect("second organization");
    let joined = store
        .list_user_memberships("site", &user)
        .await
        .expect("list");
    assert_eq!(
        joined
            .iter()
            .map(|j| (j.organization.id.as_str(), j.membership.role))
            .collect::<Vec<_>>(),
        [("org_a", MemberRole::Member), ("org_b", MemberRole::Guest)]
    );
    assert_eq!(joined[1].membership, later);
    // Unknown organizations, unknown users and leads are refused.
    let no_org = store
        .add_membership(&membership("site", "org_zz", &user, MemberRole::Member))
        .await
        .expect_err("unknown organization");
    assert!(
        matches!(no_org, StorageError::NotFound(Entity::Organization)),
        "{no_org:?}"
    );
    let lead = store
        .upsert_user_by_email("site", &upsert("lead@example.com", json!({}), at(0)))
        .await
        .expect("lead")
        .id;
    for user in [lead.as_str(), "no-such-user"] {
        let error = store
            .add_membership(&membership("site", "org_a", user, MemberRole::Member))
            .await
            .expect_err("not an account");
        assert!(
            matches!(error, StorageError::NotFound(Entity::Account)),
            "{error:?}"
        );
    }
    // Several users' at once (a page of accounts): each one's in its own order, users without
    // memberships left out, nothing of another app.
    let asked = [
        user.clone(),
        admin.clone(),
        lead.clone(),
        "no-such-user".into(),
    ];
    let several = store
        .list_users_memberships("site", &asked)
        .await
        .expect("several");
    let of = |who: &str| {
        several
            .iter()
            .filter(|j| j.membership.user_id == who)
            .map(|j| j.organization.id.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(of(&user), ["org_a", "org_b"], "{several:?}");
    assert_eq!(of(&admin), ["org_a"], "{several:?}");
    assert_eq!(several.len(), 3, "{several:?}");
    assert_eq!(
        several
            .iter()
            .find(|j| j.membership.user_id == user && j.organization.id == "org_b")
            .map(|j| &j.membership),
        Some(&later)
    );
    assert!(
        store
            .list_users_memberships("site", &[])
            .await
            .expect("none asked")
            .is_empty()
    );
    assert!(
        store
            .list_users_memberships("another-app", &asked)
            .await
            .expect("another app")
            .is_empty()
    );
}

pub async fn the_last_admin_cannot_be_demoted_or_removed<S: Storage>(store: &S) {
    with_app(store, "site").await;
    let admin = organization_with_admin(store, "org_a", "ada@example.com").await;
    let member = account(store, "site", "bob@example.com").await;
    store
        .add_membership(&membership("site", "org_a", &member, MemberRole::Member))
        .await
        .expect("add");
    let demote = MembershipChanges {
        role: Some(MemberRole::Member),
        permissions: None,
    };
    let refused = store
        .update_membership("site", "org_a", &admin, &demote, at(1))
        .await
        .expect_err("last admin");
    assert!(matches!(refused, StorageError::LastAdmin), "{refused:?}");
    let refused = store
        .remove_membership("site", "org_a", &admin)
        .await
        .expect_err("last admin");
    assert!(matches!(refused, StorageError::LastAdmin), "{refused:?}");
    assert_eq!(
        role_of(store, "org_a", &admin).await,
        Some(MemberRole::Admin)
    );
    // Changing an admin's permissions only is no demotion.
    let permissions = MembershipChanges {
        role: Some(MemberRole::Admin),
        permissions: Some(vec!["billing:read".to_owned()]),
    };
    let kept = store
        .update_membership("site", "org_a", &admin, &permissions, at(2))
        .await
        .expect("same role");
    assert_eq!(kept.permissions, ["billing:read"]);
    assert_eq!(kept.updated_at, at(2));
    // With a second admin, the first may go.
    let promote = MembershipChanges {
        role: Some(MemberRole::Admin),
        permissions: None,
    };
    store
        .update_membership("site", "org_a", &member, &promote, at(3))
        .await
        .expect("promote");
    store
        .update_membership("site", "org_a", &admin, &demote, at(4))
        .await
        .expect("demote, another admin remains");
    assert!(
        store
            .remove_membership("site", "org_a", &admin)
            .await
            .expect("remove")
    );
    assert!(
        !store
            .remove_membership("site", "org_a", &admin)
            .await
            .expect("gone")
    );
    let refused = store
        .remove_membership("site", "org_a", &member)
        .await
        .expect_err("now the last admin");
    assert!(matches!(refused, StorageError::LastAdmin), "{refused:?}");
    let missing = store
        .update_membership("site", "org_a", &admin, &promote, at(5))
        .await
        .expect_err("no membership");
    assert!(
        matches!(missing, StorageError::NotFound(Entity::Membership)),
        "{missing:?}"
    );
}

pub async fn racing_demotions_of_the_last_two_admins_leave_one<S: Storage>(store: &S) {
    with_app(store, "site").await;
    for round in 0..4 {
        let org = format!("org_{round}");
        let first = organization_with_admin(store, &org, &format!("a{round}@example.com")).await;
        let second = account(store, "site", &format!("b{round}@example.com")).await;
        store
            .add_membership(&membership("site", &org, &second, MemberRole::Admin))
            .await
            .expect("second admin");
        let demote = MembershipChanges {
            role: Some(MemberRole::Member),
            permissions: None,
        };
        // Round 0 and 2: two demotions; 1 and 3: a demotion and a removal.
        let (a, b) = if round % 2 == 0 {
            futures::join!(
                store.update_membership("site", &org, &first, &demote, at(1)),
                store.update_membership("site", &org, &second, &demote, at(1))
            )
        } else {
            let (a, b) = futures::join!(
                store.update_membership("site", &org, &first, &demote, at(1)),
                store.remove_membership("site", &org, &second)
            );
            (
                a,
                b.map(|_| membership("site", &org, &second, MemberRole::Member)),
            )
        };
        assert_eq!(
            usize::from(a.is_ok()) + usize::from(b.is_ok()),
            1,
            "exactly one of the two goes through: {a:?} {b:?}"
        );
        for result in [&a, &b] {
            if let Err(error) = result {
                assert!(matches!(error, StorageError::LastAdmin), "{error:?}");
            }
        }
        let admins = store
            .list_members(
                "site",
                &org,
                &MemberQuery {
                    limit: 10,
                    after_user_id: None,
                    role: Some(MemberRole::Admin),
                },
            )
            .await
            .expect("list");
        assert_eq!(admins.members.len(), 1, "one admin left in {org}");
    }
}

pub async fn members_page_by_user_id_with_their_accounts<S: Storage>(store: &S) {
    with_app(store, "site").await;
    let admin = organization_with_admin(store, "org_a", "admin@example.com").await;
    organization_with_admin(store, "org_b", "other@example.com").await;
    let mut ids = vec![admin.clone()];
    for i in 0..9 {
        let user = account(store, "site", &format!("m{i}@example.com")).await;
        let role = if i % 3 == 0 {
            MemberRole::Guest
        } else {
            MemberRole::Member
        };
        store
            .add_membership(&membership("site", "org_a", &user, role))
            .await
            .expect("add");
        ids.push(user);
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_members(
                "site",
                "org_a",
                &MemberQuery {
                    limit: 3,
                    after_user_id: cursor.clone(),
                    role: None,
                },
            )
            .await
            .expect("page");
        assert!(page.members.len() <= 3);
        for member in &page.members {
            assert_eq!(member.membership.user_id, member.account.user.id);
            assert_eq!(member.membership.organization_id, "org_a");
            assert!(member.account.user.email.ends_with("@example.com"));
            seen.push(member.membership.user_id.clone());
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ids, "every member once, in user id order");
    let guests = store
        .list_members(
            "site",
            "org_a",
            &MemberQuery {
                limit: 100,
                after_user_id: None,
                role: Some(MemberRole::Guest),
            },
        )
        .await
        .expect("guests");
    assert_eq!(guests.members.len(), 3);
    assert!(
        guests
            .members
            .iter()
            .all(|m| m.membership.role == MemberRole::Guest)
    );
    assert_eq!(guests.next_cursor, None);
    let none = store
        .list_members(
            "other",
            "org_a",
            &MemberQuery {
                limit: 100,
                after_user_id: None,
                role: None,
            },
        )
        .await
        .expect("another app");
    assert!(none.members.is_empty());
}

pub async fn accounts_are_created_by_admins_into_organizations_and_changed<S: Storage>(store: &S) {
    with_app(store, "site").await;
    organization_with_admin(store, "org_a", "admin@example.com").await;
    let mut invited = new_account("new@example.com", json!({}));
    invited.password_hash = None;
    invited.tenant_admin = true;
    invited.joining = Some(Joining {
        organization_id: "org_a".to_owned(),
        role: MemberRole::Member,
        permissions: vec!["billing:read".to_owned()],
    });
    let created = store
        .register_account("site", &invited)
        .await
        .expect("create")
        .into_record();
    assert_eq!(created.account.password_hash, None);
    assert!(created.account.tenant_admin);
    let joined = store
        .find_membership("site", "org_a", &created.user.id)
        .await
        .expect("find")
        .expect("joined in the same step");
    assert_eq!(
        (joined.role, joined.permissions.as_slice()),
        (MemberRole::Member, ["billing:read".to_owned()].as_slice())
    );
    // A lead joins too, keeping its record.
    let lead = store
        .upsert_user_by_email(
            "site",
            &upsert("lead@example.com", json!({"plan": "pro"}), at(0)),
        )
        .await
        .expect("lead");
    let mut from_lead = new_account("lead@example.com", json!({}));
    from_lead.joining = invited.joining.clone();
    let Registered::FromLead(record) = store
        .register_account("site", &from_lead)
        .await
        .expect("register lead")
    else {
        panic!("a lead becomes the account")
    };
    assert_eq!(record.user.id, lead.id);
    assert_eq!(
        role_of(store, "org_a", &lead.id).await,
        Some(MemberRole::Member)
    );
    // An unknown organization stores nothing.
    let mut lost = new_account("lost@example.com", json!({}));
    lost.joining = Some(Joining {
        organization_id: "org_zz".to_owned(),
        role: MemberRole::Member,
        permissions: Vec::new(),
    });
    let error = store
        .register_account("site", &lost)
        .await
        .expect_err("no org");
    assert!(
        matches!(error, StorageError::NotFound(Entity::Organization)),
        "{error:?}"
    );
    assert_eq!(
        store
            .find_user_by_email("site", "lost@example.com")
            .await
            .expect("find"),
        None
    );

    // Changes by an admin; disabling ends every session in the same step.
    let user = created.user.id.clone();
    for id in ["s1", "s2"] {
        let mut session = super::accounts::session("site", id, &user, &format!("hash-{id}"));
        session.created_at = at(0);
        store.insert_session(&session).await.expect("session");
    }
    let changes = AccountChanges {
        name: Some(Some("Grace".to_owned())),
        disabled: Some(true),
        tenant_admin: Some(false),
        permissions: Some(vec!["reports:read".to_owned()]),
        email_verified: Some(true),
    };
    let changed = store
        .update_account("site", &user, &changes, at(9_000))
        .await
        .expect("update");
    assert_eq!(changed.account.name.as_deref(), Some("Grace"));
    assert!(changed.account.disabled);
    assert!(!changed.account.tenant_admin);
    assert_eq!(changed.account.permissions, ["reports:read"]);
    assert!(changed.account.email_verified, "a verification is kept");
    assert_eq!(changed.user.updated_at, at(9_000));
    assert_eq!(
        store.find_account("site", &user).await.expect("find"),
        Some(changed)
    );
    assert!(
        store
            .list_user_sessions("site", &user, at(9_001))
            .await
            .expect("sessions")
            .is_empty(),
        "disabling ended the sessions"
    );
    let enabled = store
        .update_account(
            "site",
            &user,
            &AccountChanges {
                disabled: Some(false),
                ..AccountChanges::default()
            },
            at(9_500),
        )
        .await
        .expect("enable");
    assert!(!enabled.account.disabled);
    assert_eq!(enabled.account.name.as_deref(), Some("Grace"));
    let lead_only = store
        .upsert_user_by_email("site", &upsert("just-lead@example.com", json!({}), at(0)))
        .await
        .expect("lead")
        .id;
    for id in [lead_only.as_str(), "no-such-user"] {
        let error = store
            .update_account("site", id, &changes, at(10_000))
            .await
            .expect_err("not an account");
        assert!(
            matches!(error, StorageError::NotFound(Entity::Account)),
            "{error:?}"
        );
    }
}

pub async fn accounts_list_by_text_role_and_organization<S: Storage>(store: &S) {
    with_app(store, "site").await;
    with_app(store, "other").await;
    let admin = organization_with_admin(store, "org_a", "ada@example.com").await;
    let mut named = new_account("bob@example.com", json!({}));
    named.name = Some("Robert O'Hara_%".to_owned());
    named.tenant_admin = true;
    let bob = store
        .register_account("site", &named)
        .await
        .expect("register")
        .into_record()
        .user
        .id;
    let cy = account(store, "site", "cy@example.net").await;
    store
        .add_membership(&membership("site", "org_a", &cy, MemberRole::Guest))
        .await
        .expect("add");
    store
        .upsert_user_by_email("site", &upsert("lead@example.com", json!({}), at(0)))
        .await
        .expect("a lead is never listed");
    account(store, "other", "ada@example.com").await;

    let list = |query: AccountQuery| async move {
        let page = store.list_accounts("site", &query).await.expect("list");
        page.accounts
            .into_iter()
            .map(|a| a.user.id)
            .collect::<Vec<_>>()
    };
    let everyone = AccountQuery {
        limit: 100,
        after_id: None,
        text: None,
        tenant_admin: None,
        organization_id: None,
        role: None,
    };
    let mut all = vec![admin.clone(), bob.clone(), cy.clone()];
    all.sort();
    assert_eq!(list(everyone.clone()).await, all);
    assert_eq!(
        list(AccountQuery {
            text: Some("example.net".to_owned()),
            ..everyone.clone()
        })
        .await,
        vec![cy.clone()]
    );
    // Text matches names too, ignoring case, and literally (no LIKE or regex patterns).
    assert_eq!(
        list(AccountQuery {
            text: Some("o'hara_%".to_owned()),
            ..everyone.clone()
        })
        .await,
        vec![bob.clone()]
    );
    for pattern in ["%", "_", ".*", "^", "a.a"] {
        assert!(
            list(AccountQuery {
                text: Some(pattern.to_owned()),
                ..everyone.clone()
            })
            .await
            .iter()
            .all(|id| id == &bob),
            "{pattern} is matched literally"
        );
    }
    assert_eq!(
        list(AccountQuery {
            tenant_admin: Some(true),
            ..everyone.clone()
        })
        .await,
        vec![bob.clone()]
    );
    let mut in_org = vec![admin.clone(), cy.clone()];
    in_org.sort();
    assert_eq!(
        list(AccountQuery {
            organization_id: Some("org_a".to_owned()),
            ..everyone.clone()
        })
        .await,
        in_org
    );
    assert_eq!(
        list(AccountQuery {
            organization_id: Some("org_a".to_owned()),
            role: Some(MemberRole::Admin),
            ..everyone.clone()
        })
        .await,
        vec![admin.clone()]
    );
    // Pages of one, never skipping or repeating.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .list_accounts(
                "site",
                &AccountQuery {
                    limit: 1,
                    after_id: cursor,
                    ..everyone.clone()
                },
            )
            .await
            .expect("page");
        seen.extend(page.accounts.into_iter().map(|a| a.user.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, all);
}

pub async fn erasing_an_account_or_an_app_removes_memberships_and_keys<S: Storage>(store: &S) {
    with_app(store, "site").await;
    with_app(store, "other").await;
    let admin = organization_with_admin(store, "org_a", "ada@example.com").await;
    // Erasure wins over the last-admin rule.
    assert!(store.delete_user("site", &admin).await.expect("erase"));
    assert_eq!(role_of(store, "org_a", &admin).await, None);
    assert!(
        store
            .find_organization("site", "org_a")
            .await
            .expect("find")
            .is_some(),
        "the organization stays"
    );
    store
        .insert_api_key(&api_key("site", "key_1", "hash-1", 0))
        .await
        .expect("key");
    store
        .insert_api_key(&api_key("other", "key_2", "hash-2", 0))
        .await
        .expect("key");
    store.delete_app("site").await.expect("delete app");
    assert_eq!(
        store
            .find_organization("site", "org_a")
            .await
            .expect("find"),
        None
    );
    assert_eq!(
        store.find_api_key_by_hash("hash-1").await.expect("find"),
        None
    );
    assert!(store.list_api_keys("site").await.expect("list").is_empty());
    assert!(
        store
            .find_api_key_by_hash("hash-2")
            .await
            .expect("find")
            .is_some()
    );
    // The app comes back empty.
    with_app(store, "site").await;
    assert!(
        store
            .list_organizations(
                "site",
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
}

pub async fn api_keys_are_found_by_hash_listed_and_revoked<S: Storage>(store: &S) {
    with_app(store, "site").await;
    with_app(store, "other").await;
    let mut first = api_key("site", "key_1", "hash-1", 0);
    first.expires_at = Some(at(60_000));
    first.role = Some("tenant_admin".to_owned());
    store.insert_api_key(&first).await.expect("insert");
    store
        .insert_api_key(&api_key("site", "key_2", "hash-2", 10))
        .await
        .expect("insert");
    store
        .insert_api_key(&api_key("other", "key_3", "hash-3", 20))
        .await
        .expect("insert");
    for duplicate in [
        api_key("site", "key_1", "hash-9", 0),
        api_key("site", "key_9", "hash-1", 0),
    ] {
        let error = store.insert_api_key(&duplicate).await.expect_err("taken");
        assert!(
            matches!(error, StorageError::Duplicate(Entity::ApiKey)),
            "{error:?}"
        );
    }
    assert_eq!(
        store.find_api_key_by_hash("hash-1").await.expect("find"),
        Some(first.clone())
    );
    assert_eq!(
        store.find_api_key_by_hash("hash-0").await.expect("find"),
        None
    );
    let listed = store.list_api_keys("site").await.expect("list");
    assert_eq!(
        listed.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
        ["key_2", "key_1"]
    );
    store
        .touch_api_key("site", "key_1", at(30_000))
        .await
        .expect("touch");
    let touched = store
        .find_api_key_by_hash("hash-1")
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(touched.last_used_at, Some(at(30_000)));
    assert!(touched.is_active(at(59_999)));
    assert!(!touched.is_active(at(60_000)), "expired");
    // Another app cannot revoke it; revoking twice says so.
    assert!(
        !store
            .revoke_api_key("other", "key_1", at(40_000))
            .await
            .expect("revoke")
    );
    assert!(
        store
            .revoke_api_key("site", "key_1", at(40_000))
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_api_key("site", "key_1", at(41_000))
            .await
            .expect("again")
    );
    let revoked = store
        .find_api_key_by_hash("hash-1")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(revoked.revoked_at, Some(at(40_000)));
    assert!(!revoked.is_active(at(40_001)));
}

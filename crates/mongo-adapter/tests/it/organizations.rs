//! Organizations, memberships and API keys in MongoDB, and the risks of a store without
//! transactions: the last-admin rule rests on the organization's `adminCount`, a conservative
//! counter changed by conditional `$inc`s beside the memberships; documents written before
//! these features still load; dates stay BSON dates through every change.

use futures::future::join_all;
use mongodb::bson::{Bson, doc};
use serde_json::json;
use storage_port::{
    AccountChanges, AccountQuery, AccountSettings, AccountStore, ApiKeyRecord, ApiKeyStore,
    AppChanges, AppRecord, AppStore, MemberQuery, MemberRole, MembershipChanges, MembershipRecord,
    MembershipStore, NewAccount, OrganizationChanges, OrganizationCreation, OrganizationRecord,
    OrganizationStore, StorageError, Timestamp, UserStore,
};

use super::FreshStore;

const T0: i64 = 1_700_000_000_000;

fn at(offset: i64) -> Timestamp {
    Timestamp::from_unix_millis(T0 + offset)
}

fn date_millis(value: Option<&Bson>) -> Option<i64> {
    match value {
        Some(Bson::DateTime(at)) => Some(at.timestamp_millis()),
        _ => None,
    }
}

fn integer(value: Option<&Bson>) -> Option<i64> {
    value.and_then(|v| v.as_i64().or(v.as_i32().map(i64::from)))
}

async fn with_app(fresh: &FreshStore) {
    fresh
        .store
        .insert_app(&AppRecord {
            id: "site".to_owned(),
            name: "Site".to_owned(),
            allowed_origins: vec![],
            honeypot_field: None,
            thank_you_url: None,
            error_url: None,
            password_hash: "$argon2id$app".to_owned(),
            credential_version: 1,
            incarnation: "incarnation".to_owned(),
            account_settings: AccountSettings::default(),
            created_at: at(0),
            updated_at: at(0),
        })
        .await
        .expect("app");
}

async fn account(fresh: &FreshStore, email: &str) -> String {
    let new = NewAccount {
        new_id: uuid::Uuid::now_v7().to_string(),
        email: email.to_owned(),
        password_hash: Some("$argon2id$x".to_owned()),
        name: None,
        data: serde_json::Map::new(),
        schema_version: 1,
        tenant_admin: false,
        joining: None,
        now: at(0),
    };
    fresh
        .store
        .register_account("site", &new)
        .await
        .expect("register")
        .into_record()
        .user
        .id
}

fn organization(id: &str) -> OrganizationRecord {
    OrganizationRecord {
        id: id.to_owned(),
        app_id: "site".to_owned(),
        name: format!("Org {id}"),
        slug: id.to_owned(),
        allowed_email_domains: vec!["example.com".to_owned()],
        created_at: at(0),
        updated_at: at(0),
    }
}

fn membership(org: &str, user: &str, role: MemberRole) -> MembershipRecord {
    MembershipRecord {
        app_id: "site".to_owned(),
        organization_id: org.to_owned(),
        user_id: user.to_owned(),
        role,
        permissions: Vec::new(),
        created_at: at(0),
        updated_at: at(0),
    }
}

async fn admin_count(fresh: &FreshStore, org: &str) -> Option<i64> {
    let stored = fresh
        .raw("organizations")
        .find_one(doc! { "_id": org })
        .await
        .expect("read")
        .expect("stored");
    integer(stored.get("adminCount"))
}

/// An organization whose creator is its admin, with `admins - 1` more admins and one member;
/// returns the admins' ids and the member's.
async fn organization_with_admins(
    fresh: &FreshStore,
    org: &str,
    admins: usize,
) -> (Vec<String>, String) {
    let mut ids = vec![account(fresh, &format!("creator-{org}@example.com")).await];
    fresh
        .store
        .insert_organization(
            &organization(org),
            Some(&membership(org, &ids[0], MemberRole::Admin)),
        )
        .await
        .expect("organization");
    for i in 1..admins {
        let id = account(fresh, &format!("admin{i}-{org}@example.com")).await;
        fresh
            .store
            .add_membership(&membership(org, &id, MemberRole::Admin))
            .await
            .expect("admin");
        ids.push(id);
    }
    let member = account(fresh, &format!("member-{org}@example.com")).await;
    fresh
        .store
        .add_membership(&membership(org, &member, MemberRole::Member))
        .await
        .expect("member");
    (ids, member)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn the_admin_count_follows_every_change_of_an_admin() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    let (admins, member) = organization_with_admins(&fresh, "org_a", 2).await;
    assert_eq!(
        admin_count(&fresh, "org_a").await,
        Some(2),
        "creator + one added"
    );
    let demote = MembershipChanges {
        role: Some(MemberRole::Member),
        permissions: None,
    };
    let promote = MembershipChanges {
        role: Some(MemberRole::Admin),
        permissions: None,
    };
    let store = &fresh.store;
    store
        .update_membership("site", "org_a", &member, &promote, at(1))
        .await
        .expect("promote");
    assert_eq!(admin_count(&fresh, "org_a").await, Some(3));
    store
        .update_membership("site", "org_a", &member, &promote, at(2))
        .await
        .expect("an admin stays one");
    assert_eq!(
        admin_count(&fresh, "org_a").await,
        Some(3),
        "not counted twice"
    );
    store
        .update_membership("site", "org_a", &admins[1], &demote, at(3))
        .await
        .expect("demote");
    assert_eq!(admin_count(&fresh, "org_a").await, Some(2));
    assert!(
        store
            .remove_membership("site", "org_a", &member)
            .await
            .expect("remove")
    );
    assert_eq!(admin_count(&fresh, "org_a").await, Some(1));
    let last = store
        .remove_membership("site", "org_a", &admins[0])
        .await
        .expect_err("the last admin");
    assert!(matches!(last, StorageError::LastAdmin), "{last:?}");
    assert_eq!(admin_count(&fresh, "org_a").await, Some(1), "nothing taken");
    // Erasing the last admin wins over the rule.
    assert!(store.delete_user("site", &admins[0]).await.expect("erase"));
    assert_eq!(admin_count(&fresh, "org_a").await, Some(0));
    assert_eq!(
        fresh
            .raw("memberships")
            .count_documents(doc! { "userId": &admins[0] })
            .await
            .expect("count"),
        0
    );
    fresh.drop_database().await;
}

/// A crash between taking an admin from the count and changing the membership leaves the
/// count one too low: that refuses a demotion the real number would allow, never the reverse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn a_count_left_too_low_by_a_crash_only_refuses_more() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    let (admins, _) = organization_with_admins(&fresh, "org_a", 2).await;
    // What a demotion cut short after its `$inc` leaves behind.
    fresh
        .raw("organizations")
        .update_one(
            doc! { "_id": "org_a" },
            doc! { "$inc": { "adminCount": -1_i64, "revision": 1_i64 } },
        )
        .await
        .expect("raw update");
    let demote = MembershipChanges {
        role: Some(MemberRole::Guest),
        permissions: None,
    };
    let refused = fresh
        .store
        .update_membership("site", "org_a", &admins[1], &demote, at(1))
        .await
        .expect_err("the count says last admin");
    assert!(matches!(refused, StorageError::LastAdmin), "{refused:?}");
    let admins_left = fresh
        .store
        .list_members(
            "site",
            "org_a",
            &MemberQuery {
                limit: 10,
                after_user_id: None,
                role: Some(MemberRole::Admin),
            },
        )
        .await
        .expect("list");
    assert_eq!(admins_left.members.len(), 2, "both admins are still admins");
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn demoting_every_admin_at_once_leaves_exactly_one() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    let (admins, _) = organization_with_admins(&fresh, "org_a", 6).await;
    let store = &fresh.store;
    let demotions = admins.iter().enumerate().map(|(i, id)| async move {
        if i % 2 == 0 {
            let demote = MembershipChanges {
                role: Some(MemberRole::Member),
                permissions: Some(vec![format!("p{i}:read")]),
            };
            store
                .update_membership("site", "org_a", id, &demote, at(10))
                .await
                .map(|_| ())
        } else {
            store
                .remove_membership("site", "org_a", id)
                .await
                .map(|_| ())
        }
    });
    let results = join_all(demotions).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        5,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(StorageError::LastAdmin))),
        "{results:?}"
    );
    let left = store
        .list_members(
            "site",
            "org_a",
            &MemberQuery {
                limit: 10,
                after_user_id: None,
                role: Some(MemberRole::Admin),
            },
        )
        .await
        .expect("list");
    assert_eq!(left.members.len(), 1);
    assert_eq!(admin_count(&fresh, "org_a").await, Some(1));
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn organization_membership_and_key_documents_hold_our_ids_and_bson_dates_after_changes() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    let (admins, member) = organization_with_admins(&fresh, "org_a", 1).await;
    let store = &fresh.store;
    store
        .update_organization(
            "site",
            "org_a",
            &OrganizationChanges {
                name: Some("Renamed".to_owned()),
                ..OrganizationChanges::default()
            },
            at(5_000),
        )
        .await
        .expect("rename");
    let org = fresh
        .raw("organizations")
        .find_one(doc! { "_id": "org_a" })
        .await
        .expect("read")
        .expect("stored under our id");
    assert_eq!(org.get_str("appId").ok(), Some("site"));
    assert_eq!(org.get_str("slug").ok(), Some("org_a"));
    assert_eq!(
        date_millis(org.get("createdAt")),
        Some(at(0).as_unix_millis())
    );
    assert_eq!(
        date_millis(org.get("updatedAt")),
        Some(at(5_000).as_unix_millis())
    );
    assert_eq!(
        integer(org.get("adminCount")),
        Some(1),
        "a rename keeps the count"
    );

    store
        .update_membership(
            "site",
            "org_a",
            &member,
            &MembershipChanges {
                role: Some(MemberRole::Guest),
                permissions: Some(vec!["billing:read".to_owned()]),
            },
            at(6_000),
        )
        .await
        .expect("change");
    let stored = fresh
        .raw("memberships")
        .find_one(doc! { "organizationId": "org_a", "userId": &member })
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        stored.get_str("_id").ok(),
        Some(format!("site\u{0}org_a\u{0}{member}").as_str())
    );
    assert_eq!(stored.get_str("role").ok(), Some("guest"));
    assert_eq!(
        date_millis(stored.get("createdAt")),
        Some(at(0).as_unix_millis())
    );
    assert_eq!(
        date_millis(stored.get("updatedAt")),
        Some(at(6_000).as_unix_millis())
    );
    let joined = store
        .list_user_memberships("site", &admins[0])
        .await
        .expect("list");
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].organization.name, "Renamed");

    let key = ApiKeyRecord {
        id: "key_1".to_owned(),
        app_id: "site".to_owned(),
        name: "Backend".to_owned(),
        prefix: "uak_1234".to_owned(),
        key_hash: "hash-1".to_owned(),
        role: None,
        permissions: vec!["records:read".to_owned()],
        expires_at: Some(at(100_000)),
        last_used_at: None,
        created_at: at(1),
        revoked_at: None,
    };
    store.insert_api_key(&key).await.expect("insert");
    store
        .touch_api_key("site", "key_1", at(7_000))
        .await
        .expect("touch");
    assert!(
        store
            .revoke_api_key("site", "key_1", at(8_000))
            .await
            .expect("revoke")
    );
    store
        .touch_api_key("site", "key_1", at(9_000))
        .await
        .expect("touch after");
    let stored = fresh
        .raw("api_keys")
        .find_one(doc! { "_id": "key_1" })
        .await
        .expect("read")
        .expect("stored under our id");
    assert_eq!(stored.get_str("keyHash").ok(), Some("hash-1"));
    for (field, expected) in [
        ("createdAt", at(1)),
        ("expiresAt", at(100_000)),
        ("lastUsedAt", at(9_000)),
        ("revokedAt", at(8_000)),
    ] {
        assert_eq!(
            date_millis(stored.get(field)),
            Some(expected.as_unix_millis()),
            "{field}: {stored}"
        );
    }
    fresh.drop_database().await;
}

/// Apps without `accountSettings` and accounts without `tenantAdmin` or `permissions`, as
/// every document written before organizations, load with the defaults and are found by the
/// filters that ask for "not a tenant admin".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn documents_from_before_organizations_still_load() {
    let fresh = FreshStore::connect().await;
    let created = mongodb::bson::DateTime::from_millis(T0);
    fresh
        .raw("apps")
        .insert_one(doc! {
            "_id": "site", "idFolded": "site", "name": "Old", "allowedOrigins": ["*"],
            "passwordHash": "$argon2id$placeholder", "credentialVersion": 1_i64,
            "incarnation": "old", "createdAt": created, "updatedAt": created, "revision": 1_i64,
        })
        .await
        .expect("raw insert");
    fresh
        .raw("users")
        .insert_one(doc! {
            "_id": "old-account", "appId": "site", "email": "ada@example.com", "data": {},
            "schemaVersion": 1_i64, "createdAt": created, "updatedAt": created,
            "revision": 2_i64,
            "account": {
                "name": "Ada", "passwordHash": "$argon2id$ada", "emailVerified": true,
                "credentialVersion": 1_i64, "disabled": false, "registeredAt": created,
            },
        })
        .await
        .expect("raw insert");
    let store = &fresh.store;
    let app = store
        .find_app("site")
        .await
        .expect("decodes")
        .expect("found");
    assert_eq!(app.account_settings, AccountSettings::default());
    let account = store
        .find_account("site", "old-account")
        .await
        .expect("decodes")
        .expect("an account");
    assert!(!account.account.tenant_admin);
    assert!(account.account.permissions.is_empty());
    let not_admins = store
        .list_accounts(
            "site",
            &AccountQuery {
                limit: 10,
                after_id: None,
                text: Some("ada".to_owned()),
                tenant_admin: Some(false),
                organization_id: None,
                role: None,
            },
        )
        .await
        .expect("list");
    assert_eq!(not_admins.accounts, std::slice::from_ref(&account));
    // Their next writes store the new fields.
    store
        .update_account(
            "site",
            "old-account",
            &AccountChanges {
                tenant_admin: Some(true),
                ..AccountChanges::default()
            },
            at(1),
        )
        .await
        .expect("update");
    let settings = AccountSettings {
        organization_creation: OrganizationCreation::TenantAdmins,
        ..AccountSettings::default()
    };
    store
        .update_app(
            "site",
            &AppChanges {
                account_settings: Some(settings.clone()),
                ..AppChanges::default()
            },
            at(1),
        )
        .await
        .expect("update");
    let stored = fresh
        .raw("users")
        .find_one(doc! { "_id": "old-account" })
        .await
        .expect("read")
        .expect("stored");
    let embedded = stored.get_document("account").expect("account");
    assert_eq!(embedded.get_bool("tenantAdmin").ok(), Some(true));
    let stored = fresh
        .raw("apps")
        .find_one(doc! { "_id": "site" })
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        stored
            .get_document("accountSettings")
            .expect("a subdocument")
            .get_str("organization_creation")
            .ok(),
        Some("tenant_admins")
    );
    assert_eq!(
        store
            .find_app("site")
            .await
            .expect("find")
            .expect("found")
            .account_settings,
        settings
    );
    fresh.drop_database().await;
}

/// A newer release may add settings; an older instance reads what it knows and, when it does
/// not change the settings, writes back the stored subdocument as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn account_settings_of_a_newer_release_are_read_and_kept() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    fresh
        .raw("apps")
        .update_one(
            doc! { "_id": "site" },
            doc! { "$set": { "accountSettings": {
                "organization_creation": "any_account", "invitations": { "days": 3 },
            } } },
        )
        .await
        .expect("raw update");
    let store = &fresh.store;
    let app = store.find_app("site").await.expect("find").expect("found");
    assert_eq!(
        app.account_settings.organization_creation,
        OrganizationCreation::AnyAccount
    );
    store
        .update_app(
            "site",
            &AppChanges {
                name: Some("Renamed".to_owned()),
                ..AppChanges::default()
            },
            at(1),
        )
        .await
        .expect("rename");
    let stored = fresh
        .raw("apps")
        .find_one(doc! { "_id": "site" })
        .await
        .expect("read")
        .expect("stored");
    let settings = stored.get_document("accountSettings").expect("settings");
    assert_eq!(
        integer(
            settings
                .get_document("invitations")
                .ok()
                .and_then(|d| d.get("days"))
        ),
        Some(3),
        "{stored}"
    );
    fresh.drop_database().await;
}

/// An erasure racing additions of the same account never leaves a membership behind: the
/// erasure sweeps memberships before and after the record goes, and an addition that finds the
/// account gone after writing takes its membership back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn an_erasure_racing_additions_leaves_no_membership() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    let store = &fresh.store;
    for round in 0..4 {
        let orgs: Vec<String> = (0..4).map(|i| format!("org_{round}_{i}")).collect();
        for org in &orgs {
            store
                .insert_organization(&organization(org), None)
                .await
                .expect("organization");
        }
        let user = account(&fresh, &format!("u{round}@example.com")).await;
        let additions = orgs.iter().map(|org| {
            let m = membership(org, &user, MemberRole::Admin);
            async move { store.add_membership(&m).await }
        });
        let (added, erased) = futures::join!(join_all(additions), store.delete_user("site", &user));
        assert!(erased.expect("erase"));
        for result in added {
            assert!(
                matches!(result, Ok(()) | Err(StorageError::NotFound(_))),
                "{result:?}"
            );
        }
        assert_eq!(
            fresh
                .raw("memberships")
                .count_documents(doc! { "userId": &user })
                .await
                .expect("count"),
            0,
            "round {round}"
        );
        for org in &orgs {
            assert_eq!(admin_count(&fresh, org).await, Some(0), "{org}");
        }
    }
    fresh.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(mongo_test_server),
    ignore = "needs the MongoDB test server: bash scripts/with-mongo-test-server.sh cargo test"
)]
async fn registering_into_an_organization_counts_an_admin() {
    let fresh = FreshStore::connect().await;
    with_app(&fresh).await;
    let store = &fresh.store;
    store
        .insert_organization(&organization("org_a"), None)
        .await
        .expect("organization");
    assert_eq!(admin_count(&fresh, "org_a").await, Some(0));
    let new = NewAccount {
        new_id: uuid::Uuid::now_v7().to_string(),
        email: "boss@example.com".to_owned(),
        password_hash: None,
        name: None,
        data: json!({}).as_object().cloned().unwrap_or_default(),
        schema_version: 1,
        tenant_admin: false,
        joining: Some(storage_port::Joining {
            organization_id: "org_a".to_owned(),
            role: MemberRole::Admin,
            permissions: Vec::new(),
        }),
        now: at(0),
    };
    let id = store
        .register_account("site", &new)
        .await
        .expect("register")
        .into_record()
        .user
        .id;
    assert_eq!(admin_count(&fresh, "org_a").await, Some(1));
    let refused = store
        .remove_membership("site", "org_a", &id)
        .await
        .expect_err("the only admin");
    assert!(matches!(refused, StorageError::LastAdmin), "{refused:?}");
    fresh.drop_database().await;
}

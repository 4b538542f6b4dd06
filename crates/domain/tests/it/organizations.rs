//! Organizations, roles and API keys through the services over the in-memory store: the
//! escalation rules as a caller meets them.

use std::sync::Arc;

use domain::{
    AccountSwitches, Caller, ClientInfo, DirectoryError, NewApiKey, NewOrganization, NewUser,
    Registration, Services, UserUpdate,
};
use storage_port::{AppChanges, MemberQuery, MemberRole, MemoryStorage, OrganizationCreation};

use crate::{admin, new_app, services_on};

const PASSWORD: &str = "correct horse battery staple";

async fn site() -> Services<MemoryStorage> {
    let services = services_on(Arc::new(MemoryStorage::new()));
    services
        .apps
        .create_app(&admin(), new_app("site"))
        .await
        .expect("app");
    services
        .apps
        .update_app(
            &admin().app("site"),
            AppChanges::default(),
            AccountSwitches {
                organization_creation: Some(OrganizationCreation::AnyAccount),
                ..AccountSwitches::default()
            },
        )
        .await
        .expect("settings");
    services.accounts.prepare_keys().await.expect("keys");
    services
}

/// Registers `email` and returns it as a caller with its id.
async fn account(services: &Services<MemoryStorage>, email: &str) -> (Caller, String) {
    let registration = Registration {
        email: email.into(),
        password: PASSWORD.into(),
        name: None,
        data: None,
        organization_id: None,
    };
    let logged_in = services
        .accounts
        .register("site", registration, ClientInfo::default())
        .await
        .expect("register");
    caller_of(services, &logged_in.tokens.access_token).await
}

async fn caller_of(services: &Services<MemoryStorage>, token: &str) -> (Caller, String) {
    let caller = services
        .accounts
        .authenticate(token, Some("site"))
        .await
        .expect("authenticate");
    let id = caller.user_id().to_owned();
    (Caller::Account(Box::new(caller)), id)
}

async fn key(services: &Services<MemoryStorage>, permissions: &[&str]) -> Caller {
    key_with(services, None, permissions).await
}

/// A key with every built-in permission (`role: tenant_admin`).
async fn tenant_key(services: &Services<MemoryStorage>) -> Caller {
    key_with(services, Some("tenant_admin"), &[]).await
}

async fn key_with(
    services: &Services<MemoryStorage>,
    role: Option<&str>,
    permissions: &[&str],
) -> Caller {
    let created = services
        .api_keys
        .create(
            &admin().app("site"),
            NewApiKey {
                name: "test".into(),
                role: role.map(str::to_owned),
                permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
                expires_at: None,
            },
        )
        .await
        .expect("key");
    Caller::ApiKey(
        services
            .api_keys
            .authenticate(&created.key)
            .await
            .expect("key authenticates"),
    )
}

fn forbidden(result: Result<impl std::fmt::Debug, DirectoryError>) -> String {
    match result {
        Err(DirectoryError::Forbidden(what)) => what,
        other => panic!("expected forbidden, got {other:?}"),
    }
}

#[tokio::test]
async fn an_organization_admin_cannot_reach_above_itself() {
    let services = site().await;
    let orgs = &services.organizations;
    let (admin_caller, _) = account(&services, "admin@example.com").await;
    let org = orgs
        .create_organization(
            &admin_caller,
            NewOrganization {
                name: "Acme".into(),
                ..NewOrganization::default()
            },
        )
        .await
        .expect("create")
        .organization
        .id;
    let member = orgs
        .create_user(
            &admin_caller,
            NewUser {
                email: "member@example.com".into(),
                organization_id: Some(org.clone()),
                ..NewUser::default()
            },
        )
        .await
        .expect("member")
        .record
        .user
        .id;
    // Granting tenant_admin, or a permission the admin lacks, is refused.
    let grant = |role: Option<&str>, permissions: Option<Vec<String>>| UserUpdate {
        role: role.map(str::to_owned),
        permissions,
        organization_id: Some(org.clone()),
        ..UserUpdate::default()
    };
    assert_eq!(
        forbidden(
            orgs.update_user(&admin_caller, &member, grant(Some("tenant_admin"), None))
                .await
        ),
        "the role tenant_admin"
    );
    assert_eq!(
        forbidden(
            orgs.update_user(
                &admin_caller,
                &member,
                grant(None, Some(vec!["users:delete".into()]))
            )
            .await
        ),
        "users:delete"
    );
    // A permission shadowing a built-in one is not even well-formed.
    assert!(matches!(
        orgs.update_user(
            &admin_caller,
            &member,
            grant(None, Some(vec!["users:*".into()]))
        )
        .await,
        Err(DirectoryError::Invalid(_))
    ));
    // Within its reach it works: admin → member to admin.
    let promoted = orgs
        .update_user(&admin_caller, &member, grant(Some("admin"), None))
        .await
        .expect("promote");
    assert_eq!(promoted.memberships[0].membership.role, MemberRole::Admin);

    // A key limited to roles:write cannot make a tenant admin: it would grant every built-in
    // permission, which it does not hold.
    let limited = key(&services, &["roles:write", "users:write", "users:read"]).await;
    let (_, boss) = account(&services, "boss@example.com").await;
    assert_eq!(
        forbidden(
            orgs.update_user(
                &limited,
                &boss,
                UserUpdate {
                    role: Some("tenant_admin".into()),
                    ..UserUpdate::default()
                }
            )
            .await
        ),
        "users:delete"
    );
    // A tenant admin (made by a key holding every built-in permission) is beyond an
    // organization admin.
    let tenant = tenant_key(&services).await;
    orgs.update_user(
        &tenant,
        &boss,
        UserUpdate {
            role: Some("tenant_admin".into()),
            ..UserUpdate::default()
        },
    )
    .await
    .expect("a tenant key makes a tenant admin");
    // Outside the admin's organizations it is as if the account did not exist.
    assert!(matches!(
        orgs.update_user(
            &admin_caller,
            &boss,
            UserUpdate {
                disabled: Some(true),
                ..UserUpdate::default()
            }
        )
        .await,
        Err(DirectoryError::NotFound("user"))
    ));
}

#[tokio::test]
async fn a_member_cannot_promote_itself_and_the_last_admin_stays() {
    let services = site().await;
    let orgs = &services.organizations;
    let (admin_caller, admin_id) = account(&services, "admin@example.com").await;
    let org = orgs
        .create_organization(
            &admin_caller,
            NewOrganization {
                name: "Acme".into(),
                ..NewOrganization::default()
            },
        )
        .await
        .expect("create")
        .organization
        .id;
    let (member_caller, member_id) = account(&services, "member@example.com").await;
    let key = tenant_key(&services).await;
    orgs.update_user(
        &key,
        &member_id,
        UserUpdate {
            role: Some("member".into()),
            organization_id: Some(org.clone()),
            ..UserUpdate::default()
        },
    )
    .await
    .expect_err("not a member yet: no membership to change");
    // Join through the service's storage path: an admin-created account in the org.
    let joined = orgs
        .create_user(
            &admin_caller,
            NewUser {
                email: "joined@example.com".into(),
                organization_id: Some(org.clone()),
                role: Some("member".into()),
                ..NewUser::default()
            },
        )
        .await
        .expect("join")
        .record
        .user
        .id;
    // The registered member is no member of the org: organization_access_denied.
    assert!(matches!(
        orgs.update_user(
            &member_caller,
            &member_id,
            UserUpdate {
                role: Some("admin".into()),
                organization_id: Some(org.clone()),
                ..UserUpdate::default()
            }
        )
        .await,
        Err(DirectoryError::OrganizationAccessDenied)
    ));
    // The last admin can neither leave nor be demoted.
    assert!(matches!(
        orgs.remove_member(&admin_caller, &org, &admin_id).await,
        Err(DirectoryError::LastAdmin)
    ));
    assert!(matches!(
        orgs.update_user(
            &key,
            &admin_id,
            UserUpdate {
                role: Some("member".into()),
                organization_id: Some(org.clone()),
                ..UserUpdate::default()
            }
        )
        .await,
        Err(DirectoryError::LastAdmin)
    ));
    let members = orgs
        .members(
            &admin_caller,
            &org,
            MemberQuery {
                limit: 10,
                after_user_id: None,
                role: None,
            },
        )
        .await
        .expect("members");
    assert_eq!(members.members.len(), 2);
    assert!(
        members
            .members
            .iter()
            .any(|m| m.membership.user_id == joined && m.membership.role == MemberRole::Member)
    );
}

#[tokio::test]
async fn api_keys_hold_only_their_permissions() {
    let services = site().await;
    let orgs = &services.organizations;
    let reader = key(&services, &["users:read"]).await;
    assert_eq!(
        forbidden(
            orgs.create_organization(
                &reader,
                NewOrganization {
                    name: "Nope".into(),
                    ..NewOrganization::default()
                }
            )
            .await
        ),
        "organizations:write"
    );
    assert_eq!(
        forbidden(
            orgs.create_user(
                &reader,
                NewUser {
                    email: "x@example.com".into(),
                    ..NewUser::default()
                }
            )
            .await
        ),
        "users:write"
    );
    let writer = key(&services, &["users:write"]).await;
    // It may create a plain account, but not hand out a role whose defaults it lacks.
    orgs.create_user(
        &writer,
        NewUser {
            email: "plain@example.com".into(),
            role: Some("guest".into()),
            ..NewUser::default()
        },
    )
    .await
    .expect_err("guest's defaults include organizations:read, which the key lacks");
}

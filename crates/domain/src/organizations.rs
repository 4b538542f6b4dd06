//! Organizations, their members, and the accounts an app's admins manage (ACCOUNTS.md §1–2).
//! Every method takes the [`Caller`] and decides here, with the pure rules of
//! [`crate::permissions`], whether it may: routes never re-implement a check.
//!
//! What a caller holds is read from the store at each request (its account and the
//! membership concerned), not from its access token: a removal, a demotion or a disabled
//! account counts at once, whatever tokens are still out.

use std::collections::HashMap;
use std::sync::Arc;

use schema_validation::{Violation, Violations};
use storage_port::{
    AccountChanges, AccountQuery, AccountRecord, Joined, Joining, MemberPage, MemberQuery,
    MemberRole, MembershipChanges, MembershipRecord, NewAccount, OrganizationChanges,
    OrganizationCreation, OrganizationQuery, OrganizationRecord, Storage, StorageError, Timestamp,
};

use crate::accounts::random_text;
use crate::api_keys::{ApiKeyCaller, check_permissions};
use crate::mail::{Letter, Postman};
use crate::permissions::{
    Authority, ORGANIZATIONS_READ, ORGANIZATIONS_WRITE, ROLES_WRITE, Role, USERS_DELETE,
    USERS_READ, USERS_WRITE, Ungrantable,
};
use crate::{AccountCaller, AppCache, AppContext, AppId, EmailAddress};

mod invitations;

pub use invitations::NewInvitation;

/// Who is asking: an account (bearer access token) or an app's backend (API key).
#[derive(Debug, Clone)]
pub enum Caller {
    Account(Box<AccountCaller>),
    ApiKey(ApiKeyCaller),
    /// An operator in the dashboard: a platform admin (`super_admin`) or the app's owner
    /// (`tenant_admin`), with every permission of the app.
    Operator(crate::AppAccess),
}

impl Caller {
    pub fn app_id(&self) -> &str {
        match self {
            Self::Account(account) => account.app_id(),
            Self::ApiKey(key) => key.app_id(),
            Self::Operator(access) => access.app_id(),
        }
    }

    fn user_id(&self) -> Option<&str> {
        match self {
            Self::Account(account) => Some(account.user_id()),
            Self::ApiKey(_) | Self::Operator(_) => None,
        }
    }

    /// The organization the account chose at login, if any.
    fn active_organization(&self) -> Option<&str> {
        match self {
            Self::Account(account) => account.claims().org.as_deref(),
            Self::ApiKey(_) | Self::Operator(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    Invalid(Violations),
    #[error("no app has this id")]
    UnknownApp,
    /// The caller's account is gone or disabled.
    #[error("invalid token")]
    Unauthenticated,
    /// Authenticated, but without this permission (or role) here.
    #[error("this needs {0}")]
    Forbidden(String),
    /// Not a member of the organization concerned.
    #[error("not a member of this organization")]
    OrganizationAccessDenied,
    #[error("the email address is not verified")]
    EmailNotVerified,
    #[error("no {0} has this id")]
    NotFound(&'static str),
    #[error("another organization of the app has this slug")]
    SlugTaken,
    #[error("an account with this email exists")]
    EmailTaken,
    #[error("the user is already a member")]
    AlreadyMember,
    #[error("an organization must keep at least one admin")]
    LastAdmin,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<Ungrantable> for DirectoryError {
    fn from(what: Ungrantable) -> Self {
        match what {
            Ungrantable::Role(role) => Self::Forbidden(format!("the role {role}")),
            Ungrantable::Permission(permission) => Self::Forbidden(permission),
        }
    }
}

fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> DirectoryError {
    DirectoryError::Invalid(Violations(vec![Violation::new(field, code, message)]))
}

fn require(authority: &Authority, permission: &str) -> Result<(), DirectoryError> {
    if authority.has(permission) {
        Ok(())
    } else {
        Err(DirectoryError::Forbidden(permission.to_owned()))
    }
}

/// A new organization as the client sent it.
#[derive(Debug, Default)]
pub struct NewOrganization {
    pub name: String,
    /// Derived from the name when absent.
    pub slug: Option<String>,
    pub allowed_email_domains: Option<Vec<String>>,
}

/// Changes to an organization as the client sent them.
#[derive(Debug, Default)]
pub struct OrganizationUpdate {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub allowed_email_domains: Option<Vec<String>>,
}

/// An organization and the caller's membership in it (none for a tenant admin or a key).
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationView {
    pub organization: OrganizationRecord,
    pub membership: Option<MembershipRecord>,
}

/// A page of organizations.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationList {
    pub organizations: Vec<OrganizationView>,
    pub next_cursor: Option<String>,
}

/// A user an admin creates (`POST /v1/users` with a credential).
#[derive(Debug, Default)]
pub struct NewUser {
    pub email: String,
    pub name: Option<String>,
    /// `member` when absent.
    pub role: Option<String>,
    pub organization_id: Option<String>,
    pub permissions: Vec<String>,
    /// Sends the set-password invitation (the e-mail part; until then the account waits
    /// without a password).
    pub send_invite: bool,
}

/// What an admin changes on a user (`PUT /v1/users/{id}`).
#[derive(Debug, Default)]
pub struct UserUpdate {
    pub name: Option<Option<String>>,
    pub role: Option<String>,
    pub permissions: Option<Vec<String>>,
    pub disabled: Option<bool>,
    /// The organization `role` and `permissions` are about; see [`OrganizationService::update_user`].
    pub organization_id: Option<String>,
}

/// A listing of the app's accounts (`GET /v1/users`).
#[derive(Debug, Default)]
pub struct UserListing {
    pub limit: u32,
    pub after_id: Option<String>,
    pub q: Option<String>,
    pub organization_id: Option<String>,
    pub role: Option<String>,
}

/// A page of accounts as their admins see them.
#[derive(Debug, Clone, PartialEq)]
pub struct UserList {
    pub users: Vec<ManagedUser>,
    /// The last account's id, when there may be more.
    pub next_cursor: Option<String>,
}

/// An account as its admins see it, with the memberships the caller may see.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedUser {
    pub record: AccountRecord,
    pub memberships: Vec<Joined>,
}

const MAX_ORGANIZATION_NAME: usize = 100;
const MAX_SLUG: usize = 64;
const MAX_DOMAINS: usize = 20;

/// Organizations, memberships and admin-managed accounts of every app.
#[derive(Debug)]
pub struct OrganizationService<S: ?Sized> {
    storage: Arc<S>,
    cache: Arc<AppCache>,
    postman: Arc<Postman<S>>,
}

/// The caller with what it holds app-wide.
struct Acting<'a> {
    caller: &'a Caller,
    app_id: &'a str,
    app_wide: Authority,
    account: Option<AccountRecord>,
}

impl Acting<'_> {
    fn is_tenant(&self) -> bool {
        self.app_wide.is_tenant()
    }
}

impl<S: Storage + ?Sized> OrganizationService<S> {
    pub(crate) fn new(storage: Arc<S>, cache: Arc<AppCache>, postman: Arc<Postman<S>>) -> Self {
        Self {
            storage,
            cache,
            postman,
        }
    }

    async fn app(&self, app_id: &str) -> Result<Arc<AppContext>, DirectoryError> {
        let id = AppId::parse(app_id).ok_or(DirectoryError::UnknownApp)?;
        self.cache
            .load(&*self.storage, id.as_ref())
            .await?
            .ok_or(DirectoryError::UnknownApp)
    }

    async fn acting<'a>(&self, caller: &'a Caller) -> Result<Acting<'a>, DirectoryError> {
        let app_id = caller.app_id();
        match caller {
            Caller::ApiKey(key) => Ok(Acting {
                caller,
                app_id,
                app_wide: key.authority(),
                account: None,
            }),
            Caller::Operator(access) => Ok(Acting {
                caller,
                app_id,
                app_wide: Authority::of(
                    Some(if access.is_admin() {
                        Role::SuperAdmin
                    } else {
                        Role::TenantAdmin
                    }),
                    Vec::<String>::new(),
                ),
                account: None,
            }),
            Caller::Account(account) => {
                let record = self
                    .storage
                    .find_account(app_id, account.user_id())
                    .await?
                    .filter(|record| !record.account.disabled)
                    .ok_or(DirectoryError::Unauthenticated)?;
                let role = record.account.tenant_admin.then_some(Role::TenantAdmin);
                Ok(Acting {
                    caller,
                    app_id,
                    app_wide: Authority::of(role, record.account.permissions.iter().cloned()),
                    account: Some(record),
                })
            }
        }
    }

    /// What the caller holds in one organization: a tenant admin or key holds its app-wide
    /// authority everywhere; an account needs a membership (else `organization_access_denied`).
    async fn in_organization(
        &self,
        acting: &Acting<'_>,
        organization_id: &str,
    ) -> Result<Authority, DirectoryError> {
        if acting.is_tenant() {
            return Ok(acting.app_wide.clone());
        }
        let Some(user_id) = acting.caller.user_id() else {
            return Err(DirectoryError::OrganizationAccessDenied);
        };
        let membership = self
            .storage
            .find_membership(acting.app_id, organization_id, user_id)
            .await?
            .ok_or(DirectoryError::OrganizationAccessDenied)?;
        Ok(Authority::of(
            Some(Role::from(membership.role)),
            membership.permissions.iter().cloned(),
        )
        .joined(&acting.app_wide))
    }

    async fn existing_organization(
        &self,
        app_id: &str,
        organization_id: &str,
    ) -> Result<OrganizationRecord, DirectoryError> {
        self.storage
            .find_organization(app_id, organization_id)
            .await?
            .ok_or(DirectoryError::NotFound("organization"))
    }

    /// The caller's organizations: every one of the app for a tenant admin or a key with
    /// `organizations:read` (paged), else the account's own (all at once).
    pub async fn list_organizations(
        &self,
        caller: &Caller,
        limit: u32,
        after_id: Option<String>,
    ) -> Result<OrganizationList, DirectoryError> {
        let acting = self.acting(caller).await?;
        if acting.is_tenant() {
            require(&acting.app_wide, ORGANIZATIONS_READ)?;
            let page = self
                .storage
                .list_organizations(acting.app_id, &OrganizationQuery { limit, after_id })
                .await?;
            return Ok(OrganizationList {
                organizations: page
                    .organizations
                    .into_iter()
                    .map(|organization| OrganizationView {
                        organization,
                        membership: None,
                    })
                    .collect(),
                next_cursor: page.next_cursor,
            });
        }
        let user_id = caller.user_id().unwrap_or_default();
        let joined = self
            .storage
            .list_user_memberships(acting.app_id, user_id)
            .await?;
        Ok(OrganizationList {
            organizations: joined
                .into_iter()
                .map(|joined| OrganizationView {
                    organization: joined.organization,
                    membership: Some(joined.membership),
                })
                .collect(),
            next_cursor: None,
        })
    }

    /// Creates an organization; an account that creates one becomes its `admin`. Who may is the
    /// app's `organization_creation` setting (tenant admins and keys with
    /// `organizations:write` always may).
    pub async fn create_organization(
        &self,
        caller: &Caller,
        new: NewOrganization,
    ) -> Result<OrganizationView, DirectoryError> {
        let context = self.app(caller.app_id()).await?;
        let acting = self.acting(caller).await?;
        if acting.is_tenant() {
            require(&acting.app_wide, ORGANIZATIONS_WRITE)?;
        } else {
            let account = acting
                .account
                .as_ref()
                .ok_or(DirectoryError::Unauthenticated)?;
            match context.app.account_settings.organization_creation {
                OrganizationCreation::AnyAccount => {}
                OrganizationCreation::VerifiedAccounts if account.account.email_verified => {}
                OrganizationCreation::VerifiedAccounts => {
                    return Err(DirectoryError::EmailNotVerified);
                }
                OrganizationCreation::TenantAdmins => {
                    return Err(DirectoryError::Forbidden(
                        "the role tenant_admin".to_owned(),
                    ));
                }
            }
        }
        let mut problems = Vec::new();
        let name = new.name.trim().to_owned();
        if let Some(problem) = check_organization_name("name", &name) {
            problems.push(problem);
        }
        let slug = match new.slug {
            Some(slug) => slug.trim().to_owned(),
            None => slug_of(&name),
        };
        if let Some(problem) = check_slug("slug", &slug) {
            problems.push(problem);
        }
        let domains = match new.allowed_email_domains {
            None => Vec::new(),
            Some(domains) => {
                normalize_domains("allowed_email_domains", &domains).unwrap_or_else(|found| {
                    problems.extend(found);
                    Vec::new()
                })
            }
        };
        if !problems.is_empty() {
            return Err(DirectoryError::Invalid(Violations(problems)));
        }
        let now = Timestamp::now();
        let organization = OrganizationRecord {
            id: format!("org_{}", random_text(16)),
            app_id: acting.app_id.to_owned(),
            name,
            slug,
            allowed_email_domains: domains,
            created_at: now,
            updated_at: now,
        };
        let creator = caller.user_id().map(|user_id| MembershipRecord {
            app_id: acting.app_id.to_owned(),
            organization_id: organization.id.clone(),
            user_id: user_id.to_owned(),
            role: MemberRole::Admin,
            permissions: Vec::new(),
            created_at: now,
            updated_at: now,
        });
        match self
            .storage
            .insert_organization(&organization, creator.as_ref())
            .await
        {
            Ok(()) => {}
            Err(StorageError::Duplicate(_)) => return Err(DirectoryError::SlugTaken),
            Err(StorageError::NotFound(_)) => return Err(DirectoryError::Unauthenticated),
            Err(other) => return Err(other.into()),
        }
        tracing::info!(app_id = acting.app_id, organization_id = %organization.id, "organization created");
        Ok(OrganizationView {
            organization,
            membership: creator,
        })
    }

    /// One organization, for its members (`organizations:read`) and tenant admins.
    pub async fn organization(
        &self,
        caller: &Caller,
        organization_id: &str,
    ) -> Result<OrganizationView, DirectoryError> {
        let acting = self.acting(caller).await?;
        let authority = self.in_organization(&acting, organization_id).await?;
        require(&authority, ORGANIZATIONS_READ)?;
        let organization = self
            .existing_organization(acting.app_id, organization_id)
            .await?;
        let membership = match caller.user_id() {
            Some(user_id) => {
                self.storage
                    .find_membership(acting.app_id, organization_id, user_id)
                    .await?
            }
            None => None,
        };
        Ok(OrganizationView {
            organization,
            membership,
        })
    }

    pub async fn update_organization(
        &self,
        caller: &Caller,
        organization_id: &str,
        update: OrganizationUpdate,
    ) -> Result<OrganizationView, DirectoryError> {
        let acting = self.acting(caller).await?;
        let authority = self.in_organization(&acting, organization_id).await?;
        require(&authority, ORGANIZATIONS_WRITE)?;
        let mut problems = Vec::new();
        let name = update.name.map(|name| name.trim().to_owned());
        if let Some(problem) = name
            .as_deref()
            .and_then(|name| check_organization_name("name", name))
        {
            problems.push(problem);
        }
        let slug = update.slug.map(|slug| slug.trim().to_owned());
        if let Some(problem) = slug.as_deref().and_then(|slug| check_slug("slug", slug)) {
            problems.push(problem);
        }
        let domains = match update.allowed_email_domains {
            None => None,
            Some(domains) => match normalize_domains("allowed_email_domains", &domains) {
                Ok(domains) => Some(domains),
                Err(found) => {
                    problems.extend(found);
                    None
                }
            },
        };
        if !problems.is_empty() {
            return Err(DirectoryError::Invalid(Violations(problems)));
        }
        let changes = OrganizationChanges {
            name,
            slug,
            allowed_email_domains: domains,
        };
        let organization = match self
            .storage
            .update_organization(acting.app_id, organization_id, &changes, Timestamp::now())
            .await
        {
            Ok(organization) => organization,
            Err(StorageError::Duplicate(_)) => return Err(DirectoryError::SlugTaken),
            Err(StorageError::NotFound(_)) => return Err(DirectoryError::NotFound("organization")),
            Err(other) => return Err(other.into()),
        };
        let membership = match caller.user_id() {
            Some(user_id) => {
                self.storage
                    .find_membership(acting.app_id, organization_id, user_id)
                    .await?
            }
            None => None,
        };
        Ok(OrganizationView {
            organization,
            membership,
        })
    }

    /// Deletes an organization with its memberships: tenant admins only (a key needs
    /// `organizations:write`).
    pub async fn delete_organization(
        &self,
        caller: &Caller,
        organization_id: &str,
    ) -> Result<(), DirectoryError> {
        let acting = self.acting(caller).await?;
        if !acting.is_tenant() {
            // A member learns nothing more than that it may not; others are not members.
            self.in_organization(&acting, organization_id).await?;
            return Err(DirectoryError::Forbidden(
                "the role tenant_admin".to_owned(),
            ));
        }
        require(&acting.app_wide, ORGANIZATIONS_WRITE)?;
        if !self
            .storage
            .delete_organization(acting.app_id, organization_id)
            .await?
        {
            return Err(DirectoryError::NotFound("organization"));
        }
        tracing::info!(
            app_id = acting.app_id,
            organization_id,
            "organization deleted"
        );
        Ok(())
    }

    /// A page of the organization's members (`users:read` there).
    pub async fn members(
        &self,
        caller: &Caller,
        organization_id: &str,
        query: MemberQuery,
    ) -> Result<MemberPage, DirectoryError> {
        let acting = self.acting(caller).await?;
        let authority = self.in_organization(&acting, organization_id).await?;
        require(&authority, USERS_READ)?;
        self.existing_organization(acting.app_id, organization_id)
            .await?;
        Ok(self
            .storage
            .list_members(acting.app_id, organization_id, &query)
            .await?)
    }

    /// Removes a member (`users:write` there, never someone above the caller), or the caller
    /// itself (leaving). Never the last admin.
    pub async fn remove_member(
        &self,
        caller: &Caller,
        organization_id: &str,
        user_id: &str,
    ) -> Result<(), DirectoryError> {
        let acting = self.acting(caller).await?;
        if caller.user_id() != Some(user_id) {
            let authority = self.in_organization(&acting, organization_id).await?;
            require(&authority, USERS_WRITE)?;
            let target = self
                .role_in(acting.app_id, organization_id, user_id)
                .await?
                .ok_or(DirectoryError::NotFound("membership"))?;
            if !authority.may_act_on(Some(target)) {
                return Err(DirectoryError::Forbidden(format!("the role {target}")));
            }
        }
        match self
            .storage
            .remove_membership(acting.app_id, organization_id, user_id)
            .await
        {
            Ok(true) => {
                tracing::info!(
                    app_id = acting.app_id,
                    organization_id,
                    user_id,
                    "membership removed"
                );
                Ok(())
            }
            Ok(false) => Err(DirectoryError::NotFound("membership")),
            Err(StorageError::LastAdmin) => Err(DirectoryError::LastAdmin),
            Err(other) => Err(other.into()),
        }
    }

    /// The role a user holds in an organization, counting `tenant_admin` (which is above every
    /// organization role); `None` when it is neither a member nor a tenant admin.
    async fn role_in(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
    ) -> Result<Option<Role>, DirectoryError> {
        let account = self.storage.find_account(app_id, user_id).await?;
        if account.is_some_and(|record| record.account.tenant_admin) {
            return Ok(Some(Role::TenantAdmin));
        }
        Ok(self
            .storage
            .find_membership(app_id, organization_id, user_id)
            .await?
            .map(|membership| Role::from(membership.role)))
    }

    /// Creates an account without a password (it sets one through the invitation), in an
    /// organization when one is named (an organization admin's own active one by default).
    pub async fn create_user(
        &self,
        caller: &Caller,
        new: NewUser,
    ) -> Result<ManagedUser, DirectoryError> {
        let context = self.app(caller.app_id()).await?;
        let acting = self.acting(caller).await?;
        let role = match new.role.as_deref() {
            None => Role::Member,
            Some(text) => Role::parse(text)
                .filter(|role| *role <= Role::TenantAdmin)
                .ok_or_else(|| {
                    invalid(
                        "role",
                        "enum",
                        "must be tenant_admin, admin, member or guest",
                    )
                })?,
        };
        let organization_id = new.organization_id.clone().or_else(|| {
            (!acting.is_tenant())
                .then(|| caller.active_organization().map(str::to_owned))
                .flatten()
        });
        let mut problems = Vec::new();
        let email = EmailAddress::parse(&new.email);
        if email.is_none() {
            problems.push(Violation::new(
                "email",
                "email",
                "must be a valid email address",
            ));
        }
        let name = new
            .name
            .map(|name| name.trim().to_owned())
            .filter(|n| !n.is_empty());
        if let Some(problem) = name
            .as_deref()
            .and_then(|name| check_person_name("name", name))
        {
            problems.push(problem);
        }
        problems.extend(check_permissions("permissions", &new.permissions));
        if organization_id.is_none() && !acting.is_tenant() {
            problems.push(Violation::new(
                "organization_id",
                "required",
                "name the organization the user joins",
            ));
        }
        let Some(email) = email.filter(|_| problems.is_empty()) else {
            return Err(DirectoryError::Invalid(Violations(problems)));
        };
        let authority = match &organization_id {
            Some(org) => self.in_organization(&acting, org).await?,
            None => acting.app_wide.clone(),
        };
        require(&authority, USERS_WRITE)?;
        authority.may_grant(Some(role), new.permissions.iter().map(String::as_str))?;
        let joining = organization_id.map(|organization_id| Joining {
            organization_id,
            role: role.in_organization().unwrap_or(MemberRole::Member),
            permissions: if role == Role::TenantAdmin {
                Vec::new()
            } else {
                new.permissions.clone()
            },
        });
        let now = Timestamp::now();
        let account = NewAccount {
            new_id: uuid::Uuid::now_v7().to_string(),
            email: email.as_ref().to_owned(),
            password_hash: None,
            name,
            data: serde_json::Map::new(),
            schema_version: context.schema_version,
            tenant_admin: role == Role::TenantAdmin,
            joining,
            now,
        };
        let record = match self.storage.register_account(acting.app_id, &account).await {
            Ok(registered) => registered.into_record(),
            Err(StorageError::Duplicate(_)) => return Err(DirectoryError::EmailTaken),
            Err(StorageError::NotFound(_)) => return Err(DirectoryError::NotFound("organization")),
            Err(other) => return Err(other.into()),
        };
        let record = if role == Role::TenantAdmin && !new.permissions.is_empty() {
            self.storage
                .update_account(
                    acting.app_id,
                    &record.user.id,
                    &AccountChanges {
                        permissions: Some(new.permissions),
                        ..AccountChanges::default()
                    },
                    now,
                )
                .await?
        } else {
            record
        };
        tracing::info!(
            app_id = acting.app_id,
            user_id = %record.user.id,
            send_invite = new.send_invite,
            "account created by an admin"
        );
        if new.send_invite {
            // The set-password invitation: accepting it sets the password and verifies the
            // address (the membership exists already; accepting keeps it).
            let joined = self
                .storage
                .list_user_memberships(acting.app_id, &record.user.id)
                .await?;
            let organization = joined.first().map(|j| j.organization.clone());
            let inviter = acting
                .account
                .as_ref()
                .map(|r| r.account.name.clone().unwrap_or(r.user.email.clone()));
            self.postman
                .issue(
                    &context.app,
                    storage_port::TokenPurpose::Invitation,
                    Letter {
                        email: record.user.email.clone(),
                        user_id: Some(record.user.id.clone()),
                        name: record.account.name.clone(),
                        organization_id: organization.as_ref().map(|o| o.id.clone()),
                        organization_name: organization.map(|o| o.name),
                        role: joined.first().map(|j| j.membership.role),
                        invited_by: caller.user_id().map(str::to_owned),
                        inviter,
                        message: None,
                    },
                )
                .await?;
        }
        let memberships = self
            .storage
            .list_user_memberships(acting.app_id, &record.user.id)
            .await?;
        Ok(ManagedUser {
            record,
            memberships,
        })
    }

    /// The app's accounts: tenant-wide with `users:read`, or one organization's members with
    /// `users:read` there. `role` is `tenant_admin`, or an organization role together with
    /// `organization_id`.
    pub async fn list_users(
        &self,
        caller: &Caller,
        listing: UserListing,
    ) -> Result<UserList, DirectoryError> {
        let acting = self.acting(caller).await?;
        let (tenant_admin, role) = match listing.role.as_deref() {
            None => (None, None),
            Some(text) => match Role::parse(text) {
                Some(Role::TenantAdmin) => (Some(true), None),
                Some(role) if role.in_organization().is_some() => {
                    if listing.organization_id.is_none() {
                        return Err(invalid(
                            "organization_id",
                            "required",
                            "an organization role is listed within one organization",
                        ));
                    }
                    (None, role.in_organization())
                }
                _ => {
                    return Err(invalid(
                        "role",
                        "enum",
                        "must be tenant_admin, admin, member or guest",
                    ));
                }
            },
        };
        let authority = match &listing.organization_id {
            Some(org) => self.in_organization(&acting, org).await?,
            None => acting.app_wide.clone(),
        };
        if listing.organization_id.is_none() && !acting.is_tenant() {
            return Err(DirectoryError::Forbidden(format!(
                "{USERS_READ} (app-wide)"
            )));
        }
        require(&authority, USERS_READ)?;
        let query = AccountQuery {
            limit: listing.limit,
            after_id: listing.after_id,
            text: listing
                .q
                .map(|q| q.trim().to_ascii_lowercase())
                .filter(|q| !q.is_empty()),
            tenant_admin,
            organization_id: listing.organization_id.clone(),
            role,
        };
        let page = self.storage.list_accounts(acting.app_id, &query).await?;
        // Each with its memberships, read for the whole page at once: all of them for a
        // tenant-wide caller, else the one of the organization listed (which it may read).
        let ids: Vec<String> = page.accounts.iter().map(|a| a.user.id.clone()).collect();
        let mut by_user: HashMap<String, Vec<Joined>> = HashMap::new();
        for joined in self
            .storage
            .list_users_memberships(acting.app_id, &ids)
            .await?
        {
            let visible = acting.is_tenant()
                || Some(joined.organization.id.as_str()) == listing.organization_id.as_deref();
            if visible {
                by_user
                    .entry(joined.membership.user_id.clone())
                    .or_default()
                    .push(joined);
            }
        }
        let users = page
            .accounts
            .into_iter()
            .map(|record| ManagedUser {
                memberships: by_user.remove(&record.user.id).unwrap_or_default(),
                record,
            })
            .collect();
        Ok(UserList {
            users,
            next_cursor: page.next_cursor,
        })
    }

    /// The account `user_id` of the caller's app with its memberships, or `NotFound("user")`.
    async fn target(
        &self,
        acting: &Acting<'_>,
        user_id: &str,
    ) -> Result<(AccountRecord, Vec<Joined>), DirectoryError> {
        let record = self
            .storage
            .find_account(acting.app_id, user_id)
            .await?
            .ok_or(DirectoryError::NotFound("user"))?;
        let memberships = self
            .storage
            .list_user_memberships(acting.app_id, user_id)
            .await?;
        Ok((record, memberships))
    }

    /// One account, for a tenant admin (`users:read`) or a reader of an organization it
    /// belongs to (which sees only the memberships of organizations it may read).
    pub async fn user(
        &self,
        caller: &Caller,
        user_id: &str,
    ) -> Result<ManagedUser, DirectoryError> {
        let acting = self.acting(caller).await?;
        let (record, memberships) = self.target(&acting, user_id).await?;
        if acting.is_tenant() {
            require(&acting.app_wide, USERS_READ)?;
            return Ok(ManagedUser {
                record,
                memberships,
            });
        }
        let mut visible = Vec::new();
        for joined in memberships {
            if let Ok(authority) = self.in_organization(&acting, &joined.organization.id).await
                && authority.has(USERS_READ)
            {
                visible.push(joined);
            }
        }
        if visible.is_empty() && caller.user_id() != Some(user_id) {
            // Not one of the caller's organizations: as if it did not exist.
            return Err(DirectoryError::NotFound("user"));
        }
        Ok(ManagedUser {
            record,
            memberships: visible,
        })
    }

    /// Checks that the caller may change or erase `target` as a whole (name, disabled,
    /// erasure): a tenant admin (or key) with `permission` that is not below the target; or an
    /// organization admin with `permission` in every organization the target belongs to, none
    /// of them with the target above it, and the target not a tenant admin.
    async fn may_change_account(
        &self,
        acting: &Acting<'_>,
        target: &AccountRecord,
        memberships: &[Joined],
        permission: &str,
    ) -> Result<(), DirectoryError> {
        let target_top = target.account.tenant_admin.then_some(Role::TenantAdmin);
        if acting.is_tenant() {
            require(&acting.app_wide, permission)?;
            if !acting.app_wide.may_act_on(target_top) {
                return Err(DirectoryError::Forbidden(
                    "the role tenant_admin".to_owned(),
                ));
            }
            return Ok(());
        }
        let mut authorities = Vec::with_capacity(memberships.len());
        for joined in memberships {
            authorities.push(
                self.in_organization(acting, &joined.organization.id)
                    .await
                    .ok(),
            );
        }
        if authorities.iter().all(Option::is_none) {
            // In none of the caller's organizations: as if it did not exist (as reading it).
            return Err(DirectoryError::NotFound("user"));
        }
        if target.account.tenant_admin {
            return Err(DirectoryError::Forbidden(
                "the role tenant_admin".to_owned(),
            ));
        }
        for (joined, authority) in memberships.iter().zip(authorities) {
            // Also in an organization the caller is not in: out of its reach.
            let authority = authority.ok_or(DirectoryError::OrganizationAccessDenied)?;
            require(&authority, permission)?;
            let theirs = Role::from(joined.membership.role);
            if !authority.may_act_on(Some(theirs)) {
                return Err(DirectoryError::Forbidden(format!("the role {theirs}")));
            }
        }
        Ok(())
    }

    /// Changes a user. `name` and `disabled` are the account's (see `may_change_account`);
    /// `role: tenant_admin` is app-wide (tenant admins only); another role and `permissions`
    /// are a membership's: in `organization_id`, else the caller's active organization (for an
    /// organization admin), else the user's only organization. A tenant admin's `permissions`
    /// without any organization are app-wide. Disabling ends every session of the user.
    pub async fn update_user(
        &self,
        caller: &Caller,
        user_id: &str,
        update: UserUpdate,
    ) -> Result<ManagedUser, DirectoryError> {
        let acting = self.acting(caller).await?;
        let (target, memberships) = self.target(&acting, user_id).await?;
        let role = match update.role.as_deref() {
            None => None,
            Some(text) => Some(
                Role::parse(text)
                    .filter(|role| *role <= Role::TenantAdmin)
                    .ok_or_else(|| {
                        invalid(
                            "role",
                            "enum",
                            "must be tenant_admin, admin, member or guest",
                        )
                    })?,
            ),
        };
        let mut problems = Vec::new();
        let name = update
            .name
            .map(|name| name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()));
        if let Some(problem) = name
            .as_ref()
            .and_then(|n| n.as_deref())
            .and_then(|n| check_person_name("name", n))
        {
            problems.push(problem);
        }
        if let Some(permissions) = &update.permissions {
            problems.extend(check_permissions("permissions", permissions));
        }
        if !problems.is_empty() {
            return Err(DirectoryError::Invalid(Violations(problems)));
        }
        if name.is_some() || update.disabled.is_some() {
            self.may_change_account(&acting, &target, &memberships, USERS_WRITE)
                .await?;
        }
        // Which organization a role or permissions change is about.
        let scope = update
            .organization_id
            .clone()
            .or_else(|| {
                (!acting.is_tenant())
                    .then(|| caller.active_organization().map(str::to_owned))
                    .flatten()
            })
            .or_else(|| {
                (role.is_some_and(|r| r.in_organization().is_some()) && memberships.len() == 1)
                    .then(|| memberships[0].organization.id.clone())
            });
        let target_top = target.account.tenant_admin.then_some(Role::TenantAdmin);
        let mut account_changes = AccountChanges {
            name,
            disabled: update.disabled,
            ..AccountChanges::default()
        };
        let mut membership_changes = MembershipChanges::default();
        if let Some(role) = role {
            if role == Role::TenantAdmin || target.account.tenant_admin {
                // Granting or taking away the app-wide role.
                if !acting.is_tenant() {
                    return Err(DirectoryError::Forbidden(
                        "the role tenant_admin".to_owned(),
                    ));
                }
                require(&acting.app_wide, ROLES_WRITE)?;
                if !acting.app_wide.may_act_on(target_top) {
                    return Err(DirectoryError::Forbidden(
                        "the role tenant_admin".to_owned(),
                    ));
                }
                acting.app_wide.may_grant(Some(role), [])?;
                account_changes.tenant_admin = Some(role == Role::TenantAdmin);
            }
            if let Some(member_role) = role.in_organization() {
                match &scope {
                    Some(_) => membership_changes.role = Some(member_role),
                    None if target.account.tenant_admin => {}
                    None => {
                        return Err(invalid(
                            "organization_id",
                            "required",
                            "name the organization whose role changes",
                        ));
                    }
                }
            }
        }
        if let Some(permissions) = update.permissions {
            match &scope {
                Some(_) => membership_changes.permissions = Some(permissions),
                None if acting.is_tenant() => {
                    require(&acting.app_wide, ROLES_WRITE)?;
                    acting
                        .app_wide
                        .may_grant(None, permissions.iter().map(String::as_str))?;
                    account_changes.permissions = Some(permissions);
                }
                None => {
                    return Err(invalid(
                        "organization_id",
                        "required",
                        "name the organization whose permissions change",
                    ));
                }
            }
        }
        if membership_changes.role.is_some() || membership_changes.permissions.is_some() {
            let org = scope.as_deref().unwrap_or_default();
            let authority = self.in_organization(&acting, org).await?;
            require(&authority, ROLES_WRITE)?;
            let current = memberships
                .iter()
                .find(|joined| joined.organization.id == org)
                .ok_or(DirectoryError::NotFound("membership"))?;
            let theirs = target_top.max(Some(Role::from(
                current
                    .membership
                    .role
                    .max(membership_changes.role.unwrap_or(current.membership.role)),
            )));
            if !authority.may_act_on(theirs) {
                return Err(DirectoryError::Forbidden(format!(
                    "the role {}",
                    theirs.unwrap_or(Role::Guest)
                )));
            }
            authority.may_grant(
                membership_changes.role.map(Role::from),
                membership_changes
                    .permissions
                    .iter()
                    .flatten()
                    .map(String::as_str),
            )?;
            match self
                .storage
                .update_membership(
                    acting.app_id,
                    org,
                    user_id,
                    &membership_changes,
                    Timestamp::now(),
                )
                .await
            {
                Ok(_) => {}
                Err(StorageError::LastAdmin) => return Err(DirectoryError::LastAdmin),
                Err(StorageError::NotFound(_)) => {
                    return Err(DirectoryError::NotFound("membership"));
                }
                Err(other) => return Err(other.into()),
            }
        }
        let record = if account_changes == AccountChanges::default() {
            target
        } else {
            self.storage
                .update_account(acting.app_id, user_id, &account_changes, Timestamp::now())
                .await?
        };
        if account_changes.disables() {
            tracing::info!(
                app_id = acting.app_id,
                user_id,
                "account disabled; its sessions ended"
            );
        }
        let memberships = self
            .storage
            .list_user_memberships(acting.app_id, user_id)
            .await?;
        Ok(ManagedUser {
            record,
            memberships,
        })
    }

    /// Erases a user with its sessions and memberships (`users:delete`; see
    /// `may_change_account`).
    /// A user's sessions, active ones, newest first (`users:read` tenant-wide: the dashboard).
    pub async fn user_sessions(
        &self,
        caller: &Caller,
        user_id: &str,
    ) -> Result<Vec<storage_port::SessionRecord>, DirectoryError> {
        let acting = self.acting(caller).await?;
        if !acting.is_tenant() {
            return Err(DirectoryError::Forbidden(
                "the role tenant_admin".to_owned(),
            ));
        }
        require(&acting.app_wide, USERS_READ)?;
        self.storage
            .find_account(acting.app_id, user_id)
            .await?
            .ok_or(DirectoryError::NotFound("user"))?;
        Ok(self
            .storage
            .list_user_sessions(acting.app_id, user_id, Timestamp::now())
            .await?)
    }

    /// Ends every session of a user (`users:write` over it): its refresh tokens stop working
    /// at once, its access tokens within a second.
    pub async fn end_user_sessions(
        &self,
        caller: &Caller,
        user_id: &str,
    ) -> Result<u64, DirectoryError> {
        let acting = self.acting(caller).await?;
        let (target, memberships) = self.target(&acting, user_id).await?;
        self.may_change_account(&acting, &target, &memberships, USERS_WRITE)
            .await?;
        let ended = self
            .storage
            .revoke_user_sessions(acting.app_id, user_id, None, Timestamp::now())
            .await?;
        tracing::info!(
            app_id = acting.app_id,
            user_id,
            ended,
            "sessions ended by an admin"
        );
        Ok(ended)
    }

    pub async fn delete_user(&self, caller: &Caller, user_id: &str) -> Result<(), DirectoryError> {
        let acting = self.acting(caller).await?;
        let (target, memberships) = self.target(&acting, user_id).await?;
        self.may_change_account(&acting, &target, &memberships, USERS_DELETE)
            .await?;
        if !self.storage.delete_user(acting.app_id, user_id).await? {
            return Err(DirectoryError::NotFound("user"));
        }
        tracing::info!(
            app_id = acting.app_id,
            user_id,
            "account erased by an admin"
        );
        Ok(())
    }
}

fn check_organization_name(field: &str, name: &str) -> Option<Violation> {
    let length = name.chars().count();
    (length == 0 || length > MAX_ORGANIZATION_NAME || name.chars().any(char::is_control)).then(
        || {
            Violation::new(
                field,
                "invalid",
                format!(
                    "must be 1 to {MAX_ORGANIZATION_NAME} characters, without control characters"
                ),
            )
        },
    )
}

fn check_person_name(field: &str, name: &str) -> Option<Violation> {
    let length = name.chars().count();
    (length == 0 || length > 200 || name.chars().any(char::is_control)).then(|| {
        Violation::new(
            field,
            "invalid",
            "must be 1 to 200 characters, without control characters",
        )
    })
}

/// `acme-inc` from `Acme, Inc.`: lower-case ASCII letters and digits, runs of anything else
/// one hyphen, at most 64 characters.
pub fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let mut slug: String = slug.chars().take(MAX_SLUG).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug = format!(
            "org-{}",
            random_text(6).to_ascii_lowercase().replace(['_', '-'], "x")
        );
    }
    slug
}

fn check_slug(field: &str, slug: &str) -> Option<Violation> {
    let ok = (1..=MAX_SLUG).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    (!ok).then(|| {
        Violation::new(
            field,
            "format",
            "must be 1 to 64 lower-case letters, digits and inner hyphens",
        )
    })
}

/// Domains in their ASCII (IDNA) form, lower-case, without duplicates; an address's domain is
/// compared in the same form.
fn normalize_domains(field: &str, domains: &[String]) -> Result<Vec<String>, Vec<Violation>> {
    let mut problems = Vec::new();
    let mut normalized: Vec<String> = Vec::new();
    if domains.len() > MAX_DOMAINS {
        problems.push(Violation::new(
            field,
            "max_items",
            format!("at most {MAX_DOMAINS} domains"),
        ));
    }
    for (index, domain) in domains.iter().enumerate() {
        match normalize_domain(domain) {
            Some(domain) => {
                if !normalized.contains(&domain) {
                    normalized.push(domain);
                }
            }
            None => problems.push(Violation::new(
                format!("{field}[{index}]"),
                "format",
                "must be a domain name such as example.com",
            )),
        }
    }
    if problems.is_empty() {
        Ok(normalized)
    } else {
        Err(problems)
    }
}

/// A domain in its ASCII form (`bücher.example` → `xn--bcher-kva.example`), when it is one
/// with at least two labels.
pub fn normalize_domain(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('.');
    if text.is_empty() || text.len() > 253 || text.contains(['@', '/', ':', ' ']) {
        return None;
    }
    let ascii = idna::domain_to_ascii(text).ok()?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let valid = labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    valid.then_some(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_names() {
        assert_eq!(slug_of("Acme, Inc."), "acme-inc");
        assert_eq!(slug_of("  Déjà vu  42 "), "d-j-vu-42");
        assert!(slug_of("日本").starts_with("org-"));
        assert!(check_slug("slug", &slug_of("日本")).is_none());
        assert_eq!(slug_of(&"a".repeat(100)).len(), 64);
        for bad in ["", "-a", "a-", "A", "a_b", "a b"] {
            assert!(check_slug("slug", bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn domains_are_compared_in_their_ascii_form() {
        assert_eq!(
            normalize_domain("Example.COM").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            normalize_domain("bücher.example").as_deref(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(
            normalize_domain("example.com.").as_deref(),
            Some("example.com")
        );
        for bad in [
            "",
            "localhost",
            "a@b.com",
            "http://x.com",
            "-a.com",
            "a..com",
            "a b.com",
        ] {
            assert_eq!(normalize_domain(bad), None, "{bad}");
        }
    }
}

//! The account flows that go through a mailbox (ACCOUNTS.md §3): email verification, password
//! reset, and accepting an invitation. Each link carries a one-time token; the store keeps its
//! SHA-256, and spending it is one conditional write (`MailStore::consume_token`), so a link
//! works once even when two requests race.

use std::sync::Arc;

use schema_validation::{Violation, Violations};
use secrecy::SecretString;
use storage_port::{
    AccountChanges, AccountRecord, AppRecord, MemberRole, MembershipRecord, NewAccount,
    OneTimeToken, Storage, StorageError, Timestamp, TokenPurpose,
};

use super::{AccountError, AccountService, AccountView, ClientInfo, LoggedIn, check_name};
use crate::mail::{Letter, Postman, token_hash};
use crate::password_policy::check_new_password;
use crate::{AccountCaller, EmailAddress};

/// What a verification link did.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedEmail {
    pub app_id: String,
    pub user_id: String,
    pub email: String,
    /// Organizations joined on the way (by their email domains, or the invitation of the
    /// organization named at registration).
    pub joined: Vec<String>,
}

/// Where an invitation stands, for the accept page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Expired => "expired",
        }
    }
}

/// What `GET /v1/invites/{token}` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitationView {
    pub token: OneTimeToken,
    pub app_name: String,
    pub organization_name: Option<String>,
    /// The inviter's name, else address; `None` for an API key or an erased account.
    pub inviter: Option<String>,
    pub status: InvitationStatus,
    /// Whether the address has an account with a password (the page then asks to log in
    /// rather than for a new password).
    pub account_exists: bool,
}

/// An invitation accepted as the client sent it.
#[derive(Debug)]
pub struct Acceptance {
    pub token: String,
    /// Needed when the address has no account with a password yet.
    pub password: Option<SecretString>,
    pub name: Option<String>,
}

impl<S: Storage + ?Sized> AccountService<S> {
    /// Whether an address may name `organization_id` at registration: one of its domains, or a
    /// pending invitation of the address there.
    pub(super) async fn may_join(
        &self,
        app_id: &str,
        organization_id: &str,
        email: &str,
    ) -> Result<bool, AccountError> {
        let Some(organization) = self
            .storage
            .find_organization(app_id, organization_id)
            .await?
        else {
            return Ok(false);
        };
        // Compared in the ASCII (IDNA) form the organization stores.
        let domain = email.rsplit('@').next().and_then(crate::normalize_domain);
        if domain.is_some_and(|domain| organization.allowed_email_domains.contains(&domain)) {
            return Ok(true);
        }
        Ok(self
            .storage
            .list_usable_tokens(
                app_id,
                TokenPurpose::Invitation,
                Some(organization_id),
                Timestamp::now(),
            )
            .await?
            .iter()
            .any(|token| token.email == email))
    }

    /// Queues the verification message of an account; `organization_id` is the organization it
    /// named at registration, joined when the link is opened.
    pub(super) async fn send_verification(
        &self,
        app: &AppRecord,
        record: &AccountRecord,
        organization_id: Option<String>,
    ) -> Result<(), StorageError> {
        self.postman
            .issue(
                app,
                TokenPurpose::VerifyEmail,
                Letter {
                    email: record.user.email.clone(),
                    user_id: Some(record.user.id.clone()),
                    name: record.account.name.clone(),
                    organization_id,
                    ..Letter::default()
                },
            )
            .await
            .map(|_| ())
    }

    /// Sends a new verification link to the caller (`false`: the address is verified
    /// already, nothing sent). One per [`crate::MailConfig::resend_interval`] and address.
    pub async fn resend_verification(&self, caller: &AccountCaller) -> Result<bool, AccountError> {
        let context = self.app(caller.app_id()).await?;
        let record = self
            .storage
            .find_account(caller.app_id(), caller.user_id())
            .await?
            .ok_or(AccountError::InvalidToken)?;
        if record.account.email_verified {
            return Ok(false);
        }
        // A registration's organization survives the resend.
        let organization_id = self
            .storage
            .list_usable_tokens(
                caller.app_id(),
                TokenPurpose::VerifyEmail,
                None,
                Timestamp::now(),
            )
            .await?
            .into_iter()
            .find(|token| token.user_id.as_deref() == Some(caller.user_id()))
            .and_then(|token| token.organization_id);
        let letter = Letter {
            email: record.user.email.clone(),
            user_id: Some(record.user.id.clone()),
            name: record.account.name.clone(),
            organization_id,
            ..Letter::default()
        };
        match self
            .postman
            .issue_unless_recent(&context.app, TokenPurpose::VerifyEmail, letter)
            .await?
        {
            Ok(_) => Ok(true),
            Err(wait) => Err(AccountError::TooSoon(wait)),
        }
    }

    /// The app a link's token belongs to, if it is one of ours (for the HTTP tier's CORS check
    /// before the link is used).
    pub async fn link_app(&self, token: &str) -> Result<Option<String>, AccountError> {
        if token.is_empty() || token.len() > 200 {
            return Ok(None);
        }
        Ok(self
            .storage
            .find_token(&token_hash(token))
            .await?
            .map(|found| found.app_id))
    }

    /// Reads a usable token of `purpose`, without spending it.
    async fn usable_token(
        &self,
        token: &str,
        purpose: TokenPurpose,
    ) -> Result<OneTimeToken, AccountError> {
        if token.is_empty() || token.len() > 200 {
            return Err(AccountError::LinkInvalid);
        }
        self.storage
            .find_token(&token_hash(token))
            .await?
            .filter(|found| found.purpose == purpose && found.is_usable(Timestamp::now()))
            .ok_or(AccountError::LinkInvalid)
    }

    /// Spends a token read by [`Self::usable_token`]; of racing requests one gets it.
    async fn spend(&self, token: &str) -> Result<OneTimeToken, AccountError> {
        self.storage
            .consume_token(&token_hash(token), Timestamp::now())
            .await?
            .ok_or(AccountError::LinkInvalid)
    }

    /// The account a token is for, if it still has the token's address.
    async fn account_of(&self, token: &OneTimeToken) -> Result<AccountRecord, AccountError> {
        let user_id = token.user_id.as_deref().ok_or(AccountError::LinkInvalid)?;
        self.storage
            .find_account(&token.app_id, user_id)
            .await?
            .filter(|record| record.user.email == token.email)
            .ok_or(AccountError::LinkInvalid)
    }

    async fn mark_verified(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<AccountRecord, AccountError> {
        let record = self
            .storage
            .update_account(
                app_id,
                user_id,
                &AccountChanges {
                    email_verified: Some(true),
                    ..AccountChanges::default()
                },
                Timestamp::now(),
            )
            .await?;
        self.accounts_read.forget(app_id, user_id);
        Ok(record)
    }

    /// Adds a membership; one that exists already is left as it is (`false`).
    async fn join(
        &self,
        app_id: &str,
        organization_id: &str,
        user_id: &str,
        role: MemberRole,
    ) -> Result<bool, AccountError> {
        let now = Timestamp::now();
        let membership = MembershipRecord {
            app_id: app_id.to_owned(),
            organization_id: organization_id.to_owned(),
            user_id: user_id.to_owned(),
            role,
            permissions: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        match self.storage.add_membership(&membership).await {
            Ok(()) => Ok(true),
            Err(StorageError::Duplicate(_)) => Ok(false),
            // The organization was deleted meanwhile.
            Err(StorageError::NotFound(_)) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Opens a verification link: the address is verified, the lead's data shows, and the
    /// account joins the organizations of its email domain and the one it named at
    /// registration (through that one's domain or its pending invitation, which is spent).
    pub async fn verify_email(&self, token: &str) -> Result<VerifiedEmail, AccountError> {
        self.usable_token(token, TokenPurpose::VerifyEmail).await?;
        let spent = self.spend(token).await?;
        let record = self.account_of(&spent).await?;
        let app_id = record.user.app_id.clone();
        let user_id = record.user.id.clone();
        self.mark_verified(&app_id, &user_id).await?;
        let mut joined = Vec::new();
        let domain = record
            .user
            .email
            .rsplit('@')
            .next()
            .and_then(crate::normalize_domain);
        if let Some(domain) = domain {
            for organization in self
                .storage
                .organizations_for_domain(&app_id, &domain)
                .await?
            {
                if self
                    .join(&app_id, &organization.id, &user_id, MemberRole::Member)
                    .await?
                {
                    joined.push(organization.id);
                }
            }
        }
        if let Some(named) = spent.organization_id.as_deref() {
            let invitation = self
                .storage
                .list_usable_tokens(
                    &app_id,
                    TokenPurpose::Invitation,
                    Some(named),
                    Timestamp::now(),
                )
                .await?
                .into_iter()
                .find(|invitation| invitation.email == record.user.email);
            if let Some(invitation) = invitation {
                let spent_invitation = self
                    .storage
                    .consume_token(&invitation.token_hash, Timestamp::now())
                    .await?;
                if let Some(invitation) = spent_invitation {
                    let role = invitation.role.unwrap_or(MemberRole::Member);
                    if self.join(&app_id, named, &user_id, role).await? {
                        joined.push(named.to_owned());
                    }
                }
            }
        }
        tracing::info!(app_id = %app_id, user_id = %user_id, joined = joined.len(), "email verified");
        Ok(VerifiedEmail {
            app_id,
            user_id,
            email: record.user.email,
            joined,
        })
    }

    /// Sets a new password with a reset link: the address counts as verified (the link reached
    /// it) and every session of the account ends.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: SecretString,
    ) -> Result<(), AccountError> {
        let found = self
            .usable_token(token, TokenPurpose::ResetPassword)
            .await?;
        let words = [found.email.as_str()];
        if let Some(problem) = check_new_password("new_password", &new_password, &words) {
            return Err(AccountError::Invalid(Violations(vec![problem])));
        }
        let hash = self.hasher.hash(new_password).await?;
        let spent = self.spend(token).await?;
        let record = self.account_of(&spent).await?;
        let (app_id, user_id) = (record.user.app_id.as_str(), record.user.id.as_str());
        let now = Timestamp::now();
        self.storage
            .replace_account_password(app_id, user_id, &hash, now)
            .await?;
        self.storage
            .revoke_user_sessions(app_id, user_id, None, now)
            .await?;
        self.checked.clear();
        self.mark_verified(app_id, user_id).await?;
        tracing::info!(
            app_id,
            user_id,
            "password reset by email link; every session ended"
        );
        Ok(())
    }

    /// What an invitation link is, for the page that accepts it. Unknown: `LinkInvalid`.
    pub async fn invitation(&self, token: &str) -> Result<InvitationView, AccountError> {
        if token.is_empty() || token.len() > 200 {
            return Err(AccountError::LinkInvalid);
        }
        let token = self
            .storage
            .find_token(&token_hash(token))
            .await?
            .filter(|found| found.purpose == TokenPurpose::Invitation)
            .ok_or(AccountError::LinkInvalid)?;
        let context = self.app(&token.app_id).await?;
        let organization_name = match &token.organization_id {
            // An invitation to an organization deleted since is no invitation.
            Some(id) => Some(
                self.storage
                    .find_organization(&token.app_id, id)
                    .await?
                    .ok_or(AccountError::LinkInvalid)?
                    .name,
            ),
            None => None,
        };
        let inviter = match &token.invited_by {
            Some(id) => self
                .storage
                .find_account(&token.app_id, id)
                .await?
                .map(|record| record.account.name.unwrap_or(record.user.email)),
            None => None,
        };
        let account_exists = self
            .storage
            .find_account_by_email(&token.app_id, &token.email)
            .await?
            .is_some_and(|record| record.account.password_hash.is_some());
        let status = if token.used_at.is_some() {
            InvitationStatus::Accepted
        } else if token.is_usable(Timestamp::now()) {
            InvitationStatus::Pending
        } else {
            InvitationStatus::Expired
        };
        Ok(InvitationView {
            app_name: context.app.name.clone(),
            token,
            organization_name,
            inviter,
            status,
            account_exists,
        })
    }

    /// Accepts an invitation and logs the person in, in the invitation's organization.
    ///
    /// - An address without an account, or with one that has no password yet (created by an
    ///   admin), sets `password`; the address becomes verified.
    /// - An address whose account has a password must come with that account's own access
    ///   token (`caller`): else `LoginRequired`, or `InvitationForAnotherAccount`.
    ///
    /// Everything is checked before the token is spent, so a refused attempt leaves it
    /// usable; of racing accepts one spends it and makes the membership.
    pub async fn accept_invitation(
        &self,
        acceptance: Acceptance,
        caller: Option<&AccountCaller>,
        client: ClientInfo,
    ) -> Result<LoggedIn, AccountError> {
        let found = self
            .usable_token(&acceptance.token, TokenPurpose::Invitation)
            .await?;
        let app_id = found.app_id.clone();
        let context = self.app(&app_id).await?;
        if caller.is_some_and(|caller| caller.app_id() != app_id) {
            return Err(AccountError::TenantMismatch);
        }
        let existing = self
            .storage
            .find_account_by_email(&app_id, &found.email)
            .await?;
        let name = acceptance.name.map(|name| name.trim().to_owned());
        if let Some(problem) = name.as_deref().and_then(|name| check_name("name", name)) {
            return Err(AccountError::Invalid(Violations(vec![problem])));
        }
        let organization_id = found.organization_id.clone();
        if let Some(org) = &organization_id
            && self
                .storage
                .find_organization(&app_id, org)
                .await?
                .is_none()
        {
            return Err(AccountError::LinkInvalid);
        }
        if existing
            .as_ref()
            .is_some_and(|record| record.account.disabled)
        {
            return Err(AccountError::AccountDisabled);
        }
        let has_password = existing
            .as_ref()
            .is_some_and(|record| record.account.password_hash.is_some());
        if has_password {
            let record = existing.as_ref().ok_or(AccountError::LinkInvalid)?;
            match caller {
                None => return Err(AccountError::LoginRequired),
                Some(caller) if caller.user_id() != record.user.id => {
                    return Err(AccountError::InvitationForAnotherAccount);
                }
                Some(_) => {}
            }
            if let Some(org) = &organization_id
                && self
                    .storage
                    .find_membership(&app_id, org, &record.user.id)
                    .await?
                    .is_some()
            {
                return Err(AccountError::AlreadyMember);
            }
        }
        // A new password is checked (and hashed) before the token is spent.
        let password_hash = if has_password {
            None
        } else {
            let Some(password) = acceptance.password else {
                return Err(AccountError::Invalid(Violations(vec![Violation::new(
                    "password",
                    "required",
                    "choose a password (8 to 128 characters)",
                )])));
            };
            let words: Vec<&str> = [Some(found.email.as_str()), name.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            if let Some(problem) = check_new_password("password", &password, &words) {
                return Err(AccountError::Invalid(Violations(vec![problem])));
            }
            Some(self.hasher.hash(password).await?)
        };
        let spent = self.spend(&acceptance.token).await?;
        let role = spent.role.unwrap_or(MemberRole::Member);
        let now = Timestamp::now();
        let user_id = match (existing, password_hash) {
            (Some(record), None) => record.user.id,
            (Some(record), Some(hash)) => {
                // An account an admin created: it sets its password now.
                self.storage
                    .replace_account_password(&app_id, &record.user.id, &hash, now)
                    .await?;
                record.user.id
            }
            (None, hash) => {
                let new = NewAccount {
                    new_id: uuid::Uuid::now_v7().to_string(),
                    email: spent.email.clone(),
                    password_hash: hash,
                    name: name.clone().filter(|name| !name.is_empty()),
                    data: serde_json::Map::new(),
                    schema_version: context.schema_version,
                    tenant_admin: false,
                    joining: None,
                    now,
                };
                match self.storage.register_account(&app_id, &new).await {
                    Ok(registered) => registered.into_record().user.id,
                    // Registered between the check and now: accept into that account only
                    // with its token, which this request did not have.
                    Err(StorageError::Duplicate(_)) => return Err(AccountError::LoginRequired),
                    Err(other) => return Err(other.into()),
                }
            }
        };
        let changes = AccountChanges {
            email_verified: Some(true),
            name: name
                .filter(|name| !name.is_empty())
                .map(Some)
                .filter(|_| !has_password),
            ..AccountChanges::default()
        };
        self.storage
            .update_account(&app_id, &user_id, &changes, now)
            .await?;
        self.accounts_read.forget(&app_id, &user_id);
        if let Some(org) = &organization_id {
            self.join(&app_id, org, &user_id, role).await?;
        }
        self.storage.record_login(&app_id, &user_id, now).await?;
        tracing::info!(app_id = %app_id, user_id = %user_id, organization_id = ?organization_id, "invitation accepted");
        let record = self
            .storage
            .find_account(&app_id, &user_id)
            .await?
            .ok_or(AccountError::InvalidToken)?;
        let memberships = self
            .storage
            .list_user_memberships(&app_id, &user_id)
            .await?;
        let active = organization_id
            .filter(|org| memberships.iter().any(|j| &j.organization.id == org))
            .or_else(|| memberships.first().map(|j| j.organization.id.clone()));
        self.start_session(
            AccountView {
                record,
                memberships,
            },
            active,
            client,
            now,
        )
        .await
    }
}

impl<S: Storage + ?Sized + 'static> AccountService<S> {
    /// A reset link for `email`'s account, if there is one. Answers at once and the same way
    /// whether or not an account exists: the lookup and the message happen after the answer,
    /// so its timing says nothing either. One message per address per resend interval.
    pub async fn forgot_password(&self, app_id: &str, email: &str) -> Result<(), AccountError> {
        let context = self.app(app_id).await?;
        let Some(email) = EmailAddress::parse(email) else {
            return Err(AccountError::Invalid(Violations(vec![Violation::new(
                "email",
                "email",
                "must be a valid email address",
            )])));
        };
        let storage = Arc::clone(&self.storage);
        let postman: Arc<Postman<S>> = Arc::clone(&self.postman);
        let app = context.app.clone();
        let email = email.as_ref().to_owned();
        tokio::spawn(async move {
            if let Err(error) = send_reset(&*storage, &postman, &app, &email).await {
                tracing::error!(app_id = %app.id, %error, "the reset message could not be queued");
            }
        });
        Ok(())
    }
}

async fn send_reset<S: Storage + ?Sized>(
    storage: &S,
    postman: &Postman<S>,
    app: &AppRecord,
    email: &str,
) -> Result<(), StorageError> {
    let Some(record) = storage
        .find_account_by_email(&app.id, email)
        .await?
        .filter(|record| !record.account.disabled)
    else {
        return Ok(());
    };
    let letter = Letter {
        email: record.user.email.clone(),
        user_id: Some(record.user.id.clone()),
        name: record.account.name.clone(),
        ..Letter::default()
    };
    if postman
        .issue_unless_recent(app, TokenPurpose::ResetPassword, letter)
        .await?
        .is_err()
    {
        tracing::info!(app_id = %app.id, "reset asked again within the resend interval; nothing sent");
    }
    Ok(())
}

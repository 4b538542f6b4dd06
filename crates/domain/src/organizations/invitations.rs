//! Invitations to an organization (ACCOUNTS.md §2): an admin with `invites:write` invites an
//! address as a role it may grant; the invitation is a one-time token (7 days by default)
//! stored with its message; inviting a pending address again replaces the older one.

use schema_validation::{Violation, Violations};
use storage_port::{MemberRole, OneTimeToken, Storage, Timestamp, TokenPurpose};

use super::{Caller, DirectoryError, OrganizationService, require};
use crate::EmailAddress;
use crate::mail::Letter;
use crate::permissions::{INVITES_WRITE, Role};

const MAX_MESSAGE: usize = 1000;

/// An invitation as the inviter sent it.
#[derive(Debug, Default)]
pub struct NewInvitation {
    pub email: String,
    /// `member` when absent; `admin`, `member` or `guest`.
    pub role: Option<String>,
    pub message: Option<String>,
}

impl<S: Storage + ?Sized> OrganizationService<S> {
    /// Invites an address into an organization (`invites:write` there; a role the caller may
    /// grant). A member already: `AlreadyMember`.
    pub async fn invite(
        &self,
        caller: &Caller,
        organization_id: &str,
        new: NewInvitation,
    ) -> Result<OneTimeToken, DirectoryError> {
        let context = self.app(caller.app_id()).await?;
        let acting = self.acting(caller).await?;
        let authority = self.in_organization(&acting, organization_id).await?;
        require(&authority, INVITES_WRITE)?;
        let organization = self
            .existing_organization(acting.app_id, organization_id)
            .await?;
        let mut problems = Vec::new();
        let email = EmailAddress::parse(&new.email);
        if email.is_none() {
            problems.push(Violation::new(
                "email",
                "email",
                "must be a valid email address",
            ));
        }
        let role = match new.role.as_deref() {
            None => Some(MemberRole::Member),
            Some(text) => MemberRole::parse(text),
        };
        if role.is_none() {
            problems.push(Violation::new(
                "role",
                "enum",
                "must be admin, member or guest",
            ));
        }
        let message = new
            .message
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        if message.as_deref().is_some_and(|m| {
            m.chars().count() > MAX_MESSAGE
                || m.chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        }) {
            problems.push(Violation::new(
                "message",
                "invalid",
                format!("must be at most {MAX_MESSAGE} characters, without control characters"),
            ));
        }
        let (Some(email), Some(role)) = (email, role) else {
            return Err(DirectoryError::Invalid(Violations(problems)));
        };
        if !problems.is_empty() {
            return Err(DirectoryError::Invalid(Violations(problems)));
        }
        authority.may_grant(Some(Role::from(role)), std::iter::empty())?;
        if let Some(existing) = self
            .storage
            .find_account_by_email(acting.app_id, email.as_ref())
            .await?
            && self
                .storage
                .find_membership(acting.app_id, organization_id, &existing.user.id)
                .await?
                .is_some()
        {
            return Err(DirectoryError::AlreadyMember);
        }
        let inviter = acting.account.as_ref().map(|record| {
            record
                .account
                .name
                .clone()
                .unwrap_or(record.user.email.clone())
        });
        let issued = self
            .postman
            .issue(
                &context.app,
                TokenPurpose::Invitation,
                Letter {
                    email: email.as_ref().to_owned(),
                    user_id: None,
                    name: None,
                    organization_id: Some(organization.id.clone()),
                    organization_name: Some(organization.name.clone()),
                    role: Some(role),
                    invited_by: caller.user_id().map(str::to_owned),
                    inviter,
                    message,
                },
            )
            .await?;
        tracing::info!(
            app_id = acting.app_id,
            organization_id,
            invitation_id = %issued.token.id,
            "invitation sent"
        );
        Ok(issued.token)
    }

    /// The organization's pending invitations, newest first (`invites:write` there).
    pub async fn invitations(
        &self,
        caller: &Caller,
        organization_id: &str,
    ) -> Result<Vec<OneTimeToken>, DirectoryError> {
        let acting = self.acting(caller).await?;
        let authority = self.in_organization(&acting, organization_id).await?;
        require(&authority, INVITES_WRITE)?;
        self.existing_organization(acting.app_id, organization_id)
            .await?;
        Ok(self
            .storage
            .list_usable_tokens(
                acting.app_id,
                TokenPurpose::Invitation,
                Some(organization_id),
                Timestamp::now(),
            )
            .await?)
    }

    /// Revokes a pending invitation of the organization (`invites:write` there).
    pub async fn revoke_invitation(
        &self,
        caller: &Caller,
        organization_id: &str,
        invitation_id: &str,
    ) -> Result<(), DirectoryError> {
        let acting = self.acting(caller).await?;
        let authority = self.in_organization(&acting, organization_id).await?;
        require(&authority, INVITES_WRITE)?;
        let found = self
            .storage
            .find_token_by_id(acting.app_id, invitation_id)
            .await?
            .filter(|token| {
                token.purpose == TokenPurpose::Invitation
                    && token.organization_id.as_deref() == Some(organization_id)
                    && token.used_at.is_none()
            });
        if found.is_none()
            || !self
                .storage
                .revoke_token(acting.app_id, invitation_id)
                .await?
        {
            return Err(DirectoryError::NotFound("invitation"));
        }
        tracing::info!(
            app_id = acting.app_id,
            organization_id,
            invitation_id,
            "invitation revoked"
        );
        Ok(())
    }
}

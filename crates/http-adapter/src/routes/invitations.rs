//! An organization's invitations (ACCOUNTS.md §2): `POST`/`GET /v1/organizations/{org}/invites`
//! and `DELETE /v1/organizations/{org}/invites/{id}`, with `invites:write` there (a bearer
//! access token or an API key). Accepting is in `routes/links.rs`.

use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use domain::NewInvitation;

use crate::account_auth::CurrentCaller;
use crate::error::{AccountErrorBody, ApiError};
use crate::requests::InviteRequest;
use crate::responses::{Deleted, InvitationBody, InvitationList, Success};
use crate::routes::auth::{caller_origin, json_body, success};
use crate::routes::organizations::{OrgInvitePath, OrgPath};
use crate::state::ApiState;

/// Invites an address into the organization as `role` (one the caller may grant). The
/// invitation e-mail carries a link valid for 7 days; inviting a pending address again
/// replaces its invitation (the older link stops working).
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/invites",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    params(("org" = String, Path)),
    request_body = InviteRequest,
    responses(
        (status = 201, description = "Invited; the e-mail is queued", body = Success<InvitationBody>),
        (status = 400, description = "Malformed JSON", body = AccountErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden` (`invites:write`, or a role above the caller's), `organization_access_denied`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`: no such organization", body = AccountErrorBody),
        (status = 409, description = "`already_member`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`: `email`, `role`, `message`", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn invite(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    org: Path<OrgPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let body = json_body(&request, payload).await?;
    let body = InviteRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let invitation = state
        .services
        .organizations
        .invite(
            &caller,
            &org.org,
            NewInvitation {
                email: body.email,
                role: body.role,
                message: body.message,
            },
        )
        .await?;
    Ok(success(
        HttpResponse::Created(),
        origin,
        InvitationBody::from(invitation),
    ))
}

/// The organization's pending invitations, newest first.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/invites",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    params(("org" = String, Path)),
    responses(
        (status = 200, body = Success<InvitationList>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden` (`invites:write`), `organization_access_denied`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`", body = AccountErrorBody),
    )
)]
pub async fn list_invitations(
    request: HttpRequest,
    state: Data<ApiState>,
    org: Path<OrgPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let invitations = state
        .services
        .organizations
        .invitations(&caller, &org.org)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        InvitationList {
            invites: invitations.into_iter().map(InvitationBody::from).collect(),
        },
    ))
}

/// Revokes a pending invitation: its link stops working.
#[utoipa::path(
    delete,
    path = "/v1/organizations/{org}/invites/{id}",
    tag = "organizations",
    security(("bearer" = []), ("api_key" = [])),
    params(("org" = String, Path), ("id" = String, Path)),
    responses(
        (status = 200, description = "Revoked", body = Success<Deleted>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden` (`invites:write`), `organization_access_denied`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`: no pending invitation of this organization has this id", body = AccountErrorBody),
    )
)]
pub async fn revoke_invitation(
    request: HttpRequest,
    state: Data<ApiState>,
    path: Path<OrgInvitePath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let OrgInvitePath { org, id } = path.into_inner();
    let origin = caller_origin(&state, &request, &caller).await?;
    state
        .services
        .organizations
        .revoke_invitation(&caller, &org, &id)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        Deleted { deleted: true },
    ))
}

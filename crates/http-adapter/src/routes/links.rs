//! What the links in our e-mail lead to (ACCOUNTS.md §2, §3): `POST /v1/auth/verify-email`
//! (and `…/resend`), `POST /v1/auth/password/forgot` and `…/reset`, `GET /v1/invites/{token}`
//! and `POST /v1/invites/accept`. A link's token names its app, so these need no `x-app-id`;
//! a cross-origin page is checked against the token's app's allowed origins (or the one
//! `x-app-id` names), a same-origin one (our own pages) needs no check.

use actix_web::http::header;
use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use domain::Acceptance;

use crate::account_auth::{CurrentAccount, bearer_token, named_app};
use crate::cors::request_origin;
use crate::error::{AccountErrorBody, ApiError};
use crate::requests::{
    AcceptInviteRequest, ForgotPasswordRequest, ResetPasswordRequest, VerifyEmailRequest,
};
use crate::responses::{
    AuthData, EmailVerifiedBody, InvitationInfo, MailQueued, PasswordReset, Success,
};
use crate::routes::auth::{allowed_origin, auth_data, client_info, json_body, success};
use crate::routes::public::header_app_id;
use crate::state::ApiState;

/// The same answer whether or not the address has an account.
const FORGOT_ANSWER: &str =
    "If an account exists for this address, a link to reset its password is on its way.";

/// Whether the page that sent the request is ours: its `Origin` is the request's own.
fn same_origin(request: &HttpRequest) -> bool {
    let Some(origin) = request_origin(request) else {
        return false;
    };
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    host.is_some() && origin_host == host
}

/// The origin to allow on the answer: none without one or for our own pages; else it must be
/// allowed by the app of `token` (or of `x-app-id`).
async fn link_origin<'r>(
    state: &ApiState,
    request: &'r HttpRequest,
    token: &str,
) -> Result<Option<&'r str>, ApiError> {
    if request_origin(request).is_none() || same_origin(request) {
        return Ok(None);
    }
    let app_id = match named_app(request) {
        Some(app_id) => Some(app_id.to_owned()),
        None => state.services.accounts.link_app(token).await?,
    };
    match app_id {
        Some(app_id) => allowed_origin(state, request, &app_id).await,
        // An unknown link: the answer says so to any page.
        None => Ok(request_origin(request)),
    }
}

/// Marks the address verified with the token of the verification e-mail. The account then
/// joins the organizations of its email domain, and the one it named at registration.
#[utoipa::path(
    post,
    path = "/v1/auth/verify-email",
    tag = "accounts",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "Verified", body = Success<EmailVerifiedBody>),
        (status = 400, description = "Malformed JSON, or `invalid_link`: unknown, used, replaced or expired", body = AccountErrorBody),
        (status = 403, description = "`origin_not_allowed`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "No token", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn verify_email(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let body = json_body(&request, payload).await?;
    let body = VerifyEmailRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let origin = link_origin(&state, &request, &body.token).await?;
    let verified = state.services.accounts.verify_email(&body.token).await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        EmailVerifiedBody {
            email: verified.email,
            email_verified: true,
            joined_organizations: verified.joined,
        },
    ))
}

/// Sends a new verification link to the caller's address (one a minute).
#[utoipa::path(
    post,
    path = "/v1/auth/verify-email/resend",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued (`sent: false`: the address is verified already)", body = Success<MailQueued>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`origin_not_allowed`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 429, description = "A link was sent less than a minute ago; see Retry-After", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn resend_verification(
    request: HttpRequest,
    state: Data<ApiState>,
    CurrentAccount(caller): CurrentAccount,
) -> Result<HttpResponse, ApiError> {
    let origin = allowed_origin(&state, &request, caller.app_id()).await?;
    let sent = state.services.accounts.resend_verification(&caller).await?;
    Ok(success(
        HttpResponse::Accepted(),
        origin,
        MailQueued {
            sent,
            message: if sent {
                "A new verification link is on its way.".to_owned()
            } else {
                "The address is verified already.".to_owned()
            },
        },
    ))
}

/// Asks for a password reset link. Always 202 with the same body, at once: whether an account
/// exists is never revealed (the lookup and the e-mail happen after the answer).
#[utoipa::path(
    post,
    path = "/v1/auth/password/forgot",
    tag = "accounts",
    params(("x-app-id" = String, Header, description = "The app's sourceAppId")),
    request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "Always the same answer", body = Success<MailQueued>),
        (status = 400, description = "Malformed JSON, or a missing or invalid x-app-id header", body = AccountErrorBody),
        (status = 403, description = "`origin_not_allowed`", body = AccountErrorBody),
        (status = 404, description = "`unknown_app`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`: `email`", body = AccountErrorBody),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn forgot_password(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let app_id = header_app_id(&request).map_err(ApiError::for_accounts)?;
    let origin = allowed_origin(&state, &request, app_id.as_ref()).await?;
    state
        .account_limits
        .register(state.client_ip.of_request(&request))
        .map_err(ApiError::for_accounts)?;
    let body = json_body(&request, payload).await?;
    let body = ForgotPasswordRequest::parse(&body).map_err(ApiError::for_accounts)?;
    state
        .services
        .accounts
        .forgot_password(app_id.as_ref(), &body.email)
        .await?;
    Ok(success(
        HttpResponse::Accepted(),
        origin,
        MailQueued {
            sent: true,
            message: FORGOT_ANSWER.to_owned(),
        },
    ))
}

/// Sets a new password with the token of the reset e-mail: the address counts as verified and
/// every session of the account ends (log in again).
#[utoipa::path(
    post,
    path = "/v1/auth/password/reset",
    tag = "accounts",
    request_body = ResetPasswordRequest,
    responses(
        (status = 200, description = "Reset", body = Success<PasswordReset>),
        (status = 400, description = "Malformed JSON, or `invalid_link`", body = AccountErrorBody),
        (status = 403, description = "`origin_not_allowed`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`: `new_password` (`too_short`, `too_long`, `too_common`); the link stays usable", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn reset_password(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let body = json_body(&request, payload).await?;
    let body = ResetPasswordRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let origin = link_origin(&state, &request, &body.token).await?;
    state
        .services
        .accounts
        .reset_password(&body.token, body.new_password)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        PasswordReset {
            password_reset: true,
        },
    ))
}

/// What an invitation is, for the page that accepts it: the app, the organization, the
/// address, the role, who invites, until when, and whether it is still pending.
#[utoipa::path(
    get,
    path = "/v1/invites/{token}",
    tag = "organizations",
    params(("token" = String, Path, description = "The token of the invitation link")),
    responses(
        (status = 200, body = Success<InvitationInfo>),
        (status = 400, description = "`invalid_link`: no invitation has this token (revoked, replaced, or never issued)", body = AccountErrorBody),
        (status = 403, description = "`origin_not_allowed`", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn show_invitation(
    request: HttpRequest,
    state: Data<ApiState>,
    token: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let origin = link_origin(&state, &request, &token).await?;
    let view = state.services.accounts.invitation(&token).await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        InvitationInfo::from(view),
    ))
}

/// Accepts an invitation and logs in, in the invitation's organization. A new person sets a
/// `password` (the address becomes verified); an address that has an account with a password
/// accepts with that account's own bearer token.
#[utoipa::path(
    post,
    path = "/v1/invites/accept",
    tag = "organizations",
    security((), ("bearer" = [])),
    request_body = AcceptInviteRequest,
    responses(
        (status = 200, description = "Accepted and logged in", body = Success<AuthData>),
        (status = 400, description = "Malformed JSON, or `invalid_link`: unknown, used, revoked, replaced or expired", body = AccountErrorBody),
        (status = 401, description = "`login_required`: the address has an account, send its bearer token; or a bad bearer token", body = AccountErrorBody),
        (status = 403, description = "`invitation_for_another_account`, `account_disabled`, `tenant_mismatch`, `origin_not_allowed`", body = AccountErrorBody),
        (status = 409, description = "`already_member`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`: `password` required or too weak, `name`; the link stays usable", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn accept_invitation(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let body = json_body(&request, payload).await?;
    let body = AcceptInviteRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let origin = link_origin(&state, &request, &body.token).await?;
    // A bearer token that is sent must be good: a bad one is 401, never "no token".
    let caller = match bearer_token(&request) {
        Some(token) => Some(
            state
                .services
                .accounts
                .authenticate(token, named_app(&request))
                .await?,
        ),
        None => None,
    };
    let logged_in = state
        .services
        .accounts
        .accept_invitation(
            Acceptance {
                token: body.token,
                password: body.password,
                name: body.name,
            },
            caller.as_ref(),
            client_info(&state, &request),
        )
        .await?;
    Ok(success(HttpResponse::Ok(), origin, auth_data(logged_in)))
}

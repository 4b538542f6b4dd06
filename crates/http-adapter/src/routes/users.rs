//! The accounts an app's admins manage (ACCOUNTS.md §2): `POST /v1/users` with a credential
//! (without one it is the public sign-up of `public`), `GET /v1/users`, `GET`/`PUT`/`DELETE
//! /v1/users/{id}`. A bearer access token or an API key; the domain decides who may.

use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{FromRequest as _, HttpRequest, HttpResponse};
use domain::{NewUser, UserListing, UserUpdate};
use serde::Deserialize;

use crate::account_auth::CurrentCaller;
use crate::error::{AccountErrorBody, ApiError};
use crate::requests::{CreateUserRequest, UpdateUserRequest};
use crate::responses::{
    AccountSession, AccountSessions, CreatedUser, Deleted, ManagedUserBody, SessionsEnded, Success,
    UsersPage,
};
use crate::routes::auth::{caller_origin, json_body, success};
use crate::routes::organizations::{IdPath, decode_cursor, encode_cursor, is_user_id, page_limit};
use crate::state::ApiState;

/// Query parameters of `GET /v1/users`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// 1 to 500; 50 when absent.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page (opaque).
    pub cursor: Option<String>,
    /// Only accounts whose email or name contains this text (any case).
    pub q: Option<String>,
    /// Only members of this organization (an organization admin lists its own this way).
    pub organization_id: Option<String>,
    /// `tenant_admin`, or `admin`/`member`/`guest` together with `organization_id`.
    pub role: Option<String>,
}

/// An admin creates an account (no password yet; with `send_invite` it gets the set-password
/// invitation once e-mail is configured). `users:write` in `organization_id`, or tenant-wide.
pub async fn create_user(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let CurrentCaller(caller) =
        CurrentCaller::from_request(&request, &mut actix_web::dev::Payload::None).await?;
    let origin = caller_origin(&state, &request, &caller).await?;
    let body = json_body(&request, payload).await?;
    let body = CreateUserRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let user = state
        .services
        .organizations
        .create_user(
            &caller,
            NewUser {
                email: body.email,
                name: body.name,
                role: body.role,
                organization_id: body.organization_id,
                permissions: body.permissions.unwrap_or_default(),
                send_invite: body.send_invite.unwrap_or(false),
            },
        )
        .await?;
    Ok(success(
        HttpResponse::Created(),
        origin,
        CreatedUser {
            user: ManagedUserBody::from(user),
        },
    ))
}

/// The app's accounts, in keyset pages.
///
/// Tenant-wide with `users:read`, or one organization's with `users:read` there.
#[utoipa::path(
    get,
    path = "/v1/users",
    operation_id = "list_accounts",
    tag = "users",
    security(("bearer" = []), ("api_key" = [])),
    params(UserListParams),
    responses(
        (status = 200, body = Success<UsersPage>),
        (status = 400, description = "`invalid_cursor`", body = AccountErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden`, `organization_access_denied`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 422, description = "A bad limit or role", body = AccountErrorBody),
    )
)]
pub async fn list_users(
    request: HttpRequest,
    state: Data<ApiState>,
    params: Query<UserListParams>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let params = params.into_inner();
    let listing = UserListing {
        limit: page_limit(params.limit.as_deref())?,
        after_id: decode_cursor(params.cursor.as_deref(), is_user_id)?,
        q: params.q,
        organization_id: params.organization_id,
        role: params.role,
    };
    let page = state
        .services
        .organizations
        .list_users(&caller, listing)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        UsersPage {
            users: page.users.into_iter().map(ManagedUserBody::from).collect(),
            next_cursor: page.next_cursor.as_deref().map(encode_cursor),
        },
    ))
}

/// One account with its organizations (those the caller may read).
#[utoipa::path(
    get,
    path = "/v1/users/{id}",
    operation_id = "get_account",
    tag = "users",
    security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Success<ManagedUserBody>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`: none, or not in the caller's organizations", body = AccountErrorBody),
    )
)]
pub async fn get_user(
    request: HttpRequest,
    state: Data<ApiState>,
    id: Path<IdPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let user = state.services.organizations.user(&caller, &id.id).await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        ManagedUserBody::from(user),
    ))
}

/// Changes an account.
///
/// `name` and `disabled` (which ends its sessions) with `users:write`; `role` and
/// `permissions` with `roles:write`, never above the caller's own.
#[utoipa::path(
    put,
    path = "/v1/users/{id}",
    operation_id = "update_account",
    tag = "users",
    security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path)),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = Success<ManagedUserBody>),
        (status = 400, description = "Malformed JSON", body = AccountErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden` (naming the permission or role), `organization_access_denied`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`", body = AccountErrorBody),
        (status = 409, description = "`last_admin`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`", body = AccountErrorBody),
    )
)]
pub async fn update_user(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    id: Path<IdPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let body = json_body(&request, payload).await?;
    let body = UpdateUserRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let user = state
        .services
        .organizations
        .update_user(
            &caller,
            &id.id,
            UserUpdate {
                name: body.name,
                role: body.role,
                permissions: body.permissions,
                disabled: body.disabled,
                organization_id: body.organization_id,
            },
        )
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        ManagedUserBody::from(user),
    ))
}

/// Erases an account with its sessions and memberships (`users:delete`).
#[utoipa::path(
    delete,
    path = "/v1/users/{id}",
    operation_id = "delete_account",
    tag = "users",
    security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Erased", body = Success<Deleted>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden`, `organization_access_denied`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`", body = AccountErrorBody),
    )
)]
pub async fn delete_user(
    request: HttpRequest,
    state: Data<ApiState>,
    id: Path<IdPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    state
        .services
        .organizations
        .delete_user(&caller, &id.id)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        Deleted { deleted: true },
    ))
}

/// A user's active sessions, newest first (tenant-wide `users:read`: a tenant admin or an API
/// key), with when and from where each was used.
#[utoipa::path(
    get,
    path = "/v1/users/{id}/sessions",
    operation_id = "list_account_sessions",
    tag = "users",
    security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Success<AccountSessions>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden` (not tenant-wide, or without `users:read`), `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`", body = AccountErrorBody),
    )
)]
pub async fn list_user_sessions(
    request: HttpRequest,
    state: Data<ApiState>,
    id: Path<IdPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let sessions = state
        .services
        .organizations
        .user_sessions(&caller, &id.id)
        .await?
        .into_iter()
        .map(|session| AccountSession::of(session, false))
        .collect();
    Ok(success(
        HttpResponse::Ok(),
        origin,
        AccountSessions { sessions },
    ))
}

/// Ends every session of a user (`users:write` over it, never someone above the caller): its
/// refresh tokens stop working at once, its access tokens within a second.
#[utoipa::path(
    delete,
    path = "/v1/users/{id}/sessions",
    operation_id = "end_account_sessions",
    tag = "users",
    security(("bearer" = []), ("api_key" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Success<SessionsEnded>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`forbidden`, `organization_access_denied`, `tenant_mismatch`", body = AccountErrorBody),
        (status = 404, description = "`not_found`", body = AccountErrorBody),
    )
)]
pub async fn end_user_sessions(
    request: HttpRequest,
    state: Data<ApiState>,
    id: Path<IdPath>,
    CurrentCaller(caller): CurrentCaller,
) -> Result<HttpResponse, ApiError> {
    let origin = caller_origin(&state, &request, &caller).await?;
    let ended = state
        .services
        .organizations
        .end_user_sessions(&caller, &id.id)
        .await?;
    Ok(success(HttpResponse::Ok(), origin, SessionsEnded { ended }))
}

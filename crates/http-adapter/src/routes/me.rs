//! The logged-in account's own routes: `GET`/`PUT /v1/users/me`, `PUT /v1/users/me/password`,
//! `GET /v1/users/me/sessions`, `DELETE /v1/users/me/sessions/{id}`. Bearer access token only.

use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use domain::ProfileUpdate;

use crate::account_auth::CurrentAccount;
use crate::error::{AccountErrorBody, ApiError};
use crate::requests::{ChangePasswordRequest, UpdateMeRequest};
use crate::responses::{AccountSession, AccountSessions, AccountUser, LoggedOut, Success};
use crate::routes::auth::{allowed_origin, json_body, success};
use crate::state::ApiState;

/// The logged-in account.
#[utoipa::path(
    get,
    path = "/v1/users/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Success<AccountUser>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`tenant_mismatch` or `origin_not_allowed`", body = AccountErrorBody),
    )
)]
pub async fn me(
    request: HttpRequest,
    state: Data<ApiState>,
    CurrentAccount(caller): CurrentAccount,
) -> Result<HttpResponse, ApiError> {
    let origin = allowed_origin(&state, &request, caller.app_id()).await?;
    let account = state.services.accounts.me(&caller).await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        AccountUser::from(account),
    ))
}

/// Changes the account's profile: `name`, `bio`, `avatar_url` (https) and `data` (the app's
/// schema fields, validated as a sign-up is). Absent members stay; `null` clears.
#[utoipa::path(
    put,
    path = "/v1/users/me",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, body = Success<AccountUser>),
        (status = 400, description = "Malformed JSON", body = AccountErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`tenant_mismatch` or `origin_not_allowed`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`, every problem in details (unknown members such as `email` included)", body = AccountErrorBody),
    )
)]
pub async fn update_me(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    CurrentAccount(caller): CurrentAccount,
) -> Result<HttpResponse, ApiError> {
    let origin = allowed_origin(&state, &request, caller.app_id()).await?;
    let body = json_body(&request, payload).await?;
    let body = UpdateMeRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let update = ProfileUpdate {
        name: body.name,
        bio: body.bio,
        avatar_url: body.avatar_url,
        data: body.data,
    };
    let account = state.services.accounts.update_me(&caller, update).await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        AccountUser::from(account),
    ))
}

/// Changes the password; every other session of the account ends (this one goes on).
#[utoipa::path(
    put,
    path = "/v1/users/me/password",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed; other sessions ended", body = Success<LoggedOut>),
        (status = 400, description = "Malformed JSON", body = AccountErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`tenant_mismatch` or `origin_not_allowed`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`: `current_password` wrong, `new_password` `too_short`/`too_long`/`too_common`", body = AccountErrorBody),
    )
)]
pub async fn change_password(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    CurrentAccount(caller): CurrentAccount,
) -> Result<HttpResponse, ApiError> {
    let origin = allowed_origin(&state, &request, caller.app_id()).await?;
    let body = json_body(&request, payload).await?;
    let body = ChangePasswordRequest::parse(&body).map_err(ApiError::for_accounts)?;
    state
        .services
        .accounts
        .change_password(&caller, body.current_password, body.new_password)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        LoggedOut { all: false },
    ))
}

/// The account's active sessions, newest first.
#[utoipa::path(
    get,
    path = "/v1/users/me/sessions",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Success<AccountSessions>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`tenant_mismatch` or `origin_not_allowed`", body = AccountErrorBody),
    )
)]
pub async fn sessions(
    request: HttpRequest,
    state: Data<ApiState>,
    CurrentAccount(caller): CurrentAccount,
) -> Result<HttpResponse, ApiError> {
    let origin = allowed_origin(&state, &request, caller.app_id()).await?;
    let sessions = state.services.accounts.sessions(&caller).await?;
    let sessions = sessions
        .into_iter()
        .map(|session| {
            let current = session.id == caller.session_id();
            AccountSession::of(session, current)
        })
        .collect();
    Ok(success(
        HttpResponse::Ok(),
        origin,
        AccountSessions { sessions },
    ))
}

/// Ends one of the account's sessions (logs that device out).
#[utoipa::path(
    delete,
    path = "/v1/users/me/sessions/{id}",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Ended", body = Success<LoggedOut>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`tenant_mismatch` or `origin_not_allowed`", body = AccountErrorBody),
        (status = 404, description = "`session_not_found`: no active session of yours has this id", body = AccountErrorBody),
    )
)]
pub async fn end_session(
    request: HttpRequest,
    state: Data<ApiState>,
    session_id: Path<String>,
    CurrentAccount(caller): CurrentAccount,
) -> Result<HttpResponse, ApiError> {
    let origin = allowed_origin(&state, &request, caller.app_id()).await?;
    state
        .services
        .accounts
        .end_session(&caller, &session_id)
        .await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        LoggedOut { all: false },
    ))
}

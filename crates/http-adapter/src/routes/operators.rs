//! Operators' dashboard sessions: log in, who am I, first-run setup, log out, and an app
//! owner's own records.

use actix_session::Session;
use actix_web::web::{Data, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use domain::{Operator, OperatorAuthError};

use crate::body::read_limited;
use crate::error::{ApiError, ErrorBody};
use crate::operator_session::{self, CurrentOperator};
use crate::rate_limit::{LoginAccount, LoginAttempt};
use crate::requests::LoginRequest;
use crate::respond::no_store;
use crate::responses::{
    LoginResponse, OkResponse, SessionResponse, SetupResponse, UserPageResponse,
};
use crate::routes::records::{ListParams, list_page};
use crate::state::ApiState;

/// Logins are small; this bounds the work a request can ask of argon2.
const LOGIN_BODY_LIMIT: usize = 4 * 1024;

/// Log in: `{sourceAppId, password}` opens an app-owner session, `{email, password}` an admin
/// session. Unknown accounts and wrong passwords get the same 401, in the same time. A new
/// session id is issued at every login.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "dashboard",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = LoginResponse,
            headers(("set-cookie" = String, description = "users_api_session=...; HttpOnly; SameSite=Strict; Secure"))),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`csrf_rejected`: a foreign Origin", body = ErrorBody),
        (status = 408, description = "`request_timeout`: the body did not arrive within `application.body_timeout_secs`; the connection is closed", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Neither (or both of) sourceAppId and email, or no password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address, or too many failures on this account from this address or from everywhere; see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage unavailable", body = ErrorBody),
    )
)]
pub async fn login(
    request: HttpRequest,
    payload: Payload,
    session: Session,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_limited(&request, payload, LOGIN_BODY_LIMIT).await?;
    let login = LoginRequest::parse(&body)?;
    let credentials = login.credentials()?;
    let ip = state.client_ip.of_request(&request);
    let account = match &credentials {
        domain::OperatorCredentials::AppOwner { app_id } => LoginAccount::owner(app_id),
        domain::OperatorCredentials::Admin { email } => LoginAccount::admin(email),
    };
    let attempt = state.login_limiter.begin(ip, account)?;
    let outcome = counted(
        attempt,
        state
            .services
            .operator_sessions
            .login(credentials, login.password)
            .await,
    );
    let claims = outcome.inspect_err(|error| {
        if matches!(error, OperatorAuthError::InvalidCredentials) {
            tracing::info!(client_ip = ?ip, "failed dashboard login");
        }
    })?;
    operator_session::start(&session, &claims)?;
    let source_app_id = match &claims.operator {
        Operator::AppOwner { app_id } => Some(app_id.clone()),
        Operator::Admin { .. } => None,
    };
    tracing::info!(
        role = claims.operator.role().as_str(),
        subject = claims.operator.subject(),
        "dashboard login"
    );
    Ok(no_store(HttpResponse::Ok()).json(LoginResponse {
        ok: true,
        role: claims.operator.role().as_str(),
        source_app_id,
    }))
}

/// Only wrong credentials count against the account's login limits.
fn counted<T>(
    attempt: LoginAttempt<'_>,
    outcome: Result<T, OperatorAuthError>,
) -> Result<T, OperatorAuthError> {
    if matches!(outcome, Err(OperatorAuthError::InvalidCredentials)) {
        attempt.failed();
    }
    outcome
}

/// Who is logged in.
#[utoipa::path(
    get,
    path = "/auth/session",
    tag = "dashboard",
    security(("session_cookie" = [])),
    responses(
        (status = 200, body = SessionResponse),
        (status = 401, description = "`unauthenticated`: no session, or it expired or was revoked", body = ErrorBody),
    )
)]
pub async fn current_session(
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let role = operator.role().as_str();
    let body = match operator {
        Operator::Admin { email } => SessionResponse {
            role,
            source_app_id: None,
            email: Some(email),
        },
        Operator::AppOwner { app_id } => SessionResponse {
            role,
            source_app_id: Some(app_id),
            email: None,
        },
    };
    Ok(no_store(HttpResponse::Ok()).json(body))
}

/// Whether the platform still needs its first admin.
///
/// A fresh install has no admin, so nobody can sign in: the login page then says how to create
/// one (`users-api admin create --email …` on the server). Needs no session. Once an admin
/// exists it only ever answers `{"needsAdmin": false}`, which says nothing about the admins.
#[utoipa::path(
    get,
    path = "/auth/setup",
    tag = "dashboard",
    responses(
        (status = 200, description = "`needsAdmin` is `true` only while no admin exists; then create one on the server: `users-api admin create --email you@example.com`", body = SetupResponse),
        (status = 503, description = "Storage unavailable", body = ErrorBody),
    )
)]
pub async fn setup(state: Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let needs_admin = state.services.admins.needs_first_admin().await?;
    Ok(no_store(HttpResponse::Ok()).json(SetupResponse { needs_admin }))
}

/// Ends the session (also when there is none), on every instance: its row in the store is
/// revoked.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "dashboard",
    responses(
        (status = 200, description = "Logged out; the cookie is removed", body = OkResponse),
        (status = 403, description = "`csrf_rejected`", body = ErrorBody),
        (status = 503, description = "Storage unavailable: the session could not be revoked (the cookie is removed anyway)", body = ErrorBody),
    )
)]
pub async fn logout(session: Session, state: Data<ApiState>) -> Result<HttpResponse, ApiError> {
    operator_session::end(&session, &state).await?;
    Ok(no_store(HttpResponse::Ok()).json(OkResponse { ok: true }))
}

/// The logged-in app owner's users: the same as `GET /v1/apps/{own id}/users`.
#[utoipa::path(
    get,
    operation_id = "own_users",
    path = "/auth/users",
    tag = "dashboard",
    security(("session_cookie" = [])),
    params(ListParams),
    responses(
        (status = 200, body = UserPageResponse),
        (status = 400, description = "`invalid_cursor`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: admins have no app of their own", body = ErrorBody),
        (status = 422, description = "A bad limit or date", body = ErrorBody),
    )
)]
pub async fn own_records(
    state: Data<ApiState>,
    params: Query<ListParams>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.own_app_access()?;
    list_page(&state, &access, params.into_inner()).await
}

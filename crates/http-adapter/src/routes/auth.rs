//! Dashboard sessions: log in, who am I, log out, and the owner's users.

use actix_session::Session;
use actix_web::web::{Data, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use domain::Principal;
use serde_json::{Map, Value};

use crate::ApiState;
use crate::body::{json_object, read_limited};
use crate::dto::{LoginResponse, OkResponse, SessionResponse, SetupResponse, UserPageResponse};
use crate::error::{ApiError, ErrorBody};
use crate::rate_limit::{LoginAccount, LoginAttempt};
use crate::routes::users::{ListParams, list_page};
use crate::session;

/// Logins are small; this bounds the work a request can ask of argon2.
const LOGIN_BODY_LIMIT: usize = 4 * 1024;

/// A text member of a JSON body: absent or `null` is `None`, another type is 422.
pub fn optional_text(
    object: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<String>, ApiError> {
    match object.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ApiError::invalid_field(key, "type", "must be a string")),
    }
}

/// Log in: `{sourceAppId, password}` opens an app-owner session, `{email, password}` an admin
/// session. Unknown accounts and wrong passwords get the same 401, in the same time. A new
/// session id is issued at every login.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "dashboard",
    request_body = crate::dto::LoginRequest,
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
    let mut object = json_object(&body)?;
    let source_app_id = optional_text(&mut object, "sourceAppId")?;
    let email = optional_text(&mut object, "email")?;
    let Some(password) = optional_text(&mut object, "password")? else {
        return Err(ApiError::invalid_field(
            "password",
            "required",
            "is required",
        ));
    };
    let ip = state.client_ip.of_request(&request);
    let sessions = &state.services.sessions;
    let outcome = match (source_app_id, email) {
        (Some(app_id), None) => {
            let attempt = state
                .login_limiter
                .begin(ip, LoginAccount::owner(&app_id))?;
            counted(
                attempt,
                sessions.login_owner(&app_id, password.into()).await,
            )
        }
        (None, Some(email)) => {
            let attempt = state.login_limiter.begin(ip, LoginAccount::admin(&email))?;
            counted(attempt, sessions.login_admin(&email, password.into()).await)
        }
        _ => {
            return Err(ApiError::invalid_field(
                "sourceAppId",
                "required",
                "give either sourceAppId (app owner) or email (admin)",
            ));
        }
    };
    let claims = outcome.inspect_err(|error| {
        if matches!(error, domain::AuthError::InvalidCredentials) {
            tracing::info!(client_ip = ?ip, "failed dashboard login");
        }
    })?;
    session::start(&session, &claims)?;
    let source_app_id = match &claims.principal {
        Principal::Owner { app_id } => Some(app_id.clone()),
        Principal::Admin { .. } => None,
    };
    tracing::info!(
        role = claims.principal.role().as_str(),
        subject = claims.principal.subject(),
        "dashboard login"
    );
    Ok(no_store(HttpResponse::Ok()).json(LoginResponse {
        ok: true,
        role: claims.principal.role().as_str(),
        source_app_id,
    }))
}

/// Only wrong credentials count against the account's login limits.
fn counted<T>(
    attempt: LoginAttempt<'_>,
    outcome: Result<T, domain::AuthError>,
) -> Result<T, domain::AuthError> {
    if matches!(outcome, Err(domain::AuthError::InvalidCredentials)) {
        attempt.failed();
    }
    outcome
}

pub fn no_store(mut builder: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    builder.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
    builder
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
    session: Session,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let principal = session::authenticate(&session, &state).await?;
    let role = principal.role().as_str();
    let body = match principal {
        Principal::Admin { email } => SessionResponse {
            role,
            source_app_id: None,
            email: Some(email),
        },
        Principal::Owner { app_id } => SessionResponse {
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

/// Ends the session (also when there is none).
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "dashboard",
    responses(
        (status = 200, description = "Logged out; the cookie is removed", body = OkResponse),
        (status = 403, description = "`csrf_rejected`", body = ErrorBody),
    )
)]
pub async fn logout(session: Session, state: Data<ApiState>) -> HttpResponse {
    session::end(&session, &state);
    no_store(HttpResponse::Ok()).json(OkResponse { ok: true })
}

/// The logged-in app owner's users: the same as `GET /v1/apps/{own id}/users`.
#[utoipa::path(
    get,
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
pub async fn own_users(
    session: Session,
    state: Data<ApiState>,
    params: Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let principal = session::authenticate(&session, &state).await?;
    let Principal::Owner { app_id } = principal else {
        return Err(ApiError::forbidden());
    };
    list_page(&state, &app_id, params.into_inner()).await
}

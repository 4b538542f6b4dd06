//! End-user accounts of an app's site: `POST /v1/auth/register`, `login`, `refresh`, `logout`,
//! and the public signing keys at `/.well-known/jwks.json`. Answers are
//! `{"success": true, "data": …}`; errors `{"success": false, "error": …}` (ACCOUNTS.md §2).

use actix_web::http::header;
use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse};
use domain::{AccountError, ClientInfo, LoggedIn, Registration};
use secrecy::ExposeSecret as _;

use crate::account_auth::CurrentAccount;
use crate::body::{BodyKind, body_kind, read_limited};
use crate::cors::{allow_origin, request_origin};
use crate::error::{AccountErrorBody, ApiError};
use crate::rate_limit::LoginAccount;
use crate::requests::{AccountLoginRequest, LogoutRequest, RefreshRequest, RegisterRequest};
use crate::respond::no_store;
use crate::responses::{AuthData, Success, TokensData};
use crate::routes::public::{app_context, header_app_id};
use crate::state::ApiState;

/// Account bodies are small; this bounds what a request can ask of argon2 and the schema.
pub const ACCOUNT_BODY_LIMIT: usize = 16 * 1024;

/// The body under the accounts' limit; when there is one it must be JSON (415 otherwise).
pub(crate) async fn json_body(
    request: &HttpRequest,
    payload: Payload,
) -> Result<actix_web::web::BytesMut, ApiError> {
    let body = read_limited(request, payload, ACCOUNT_BODY_LIMIT)
        .await
        .map_err(ApiError::for_accounts)?;
    if !body.is_empty() && !matches!(body_kind(request), Ok(BodyKind::Json)) {
        return Err(ApiError::unsupported_media_type_json().for_accounts());
    }
    Ok(body)
}

/// The page's origin when the app allows it (for the answer's CORS headers), `None` without an
/// `Origin`, or 403 `origin_not_allowed`.
pub(crate) async fn allowed_origin<'r>(
    state: &ApiState,
    request: &'r HttpRequest,
    app_id: &str,
) -> Result<Option<&'r str>, ApiError> {
    let Some(origin) = request_origin(request) else {
        return Ok(None);
    };
    let Some(app_id) = domain::AppId::parse(app_id) else {
        return Err(ApiError::origin_not_allowed().for_accounts());
    };
    let context = app_context(state, &app_id)
        .await
        .map_err(ApiError::for_accounts)?;
    if context.allows_origin(origin) {
        Ok(Some(origin))
    } else {
        tracing::info!(app_id = %context.app.id, origin, "origin not allowed");
        Err(ApiError::origin_not_allowed().for_accounts())
    }
}

/// [`allowed_origin`] for the caller's app; none for an operator (the dashboard's requests are
/// same-origin, which the CSRF rule of `/v1/apps/*` has checked).
pub(crate) async fn caller_origin<'r>(
    state: &ApiState,
    request: &'r HttpRequest,
    caller: &domain::Caller,
) -> Result<Option<&'r str>, ApiError> {
    match caller {
        domain::Caller::Operator(_) => Ok(None),
        _ => allowed_origin(state, request, caller.app_id()).await,
    }
}

/// A `{"success": true, "data": …}` answer, not to be cached, readable by `origin`.
pub(crate) fn success<T: serde::Serialize>(
    mut builder: actix_web::HttpResponseBuilder,
    origin: Option<&str>,
    data: T,
) -> HttpResponse {
    allow_origin(&mut builder, origin);
    no_store(builder).json(Success::of(data))
}

pub(crate) fn client_info(state: &ApiState, request: &HttpRequest) -> ClientInfo {
    ClientInfo {
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        ip: state.client_ip.of_request(request).map(|ip| ip.to_string()),
    }
}

pub(crate) fn auth_data(logged_in: LoggedIn) -> AuthData {
    AuthData {
        user: logged_in.account.into(),
        token: logged_in.tokens.access_token,
        expires_at: logged_in.tokens.expires_at,
        refresh_token: logged_in.tokens.refresh_token.expose_secret().to_owned(),
    }
}

/// Register an account on the app named by `x-app-id`, and log it in. An email that a sign-up
/// already collected becomes the account and keeps its data; until the email is verified, the
/// account's own reads leave that data out.
#[utoipa::path(
    post,
    path = "/v1/auth/register",
    tag = "accounts",
    params(("x-app-id" = String, Header, description = "The app's sourceAppId")),
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and logged in", body = Success<AuthData>),
        (status = 400, description = "Malformed JSON, or a missing or invalid x-app-id header", body = AccountErrorBody),
        (status = 403, description = "`origin_not_allowed`, or `organization_access_denied`", body = AccountErrorBody),
        (status = 404, description = "`unknown_app`", body = AccountErrorBody),
        (status = 409, description = "`email_taken`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`: `email`, `password` (`too_short`, `too_long`, `too_common`), `name`, the schema's `data.*`, unknown members", body = AccountErrorBody),
        (status = 429, description = "Too many registrations from this address; see Retry-After", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn register(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let app_id = header_app_id(&request).map_err(ApiError::for_accounts)?;
    let origin = allowed_origin(&state, &request, app_id.as_ref()).await?;
    let ip = state.client_ip.of_request(&request);
    state
        .account_limits
        .register(ip)
        .map_err(ApiError::for_accounts)?;
    let body = json_body(&request, payload).await?;
    let body = RegisterRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let registration = Registration {
        email: body.email,
        password: body.password,
        name: body.name,
        data: body.data,
        organization_id: body.organization_id,
    };
    let logged_in = state
        .services
        .accounts
        .register(app_id.as_ref(), registration, client_info(&state, &request))
        .await?;
    Ok(success(
        HttpResponse::Created(),
        origin,
        auth_data(logged_in),
    ))
}

/// Log in to the app named by `x-app-id`. Unknown emails and wrong passwords get the same 401,
/// in the same time.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "accounts",
    params(("x-app-id" = String, Header, description = "The app's sourceAppId")),
    request_body = AccountLoginRequest,
    responses(
        (status = 200, description = "Logged in", body = Success<AuthData>),
        (status = 400, description = "Malformed JSON, or a missing or invalid x-app-id header", body = AccountErrorBody),
        (status = 401, description = "`invalid_credentials`", body = AccountErrorBody),
        (status = 403, description = "`origin_not_allowed`, or `organization_access_denied`", body = AccountErrorBody),
        (status = 404, description = "`unknown_app`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "`validation_failed`: a missing email or password, unknown members", body = AccountErrorBody),
        (status = 429, description = "Too many attempts from this address, or too many failures on this account; see Retry-After", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn login(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let app_id = header_app_id(&request).map_err(ApiError::for_accounts)?;
    let origin = allowed_origin(&state, &request, app_id.as_ref()).await?;
    let body = json_body(&request, payload).await?;
    let body = AccountLoginRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let ip = state.client_ip.of_request(&request);
    let attempt = state
        .account_login_limiter
        .begin(ip, LoginAccount::account(app_id.as_ref(), &body.email))
        .map_err(ApiError::for_accounts)?;
    let outcome = state
        .services
        .accounts
        .login(
            app_id.as_ref(),
            &body.email,
            body.password,
            body.organization_id.as_deref(),
            client_info(&state, &request),
        )
        .await;
    if matches!(outcome, Err(AccountError::InvalidCredentials)) {
        attempt.failed();
        tracing::info!(app_id = %app_id, client_ip = ?ip, "failed account login");
    }
    Ok(success(HttpResponse::Ok(), origin, auth_data(outcome?)))
}

/// A new access token and refresh token for a refresh token, which is spent. Sent again within
/// 10 seconds (two tabs at once), the same token gets the same answer; later, it ends the
/// session (a replayed token is a stolen one).
#[utoipa::path(
    post,
    path = "/v1/auth/refresh",
    tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = Success<TokensData>),
        (status = 400, description = "Malformed JSON", body = AccountErrorBody),
        (status = 401, description = "`invalid_token`: unknown, spent, revoked or expired", body = AccountErrorBody),
        (status = 403, description = "`origin_not_allowed`", body = AccountErrorBody),
        (status = 415, description = "Not application/json", body = AccountErrorBody),
        (status = 422, description = "No refresh_token", body = AccountErrorBody),
        (status = 429, description = "Too many refreshes of this session; see Retry-After", body = AccountErrorBody),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn refresh(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let body = json_body(&request, payload).await?;
    let body = RefreshRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let token = body.refresh_token.expose_secret();
    if let Some(app_id) = domain::refresh_token_app(token) {
        state
            .account_limits
            .refresh(token)
            .map_err(ApiError::for_accounts)?;
        let origin = allowed_origin(&state, &request, &app_id).await?;
        let tokens = state
            .services
            .accounts
            .refresh(&body.refresh_token, body.organization_id.as_deref())
            .await?;
        return Ok(success(
            HttpResponse::Ok(),
            origin,
            TokensData {
                token: tokens.access_token,
                expires_at: tokens.expires_at,
                refresh_token: tokens.refresh_token.expose_secret().to_owned(),
            },
        ));
    }
    Err(ApiError::invalid_token())
}

/// Ends this session; `{"all": true}` ends every session of the account.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    tag = "accounts",
    security(("bearer" = [])),
    request_body(content = LogoutRequest, description = "Optional"),
    responses(
        (status = 200, description = "Logged out", body = Success<crate::responses::LoggedOut>),
        (status = 401, description = "`unauthorized`, `invalid_token` or `token_expired`", body = AccountErrorBody),
        (status = 403, description = "`tenant_mismatch`: x-app-id names another app", body = AccountErrorBody),
        (status = 422, description = "`all` is not true or false", body = AccountErrorBody),
    )
)]
pub async fn logout(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    CurrentAccount(caller): CurrentAccount,
) -> Result<HttpResponse, ApiError> {
    let origin = allowed_origin(&state, &request, caller.app_id()).await?;
    let body = json_body(&request, payload).await?;
    let body = LogoutRequest::parse(&body).map_err(ApiError::for_accounts)?;
    let all = body.all.unwrap_or(false);
    state.services.accounts.logout(&caller, all).await?;
    Ok(success(
        HttpResponse::Ok(),
        origin,
        crate::responses::LoggedOut { all },
    ))
}

/// The public keys that verify access tokens (JWKS, RFC 7517): the current key, and replaced
/// ones while tokens they signed may still be valid. An app's backend verifies our tokens with
/// any JOSE library: `alg` EdDSA, `iss` this service, `aud` the app id.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "accounts",
    responses(
        (status = 200, description = "`{\"keys\": [{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\",\"kid\",\"alg\":\"EdDSA\",\"use\":\"sig\"}]}`", body = Object),
        (status = 503, description = "Storage unavailable", body = AccountErrorBody),
    )
)]
pub async fn jwks(state: Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let keys = state.services.accounts.jwks().await?;
    let mut response = HttpResponse::Ok();
    // Public keys: any page may read them, and caches may keep them for a few minutes.
    response
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"));
    Ok(response.json(keys))
}

//! End-user accounts' bearer authentication: the [`CurrentAccount`] extractor verifies the
//! access token through the domain (signature, `kid`, times, issuer, the session still active)
//! and, when the request names an app in `x-app-id`, that the token is that app's.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use domain::{AccountCaller, Caller};
use futures::future::LocalBoxFuture;

use crate::error::ApiError;
use crate::state::ApiState;

/// The account behind the request's `Authorization: Bearer` token. Bearer tokens are never
/// cookies, so the CSRF rule does not concern these routes.
#[derive(Debug)]
pub struct CurrentAccount(pub AccountCaller);

/// The token of `Authorization: Bearer <token>`, if the request has one.
pub fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The app the request names in `x-app-id`, if any (as sent: a mismatch is what matters).
pub fn named_app(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get(header::HeaderName::from_static("x-app-id"))
        .and_then(|value| value.to_str().ok())
}

impl FromRequest for CurrentAccount {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer_token(request).map(str::to_owned);
        let app_id = named_app(request).map(str::to_owned);
        let state = request.app_data::<Data<ApiState>>().cloned();
        Box::pin(async move {
            let Some(token) = token else {
                return Err(ApiError::unauthorized());
            };
            let Some(state) = state else {
                return Err(ApiError::invalid_token());
            };
            let caller = state
                .services
                .accounts
                .authenticate(&token, app_id.as_deref())
                .await?;
            Ok(CurrentAccount(caller))
        })
    }
}

/// The API key of the request: `X-API-Key: <key>`, or `Authorization: Bearer <key>` when the
/// bearer credential has the keys' prefix (`uak_`; access tokens are JWTs and never do).
pub fn api_key(request: &HttpRequest) -> Option<&str> {
    if let Some(key) = request
        .headers()
        .get(header::HeaderName::from_static("x-api-key"))
    {
        return Some(key.to_str().unwrap_or_default().trim());
    }
    bearer_token(request).filter(|token| token.starts_with(domain::KEY_PREFIX))
}

/// Whether the request carries any credential of the accounts API (a bearer token or an API
/// key): `POST /v1/users` with one is an admin creating a user, without one a public sign-up.
pub fn has_credential(request: &HttpRequest) -> bool {
    request.headers().contains_key(header::AUTHORIZATION)
        || request
            .headers()
            .contains_key(header::HeaderName::from_static("x-api-key"))
}

/// The caller of the accounts API's admin routes: an account (bearer access token), an
/// app's backend (API key), or, on the operators' copies under `/v1/apps/{appId}/`, the
/// dashboard session. A credential of another app than `x-app-id` names is 403
/// `tenant_mismatch`.
#[derive(Debug)]
pub struct CurrentCaller(pub Caller);

impl FromRequest for CurrentCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let key = api_key(request).map(str::to_owned);
        let token = bearer_token(request).map(str::to_owned);
        // The operators' copies of these routes (`/v1/apps/{appId}/accounts…`, inside the
        // session and CSRF rule of `/v1/apps/*`): without another credential, the dashboard
        // session acts on its app.
        if key.is_none()
            && token.is_none()
            && let Some(app_id) = request.match_info().get("appId").map(str::to_owned)
        {
            let operator = crate::operator_session::CurrentOperator::from_request(request, payload);
            return Box::pin(async move {
                let operator = operator.await?.0;
                let access = operator.app_access(&app_id)?;
                Ok(CurrentCaller(Caller::Operator(access)))
            });
        }
        // On an operators' copy, the path names the app as `x-app-id` would.
        let app_id = request
            .match_info()
            .get("appId")
            .or_else(|| named_app(request))
            .map(str::to_owned);
        let state = request.app_data::<Data<ApiState>>().cloned();
        Box::pin(async move {
            let Some(state) = state else {
                return Err(ApiError::invalid_token());
            };
            if let Some(key) = key {
                let caller = state.services.api_keys.authenticate(&key).await?;
                if app_id
                    .as_deref()
                    .is_some_and(|named| named != caller.app_id())
                {
                    return Err(domain::AccountError::TenantMismatch.into());
                }
                return Ok(CurrentCaller(Caller::ApiKey(caller)));
            }
            let Some(token) = token else {
                return Err(ApiError::unauthorized());
            };
            let caller = state
                .services
                .accounts
                .authenticate(&token, app_id.as_deref())
                .await?;
            Ok(CurrentCaller(Caller::Account(Box::new(caller))))
        })
    }
}

/// Who may use an app's management routes (`/v1/apps/{appId}/…`): an operator (the dashboard
/// session) or the app's own backend with an API key, as the app's owner would within the
/// key's permissions. A request with `X-API-Key` or a `uak_` bearer is judged by the key alone.
#[derive(Debug)]
pub enum AppManager {
    Operator(domain::Operator),
    ApiKey(domain::ApiKeyCaller),
}

impl AppManager {
    /// Access to `app_id` for a route that needs `needs` from a key.
    pub fn app_access(
        &self,
        app_id: &str,
        needs: domain::ManagementPermission,
    ) -> Result<domain::AppAccess, ApiError> {
        match self {
            Self::Operator(operator) => Ok(operator.app_access(app_id)?),
            Self::ApiKey(key) if key.app_id() != app_id => Err(ApiError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                "tenant_mismatch",
                "The API key belongs to another app",
            )),
            Self::ApiKey(key) => Ok(key.app_access(app_id, needs)?),
        }
    }
}

impl FromRequest for AppManager {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let Some(key) = api_key(request).map(str::to_owned) else {
            let operator = crate::operator_session::CurrentOperator::from_request(request, payload);
            return Box::pin(async move { Ok(Self::Operator(operator.await?.0)) });
        };
        let state = request.app_data::<Data<ApiState>>().cloned();
        Box::pin(async move {
            let Some(state) = state else {
                return Err(ApiError::unauthenticated());
            };
            match state.services.api_keys.authenticate(&key).await {
                Ok(caller) => Ok(Self::ApiKey(caller)),
                Err(_) => Err(ApiError::new(
                    actix_web::http::StatusCode::UNAUTHORIZED,
                    "invalid_api_key",
                    "The API key is unknown, revoked or expired",
                )),
            }
        })
    }
}

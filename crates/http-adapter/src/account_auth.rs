//! End-user accounts' bearer authentication: the [`CurrentAccount`] extractor verifies the
//! access token through the domain (signature, `kid`, times, issuer, the session still active)
//! and, when the request names an app in `x-app-id`, that the token is that app's.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use domain::AccountCaller;
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

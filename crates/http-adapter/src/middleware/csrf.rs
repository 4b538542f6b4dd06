//! Cross-site request forgery protection for the dashboard routes (`/auth/*`, `/v1/apps/*`).
//!
//! The session cookie is `SameSite=Strict`, so browsers do not attach it to cross-site
//! requests; this is the second, independent line. For every state-changing request
//! (anything but GET, HEAD and OPTIONS):
//! - an `Origin` header must equal the service's own origin (`session.public_origin` when
//!   configured, else the scheme and host of the request, as seen through
//!   `Forwarded`/`X-Forwarded-*` when the peer is a trusted proxy — from anyone else those
//!   headers would let a page name its own origin as ours), and `Sec-Fetch-Site`, when
//!   sent, must be `same-origin`; otherwise 403 `csrf_rejected`;
//! - a request that carries the session cookie must prove its origin: a matching `Origin` or
//!   `Sec-Fetch-Site: same-origin` (every current browser sends at least one on such
//!   requests); with neither it is refused, so a cookie is only usable from our own pages;
//! - a body must be `application/json` (HTML forms cannot send it cross-site without a CORS
//!   preflight, which these routes never grant); otherwise 415. A request without a body
//!   (logout, delete, password rotation) may omit the content type.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::Data;

use crate::error::ApiError;
use crate::operator_session::COOKIE_NAME;
use crate::state::ApiState;

pub async fn protect(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        check(&request)?;
    }
    next.call(request).await
}

fn check(request: &ServiceRequest) -> Result<(), ApiError> {
    let headers = request.headers();
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap_or("\u{0}").to_ascii_lowercase())
    };
    // The connection info borrows the request's extensions, as the cookie parser does: take
    // what is needed and let it go.
    let state = request.app_data::<Data<ApiState>>();
    let configured = state.and_then(|state| state.public_origin.clone());
    let own_origin = configured.unwrap_or_else(|| {
        let peer = request.peer_addr().map(|address| address.ip());
        if state.is_some_and(|state| state.client_ip.trusts_peer(peer)) {
            let info = request.connection_info();
            format!("{}://{}", info.scheme(), info.host()).to_ascii_lowercase()
        } else {
            direct_origin(request)
        }
    });
    let origin = text(header::ORIGIN);
    let fetch_site = text(header::HeaderName::from_static("sec-fetch-site"));
    let origin_matches = origin.as_deref() == Some(own_origin.as_str());
    if origin.is_some() && !origin_matches {
        tracing::warn!(origin = ?origin, own_origin, "cross-origin dashboard request refused");
        return Err(ApiError::csrf_rejected());
    }
    if fetch_site
        .as_deref()
        .is_some_and(|site| site != "same-origin")
    {
        tracing::warn!(fetch_site = ?fetch_site, "cross-site dashboard request refused");
        return Err(ApiError::csrf_rejected());
    }
    let has_session_cookie = request.cookie(COOKIE_NAME).is_some();
    if has_session_cookie && !origin_matches && fetch_site.is_none() {
        tracing::warn!("session cookie without Origin or Sec-Fetch-Site refused");
        return Err(ApiError::csrf_rejected());
    }
    let content_type = text(header::CONTENT_TYPE);
    match content_type {
        Some(content_type) => {
            let essence = content_type.split(';').next().unwrap_or_default().trim();
            if essence != "application/json" {
                return Err(ApiError::unsupported_media_type_json());
            }
        }
        None if has_body(request) => return Err(ApiError::unsupported_media_type_json()),
        None => {}
    }
    Ok(())
}

/// The origin a client reached us at without a proxy: this listener's scheme and the `Host`
/// it asked for, ignoring any forwarding header.
fn direct_origin(request: &ServiceRequest) -> String {
    let scheme = if request.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| {
            request
                .uri()
                .authority()
                .map(|authority| authority.as_str())
        })
        .unwrap_or_else(|| request.app_config().host());
    format!("{scheme}://{host}").to_ascii_lowercase()
}

fn has_body(request: &ServiceRequest) -> bool {
    let headers = request.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|length| length.trim() != "0")
}

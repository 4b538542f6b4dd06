//! CORS for the public routes. A preflight carries no header values (no app id), so it is
//! answered for any origin; the real request is then checked against the app's allowed
//! origins, and refused with 403 and no `Access-Control-Allow-Origin` when it does not match.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

const ALLOWED_METHODS: &str = "GET, POST, OPTIONS";
const ALLOWED_HEADERS: &str = "content-type, x-app-id";
const EXPOSED_HEADERS: &str = "x-request-id, retry-after";
/// Browsers cap this (Chromium at 2 hours); a day lets each use its own maximum.
const PREFLIGHT_MAX_AGE_SECONDS: u32 = 86_400;

/// The request's `Origin`, when it has one (browsers send it on cross-origin requests and
/// on every POST).
pub fn request_origin(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
}

/// The answer to `OPTIONS` on a public route.
pub async fn preflight(request: HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    allow_origin(&mut response, request_origin(&request));
    response
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECONDS))
        .finish()
}

/// Lets the browser read the response: echoes `origin`, never `*`, so that caches keep one
/// answer per origin (`Vary: Origin`).
pub fn allow_origin(response: &mut HttpResponseBuilder, origin: Option<&str>) {
    response.insert_header((header::VARY, "Origin"));
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        response
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, value))
            .insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS));
    }
}

/// The same, on a response already built (errors).
pub fn allow_origin_on(response: &mut HttpResponse, origin: Option<&str>) {
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
}

/// The per-IP limiter answers 429 before any handler runs, without CORS headers; a browser
/// would then report a network failure instead of `rate_limited` and `Retry-After`. A rate
/// limit says nothing about any app, so its answer is made readable to the requesting page.
pub async fn readable_rate_limits(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.call(request).await?;
    if response.status() == StatusCode::TOO_MANY_REQUESTS
        && let Some(origin) = origin
        && !response
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
    }
    Ok(response)
}

const ACCOUNT_METHODS: &str = "GET, POST, PUT, DELETE, OPTIONS";
const ACCOUNT_HEADERS: &str = "authorization, content-type, x-app-id";
const ACCOUNT_EXPOSED_HEADERS: &str = "x-request-id, retry-after, www-authenticate";

/// The answer to `OPTIONS` on an accounts route: bearer tokens travel in `Authorization`.
pub async fn account_preflight(request: HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    allow_origin(&mut response, request_origin(&request));
    response
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, ACCOUNT_METHODS))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ACCOUNT_HEADERS))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE_SECONDS))
        .finish()
}

/// On the accounts routes, a success carries CORS headers only when the app allows the page's
/// origin (the handler checks, once it knows the app). An error is readable by the page unless
/// it is the refusal of that origin: a 401 for a bad token, a 429 or a 422 says nothing of an
/// app the page may not see, and a script must read a 401 to know it should refresh.
pub async fn readable_account_errors(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.call(request).await?;
    let refused = response
        .response()
        .error()
        .and_then(|error| error.as_error::<crate::error::ApiError>())
        .is_some_and(|error| error.code == "origin_not_allowed");
    if (response.status().is_client_error() || response.status().is_server_error())
        && !refused
        && let Some(origin) = origin
        && !response
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(ACCOUNT_EXPOSED_HEADERS),
        );
    }
    Ok(response)
}

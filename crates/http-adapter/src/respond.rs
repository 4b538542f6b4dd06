//! Small pieces of answers that many routes share.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};

use crate::error::ApiError;
use crate::routes::methods_of;

/// Marks an answer as never to be stored by a cache (sessions, management data, secrets).
pub fn no_store(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

/// The answer of a known path to a method it does not take, with the methods it takes in
/// `Allow` (RFC 9110, 15.5.6), from the route table.
pub async fn method_not_allowed(request: HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::from_error(ApiError::method_not_allowed());
    let allow = request
        .match_pattern()
        .and_then(|pattern| methods_of(&pattern))
        .and_then(|methods| HeaderValue::from_str(&methods.join(", ")).ok());
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// The answer to a path nothing serves.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}

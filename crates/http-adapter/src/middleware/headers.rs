//! Security headers: what every answer carries, and the fuller policies of the routes that
//! serve pages.

use actix_web::middleware::DefaultHeaders;

/// Every answer may be shown in no frame (clickjacking); `X-Frame-Options: DENY` says the
/// same to older browsers. Routes that serve pages set a fuller policy.
pub const FRAME_POLICY: &str = "frame-ancestors 'none'";
/// The built-in pages (form thank-you and error pages): inline styles, nothing else.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                           form-action 'none'; frame-ancestors 'none'";
/// Swagger UI at `/docs`: its own scripts and styles (it sets inline styles and uses `data:`
/// images), and requests to this service only ("Try it out").
pub const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' \
                           'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
                           connect-src 'self'; base-uri 'none'; form-action 'self'; \
                           frame-ancestors 'none'";

/// What every answer carries: no sniffing, no referrer, no framing.
pub fn every_answer() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("x-content-type-options", "nosniff"))
        .add(("referrer-policy", "no-referrer"))
        .add(("x-frame-options", "DENY"))
        .add(("content-security-policy", FRAME_POLICY))
}

/// The built-in HTML pages' policy (it replaces [`FRAME_POLICY`]).
pub fn pages() -> DefaultHeaders {
    DefaultHeaders::new().add(("content-security-policy", PAGE_POLICY))
}

/// Swagger UI's policy.
pub fn docs() -> DefaultHeaders {
    DefaultHeaders::new().add(("content-security-policy", DOCS_POLICY))
}

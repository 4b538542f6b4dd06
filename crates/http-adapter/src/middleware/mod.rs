//! What wraps the routes: request framing and body deadlines, request ids and spans, security
//! headers, and the dashboard's CSRF rule.

pub mod csrf;
pub mod framing;
pub mod headers;
pub mod request_id;

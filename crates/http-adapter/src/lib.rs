//! The HTTP face of Users API (actix-web). Handlers call domain services and nothing else; this
//! is the only crate that knows HTTP status codes.
//!
//! Where things are: `settings` and `state` (what the tier is configured with and what every
//! handler shares), `routes` (the route table, then one module per concern), `middleware`
//! (framing and body deadlines, request ids, security headers, CSRF), `operator_session` (the
//! dashboard's cookie and the [`CurrentOperator`] extractor), `requests` and `responses` (the
//! bodies, as the OpenAPI document shows them), `body` (reading bodies), `respond` (shared
//! pieces of answers), `error` (the error envelope), `cors`, `rate_limit`, `client_ip`,
//! `openapi`, `dashboard` (the dashboard's static files) and `metrics`.

mod account_auth;
mod body;
mod client_ip;
mod cors;
mod dashboard;
mod error;
mod metrics;
mod middleware;
mod openapi;
mod operator_session;
mod rate_limit;
mod requests;
mod respond;
mod responses;
mod routes;
mod settings;
mod state;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpServer};
use tracing_actix_web::TracingLogger;

pub use client_ip::{ClientIpResolver, IpNetwork};
pub use error::ApiError;
pub use metrics::{BATCH_SIZE_BOUNDS, Histogram, Metrics, serve_metrics};
pub use openapi::{ApiDoc, openapi_json};
pub use operator_session::{CurrentOperator, SessionKey, SessionKeyError, SessionSettings};
pub use rate_limit::RateLimitSettings;
pub use routes::export::{ExportError, ExportFormat, write_export};
pub use settings::HttpSettings;
pub use state::ApiState;

use crate::middleware::{framing, headers, request_id};

/// Starts serving on `listener` (bind port 0 in tests). The server does not listen for
/// signals: actix-web would stop at once on SIGINT; the caller stops it through its handle.
pub fn serve(
    listener: TcpListener,
    state: ApiState,
    settings: &HttpSettings,
) -> std::io::Result<Server> {
    let record_metrics = metrics::RecordMetrics(state.metrics.clone());
    let state = Data::new(state);
    let resolver = ClientIpResolver::new(settings.trusted_proxies.clone());
    let governor = rate_limit::ip_governor(&settings.rate_limit, resolver)
        .ok_or_else(|| std::io::Error::other("invalid rate limit settings"))?;
    let session_key = settings.session.key.clone().unwrap_or_else(|| {
        tracing::warn!(
            "no session.secret_key configured: using a throwaway key; dashboard sessions end \
             at every restart and are not shared between instances"
        );
        SessionKey::generate()
    });
    let wiring = routes::Wiring {
        governor,
        limit_ips: settings.rate_limit.enabled,
        session_key,
        secure_cookie: settings.session.secure_cookie,
    };
    let dashboard_dist = settings.dashboard_dist.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            // First, so that it wraps the router itself (see `RecordMetrics`).
            .wrap(record_metrics.clone())
            // Outside the metrics (which must wrap the router directly): a framing refusal
            // is answered before routing.
            .wrap(from_fn(framing::guard))
            .wrap(from_fn(request_id::add_request_id))
            .wrap(TracingLogger::<request_id::RequestSpan>::new())
            .wrap(headers::every_answer())
            .app_data(state.clone())
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|error, _| ApiError::invalid_query(&error).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
            .configure(|config| routes::configure(config, &wiring))
            // Last: it takes GET/HEAD of every path the API does not use (SPA fallback).
            .configure(|config| {
                if let Some(dist) = &dashboard_dist {
                    dashboard::configure(config, dist.clone());
                }
            })
            .default_service(web::to(respond::not_found))
    })
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(settings.shutdown_timeout_seconds);
    if let Some(workers) = settings.workers {
        server = server.workers(workers.max(1));
    }
    if let Some(connections) = settings.max_connections {
        server = server.max_connections(connections.max(1));
    }
    Ok(server.run())
}

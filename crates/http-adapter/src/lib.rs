//! The HTTP face of Users API (actix-web): routes, DTOs, CORS, rate limits, the error
//! envelope and the OpenAPI document. Handlers call domain services and nothing else; this is
//! the only crate that knows HTTP status codes.

mod body;
mod client_ip;
mod cors;
mod csrf;
mod dashboard;
mod dto;
mod error;
mod framing;
mod metrics;
mod openapi;
mod rate_limit;
mod routes;
mod session;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_governor::Governor;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{Condition, DefaultHeaders, Next, from_fn};
use actix_web::web::{self, Data};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer};
use domain::Services;
use storage_port::Storage;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder, TracingLogger};

pub use client_ip::{ClientIpResolver, IpNetwork};
pub use error::ApiError;
pub use metrics::{BATCH_SIZE_BOUNDS, Histogram, Metrics, serve_metrics};
pub use openapi::{ApiDoc, openapi_json};
pub use rate_limit::RateLimitSettings;
pub use routes::users::{ExportError, ExportFormat, write_export};
pub use session::{SessionKey, SessionKeyError, SessionSettings};

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub rate_limit: RateLimitSettings,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR networks).
    pub trusted_proxies: Vec<IpNetwork>,
    /// Body limit of the public routes.
    pub public_body_limit: usize,
    /// Worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// Seconds in-flight requests get to finish after SIGTERM.
    pub shutdown_timeout_seconds: u64,
    pub session: SessionSettings,
    /// The dashboard's built files (`web-admin/dist`), served at `/`; `None` serves no dashboard.
    pub dashboard_dist: Option<std::path::PathBuf>,
    /// How long a request's body may take to arrive, from the end of its headers (408 after).
    pub body_timeout: Duration,
    /// Open connections per worker; further ones wait in the listen backlog. `None`: actix-web's
    /// default (25,000).
    pub max_connections: Option<usize>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            rate_limit: RateLimitSettings::default(),
            trusted_proxies: Vec::new(),
            public_body_limit: 16 * 1024,
            workers: None,
            shutdown_timeout_seconds: 30,
            session: SessionSettings::default(),
            dashboard_dist: None,
            body_timeout: Duration::from_secs(10),
            max_connections: None,
        }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct ApiState {
    pub services: Arc<Services<dyn Storage>>,
    app_limiter: rate_limit::AppLimiter,
    login_limiter: rate_limit::LoginLimiter,
    client_ip: ClientIpResolver,
    revoked: session::RevokedSessions,
    public_origin: Option<String>,
    body_limit: usize,
    body_timeout: Duration,
    openapi: String,
    metrics: Option<Arc<Metrics>>,
}

impl ApiState {
    pub fn new(services: Arc<Services<dyn Storage>>, settings: &HttpSettings) -> Self {
        Self {
            services,
            app_limiter: rate_limit::AppLimiter::new(&settings.rate_limit),
            login_limiter: rate_limit::LoginLimiter::new(&settings.rate_limit),
            client_ip: ClientIpResolver::new(settings.trusted_proxies.clone()),
            revoked: session::RevokedSessions::default(),
            public_origin: settings.session.public_origin.clone(),
            body_limit: settings.public_body_limit,
            body_timeout: settings.body_timeout,
            openapi: openapi_json(),
            metrics: None,
        }
    }

    /// Records every request into `metrics` (served apart by [`serve_metrics`]).
    pub fn with_metrics(self, metrics: Arc<Metrics>) -> Self {
        Self {
            metrics: Some(metrics),
            ..self
        }
    }
}

/// Every answer may be shown in no frame (clickjacking); `X-Frame-Options: DENY` says the
/// same to older browsers. Routes that serve pages set a fuller policy.
const FRAME_POLICY: &str = "frame-ancestors 'none'";
/// The built-in pages (form thank-you and error pages): inline styles, nothing else.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                           form-action 'none'; frame-ancestors 'none'";
/// Swagger UI at `/docs`: its own scripts and styles (it sets inline styles and uses `data:`
/// images), and requests to this service only ("Try it out").
const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' \
                           'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
                           connect-src 'self'; base-uri 'none'; form-action 'self'; \
                           frame-ancestors 'none'";

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
    let limit_ips = settings.rate_limit.enabled;
    let session_key = settings.session.key.clone().unwrap_or_else(|| {
        tracing::warn!(
            "no session.secret_key configured: using a throwaway key; dashboard sessions end \
             at every restart and are not shared between instances"
        );
        SessionKey::generate()
    });
    let secure_cookie = settings.session.secure_cookie;
    let dashboard_dist = settings.dashboard_dist.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            // First, so that it wraps the router itself (see `RecordMetrics`).
            .wrap(record_metrics.clone())
            // Outside the metrics (which must wrap the router directly): a framing refusal
            // is answered before routing.
            .wrap(from_fn(framing::guard))
            .wrap(from_fn(add_request_id))
            .wrap(TracingLogger::<RequestSpan>::new())
            .wrap(
                DefaultHeaders::new()
                    .add(("x-content-type-options", "nosniff"))
                    .add(("referrer-policy", "no-referrer"))
                    .add(("x-frame-options", "DENY"))
                    .add(("content-security-policy", FRAME_POLICY)),
            )
            .app_data(state.clone())
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|error, _| ApiError::invalid_query(&error).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()))
            .configure(|config| public_routes(config, &governor, limit_ips))
            .configure(|config| dashboard_routes(config, &session_key, secure_cookie))
            .configure(docs_routes)
            // Last: it takes GET/HEAD of every path the API does not use (SPA fallback).
            .configure(|config| {
                if let Some(dist) = &dashboard_dist {
                    dashboard::configure(config, dist.clone());
                }
            })
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::not_found())
            }))
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

fn public_routes(
    config: &mut web::ServiceConfig,
    governor: &rate_limit::IpGovernor,
    limit_ips: bool,
) {
    use routes::{health, public};
    let ip_limit = || Condition::new(limit_ips, Governor::new(governor));
    let method_not_allowed =
        || web::to(|| async { Err::<HttpResponse, _>(ApiError::method_not_allowed()) });
    let page_policy = || DefaultHeaders::new().add(("content-security-policy", PAGE_POLICY));
    config
        .service(
            web::resource("/v1/users")
                .wrap(page_policy())
                .wrap(ip_limit())
                .wrap(Condition::new(
                    limit_ips,
                    from_fn(cors::readable_rate_limits),
                ))
                .route(method_route(Method::POST).to(public::submit_user))
                .route(method_route(Method::OPTIONS).to(cors::preflight))
                .default_service(method_not_allowed()),
        )
        .service(
            web::resource("/v1/schema")
                .wrap(ip_limit())
                .wrap(Condition::new(
                    limit_ips,
                    from_fn(cors::readable_rate_limits),
                ))
                .route(method_route(Method::GET).to(public::get_schema))
                .route(method_route(Method::OPTIONS).to(cors::preflight))
                .default_service(method_not_allowed()),
        )
        .service(
            web::resource(public::THANKS_PATH)
                .wrap(page_policy())
                .route(web::get().to(public::thanks)),
        )
        .route("/health", web::get().to(health::health))
        .route("/ready", web::get().to(health::ready))
        .route("/openapi.json", web::get().to(openapi_document));
}

/// A route for one method. actix-web's own method guards also record each method they check
/// in the request's extensions, an allocation per request on the public hot path; these
/// routes' resources answer 405 themselves.
fn method_route(method: Method) -> actix_web::Route {
    web::route().guard(actix_web::guard::fn_guard(move |context| {
        context.head().method == method
    }))
}

/// `/auth/*` and `/v1/apps/*`: session cookie, CSRF checks, JSON bodies.
fn dashboard_routes(config: &mut web::ServiceConfig, key: &SessionKey, secure_cookie: bool) {
    use routes::{apps, auth, users};
    let method_not_allowed =
        || web::to(|| async { Err::<HttpResponse, _>(ApiError::method_not_allowed()) });
    config
        .service(
            web::scope("/auth")
                .wrap(session::middleware(key, secure_cookie))
                .wrap(from_fn(csrf::protect))
                .service(
                    web::resource("/login")
                        .route(web::post().to(auth::login))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/session")
                        .route(web::get().to(auth::current_session))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/setup")
                        .route(web::get().to(auth::setup))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/logout")
                        .route(web::post().to(auth::logout))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/users")
                        .route(web::get().to(auth::own_users))
                        .default_service(method_not_allowed()),
                ),
        )
        .service(
            web::scope("/v1/apps")
                .wrap(session::middleware(key, secure_cookie))
                .wrap(from_fn(csrf::protect))
                .service(
                    web::resource("")
                        .route(web::get().to(apps::list_apps))
                        .route(web::post().to(apps::create_app))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/{appId}")
                        .route(web::get().to(apps::get_app))
                        .route(web::patch().to(apps::update_app))
                        .route(web::delete().to(apps::delete_app))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/{appId}/password")
                        .route(web::post().to(apps::rotate_password))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/{appId}/schema")
                        .route(web::get().to(apps::get_schema))
                        .route(web::put().to(apps::put_schema))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/{appId}/schema/versions")
                        .route(web::get().to(apps::schema_versions))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/{appId}/users")
                        .route(web::get().to(users::list_users))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/{appId}/users/export")
                        .route(web::get().to(users::export_users))
                        .default_service(method_not_allowed()),
                )
                .service(
                    web::resource("/{appId}/users/{userId}")
                        .route(web::get().to(users::get_user))
                        .route(web::delete().to(users::delete_user))
                        .default_service(method_not_allowed()),
                ),
        );
}

/// `/docs`: Swagger UI (served from the binary, nothing fetched from the internet) over
/// `/openapi.json`.
fn docs_routes(config: &mut web::ServiceConfig) {
    config
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header((actix_web::http::header::LOCATION, "/docs/"))
                    .finish()
            }),
        )
        .service(
            web::scope("/docs")
                .wrap(DefaultHeaders::new().add(("content-security-policy", DOCS_POLICY)))
                .service(
                    utoipa_swagger_ui::SwaggerUi::new("/{_:.*}")
                        .config(utoipa_swagger_ui::Config::new(["/openapi.json"])),
                ),
        );
}

async fn openapi_document(state: Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi.clone())
}

/// tracing-actix-web's request span, built only when a subscriber wants it: the default builder
/// reads the connection info, route and headers of every request before it knows whether the
/// span is enabled, which was a measurable share of a sign-up at the default log level.
struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        // The target the default builder's span has, so that per-target filters agree.
        if tracing::enabled!(target: "tracing_actix_web::root_span_builder", tracing::Level::INFO) {
            DefaultRootSpanBuilder::on_request_start(request)
        } else {
            tracing::Span::none()
        }
    }

    fn on_request_end<B: MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, error) = match outcome {
            Ok(response) => (response.status(), response.response().error()),
            Err(error) => (error.as_response_error().status_code(), Some(error)),
        };
        span.record("http.status_code", status.as_u16());
        span.record(
            "otel.status_code",
            if status.is_server_error() {
                "ERROR"
            } else {
                "OK"
            },
        );
        if let Some(error) = error {
            error::log_request_error(status, error);
        }
    }
}

/// Returns the id tracing-actix-web gave the request, so a client can quote it.
async fn add_request_id(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request.extensions().get::<RequestId>().map(|id| **id);
    let mut response = next.call(request).await?;
    if let Some(id) = id {
        // Written on the stack: one allocation fewer on every request.
        let mut text = uuid::Uuid::encode_buffer();
        if let Ok(value) = HeaderValue::from_str(id.hyphenated().encode_lower(&mut text)) {
            response
                .headers_mut()
                .insert(HeaderName::from_static("x-request-id"), value);
        }
    }
    Ok(response)
}

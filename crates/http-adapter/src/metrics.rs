//! Prometheus metrics: requests by route pattern, method and status, latency histograms,
//! sign-up outcomes, store errors, and whatever the composition root adds (the SQLite
//! writer's batch sizes). Served by [`serve_metrics`] on an address of its own.
//!
//! Recording costs a few relaxed atomic additions per request: no lock, and no allocation on
//! the public routes. Label sets are fixed in advance (statuses, methods, outcomes) or
//! bounded by the routes the application registers (never the raw path).

use std::future::Future;
use std::net::TcpListener;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpResponse, HttpServer, web};
use storage_port::StorageError;

use crate::error::ApiError;

/// Upper bounds (seconds) of the latency buckets.
const LATENCY_BOUNDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds of the SQLite group-commit batch-size buckets (writes per transaction).
pub const BATCH_SIZE_BOUNDS: [f64; 11] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// The public routes, labelled without asking the router (which allocates the pattern).
const FAST_ROUTES: [&str; 5] = ["/v1/users", "/v1/schema", "/health", "/ready", "/v1/thanks"];
/// `POST /v1/users`, the sign-up: its places in `FAST_ROUTES` and `METHODS`.
const SIGNUP_ROUTE: usize = 0;
const POST: usize = 2;
/// Slots for the other route patterns; patterns beyond them are counted as `other`.
const ROUTE_SLOTS: usize = 64;
const UNMATCHED: &str = "unmatched";
const OTHER: &str = "other";

const STATUSES: [u16; 22] = [
    200, 201, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429,
    500, 503, 504,
];
const METHODS: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];
/// One more than the known ones: `other`.
const STATUS_LABELS: usize = STATUSES.len() + 1;
const METHOD_LABELS: usize = METHODS.len() + 1;

/// Why a sign-up (`POST /v1/users`) was answered as it was. A filled honeypot is `accepted`:
/// the metrics say what the client was told, so nothing here tells a bot apart.
const SIGNUP_OUTCOMES: [&str; 10] = [
    "accepted",
    "validation",
    "origin",
    "rate_limited",
    "unknown_app",
    "bad_request",
    "too_large",
    "unsupported_media_type",
    "server_error",
    "other",
];

const STORE_ERROR_KINDS: [&str; 3] = ["unavailable", "corrupt", "unexpected"];

/// A histogram over fixed bounds, updated with atomics only.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// One per bound, then `+Inf`; not cumulative (the text format's are summed on output).
    buckets: Box<[AtomicU64]>,
    /// Sum in millionths of the unit, so that an integer atomic holds it.
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        let index = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((value * 1e6) as u64, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        use std::fmt::Write as _;
        let separator = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (index, bucket) in self.buckets.iter().enumerate() {
            cumulative += bucket.load(Ordering::Relaxed);
            let bound = self
                .bounds
                .get(index)
                .map_or_else(|| "+Inf".to_owned(), f64::to_string);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {cumulative}"
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {}", self.count());
    }
}

#[derive(Debug)]
struct RouteMetrics {
    /// `[method][status]`.
    requests: Box<[[AtomicU64; STATUS_LABELS]]>,
    latency: Histogram,
}

impl RouteMetrics {
    fn new() -> Self {
        Self {
            requests: (0..METHOD_LABELS)
                .map(|_| std::array::from_fn(|_| AtomicU64::new(0)))
                .collect(),
            latency: Histogram::new(&LATENCY_BOUNDS),
        }
    }
}

/// Everything `/metrics` reports for one application.
pub struct Metrics {
    fast_routes: [RouteMetrics; FAST_ROUTES.len()],
    /// Other route patterns, in the order first seen; set once each, never removed.
    routes: [OnceLock<(String, RouteMetrics)>; ROUTE_SLOTS],
    unmatched: RouteMetrics,
    other: RouteMetrics,
    signups: [AtomicU64; SIGNUP_OUTCOMES.len()],
    store_errors: [AtomicU64; STORE_ERROR_KINDS.len()],
    sqlite_batches: Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            fast_routes: std::array::from_fn(|_| RouteMetrics::new()),
            routes: std::array::from_fn(|_| OnceLock::new()),
            unmatched: RouteMetrics::new(),
            other: RouteMetrics::new(),
            signups: std::array::from_fn(|_| AtomicU64::new(0)),
            store_errors: std::array::from_fn(|_| AtomicU64::new(0)),
            sqlite_batches: Histogram::new(&BATCH_SIZE_BOUNDS),
        }
    }
}

fn status_index(status: StatusCode) -> usize {
    STATUSES
        .iter()
        .position(|known| *known == status.as_u16())
        .unwrap_or(STATUSES.len())
}

fn method_index(method: &Method) -> usize {
    METHODS
        .iter()
        .position(|known| known == method)
        .unwrap_or(METHODS.len())
}

fn signup_outcome(status: StatusCode) -> usize {
    let outcome = match status.as_u16() {
        200 | 303 => "accepted",
        422 => "validation",
        403 => "origin",
        429 => "rate_limited",
        404 => "unknown_app",
        400 => "bad_request",
        413 => "too_large",
        415 => "unsupported_media_type",
        500..=599 => "server_error",
        _ => "other",
    };
    SIGNUP_OUTCOMES
        .iter()
        .position(|known| *known == outcome)
        .unwrap_or(SIGNUP_OUTCOMES.len() - 1)
}

/// The label of a store error; `None` for the ones that are answers (duplicate, not found).
pub(crate) fn store_error_kind(error: &StorageError) -> Option<&'static str> {
    match error {
        StorageError::Unavailable(_) => Some("unavailable"),
        StorageError::Corrupt(_) => Some("corrupt"),
        StorageError::Unexpected(_) => Some("unexpected"),
        StorageError::Incompatible(_) => Some("incompatible"),
        StorageError::Duplicate(_) | StorageError::NotFound(_) | StorageError::LastAdmin => None,
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// The SQLite group-commit batch sizes (writes per transaction); the composition root
    /// feeds it from the writer's observer, so that this crate knows no driver.
    pub fn sqlite_batch_sizes(&self) -> &Histogram {
        &self.sqlite_batches
    }

    fn route(&self, request: &actix_web::HttpRequest) -> &RouteMetrics {
        let path = request.path();
        if let Some(index) = FAST_ROUTES.iter().position(|route| *route == path) {
            return &self.fast_routes[index];
        }
        let Some(pattern) = request.match_pattern() else {
            return &self.unmatched;
        };
        for slot in &self.routes {
            let (known, metrics) = slot.get_or_init(|| (pattern.clone(), RouteMetrics::new()));
            if *known == pattern {
                return metrics;
            }
        }
        &self.other
    }

    fn record(
        &self,
        route: &RouteMetrics,
        method: usize,
        status: StatusCode,
        error: Option<&ApiError>,
        seconds: f64,
    ) {
        route.requests[method][status_index(status)].fetch_add(1, Ordering::Relaxed);
        route.latency.observe(seconds);
        if std::ptr::eq(route, &self.fast_routes[SIGNUP_ROUTE]) && method == POST {
            self.signups[signup_outcome(status)].fetch_add(1, Ordering::Relaxed);
        }
        if let Some(kind) = error.and_then(|e| e.store_error)
            && let Some(index) = STORE_ERROR_KINDS.iter().position(|k| *k == kind)
        {
            self.store_errors[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::with_capacity(16 * 1024);
        let routes = self.labelled_routes();

        out.push_str("# HELP users_api_http_requests_total HTTP requests answered, by route pattern, method and status.\n");
        out.push_str("# TYPE users_api_http_requests_total counter\n");
        for (route, metrics) in &routes {
            for (m, by_status) in metrics.requests.iter().enumerate() {
                let method = METHODS.get(m).map_or(OTHER, Method::as_str);
                for (s, counter) in by_status.iter().enumerate() {
                    let count = counter.load(Ordering::Relaxed);
                    if count == 0 {
                        continue;
                    }
                    let status = STATUSES
                        .get(s)
                        .map_or_else(|| OTHER.to_owned(), u16::to_string);
                    let _ = writeln!(
                        out,
                        "users_api_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {count}",
                        escape(route)
                    );
                }
            }
        }

        out.push_str("# HELP users_api_http_request_duration_seconds Time to the response's head, by route pattern.\n");
        out.push_str("# TYPE users_api_http_request_duration_seconds histogram\n");
        for (route, metrics) in &routes {
            if metrics.latency.count() > 0 {
                let labels = format!("route=\"{}\"", escape(route));
                metrics.latency.render(
                    &mut out,
                    "users_api_http_request_duration_seconds",
                    &labels,
                );
            }
        }

        out.push_str("# HELP users_api_signups_total Sign-ups (POST /v1/users) by outcome; a filled honeypot counts as accepted.\n");
        out.push_str("# TYPE users_api_signups_total counter\n");
        for (outcome, counter) in SIGNUP_OUTCOMES.iter().zip(&self.signups) {
            let _ = writeln!(
                out,
                "users_api_signups_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }

        out.push_str(
            "# HELP users_api_store_errors_total Requests that failed in the store, by kind.\n",
        );
        out.push_str("# TYPE users_api_store_errors_total counter\n");
        for (kind, counter) in STORE_ERROR_KINDS.iter().zip(&self.store_errors) {
            let _ = writeln!(
                out,
                "users_api_store_errors_total{{kind=\"{kind}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }

        out.push_str("# HELP users_api_sqlite_commit_batch_size Writes committed per SQLite transaction (group commit).\n");
        out.push_str("# TYPE users_api_sqlite_commit_batch_size histogram\n");
        self.sqlite_batches
            .render(&mut out, "users_api_sqlite_commit_batch_size", "");
        out
    }

    fn labelled_routes(&self) -> Vec<(&str, &RouteMetrics)> {
        let mut routes: Vec<(&str, &RouteMetrics)> = FAST_ROUTES
            .iter()
            .copied()
            .zip(self.fast_routes.iter())
            .collect();
        routes.extend(
            self.routes
                .iter()
                .filter_map(OnceLock::get)
                .map(|(pattern, metrics)| (pattern.as_str(), metrics)),
        );
        routes.push((UNMATCHED, &self.unmatched));
        routes.push((OTHER, &self.other));
        routes
    }
}

/// A label value in the text format: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The middleware that records every request into [`Metrics`]; `None` records nothing.
/// It must wrap the application's router directly (the first `wrap`): it relies on the
/// router's future being `Unpin`, which spares a box per request.
#[derive(Debug, Clone)]
pub(crate) struct RecordMetrics(pub Option<Arc<Metrics>>);

impl<S, B> Transform<S, ServiceRequest> for RecordMetrics
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: Unpin,
    B: MessageBody,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RecordMetricsService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(RecordMetricsService {
            service: Rc::new(service),
            metrics: self.0.clone(),
        }))
    }
}

#[derive(Debug)]
pub(crate) struct RecordMetricsService<S> {
    service: Rc<S>,
    metrics: Option<Arc<Metrics>>,
}

impl<S, B> Service<ServiceRequest> for RecordMetricsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: Unpin,
    B: MessageBody,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Recorded<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        // Nothing of the request is kept: a clone of it would stop the router from writing
        // the path parameters into it. The response carries it back.
        let recording = self.metrics.as_ref().map(|metrics| Recording {
            metrics: metrics.clone(),
            started: Instant::now(),
            method: method_index(request.method()),
        });
        Recorded {
            inner: self.service.call(request),
            recording,
        }
    }
}

struct Recording {
    metrics: Arc<Metrics>,
    started: Instant,
    method: usize,
}

pub(crate) struct Recorded<F> {
    inner: F,
    recording: Option<Recording>,
}

impl<F, B> Future for Recorded<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + Unpin,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outcome = std::task::ready!(Pin::new(&mut self.inner).poll(cx));
        if let Some(recording) = self.recording.take() {
            let seconds = recording.started.elapsed().as_secs_f64();
            let metrics = &recording.metrics;
            match &outcome {
                Ok(response) => {
                    let error = response.response().error();
                    metrics.record(
                        metrics.route(response.request()),
                        recording.method,
                        response.status(),
                        error.and_then(|e| e.as_error::<ApiError>()),
                        seconds,
                    );
                }
                Err(error) => metrics.record(
                    &metrics.unmatched,
                    recording.method,
                    error.as_response_error().status_code(),
                    error.as_error::<ApiError>(),
                    seconds,
                ),
            }
        }
        Poll::Ready(outcome)
    }
}

/// Serves `GET /metrics` on `listener` and nothing else, on one worker. Like [`crate::serve`]
/// it does not listen for signals: the caller stops it.
pub fn serve_metrics(listener: TcpListener, metrics: Arc<Metrics>) -> std::io::Result<Server> {
    let metrics = web::Data::from(metrics);
    let server = HttpServer::new(move || {
        App::new().app_data(metrics.clone()).route(
            "/metrics",
            web::get().to(|metrics: web::Data<Metrics>| async move {
                HttpResponse::Ok()
                    .content_type("text/plain; version=0.0.4; charset=utf-8")
                    .body(metrics.render())
            }),
        )
    })
    .listen(listener)?
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1);
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_in_the_text_format() {
        let histogram = Histogram::new(&BATCH_SIZE_BOUNDS);
        for size in [1.0, 3.0, 3.0, 2000.0] {
            histogram.observe(size);
        }
        let mut out = String::new();
        histogram.render(&mut out, "batch", "");
        assert!(out.contains("batch_bucket{le=\"1\"} 1\n"), "{out}");
        assert!(out.contains("batch_bucket{le=\"2\"} 1\n"), "{out}");
        assert!(out.contains("batch_bucket{le=\"4\"} 3\n"), "{out}");
        assert!(out.contains("batch_bucket{le=\"1024\"} 3\n"), "{out}");
        assert!(out.contains("batch_bucket{le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("batch_sum 2007\n"), "{out}");
        assert!(out.contains("batch_count 4\n"), "{out}");
    }

    #[test]
    fn sign_up_outcomes_follow_the_answer() {
        let outcome = |code: u16| {
            SIGNUP_OUTCOMES[signup_outcome(StatusCode::from_u16(code).expect("status"))]
        };
        assert_eq!(outcome(200), "accepted");
        assert_eq!(outcome(303), "accepted");
        assert_eq!(outcome(422), "validation");
        assert_eq!(outcome(403), "origin");
        assert_eq!(outcome(429), "rate_limited");
        assert_eq!(outcome(503), "server_error");
        assert_eq!(outcome(418), "other");
    }

    #[test]
    fn unknown_statuses_and_methods_share_an_other_label() {
        assert_eq!(status_index(StatusCode::IM_A_TEAPOT), STATUSES.len());
        assert_eq!(method_index(&Method::TRACE), METHODS.len());
        assert_eq!(status_index(StatusCode::OK), 0);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

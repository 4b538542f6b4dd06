//! The routes static sites call: `POST /v1/users` (JSON from scripts, or a plain HTML form)
//! and `GET /v1/schema`.
//!
//! A submission goes through one pipeline whatever its content type: it is parsed by kind
//! (app id and body), then the app is loaded, the origin checked, the app's rate limit taken
//! and the record stored, and the outcome is rendered by kind (JSON with CORS headers, or a
//! redirect and HTML pages for forms).

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Data, Payload};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use domain::{AppContext, AppId, SubmissionInput, Submitted, normalize_origin};
use schema_validation::{FieldKind, Schema};
use serde_json::{Map, Value};

use crate::body::{BodyKind, body_kind, read_limited};
use crate::cors::{allow_origin, allow_origin_on, request_origin};
use crate::error::{AccountErrorBody, ApiError, ErrorBody};
use crate::requests::SubmitUserRequest;
use crate::responses::{CreatedUser, SchemaResponse, SubmittedResponse, Success};
use crate::state::ApiState;

/// The built-in page a plain HTML form lands on when the app has no thank-you URL.
pub const THANKS_PATH: &str = "/v1/thanks";

/// Why a request failed, and how far it got: what the answer may share and explain depends on
/// it.
struct Failure {
    /// Boxed: failures are rare, and a large `Err` would make every `Result` here large.
    error: Box<ApiError>,
    stage: Stage,
}

enum Stage {
    /// Before any app is known: the error reveals nothing about an app, so the page may read
    /// it.
    BeforeApp,
    /// The app does not allow this origin: no CORS headers (the page cannot read the answer);
    /// a form's error page names the origin.
    Refused {
        context: Arc<AppContext>,
        origin: String,
    },
    /// The app allows the origin: its error page and its fields' labels may be used.
    OfApp(Arc<AppContext>),
}

impl<E: Into<ApiError>> From<E> for Failure {
    fn from(error: E) -> Self {
        Self {
            error: Box::new(error.into()),
            stage: Stage::BeforeApp,
        }
    }
}

impl Failure {
    fn of_app(error: impl Into<ApiError>, context: &Arc<AppContext>) -> Self {
        Self {
            error: Box::new(error.into()),
            stage: Stage::OfApp(context.clone()),
        }
    }

    fn context(&self) -> Option<&Arc<AppContext>> {
        match &self.stage {
            Stage::BeforeApp => None,
            Stage::Refused { context, .. } | Stage::OfApp(context) => Some(context),
        }
    }
}

/// A JSON answer: the outcome, with CORS headers as far as the stage allows.
fn render_json(request: &HttpRequest, outcome: Result<HttpResponse, Failure>) -> HttpResponse {
    match outcome {
        Ok(response) => response,
        Err(Failure { error, stage }) => {
            // `from_error` keeps the error on the response, for the request's log line and
            // the metrics.
            let mut response = HttpResponse::from_error(*error);
            match stage {
                Stage::BeforeApp | Stage::OfApp(_) => {
                    allow_origin_on(&mut response, request_origin(request))
                }
                Stage::Refused { .. } => allow_origin_on(&mut response, None),
            }
            response
        }
    }
}

/// The app id from the `x-app-id` header, with the original service's messages.
pub(crate) fn header_app_id(request: &HttpRequest) -> Result<AppId, ApiError> {
    // A `HeaderName`, not a `&str`: looking up by string would lower-case it into a new
    // allocation on every request.
    const X_APP_ID: header::HeaderName = header::HeaderName::from_static("x-app-id");
    let value = request
        .headers()
        .get(X_APP_ID)
        .ok_or_else(|| ApiError::bad_request("Missing x-app-id header"))?;
    value
        .to_str()
        .ok()
        .and_then(AppId::parse)
        .ok_or_else(|| ApiError::bad_request("Invalid x-app-id header"))
}

pub(crate) async fn app_context(
    state: &ApiState,
    app_id: &AppId,
) -> Result<Arc<AppContext>, ApiError> {
    Ok(state.services.submissions.app_context(app_id).await?)
}

fn check_origin(context: &Arc<AppContext>, origin: Option<&str>) -> Result<(), Failure> {
    match origin {
        Some(origin) if !context.allows_origin(origin) => {
            tracing::info!(app_id = %context.app.id, origin, "origin not allowed");
            Err(Failure {
                error: Box::new(ApiError::origin_not_allowed()),
                stage: Stage::Refused {
                    context: context.clone(),
                    origin: origin.to_owned(),
                },
            })
        }
        // No Origin header: not a browser page's cross-origin request (curl, a server). CORS
        // protects browsers' users; it cannot and does not try to authenticate other clients.
        _ => Ok(()),
    }
}

/// Submit a sign-up: validates `data` against the app's schema and creates or updates the
/// app's record for `email`. Also takes `application/x-www-form-urlencoded` from plain HTML
/// forms (app id in a hidden `_appId` field), answered with a 303 redirect.
#[utoipa::path(
    post,
    path = "/v1/users",
    tag = "public",
    security((), ("bearer" = []), ("api_key" = [])),
    params(("x-app-id" = String, Header, description = "The app's sourceAppId (JSON requests)")),
    request_body(content = SubmitUserRequest, description = "JSON, or an HTML form with `_appId`, `email` and the fields; with a bearer token or an API key, an admin's `CreateUserRequest`"),
    responses(
        (status = 200, description = "Stored (or silently dropped by the honeypot)", body = SubmittedResponse),
        (status = 201, description = "With a bearer token or API key: the account created (without a password; `send_invite` e-mails the set-password invitation), in the accounts envelope", body = Success<CreatedUser>),
        (status = 401, description = "With a credential: `invalid_token`, `token_expired`, `invalid_api_key`", body = AccountErrorBody),
        (status = 409, description = "With a credential: `email_taken`", body = AccountErrorBody),
        (status = 303, description = "Form posts: redirect to the app's thank-you page; on a failure, to its `errorUrl` (when set) with `error=<code>` and a `field=<key>` per field at fault"),
        (status = 400, description = "Malformed JSON or a missing/invalid x-app-id header", body = ErrorBody),
        (status = 403, description = "The Origin is not in the app's allowedOrigins", body = ErrorBody),
        (status = 404, description = "No app has this id", body = ErrorBody),
        (status = 408, description = "`request_timeout`: the body did not arrive within `application.body_timeout_secs`; the connection is closed", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Neither JSON nor a form", body = ErrorBody),
        (status = 422, description = "Validation failed; every problem is in details", body = ErrorBody),
        (status = 429, description = "Rate limited; see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage unavailable", body = ErrorBody),
    )
)]
pub async fn submit_user(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
) -> HttpResponse {
    if crate::account_auth::has_credential(&request) {
        // An admin (bearer token or API key) creating an account: another operation on the
        // same path, answered in the accounts' envelope. Boxed, so that its future does not
        // enlarge every public submission's (measured: 10% fewer sign-ups per second inline).
        return Box::pin(crate::routes::users::create_user(request, payload, state))
            .await
            .unwrap_or_else(|error| actix_web::ResponseError::error_response(&error));
    }
    let kind = match body_kind(&request) {
        Ok(kind) => kind,
        Err(error) => return render_json(&request, Err(error.into())),
    };
    let outcome = submit(&request, payload, &state, kind).await;
    match kind {
        BodyKind::Json => render_json(
            &request,
            outcome.map(|accepted| {
                let mut response = HttpResponse::Ok();
                allow_origin(&mut response, request_origin(&request));
                response.json(SubmittedResponse {
                    id: accepted.submitted.id,
                    created_at: accepted.submitted.created_at,
                    updated_at: accepted.submitted.updated_at,
                })
            }),
        ),
        BodyKind::Form => render_form(&request, outcome),
    }
}

/// A submission as its content type carries it.
enum Posted {
    Json(SubmitUserRequest),
    /// Every pair of the form but `_appId`.
    Form(Map<String, Value>),
}

impl Posted {
    /// What the domain validates. Form values are text: they are converted by the app's
    /// schema, and reserved keys (`_…`) are dropped, except the app's honeypot.
    fn into_input(self, context: &AppContext) -> SubmissionInput {
        match self {
            Self::Json(request) => request.into(),
            Self::Form(mut pairs) => {
                let email = pairs.remove("email").unwrap_or(Value::Null);
                let honeypot = context.app.honeypot_field.as_deref();
                pairs.retain(|key, _| !key.starts_with('_') || Some(key.as_str()) == honeypot);
                SubmissionInput {
                    email,
                    data: Value::Object(coerce_form_values(&context.schema, pairs)),
                }
            }
        }
    }
}

/// A stored (or honeypot-dropped) submission.
struct Accepted {
    context: Arc<AppContext>,
    submitted: Submitted,
}

/// The pipeline: parse by kind, load the app, check the origin, take the app's rate limit,
/// submit.
async fn submit(
    request: &HttpRequest,
    payload: Payload,
    state: &ApiState,
    kind: BodyKind,
) -> Result<Accepted, Failure> {
    let (app_id, posted) = match kind {
        BodyKind::Json => {
            let app_id = header_app_id(request)?;
            let body = read_limited(request, payload, state.body_limit).await?;
            (app_id, Posted::Json(SubmitUserRequest::parse(&body)?))
        }
        BodyKind::Form => {
            let body = read_limited(request, payload, state.body_limit).await?;
            let mut pairs: Map<String, Value> = Map::new();
            for (key, value) in form_urlencoded::parse(&body) {
                pairs.insert(key.into_owned(), Value::String(value.into_owned()));
            }
            let app_id = match pairs.remove("_appId") {
                Some(Value::String(id)) => AppId::parse(&id)
                    .ok_or_else(|| ApiError::bad_request("Invalid _appId field"))?,
                _ => header_app_id(request)
                    .map_err(|_| ApiError::bad_request("Missing _appId field"))?,
            };
            (app_id, Posted::Form(pairs))
        }
    };
    let context = app_context(state, &app_id).await?;
    // Forms are checked by `Origin`, else by the `Referer`'s origin.
    let origin = match (request_origin(request), kind) {
        (Some(origin), _) => Some(Cow::Borrowed(origin)),
        (None, BodyKind::Form) => referer_origin(request).map(Cow::Owned),
        (None, BodyKind::Json) => None,
    };
    check_origin(&context, origin.as_deref())?;
    state
        .app_limiter
        .check(&context.app.id)
        .map_err(|error| Failure::of_app(error, &context))?;
    let input = posted.into_input(&context);
    let submitted = state
        .services
        .submissions
        .submit(&context, input)
        .await
        .map_err(|error| Failure::of_app(error, &context))?;
    Ok(Accepted { context, submitted })
}

/// A form's answer: a 303 to the thank-you page; a failure once the app is known is a 303 to
/// the app's error page when it has one; otherwise (and before the app is known) a small HTML
/// page when the client accepts HTML, else the JSON error.
fn render_form(request: &HttpRequest, outcome: Result<Accepted, Failure>) -> HttpResponse {
    match outcome {
        Ok(accepted) => {
            let target = accepted
                .context
                .app
                .thank_you_url
                .clone()
                .unwrap_or_else(|| THANKS_PATH.to_owned());
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, target))
                .finish()
        }
        Err(failure) => form_failure(request, &failure),
    }
}

fn form_failure(request: &HttpRequest, failure: &Failure) -> HttpResponse {
    let error_url = failure
        .context()
        .and_then(|context| context.app.error_url.as_deref());
    match error_url {
        Some(url) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, error_location(url, &failure.error)))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .finish(),
        None if accepts_html(request) => error_page(request, failure),
        None => failure.error.error_response(),
    }
}

/// The app's error page with `error=<code>` and one `field=<key>` per field at fault (in the
/// order of the problems: email first, then the schema's order) added to its query, before
/// any `#fragment`.
fn error_location(url: &str, error: &ApiError) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("error", error.code);
    let mut fields: Vec<&str> = Vec::new();
    for detail in &error.details {
        let key = detail.field.strip_prefix("data.").unwrap_or(&detail.field);
        if !fields.contains(&key) {
            fields.push(key);
        }
    }
    for key in fields {
        query.append_pair("field", key);
    }
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut location = format!("{base}{separator}{}", query.finish());
    if let Some(fragment) = fragment {
        location.push('#');
        location.push_str(fragment);
    }
    location
}

fn referer_origin(request: &HttpRequest) -> Option<String> {
    let referer = request.headers().get(header::REFERER)?.to_str().ok()?;
    let (scheme, rest) = referer.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    normalize_origin(&format!("{scheme}://{host}"))
}

/// Form values are text; the schema says what each should be. Values that do not convert stay
/// text, so validation reports them as the wrong type.
fn coerce_form_values(schema: &Schema, pairs: Map<String, Value>) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(key, value)| {
            let text = value.as_str().unwrap_or_default().trim().to_owned();
            let coerced = match schema.field(&key).map(|f| f.kind()) {
                Some(FieldKind::Number) if !text.is_empty() => text
                    .parse::<i64>()
                    .map(Value::from)
                    .ok()
                    .or_else(|| {
                        text.parse::<f64>()
                            .ok()
                            .and_then(serde_json::Number::from_f64)
                            .map(Value::Number)
                    })
                    .unwrap_or(value),
                Some(FieldKind::Checkbox) => match text.to_ascii_lowercase().as_str() {
                    "on" | "true" | "1" | "yes" => Value::Bool(true),
                    "off" | "false" | "0" | "no" => Value::Bool(false),
                    _ => value,
                },
                _ => value,
            };
            (key, coerced)
        })
        .collect()
}

fn accepts_html(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn error_page(request: &HttpRequest, failure: &Failure) -> HttpResponse {
    let error = &failure.error;
    let schema = failure.context().map(|context| &context.schema);
    let items: String = if let Stage::Refused { origin, .. } = &failure.stage {
        refused_origin_text(origin)
    } else if error.details.is_empty() {
        format!("<ul><li>{}</li></ul>", escape_html(&error.message))
    } else {
        let items: String = error
            .details
            .iter()
            .map(|d| {
                format!(
                    "<li><strong>{}</strong> {}</li>",
                    escape_html(&field_label(schema, &d.field)),
                    escape_html(&d.message)
                )
            })
            .collect();
        format!("<ul>{items}</ul>")
    };
    let back = referer_origin(request)
        .and_then(|_| {
            request
                .headers()
                .get(header::REFERER)?
                .to_str()
                .ok()
                .map(escape_html)
        })
        .map(|href| format!(r#"<p><a href="{href}">Go back to the form</a></p>"#))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Please check the form</title><body style=\"font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem\">\
         <h1>Please check the form</h1>{items}{back}</body></html>"
    );
    HttpResponse::build(error.status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .body(html)
}

/// What people read for a problem at `field` (`email`, `data.fullName`): the schema's label
/// when the field has one, else its key.
fn field_label(schema: Option<&Schema>, field: &str) -> String {
    if field == "email" {
        return "Email".to_owned();
    }
    let key = field.strip_prefix("data.").unwrap_or(field);
    schema
        .and_then(|schema| schema.field(key))
        .map(|field| field.label().trim())
        .filter(|label| !label.is_empty())
        .unwrap_or(key)
        .to_owned()
}

/// Names the refused origin and, for a form opened as a file, how to serve it instead.
fn refused_origin_text(origin: &str) -> String {
    let shown: String = origin.chars().take(200).collect();
    let mut text = format!(
        "<p>This form was sent from <code>{}</code>, which is not one of this app's allowed origins, so nothing was stored.</p>",
        escape_html(&shown)
    );
    if origin == "null" {
        text.push_str(
            "<p>A browser sends the origin <code>null</code> for a form opened as a local file \
             (<code>file://</code>). Serve the page from a web server instead: for example run \
             <code>python3 -m http.server 8000</code> in its folder, open \
             <code>http://localhost:8000/</code>, and add <code>http://localhost:8000</code> \
             to the app's allowed origins.</p>",
        );
    } else {
        text.push_str(
            "<p>If this is the site's own page, add its origin to the app's allowed origins.</p>",
        );
    }
    text
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The page plain HTML forms land on when the app has no thank-you URL.
#[utoipa::path(get, path = "/v1/thanks", tag = "public", responses((status = 200, description = "A small HTML page", content_type = "text/html")))]
pub async fn thanks() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Thank you</title><body style=\"font-family:system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem\">\
         <h1>Thank you!</h1><p>Your details were received.</p></body></html>",
    )
}

/// The app's current schema, so a site can render its form from it.
#[utoipa::path(
    get,
    path = "/v1/schema",
    tag = "public",
    params(("x-app-id" = String, Header, description = "The app's sourceAppId")),
    responses(
        (status = 200, body = SchemaResponse),
        (status = 400, description = "Missing or invalid x-app-id header", body = ErrorBody),
        (status = 403, description = "The Origin is not in the app's allowedOrigins", body = ErrorBody),
        (status = 404, description = "No app has this id", body = ErrorBody),
        (status = 503, description = "Storage unavailable", body = ErrorBody),
    )
)]
pub async fn get_schema(request: HttpRequest, state: Data<ApiState>) -> HttpResponse {
    let outcome = async {
        let app_id = header_app_id(&request)?;
        let context = app_context(&state, &app_id).await?;
        let origin = request_origin(&request);
        check_origin(&context, origin)?;
        let draft = context.schema.to_draft();
        let mut response = HttpResponse::Ok();
        allow_origin(&mut response, origin);
        response.insert_header((header::CACHE_CONTROL, "no-cache"));
        Ok(response.json(SchemaResponse {
            version: context.schema_version,
            reject_unknown: draft.reject_unknown,
            fields: draft.fields,
        }))
    }
    .await;
    render_json(&request, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape_html(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn form_values_follow_the_schema_kinds() {
        let schema: Schema = serde_json::from_value(serde_json::json!({"fields": [
            {"key": "age", "kind": "number"}, {"key": "ok", "kind": "checkbox"}, {"key": "name", "kind": "text"}
        ]}))
        .expect("schema");
        let mut pairs = Map::new();
        for (k, v) in [("age", "42"), ("ok", "on"), ("name", "007"), ("other", "x")] {
            pairs.insert(k.into(), Value::from(v));
        }
        let coerced = coerce_form_values(&schema, pairs);
        assert_eq!(
            Value::Object(coerced),
            serde_json::json!({"age": 42, "ok": true, "name": "007", "other": "x"})
        );
    }
}

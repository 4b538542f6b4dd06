//! Managing apps and their schemas. Who may do what is the domain's rule: each handler turns
//! the [`CurrentOperator`] into the access the service asks for (`admin_access`,
//! `app_access`), and the service answers `Forbidden` or `NotFound` itself.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::web::{Data, Path, Payload, Query};
use domain::ManagementPermission;
use domain::SchemaSave;
use schema_validation::{Schema, SchemaDraft, Violation, Violations};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::account_auth::AppManager;
use crate::body::{json_object, read_limited};
use crate::error::{ApiError, ErrorBody};
use crate::operator_session::CurrentOperator;
use crate::requests::{CreateAppRequest, UpdateAppRequest};
use crate::respond::no_store;
use crate::responses::{
    AppListResponse, AppResponse, CreatedAppResponse, PasswordResponse, SchemaImpactResponse,
    SchemaSaveResponse, SchemaVersionResponse, SchemaVersionsResponse,
};
use crate::state::ApiState;

/// Management bodies hold at most a schema of 100 fields.
pub const MANAGEMENT_BODY_LIMIT: usize = 256 * 1024;

/// Every app with its number of user records. Admins only.
#[utoipa::path(
    get,
    path = "/v1/apps",
    tag = "management",
    security(("session_cookie" = [])),
    responses(
        (status = 200, body = AppListResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 503, description = "Storage unavailable", body = ErrorBody),
    )
)]
pub async fn list_apps(
    state: Data<ApiState>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let admin = operator.admin_access()?;
    let apps = state.services.apps.list_apps(&admin).await?;
    let limits = state.services.apps.lifetime_limits();
    Ok(no_store(HttpResponse::Ok()).json(AppListResponse {
        apps: apps
            .into_iter()
            .map(|summary| AppResponse::from_record(summary.app, Some(summary.user_count), limits))
            .collect(),
    }))
}

/// Creates an app; the answer holds its password, shown this once. Admins only.
#[utoipa::path(
    post,
    path = "/v1/apps",
    tag = "management",
    security(("session_cookie" = [])),
    request_body = CreateAppRequest,
    responses(
        (status = 201, body = CreatedAppResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 409, description = "`duplicate_app`", body = ErrorBody),
        (status = 408, description = "`request_timeout`: the body did not arrive within `application.body_timeout_secs`; the connection is closed", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "`validation_failed`, every problem in details", body = ErrorBody),
    )
)]
pub async fn create_app(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let admin = operator.admin_access()?;
    let body = read_limited(&request, payload, MANAGEMENT_BODY_LIMIT).await?;
    let new = CreateAppRequest::parse(&body)?.into();
    let (app, password) = state.services.apps.create_app(&admin, new).await?;
    tracing::info!(subject = admin.subject(), app_id = app.id, "app created");
    Ok(no_store(HttpResponse::Created()).json(CreatedAppResponse {
        app: AppResponse::from_record(app, None, state.services.apps.lifetime_limits()),
        password: password.expose_secret().to_owned(),
    }))
}

/// One app's settings and its number of user records. Admins, or the app's owner.
#[utoipa::path(
    get,
    path = "/v1/apps/{appId}",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    responses(
        (status = 200, body = AppResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: another app's owner", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
    )
)]
pub async fn get_app(
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.app_access(&app_id)?;
    let summary = state.services.apps.summary(&access).await?;
    Ok(no_store(HttpResponse::Ok()).json(AppResponse::from_record(
        summary.app,
        Some(summary.user_count),
        state.services.apps.lifetime_limits(),
    )))
}

/// Changes an app's settings. The owner may change `name` and `allowedOrigins`; admins also
/// `honeypotField`, `thankYouUrl` and `errorUrl` (`null` clears them).
#[utoipa::path(
    patch,
    path = "/v1/apps/{appId}",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    request_body = UpdateAppRequest,
    responses(
        (status = 200, body = AppResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` (another app, or an owner changing an admin-only member) or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
        (status = 408, description = "`request_timeout`: the body did not arrive within `application.body_timeout_secs`; the connection is closed", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    )
)]
pub async fn update_app(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.app_access(&app_id)?;
    let body = read_limited(&request, payload, MANAGEMENT_BODY_LIMIT).await?;
    let (changes, switches) = UpdateAppRequest::parse(&body)?.split();
    let app = state
        .services
        .apps
        .update_app(&access, changes, switches)
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(AppResponse::from_record(
        app,
        None,
        state.services.apps.lifetime_limits(),
    )))
}

/// Deletes an app with its schemas and every user record. Admins only.
#[utoipa::path(
    delete,
    path = "/v1/apps/{appId}",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
    )
)]
pub async fn delete_app(
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let admin = operator.admin_access()?;
    state.services.apps.delete_app(&admin, &app_id).await?;
    tracing::info!(subject = admin.subject(), app_id = %app_id, "app deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// Replaces the app's password and answers the new one, once. Every session of the app's
/// owner ends at its next request. Admins only.
#[utoipa::path(
    post,
    path = "/v1/apps/{appId}/password",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    responses(
        (status = 200, body = PasswordResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
    )
)]
pub async fn rotate_password(
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let admin = operator.admin_access()?;
    let (_, password) = state.services.apps.rotate_password(&admin, &app_id).await?;
    tracing::info!(subject = admin.subject(), app_id = %app_id, "app password rotated");
    Ok(no_store(HttpResponse::Ok()).json(PasswordResponse {
        password: password.expose_secret().to_owned(),
    }))
}

/// The app's current schema (version 0, no fields, until one is saved).
#[utoipa::path(
    get,
    path = "/v1/apps/{appId}/schema",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    responses(
        (status = 200, body = SchemaVersionResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
    )
)]
pub async fn get_schema(
    state: Data<ApiState>,
    app_id: Path<String>,
    manager: AppManager,
) -> Result<HttpResponse, ApiError> {
    let access = manager.app_access(&app_id, ManagementPermission::ReadSchema)?;
    let current = state.services.apps.current_schema(&access).await?;
    let body = current.map_or_else(
        || {
            let empty = Schema::empty().to_draft();
            SchemaVersionResponse {
                version: 0,
                reject_unknown: empty.reject_unknown,
                fields: empty.fields,
                created_at: None,
            }
        },
        SchemaVersionResponse::from,
    );
    Ok(no_store(HttpResponse::Ok()).json(body))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SchemaSaveParams {
    /// `true`: only report the impact, save nothing.
    #[param(value_type = Option<bool>)]
    pub dry_run: Option<String>,
}

/// Replaces the schema with a new version. The answer reports how many stored records the new
/// schema would reject (they are kept; the change is not blocked). `?dryRun=true` only
/// reports.
#[utoipa::path(
    put,
    path = "/v1/apps/{appId}/schema",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path), SchemaSaveParams),
    request_body(content = SchemaVersionResponse, description = "`{rejectUnknown, fields}` (version and createdAt are ignored)"),
    responses(
        (status = 200, body = SchemaSaveResponse),
        (status = 400, description = "Malformed JSON or query string", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
        (status = 408, description = "`request_timeout`: the body did not arrive within `application.body_timeout_secs`; the connection is closed", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the schema is not valid", body = ErrorBody),
    )
)]
pub async fn put_schema(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    app_id: Path<String>,
    params: Query<SchemaSaveParams>,
    manager: AppManager,
) -> Result<HttpResponse, ApiError> {
    let access = manager.app_access(&app_id, ManagementPermission::WriteSchema)?;
    let mode = match params.dry_run.as_deref() {
        None | Some("false") => SchemaSave::Save,
        Some("true") => SchemaSave::DryRun,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "dryRun",
                "type",
                "must be true or false",
            ));
        }
    };
    let body = read_limited(&request, payload, MANAGEMENT_BODY_LIMIT).await?;
    let draft = schema_draft(json_object(&body)?)?;
    let change = state
        .services
        .apps
        .save_schema(&access, draft, mode)
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(SchemaSaveResponse {
        dry_run: mode == SchemaSave::DryRun,
        schema: change.saved.map(SchemaVersionResponse::from),
        impact: SchemaImpactResponse {
            checked: change.impact.checked,
            failing: change.impact.failing,
            examples: change.impact.examples,
        },
    }))
}

/// What a member of a schema body must be, for the messages of [`schema_draft`].
#[derive(Clone, Copy)]
enum Expected {
    Text,
    Flag,
    Count,
    Texts,
    Any,
}

impl Expected {
    fn accepts(self, value: &Value) -> bool {
        match self {
            Self::Text => value.is_string(),
            Self::Flag => value.is_boolean(),
            Self::Count => value.is_u64(),
            Self::Texts => value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            Self::Any => true,
        }
    }

    fn message(self) -> &'static str {
        match self {
            Self::Text => "must be a string",
            Self::Flag => "must be true or false",
            Self::Count => "must be a whole number of at least 0",
            Self::Texts => "must be an array of strings",
            Self::Any => "",
        }
    }
}

/// The members of a field in a schema body and what each must be.
const FIELD_MEMBERS: [(&str, Expected); 11] = [
    ("key", Expected::Text),
    ("label", Expected::Text),
    ("kind", Expected::Text),
    ("required", Expected::Flag),
    ("minLength", Expected::Count),
    ("maxLength", Expected::Count),
    ("regex", Expected::Text),
    ("min", Expected::Any),
    ("max", Expected::Any),
    ("integer", Expected::Flag),
    ("enum", Expected::Texts),
];

/// A schema body (`{rejectUnknown, fields}`) read into a draft, every member of the wrong type
/// reported with its path and a message for people (serde's would name Rust types). `null`
/// counts as absent; `version`, `createdAt` and members we do not know are ignored.
fn schema_draft(mut object: Map<String, Value>) -> Result<SchemaDraft, ApiError> {
    let problem =
        |field: String, code: &'static str, message: &str| Violation::new(field, code, message);
    let mut problems = Vec::new();
    object.retain(|_, value| !value.is_null());
    if object
        .get("rejectUnknown")
        .is_some_and(|value| !value.is_boolean())
    {
        problems.push(problem(
            "rejectUnknown".into(),
            "type",
            Expected::Flag.message(),
        ));
    }
    match object.get_mut("fields") {
        None => problems.push(problem("fields".into(), "required", "is required")),
        Some(Value::Array(fields)) => {
            for (index, field) in fields.iter_mut().enumerate() {
                let Value::Object(members) = field else {
                    problems.push(problem(
                        format!("fields[{index}]"),
                        "type",
                        "must be an object",
                    ));
                    continue;
                };
                members.retain(|_, value| !value.is_null());
                for (name, expected) in FIELD_MEMBERS {
                    let at = || format!("fields[{index}].{name}");
                    match members.get(name) {
                        Some(value) if !expected.accepts(value) => {
                            problems.push(problem(at(), "type", expected.message()));
                        }
                        None if matches!(name, "key" | "kind") => {
                            problems.push(problem(at(), "required", "is required"));
                        }
                        _ => {}
                    }
                }
            }
        }
        Some(_) => problems.push(problem(
            "fields".into(),
            "type",
            "must be an array of fields",
        )),
    }
    if !problems.is_empty() {
        return Err(ApiError::validation(Violations(problems)));
    }
    serde_json::from_value(Value::Object(object)).map_err(|error| {
        tracing::warn!(%error, "a schema body passed the checks but not serde");
        ApiError::invalid_field("schema", "type", "is not a schema")
    })
}

/// Every saved version of the app's schema, newest first.
#[utoipa::path(
    get,
    path = "/v1/apps/{appId}/schema/versions",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    responses(
        (status = 200, body = SchemaVersionsResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
    )
)]
pub async fn schema_versions(
    state: Data<ApiState>,
    app_id: Path<String>,
    manager: AppManager,
) -> Result<HttpResponse, ApiError> {
    let access = manager.app_access(&app_id, ManagementPermission::ReadSchema)?;
    let versions = state.services.apps.schema_versions(&access).await?;
    Ok(no_store(HttpResponse::Ok()).json(SchemaVersionsResponse {
        versions: versions
            .into_iter()
            .map(SchemaVersionResponse::from)
            .collect(),
    }))
}

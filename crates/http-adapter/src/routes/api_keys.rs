//! An app's API keys, managed by its operators (the dashboard session):
//! `GET`/`POST /v1/apps/{appId}/api-keys`, `DELETE /v1/apps/{appId}/api-keys/{keyId}`.

use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use domain::NewApiKey;
use storage_port::Timestamp;

use crate::body::read_limited;
use crate::error::{ApiError, ErrorBody};
use crate::operator_session::CurrentOperator;
use crate::requests::CreateApiKeyRequest;
use crate::respond::no_store;
use crate::responses::{ApiKeyList, ApiKeyResponse};
use crate::routes::apps::MANAGEMENT_BODY_LIMIT;
use crate::state::ApiState;

/// The app's keys, revoked ones too, newest first.
///
/// Never the keys themselves.
#[utoipa::path(
    get,
    path = "/v1/apps/{appId}/api-keys",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    responses(
        (status = 200, body = ApiKeyList),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: another app's owner", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
    )
)]
pub async fn list_api_keys(
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.app_access(&app_id)?;
    let keys = state.services.api_keys.list(&access).await?;
    Ok(no_store(HttpResponse::Ok()).json(ApiKeyList {
        keys: keys.into_iter().map(ApiKeyResponse::from).collect(),
    }))
}

/// Creates a key for the app's own backend.
///
/// The answer holds the key, as `key`, this once. The key acts as the app's `tenant_admin` limited to its permissions: on the accounts API
/// (`Authorization: Bearer <key>` or `X-API-Key`) and on this app's management routes
/// (`records:read`, `records:delete`, `schema:write`).
#[utoipa::path(
    post,
    path = "/v1/apps/{appId}/api-keys",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, body = ApiKeyResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: name, role, permissions, expiresAt", body = ErrorBody),
    )
)]
pub async fn create_api_key(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.app_access(&app_id)?;
    let body = read_limited(&request, payload, MANAGEMENT_BODY_LIMIT).await?;
    let body = CreateApiKeyRequest::parse(&body)?;
    let expires_at = body
        .expires_at
        .map(|text| {
            Timestamp::parse_rfc3339(&text).ok_or_else(|| {
                ApiError::invalid_field("expiresAt", "date", "must be an RFC 3339 timestamp")
            })
        })
        .transpose()?;
    let created = state
        .services
        .api_keys
        .create(
            &access,
            NewApiKey {
                name: body.name,
                role: body.role,
                permissions: body.permissions.unwrap_or_default(),
                expires_at,
            },
        )
        .await?;
    let mut answer = ApiKeyResponse::from(created.record);
    answer.key = Some(created.key);
    Ok(no_store(HttpResponse::Created()).json(answer))
}

/// Revokes a key: every instance refuses it within a second.
#[utoipa::path(
    delete,
    path = "/v1/apps/{appId}/api-keys/{keyId}",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path), ("keyId" = String, Path)),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such key, or already revoked", body = ErrorBody),
    )
)]
pub async fn revoke_api_key(
    state: Data<ApiState>,
    path: Path<(String, String)>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let (app_id, key_id) = path.into_inner();
    let access = operator.app_access(&app_id)?;
    state.services.api_keys.revoke(&access, &key_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

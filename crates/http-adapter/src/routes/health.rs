use actix_web::HttpResponse;
use actix_web::web::Data;

use crate::ApiState;
use crate::dto::StatusResponse;
use crate::error::{ApiError, ErrorBody};

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = StatusResponse)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(StatusResponse { status: "ok" })
}

/// The process is up and its storage answers.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, body = StatusResponse),
    (status = 503, description = "storage unavailable", body = ErrorBody),
))]
pub async fn ready(state: Data<ApiState>) -> Result<HttpResponse, ApiError> {
    state.services.storage.ping().await?;
    Ok(HttpResponse::Ok().json(StatusResponse { status: "ok" }))
}

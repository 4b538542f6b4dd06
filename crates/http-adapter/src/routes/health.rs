use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Data;
use storage_port::StorageError;

use crate::error::{ApiError, ErrorBody};
use crate::responses::StatusResponse;
use crate::state::ApiState;

/// The process is up.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = StatusResponse)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(StatusResponse { status: "ok" })
}

/// The process is up and its storage answers and can take writes.
#[utoipa::path(get, path = "/ready", tag = "health", responses(
    (status = 200, body = StatusResponse),
    (status = 503, description = "storage unavailable (`storage_unavailable`, with the reason when the store gave one) or reporting damaged data (`storage_corrupt`)", body = ErrorBody),
))]
pub async fn ready(state: Data<ApiState>) -> Result<HttpResponse, ApiError> {
    state.services.ping().await.map_err(not_ready)?;
    Ok(HttpResponse::Ok().json(StatusResponse { status: "ok" }))
}

/// Every failure of the readiness check is 503, so that a load balancer stops sending traffic.
/// The message carries the store's reason only when the adapter wrote it for clients (a
/// `Fault`); driver text stays in the log.
fn not_ready(error: StorageError) -> ApiError {
    tracing::error!(error = %error, source = ?std::error::Error::source(&error), "not ready");
    match &error {
        StorageError::Corrupt(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_corrupt",
            "Storage reports damaged data; the service's log says where",
        ),
        _ => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            match error.public_reason() {
                Some(reason) => format!("Storage is unavailable: {reason}"),
                None => "Storage is unavailable; try again shortly".to_owned(),
            },
        ),
    }
}

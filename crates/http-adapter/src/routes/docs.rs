//! `/docs` (Swagger UI, served from the binary: nothing is fetched from the internet) and the
//! OpenAPI document it reads, `/openapi.json`.

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::{self, Data};

use crate::middleware::headers;
use crate::state::ApiState;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header((header::LOCATION, "/docs/"))
                    .finish()
            }),
        )
        .service(
            web::scope("/docs").wrap(headers::docs()).service(
                utoipa_swagger_ui::SwaggerUi::new("/{_:.*}")
                    .config(utoipa_swagger_ui::Config::new(["/openapi.json"])),
            ),
        );
}

/// The OpenAPI document, rendered once at start-up.
pub async fn openapi_document(state: Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi.clone())
}

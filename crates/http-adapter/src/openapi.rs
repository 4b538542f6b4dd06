use utoipa::OpenApi;

use crate::dto::*;
use crate::error::{ErrorBody, ErrorContent, ErrorDetail};
use crate::routes;

/// The OpenAPI 3 document served at `/openapi.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Users API",
        description = "Collects and manages user data for static sites. Every error has the shape \
            `{\"error\": {\"code\", \"message\", \"details\"?}}`.",
        license(name = "GPL-3.0-or-later"),
    ),
    paths(
        routes::public::submit_user,
        routes::public::get_schema,
        routes::public::thanks,
        routes::health::health,
        routes::health::ready,
    ),
    components(schemas(
        SubmitUserRequest, SubmittedResponse, SchemaResponse, FieldDoc, FieldKindDoc, StatusResponse,
        ErrorBody, ErrorContent, ErrorDetail
    )),
    tags(
        (name = "public", description = "Called by static sites, identified by the x-app-id header"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

/// The document as JSON text, built once at start-up.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
}

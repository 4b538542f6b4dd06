use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::*;
use crate::error::{ErrorBody, ErrorContent, ErrorDetail};
use crate::routes;

/// The OpenAPI 3 document served at `/openapi.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Users API",
        description = "Collects and manages user data for static sites. Every error has the shape \
            `{\"error\": {\"code\", \"message\", \"details\"?}}`.\n\n\
            **Dashboard sessions.** `POST /auth/login` sets the cookie `users_api_session` \
            (HttpOnly, SameSite=Strict, Secure outside local development, signed and encrypted). \
            A session ends after 2 hours unused, 24 hours after login, at logout, and when the \
            account's password is rotated or the app deleted (both configurable: \
            `session.idle_timeout_minutes`, `session.absolute_timeout_minutes`). Logins are \
            rate limited per client IP (every attempt) and per account (failed attempts only, \
            per client IP and, more loosely, from everywhere), 429 with `Retry-After`.\n\n\
            **CSRF rule** (on `/auth/*` and `/v1/apps/*`): a state-changing request \
            (POST, PUT, PATCH, DELETE) is refused with 403 `csrf_rejected` when its `Origin` is \
            not this service's own origin (`session.public_origin`, else the scheme and host \
            of the request, through `X-Forwarded-*`/`Forwarded` only from a trusted proxy) or its \
            `Sec-Fetch-Site` is not `same-origin`; when it carries the session cookie it must \
            also send a matching `Origin` or `Sec-Fetch-Site: same-origin` (browsers always \
            send one; scripts using the cookie must send `Origin`). A body must be \
            `application/json` (415 otherwise); requests without a body may omit the content \
            type.\n\n\
            **Pagination.** `GET /v1/apps/{appId}/users` pages by id (creation order); \
            `nextCursor` is opaque (the URL-safe base64 of the page's last id) and `null` on \
            the last page; a cursor that holds none of our ids is 400 `invalid_cursor`. A record is never skipped or repeated across pages, even while new \
            records arrive.",
        license(name = "GPL-3.0-or-later"),
    ),
    modifiers(&SessionCookie),
    paths(
        routes::public::submit_user,
        routes::public::get_schema,
        routes::public::thanks,
        routes::health::health,
        routes::health::ready,
        routes::auth::login,
        routes::auth::current_session,
        routes::auth::logout,
        routes::auth::own_users,
        routes::apps::list_apps,
        routes::apps::create_app,
        routes::apps::get_app,
        routes::apps::update_app,
        routes::apps::delete_app,
        routes::apps::rotate_password,
        routes::apps::get_schema,
        routes::apps::put_schema,
        routes::apps::schema_versions,
        routes::users::list_users,
        routes::users::get_user,
        routes::users::delete_user,
        routes::users::export_users,
    ),
    components(schemas(
        SubmitUserRequest, SubmittedResponse, SchemaResponse, FieldDoc, FieldKindDoc, StatusResponse,
        ErrorBody, ErrorContent, ErrorDetail, LoginRequest, LoginResponse, SessionResponse,
        OkResponse, AppResponse, AppListResponse, CreatedAppResponse, CreateAppRequest,
        UpdateAppRequest, PasswordResponse, SchemaVersionResponse, SchemaVersionsResponse,
        SchemaImpactResponse, SchemaSaveResponse, UserResponse, UserPageResponse
    )),
    tags(
        (name = "public", description = "Called by static sites, identified by the x-app-id header"),
        (name = "health", description = "Liveness and readiness"),
        (name = "dashboard", description = "Dashboard sessions for app owners and admins"),
        (name = "management", description = "Apps, schemas and users: admins (any app) or the app's owner (own app only; 403 `forbidden` otherwise, logged)"),
    )
)]
pub struct ApiDoc;

/// The `session_cookie` security scheme the dashboard routes name.
#[derive(Debug)]
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::session::COOKIE_NAME,
                "Set by POST /auth/login",
            ))),
        );
    }
}

/// The document as JSON text, built once at start-up.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
}

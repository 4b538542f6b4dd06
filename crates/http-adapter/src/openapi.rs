use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{AccountErrorBody, ErrorBody, ErrorContent, ErrorDetail};
use crate::requests::*;
use crate::responses::*;
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
    modifiers(&SessionCookie, &PlainSummaries, &OperatorCopies),
    paths(
        routes::public::submit_user,
        routes::public::get_schema,
        routes::public::thanks,
        routes::health::health,
        routes::health::ready,
        routes::operators::login,
        routes::operators::current_session,
        routes::operators::setup,
        routes::operators::logout,
        routes::operators::own_records,
        routes::apps::list_apps,
        routes::apps::create_app,
        routes::apps::get_app,
        routes::apps::update_app,
        routes::apps::delete_app,
        routes::apps::rotate_password,
        routes::apps::get_schema,
        routes::apps::put_schema,
        routes::apps::schema_versions,
        routes::records::list_records,
        routes::records::get_record,
        routes::records::delete_record,
        routes::export::export_records,
        routes::auth::register,
        routes::auth::login,
        routes::auth::refresh,
        routes::auth::logout,
        routes::me::me,
        routes::me::update_me,
        routes::me::change_password,
        routes::me::sessions,
        routes::me::end_session,
        routes::auth::jwks,
        routes::users::list_users,
        routes::users::get_user,
        routes::users::update_user,
        routes::users::delete_user,
        routes::users::list_user_sessions,
        routes::users::end_user_sessions,
        routes::organizations::list_organizations,
        routes::organizations::create_organization,
        routes::organizations::get_organization,
        routes::organizations::update_organization,
        routes::organizations::delete_organization,
        routes::organizations::list_members,
        routes::organizations::remove_member,
        routes::api_keys::list_api_keys,
        routes::api_keys::create_api_key,
        routes::api_keys::revoke_api_key,
        routes::links::verify_email,
        routes::links::resend_verification,
        routes::links::forgot_password,
        routes::links::reset_password,
        routes::invitations::invite,
        routes::invitations::list_invitations,
        routes::invitations::revoke_invitation,
        routes::links::show_invitation,
        routes::links::accept_invitation,
        routes::account_pages::account_page,
        routes::mail::get_mail_settings,
        routes::mail::put_mail_settings,
        routes::mail::preview_mail,
        routes::mail::test_mail,
        routes::mail::list_messages,
    ),
    components(schemas(
        SubmitUserRequest, SubmittedResponse, SchemaResponse, FieldDoc, FieldKindDoc, StatusResponse,
        ErrorBody, ErrorContent, ErrorDetail, LoginRequest, LoginResponse, SessionResponse, SetupResponse,
        OkResponse, AppResponse, LifetimeLimitsBody, AppListResponse, CreatedAppResponse, CreateAppRequest,
        UpdateAppRequest, PasswordResponse, SchemaVersionResponse, SchemaVersionsResponse,
        SchemaImpactResponse, SchemaSaveResponse, UserResponse, UserPageResponse,
        AccountErrorBody, RegisterRequest, AccountLoginRequest, RefreshRequest, LogoutRequest,
        UpdateMeRequest, ChangePasswordRequest, AccountUser, AuthData, TokensData,
        AccountSession, AccountSessions, LoggedOut, CreateUserRequest, CreatedUser,
        UpdateUserRequest, ManagedUserBody, UsersPage, UserOrganization, OrganizationBody,
        OrganizationsPage, MemberBody, MembersPage, CreateOrganizationRequest,
        UpdateOrganizationRequest, CreateApiKeyRequest, ApiKeyResponse, ApiKeyList, Deleted, Removed,
        VerifyEmailRequest, ForgotPasswordRequest, ResetPasswordRequest, InviteRequest,
        AcceptInviteRequest, TemplateBody, MailSettingsRequest, MailTryRequest, EmailVerifiedBody,
        MailQueued, PasswordReset, InvitationBody, InvitationList, InvitationInfo,
        TemplateVariable, MailSettingsResponse, MailDefaults, RenderedMail, TestQueued,
        OutboxMessageBody, OutboxPage, SessionsEnded
    )),
    tags(
        (name = "public", description = "Called by static sites, identified by the x-app-id header"),
        (name = "health", description = "Liveness and readiness"),
        (name = "dashboard", description = "Dashboard sessions for app owners and admins"),
        (name = "accounts", description = "End-user accounts of an app's site: `{\"success\": true, \"data\"}` answers, bearer access tokens (EdDSA JWTs, verifiable with `/.well-known/jwks.json`) and rotating refresh tokens"),
        (name = "users", description = "The accounts an app's admins manage: a bearer access token with the permission, or an API key (`Authorization: Bearer uak_…` or `X-API-Key`). `POST /v1/users` with one of these creates an account (see the public operation of that path)"),
        (name = "organizations", description = "Organizations and their members: roles `admin` > `member` > `guest` in each, `tenant_admin` app-wide; 403 `forbidden` names the missing permission, `organization_access_denied` a non-member"),
        (name = "management", description = "Apps, schemas and users: admins (any app) or the app's owner (own app only; 403 `forbidden` otherwise, logged)"),
    )
)]
pub struct ApiDoc;

/// The security schemes: `session_cookie` for the dashboard routes, `bearer` for accounts.
#[derive(Debug)]
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::operator_session::COOKIE_NAME,
                "Set by POST /auth/login",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An account's access token from POST /v1/auth/login, /register or /refresh, or an app's API key (uak_…)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "An app's API key (uak_…), created at POST /v1/apps/{appId}/api-keys",
            ))),
        );
    }
}

/// The accounts API's admin routes again under `/v1/apps/{appId}/` for operators (see
/// `routes::operator_directory_routes`): each copy is its source operation with the `appId`
/// parameter, the dashboard session as its credential, the tag `management` and the operation
/// id suffixed with `_as_operator`.
#[derive(Debug)]
struct OperatorCopies;

/// (the accounts API's path, its operators' copy).
const OPERATOR_COPIES: [(&str, &str); 9] = [
    ("/v1/users", "/v1/apps/{appId}/accounts"),
    ("/v1/users/{id}", "/v1/apps/{appId}/accounts/{id}"),
    (
        "/v1/users/{id}/sessions",
        "/v1/apps/{appId}/accounts/{id}/sessions",
    ),
    ("/v1/organizations", "/v1/apps/{appId}/organizations"),
    (
        "/v1/organizations/{org}",
        "/v1/apps/{appId}/organizations/{org}",
    ),
    (
        "/v1/organizations/{org}/users",
        "/v1/apps/{appId}/organizations/{org}/users",
    ),
    (
        "/v1/organizations/{org}/users/{user}",
        "/v1/apps/{appId}/organizations/{org}/users/{user}",
    ),
    (
        "/v1/organizations/{org}/invites",
        "/v1/apps/{appId}/organizations/{org}/invites",
    ),
    (
        "/v1/organizations/{org}/invites/{id}",
        "/v1/apps/{appId}/organizations/{org}/invites/{id}",
    ),
];

impl Modify for OperatorCopies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::security::SecurityRequirement;
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        for (source, copy) in OPERATOR_COPIES {
            let Some(mut item) = openapi.paths.paths.get(source).cloned() else {
                continue;
            };
            let app_id = ParameterBuilder::new()
                .name("appId")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build();
            // `POST /v1/users` documents the public sign-up too; its copy is only the
            // admin's use.
            if let Some(post) = item.post.as_mut().filter(|_| source == "/v1/users") {
                post.request_body = Some(
                    utoipa::openapi::request_body::RequestBodyBuilder::new()
                        .content(
                            "application/json",
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(utoipa::openapi::Ref::from_schema_name(
                                    "CreateUserRequest",
                                )))
                                .build(),
                        )
                        .required(Some(Required::True))
                        .build(),
                );
                post.responses
                    .responses
                    .retain(|status, _| !matches!(status.as_str(), "200" | "303" | "413"));
                post.operation_id = Some("create_account".to_owned());
                post.summary = Some("Create an account".to_owned());
                post.description = Some(
                    "Without a password; with `send_invite` the set-password invitation is e-mailed.".to_owned(),
                );
            }
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                operation.operation_id = operation
                    .operation_id
                    .take()
                    .map(|id| format!("{id}_as_operator"));
                operation.tags = Some(vec!["management".to_owned()]);
                operation.security = Some(vec![SecurityRequirement::new(
                    "session_cookie",
                    Vec::<String>::new(),
                )]);
                let mut parameters = vec![app_id.clone()];
                parameters.extend(
                    operation
                        .parameters
                        .take()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|p| p.name != "x-app-id"),
                );
                operation.parameters = Some(parameters);
                let note = format!(
                    "For operators (the dashboard session, admins or the app's owner, acting as a tenant admin of the app): `{source}` of the accounts API, in its envelope."
                );
                operation.description = Some(match operation.description.take() {
                    Some(text) => format!("{note}\n\n{text}"),
                    None => note,
                });
            }
            openapi.paths.paths.insert(copy.to_owned(), item);
        }
    }
}

/// Swagger UI shows an operation's summary as plain text on one line, and utoipa makes the whole
/// first paragraph of a handler's doc comment the summary. Where that paragraph is longer than a
/// sentence, it becomes the description (Markdown, rendered) and the summary its first clause,
/// without code marks.
#[derive(Debug)]
struct PlainSummaries;

impl Modify for PlainSummaries {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let Some(text) = operation.summary.take() else {
                    continue;
                };
                let summary = first_clause(&text);
                if operation.description.is_none() && summary != text.trim() {
                    operation.description = Some(text);
                }
                operation.summary = Some(summary);
            }
        }
    }
}

/// The text up to its first `. ` or `: ` (or all of it), on one line, without backticks or a
/// final full stop.
fn first_clause(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = [". ", ": "]
        .iter()
        .filter_map(|mark| flat.find(mark))
        .min()
        .unwrap_or(flat.len());
    flat[..end].trim_end_matches('.').replace('`', "")
}

/// The document as JSON text, built once at start-up.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_one_plain_line_and_the_rest_is_the_description() {
        let document: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        let submit = &document["paths"]["/v1/users"]["post"];
        assert_eq!(submit["summary"], "Submit a sign-up");
        assert!(
            submit["description"]
                .as_str()
                .unwrap()
                .contains("validates `data` against the app's schema")
        );
        for (path, operations) in document["paths"].as_object().unwrap() {
            for (method, operation) in operations.as_object().unwrap() {
                let summary = operation["summary"].as_str().unwrap_or_default();
                assert!(
                    !summary.contains('`') && !summary.contains('\n') && summary.len() <= 100,
                    "{method} {path}: {summary:?}"
                );
            }
        }
    }

    #[test]
    fn the_apps_list_example_shows_every_member() {
        let document: serde_json::Value = serde_json::from_str(&openapi_json()).unwrap();
        let app = &document["components"]["schemas"]["AppListResponse"]["example"]["apps"][0];
        for member in [
            "sourceAppId",
            "name",
            "allowedOrigins",
            "honeypotField",
            "thankYouUrl",
            "createdAt",
            "updatedAt",
            "userCount",
        ] {
            assert!(!app[member].is_null(), "{member} missing from {app}");
        }
    }

    #[test]
    fn the_first_clause_ends_at_a_full_stop_or_colon() {
        assert_eq!(first_clause("Who is logged in."), "Who is logged in");
        assert_eq!(
            first_clause("Log in: `{a, b}` opens\na session. More."),
            "Log in"
        );
        assert_eq!(
            first_clause("Changes an app's settings. The owner may change `name`."),
            "Changes an app's settings"
        );
        assert_eq!(first_clause("Uses `x`"), "Uses x");
    }
}

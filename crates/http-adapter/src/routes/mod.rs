//! The route table. [`API_ROUTES`] lists every path the API answers with its methods;
//! [`configure`] registers exactly those (a test sends every listed method to every path, and
//! an unlisted one); the OpenAPI document must describe the same paths and methods (a test
//! compares them); and the dashboard's SPA fallback leaves every path of the list's first
//! segments to the API ([`is_api_path`]).

pub mod account_pages;
pub mod api_keys;
pub mod apps;
pub mod auth;
pub mod docs;
pub mod export;
pub mod health;
pub mod invitations;
pub mod links;
pub mod mail;
pub mod me;
pub mod operators;
pub mod organizations;
pub mod public;
pub mod records;
pub mod users;

use actix_governor::Governor;
use actix_web::http::Method;
use actix_web::middleware::{Condition, from_fn};
use actix_web::web;

use crate::cors;
use crate::middleware::{csrf, headers};
use crate::operator_session::{self, SessionKey};
use crate::rate_limit::IpGovernor;
use crate::respond::method_not_allowed;

/// One path of the API.
#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    /// As actix-web and OpenAPI both write it: `/v1/apps/{appId}`.
    pub path: &'static str,
    /// What a 405 answer names in `Allow`.
    pub methods: &'static [&'static str],
}

const fn route(path: &'static str, methods: &'static [&'static str]) -> ApiRoute {
    ApiRoute { path, methods }
}

/// Every route of the API. The public submission routes also answer `OPTIONS` (CORS
/// preflight), which the document does not list.
pub const API_ROUTES: &[ApiRoute] = &[
    // Public: static sites, by `x-app-id`.
    // (`POST /v1/users` with a bearer credential or API key is an admin creating an account;
    // `GET /v1/users` lists accounts for one.)
    route("/v1/users", &["GET", "POST"]),
    route("/v1/schema", &["GET"]),
    route(public::THANKS_PATH, &["GET"]),
    // Health.
    route("/health", &["GET"]),
    route("/ready", &["GET"]),
    // Operators' sessions.
    route("/auth/login", &["POST"]),
    route("/auth/session", &["GET"]),
    route("/auth/setup", &["GET"]),
    route("/auth/logout", &["POST"]),
    route("/auth/users", &["GET"]),
    // Management: apps, schemas and records.
    route("/v1/apps", &["GET", "POST"]),
    route("/v1/apps/{appId}", &["GET", "PATCH", "DELETE"]),
    route("/v1/apps/{appId}/password", &["POST"]),
    route("/v1/apps/{appId}/schema", &["GET", "PUT"]),
    route("/v1/apps/{appId}/schema/versions", &["GET"]),
    route("/v1/apps/{appId}/users", &["GET"]),
    route("/v1/apps/{appId}/users/export", &["GET"]),
    route("/v1/apps/{appId}/users/{userId}", &["GET", "DELETE"]),
    route("/v1/apps/{appId}/api-keys", &["GET", "POST"]),
    route("/v1/apps/{appId}/api-keys/{keyId}", &["DELETE"]),
    route("/v1/apps/{appId}/mail-settings", &["GET", "PUT"]),
    route("/v1/apps/{appId}/mail-settings/preview", &["POST"]),
    route("/v1/apps/{appId}/mail/test", &["POST"]),
    route("/v1/apps/{appId}/mail/messages", &["GET"]),
    // The accounts API for operators: the same handlers, the dashboard session for a credential.
    route("/v1/apps/{appId}/accounts", &["GET", "POST"]),
    route("/v1/apps/{appId}/accounts/{id}", &["GET", "PUT", "DELETE"]),
    route(
        "/v1/apps/{appId}/accounts/{id}/sessions",
        &["GET", "DELETE"],
    ),
    route("/v1/apps/{appId}/organizations", &["GET", "POST"]),
    route(
        "/v1/apps/{appId}/organizations/{org}",
        &["GET", "PATCH", "DELETE"],
    ),
    route("/v1/apps/{appId}/organizations/{org}/users", &["GET"]),
    route(
        "/v1/apps/{appId}/organizations/{org}/users/{user}",
        &["DELETE"],
    ),
    route(
        "/v1/apps/{appId}/organizations/{org}/invites",
        &["GET", "POST"],
    ),
    route(
        "/v1/apps/{appId}/organizations/{org}/invites/{id}",
        &["DELETE"],
    ),
    // End-user accounts: bearer tokens (`/v1/auth/*` with `x-app-id`).
    route("/v1/auth/register", &["POST"]),
    route("/v1/auth/login", &["POST"]),
    route("/v1/auth/refresh", &["POST"]),
    route("/v1/auth/logout", &["POST"]),
    route("/v1/auth/verify-email", &["POST"]),
    route("/v1/auth/verify-email/resend", &["POST"]),
    route("/v1/auth/password/forgot", &["POST"]),
    route("/v1/auth/password/reset", &["POST"]),
    route("/v1/users/me", &["GET", "PUT"]),
    route("/v1/users/me/password", &["PUT"]),
    route("/v1/users/me/sessions", &["GET"]),
    route("/v1/users/me/sessions/{id}", &["DELETE"]),
    // Organizations and the accounts admins manage: bearer tokens or API keys.
    route("/v1/users/{id}", &["GET", "PUT", "DELETE"]),
    route("/v1/users/{id}/sessions", &["GET", "DELETE"]),
    route("/v1/organizations", &["GET", "POST"]),
    route("/v1/organizations/{org}", &["GET", "PATCH", "DELETE"]),
    route("/v1/organizations/{org}/users", &["GET"]),
    route("/v1/organizations/{org}/users/{user}", &["DELETE"]),
    route("/v1/organizations/{org}/invites", &["GET", "POST"]),
    route("/v1/organizations/{org}/invites/{id}", &["DELETE"]),
    route("/v1/invites/accept", &["POST"]),
    route("/v1/invites/{token}", &["GET"]),
    // The pages e-mail links lead to by default.
    route("/account/{page}", &["GET"]),
    route("/.well-known/jwks.json", &["GET"]),
    // The document and its viewer.
    route("/openapi.json", &["GET"]),
    route("/docs", &["GET"]),
    route("/docs/{path}", &["GET"]),
];

/// The listed methods of the route whose pattern is `pattern`, for `Allow`.
pub fn methods_of(pattern: &str) -> Option<&'static [&'static str]> {
    API_ROUTES
        .iter()
        .find(|route| route.path == pattern)
        .map(|route| route.methods)
}

/// Whether `path` belongs to the API rather than to the dashboard's pages: it is the first
/// segment of a route (`/v1`, `/auth`, `/health`) or lies under the first segment of a route
/// that has more (`/v1/…`, `/auth/…`, `/docs/…`).
pub fn is_api_path(path: &str) -> bool {
    API_ROUTES.iter().any(|route| {
        let end = route.path[1..]
            .find('/')
            .map_or(route.path.len(), |i| i + 1);
        let first = &route.path[..end];
        match path.strip_prefix(first) {
            Some("") => true,
            Some(rest) => end < route.path.len() && rest.starts_with('/'),
            None => false,
        }
    })
}

/// What the registration needs besides the state.
#[derive(Clone)]
pub struct Wiring {
    pub governor: IpGovernor,
    /// Whether the per-IP limit applies.
    pub limit_ips: bool,
    pub session_key: SessionKey,
    pub secure_cookie: bool,
}

/// Registers every route of [`API_ROUTES`].
pub fn configure(config: &mut web::ServiceConfig, wiring: &Wiring) {
    public_routes(config, wiring);
    account_routes(config);
    operator_routes(config, wiring);
    management_routes(config, wiring);
    config.route("/openapi.json", web::get().to(docs::openapi_document));
    docs::configure(config);
}

/// A route for one method. actix-web's own method guards also record each method they check
/// in the request's extensions, an allocation per request on the public hot path; these
/// routes' resources answer 405 themselves.
fn method_route(method: Method) -> actix_web::Route {
    web::route().guard(actix_web::guard::fn_guard(move |context| {
        context.head().method == method
    }))
}

fn public_routes(config: &mut web::ServiceConfig, wiring: &Wiring) {
    let ip_limit = || Condition::new(wiring.limit_ips, Governor::new(&wiring.governor));
    let readable_limits = || Condition::new(wiring.limit_ips, from_fn(cors::readable_rate_limits));
    config
        .service(
            web::resource("/v1/users")
                .wrap(headers::pages())
                .wrap(ip_limit())
                .wrap(readable_limits())
                .route(method_route(Method::POST).to(public::submit_user))
                .route(method_route(Method::GET).to(users::list_users))
                // The accounts' preflight: it also allows `Authorization` for the admin routes.
                .route(method_route(Method::OPTIONS).to(cors::account_preflight))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/v1/schema")
                .wrap(ip_limit())
                .wrap(readable_limits())
                .route(method_route(Method::GET).to(public::get_schema))
                .route(method_route(Method::OPTIONS).to(cors::preflight))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource(public::THANKS_PATH)
                .wrap(headers::pages())
                .route(web::get().to(public::thanks))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/health")
                .route(web::get().to(health::health))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/ready")
                .route(web::get().to(health::ready))
                .default_service(web::to(method_not_allowed)),
        );
}

/// The accounts routes: bearer tokens (no cookie, so no CSRF rule), the app's CORS rule, and
/// errors readable by the page (see `cors::readable_account_errors`).
fn account_routes(config: &mut web::ServiceConfig) {
    let resource = |path: &str| {
        web::resource(path)
            .wrap(from_fn(cors::readable_account_errors))
            .route(web::method(Method::OPTIONS).to(cors::account_preflight))
            .default_service(web::to(method_not_allowed))
    };
    config
        .service(resource("/v1/auth/register").route(web::post().to(auth::register)))
        .service(resource("/v1/auth/login").route(web::post().to(auth::login)))
        .service(resource("/v1/auth/refresh").route(web::post().to(auth::refresh)))
        .service(resource("/v1/auth/logout").route(web::post().to(auth::logout)))
        .service(resource("/v1/auth/verify-email").route(web::post().to(links::verify_email)))
        .service(
            resource("/v1/auth/verify-email/resend")
                .route(web::post().to(links::resend_verification)),
        )
        .service(resource("/v1/auth/password/forgot").route(web::post().to(links::forgot_password)))
        .service(resource("/v1/auth/password/reset").route(web::post().to(links::reset_password)))
        .service(
            resource("/v1/users/me")
                .route(web::get().to(me::me))
                .route(web::put().to(me::update_me)),
        )
        .service(resource("/v1/users/me/password").route(web::put().to(me::change_password)))
        .service(resource("/v1/users/me/sessions").route(web::get().to(me::sessions)))
        .service(resource("/v1/users/me/sessions/{id}").route(web::delete().to(me::end_session)))
        // After every `/v1/users/me…` route, which `{id}` would otherwise take.
        .service(
            resource("/v1/users/{id}")
                .route(web::get().to(users::get_user))
                .route(web::put().to(users::update_user))
                .route(web::delete().to(users::delete_user)),
        )
        .service(
            resource("/v1/users/{id}/sessions")
                .route(web::get().to(users::list_user_sessions))
                .route(web::delete().to(users::end_user_sessions)),
        )
        .service(
            resource("/v1/organizations")
                .route(web::get().to(organizations::list_organizations))
                .route(web::post().to(organizations::create_organization)),
        )
        .service(
            resource("/v1/organizations/{org}")
                .route(web::get().to(organizations::get_organization))
                .route(web::patch().to(organizations::update_organization))
                .route(web::delete().to(organizations::delete_organization)),
        )
        .service(
            resource("/v1/organizations/{org}/users")
                .route(web::get().to(organizations::list_members)),
        )
        .service(
            resource("/v1/organizations/{org}/users/{user}")
                .route(web::delete().to(organizations::remove_member)),
        )
        .service(
            resource("/v1/organizations/{org}/invites")
                .route(web::get().to(invitations::list_invitations))
                .route(web::post().to(invitations::invite)),
        )
        .service(
            resource("/v1/organizations/{org}/invites/{id}")
                .route(web::delete().to(invitations::revoke_invitation)),
        )
        // Before `{token}`, which would otherwise take `accept`.
        .service(resource("/v1/invites/accept").route(web::post().to(links::accept_invitation)))
        .service(resource("/v1/invites/{token}").route(web::get().to(links::show_invitation)))
        .service(
            web::resource("/account/{page}")
                .route(web::get().to(account_pages::account_page))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/.well-known/jwks.json")
                .route(web::get().to(auth::jwks))
                .default_service(web::to(method_not_allowed)),
        );
}

/// `/auth/*`: operators' session cookie, the CSRF rule, JSON bodies.
fn operator_routes(config: &mut web::ServiceConfig, wiring: &Wiring) {
    config.service(
        web::scope("/auth")
            .wrap(operator_session::middleware(
                &wiring.session_key,
                wiring.secure_cookie,
            ))
            .wrap(from_fn(csrf::protect))
            .service(
                web::resource("/login")
                    .route(web::post().to(operators::login))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/session")
                    .route(web::get().to(operators::current_session))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/setup")
                    .route(web::get().to(operators::setup))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/logout")
                    .route(web::post().to(operators::logout))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/users")
                    .route(web::get().to(operators::own_records))
                    .default_service(web::to(method_not_allowed)),
            ),
    );
}

/// `/v1/apps/*`: the same session and CSRF rule as `/auth/*`.
fn management_routes(config: &mut web::ServiceConfig, wiring: &Wiring) {
    config.service(
        web::scope("/v1/apps")
            .wrap(operator_session::middleware(
                &wiring.session_key,
                wiring.secure_cookie,
            ))
            .wrap(from_fn(csrf::protect))
            .service(
                web::resource("")
                    .route(web::get().to(apps::list_apps))
                    .route(web::post().to(apps::create_app))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}")
                    .route(web::get().to(apps::get_app))
                    .route(web::patch().to(apps::update_app))
                    .route(web::delete().to(apps::delete_app))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/password")
                    .route(web::post().to(apps::rotate_password))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/schema")
                    .route(web::get().to(apps::get_schema))
                    .route(web::put().to(apps::put_schema))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/schema/versions")
                    .route(web::get().to(apps::schema_versions))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/users")
                    .route(web::get().to(records::list_records))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/users/export")
                    .route(web::get().to(export::export_records))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/users/{userId}")
                    .route(web::get().to(records::get_record))
                    .route(web::delete().to(records::delete_record))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/api-keys")
                    .route(web::get().to(api_keys::list_api_keys))
                    .route(web::post().to(api_keys::create_api_key))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/api-keys/{keyId}")
                    .route(web::delete().to(api_keys::revoke_api_key))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/mail-settings")
                    .route(web::get().to(mail::get_mail_settings))
                    .route(web::put().to(mail::put_mail_settings))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/mail-settings/preview")
                    .route(web::post().to(mail::preview_mail))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/mail/test")
                    .route(web::post().to(mail::test_mail))
                    .default_service(web::to(method_not_allowed)),
            )
            .service(
                web::resource("/{appId}/mail/messages")
                    .route(web::get().to(mail::list_messages))
                    .default_service(web::to(method_not_allowed)),
            )
            .configure(operator_directory_routes),
    );
}

/// The accounts API's admin routes again under `/v1/apps/{appId}/`, for the dashboard: the
/// same handlers, whose `CurrentCaller` is then the operator's session on that app (an API key
/// or bearer sent instead must be that app's). Answers keep the accounts envelope.
fn operator_directory_routes(config: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    config
        .service(
            resource("/{appId}/accounts")
                .route(web::get().to(users::list_users))
                .route(web::post().to(users::create_user)),
        )
        .service(
            resource("/{appId}/accounts/{id}")
                .route(web::get().to(users::get_user))
                .route(web::put().to(users::update_user))
                .route(web::delete().to(users::delete_user)),
        )
        .service(
            resource("/{appId}/accounts/{id}/sessions")
                .route(web::get().to(users::list_user_sessions))
                .route(web::delete().to(users::end_user_sessions)),
        )
        .service(
            resource("/{appId}/organizations")
                .route(web::get().to(organizations::list_organizations))
                .route(web::post().to(organizations::create_organization)),
        )
        .service(
            resource("/{appId}/organizations/{org}")
                .route(web::get().to(organizations::get_organization))
                .route(web::patch().to(organizations::update_organization))
                .route(web::delete().to(organizations::delete_organization)),
        )
        .service(
            resource("/{appId}/organizations/{org}/users")
                .route(web::get().to(organizations::list_members)),
        )
        .service(
            resource("/{appId}/organizations/{org}/users/{user}")
                .route(web::delete().to(organizations::remove_member)),
        )
        .service(
            resource("/{appId}/organizations/{org}/invites")
                .route(web::get().to(invitations::list_invitations))
                .route(web::post().to(invitations::invite)),
        )
        .service(
            resource("/{appId}/organizations/{org}/invites/{id}")
                .route(web::delete().to(invitations::revoke_invitation)),
        );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use actix_web::test::{TestRequest, call_service, init_service, read_body};
    use actix_web::web::Data;
    use actix_web::{App, http::StatusCode};
    use domain::{DomainSettings, HashingSettings, Services};
    use storage_port::{MemoryStorage, Storage};

    use super::*;
    use crate::client_ip::ClientIpResolver;
    use crate::rate_limit::{RateLimitSettings, ip_governor};
    use crate::settings::HttpSettings;
    use crate::state::ApiState;

    /// The paths the OpenAPI document does not describe: itself and its viewer.
    const UNDOCUMENTED: [&str; 3] = ["/openapi.json", "/docs", "/docs/{path}"];

    const EVERY_METHOD: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    fn concrete(path: &str) -> String {
        path.split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "x"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Every listed method of every listed path reaches a handler (whatever it then answers:
    /// 401 without a session, 400 without an app id…), and a method that is not listed is
    /// answered 404 or 405, never by a handler.
    #[actix_web::test]
    async fn the_registered_routes_are_the_listed_ones() {
        let settings = DomainSettings {
            hashing: HashingSettings::fast_for_tests(),
            ..DomainSettings::default()
        };
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let crypto = Arc::new(token_adapter::Ed25519Tokens::new(
            token_adapter::KeyEncryptionKey::generate(),
        ));
        let services = Arc::new(Services::new(storage, &settings, crypto).expect("services"));
        let state = Data::new(ApiState::new(services, &HttpSettings::default()));
        let wiring = Wiring {
            governor: ip_governor(
                &RateLimitSettings::default(),
                ClientIpResolver::new(Vec::new()),
            )
            .expect("governor"),
            limit_ips: false,
            session_key: SessionKey::generate(),
            secure_cookie: false,
        };
        let app = init_service(
            App::new()
                .app_data(state)
                .configure(|config| configure(config, &wiring))
                .default_service(web::to(crate::respond::not_found)),
        )
        .await;
        for route in API_ROUTES {
            let path = concrete(route.path);
            for method in EVERY_METHOD {
                let listed = route.methods.contains(&method);
                // No Origin and no cookie: the CSRF rule lets it through, as it does curl.
                let request = TestRequest::default()
                    .method(Method::from_bytes(method.as_bytes()).expect("method"))
                    .uri(&path)
                    .to_request();
                let response = call_service(&app, request).await;
                let status = response.status();
                let allow = response
                    .headers()
                    .get("allow")
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let body = read_body(response).await;
                let unrouted = status == StatusCode::METHOD_NOT_ALLOWED
                    || (status == StatusCode::NOT_FOUND
                        && String::from_utf8_lossy(&body).contains("\"not_found\""));
                assert_eq!(
                    !unrouted,
                    listed,
                    "{method} {path}: {status} {}",
                    String::from_utf8_lossy(&body)
                );
                if status == StatusCode::METHOD_NOT_ALLOWED && !route.path.starts_with("/docs") {
                    assert_eq!(allow.as_deref(), Some(route.methods.join(", ").as_str()));
                }
            }
        }
    }

    /// The OpenAPI document describes exactly the documented routes, with their methods.
    #[test]
    fn the_document_describes_the_listed_routes() {
        let document: serde_json::Value =
            serde_json::from_str(&crate::openapi::openapi_json()).expect("json");
        let documented: BTreeSet<(String, String)> = document["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .expect("path item")
                    .keys()
                    .filter(|key| EVERY_METHOD.iter().any(|m| m.eq_ignore_ascii_case(key)))
                    .map(|method| (path.clone(), method.to_uppercase()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let listed: BTreeSet<(String, String)> = API_ROUTES
            .iter()
            .filter(|route| !UNDOCUMENTED.contains(&route.path))
            .flat_map(|route| {
                route
                    .methods
                    .iter()
                    .map(|method| (route.path.to_owned(), (*method).to_owned()))
            })
            .collect();
        assert_eq!(documented, listed);
    }

    #[test]
    fn api_paths_follow_the_list() {
        for path in [
            "/v1",
            "/v1/",
            "/v1/apps",
            "/v1/anything",
            "/auth",
            "/auth/login",
            "/docs",
            "/docs/index.html",
            "/health",
            "/ready",
            "/openapi.json",
        ] {
            assert!(is_api_path(path), "{path}");
        }
        for path in [
            "/",
            "/apps/my-site",
            "/healthz",
            "/health/x",
            "/v1x",
            "/authority",
            "/assets/index.js",
            "/sdk/v1.js",
        ] {
            assert!(!is_api_path(path), "{path}");
        }
    }
}

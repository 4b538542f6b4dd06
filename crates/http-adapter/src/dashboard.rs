//! Serves the built dashboard (`web-admin/dist`, made by `cd web-admin && npm ci && npm run build`)
//! from the service's own origin, so its cookie requests are same-origin. No Node at run time.
//!
//! - `/assets/*` are Vite's content-hashed files: `Cache-Control: public, max-age=31536000, immutable`;
//!   a missing one is a 404 (never `index.html`, which a browser would try to run as a script).
//! - Other files in `dist` (favicon, …) and `index.html` itself: `Cache-Control: no-cache`.
//! - SPA fallback: a GET or HEAD of any other path answers `index.html`, except the API's own
//!   prefixes (`/v1/`, `/auth/`, `/openapi.json`, `/docs`, `/health`, `/ready`), which this module
//!   never matches, so they fall through to the API's routes and its JSON 404.
//! - Without `dist/index.html` (dashboard not built), those paths answer a small page saying how to
//!   build it.
//! - `/sdk/*` is the JavaScript client the dashboard build puts in `dist/sdk` (`v1.js`, an ES
//!   module, and `users-api-client.tgz`, the npm package) for sites to load from this service:
//!   readable from any origin (`Access-Control-Allow-Origin: *`, as a cross-origin module script
//!   needs), `no-cache`, and a missing one is a 404, like `/assets/*`.
//!
//! Paths are percent-decoded, every segment is checked (no `..`, `.`, hidden names, backslashes or
//! NUL), and the file found is canonicalized and must lie inside the canonical `dist` directory, so
//! neither `..` nor a symbolic link can leave it. Files are read on the blocking pool
//! (`web::block` + `std::fs`), never on an async worker.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, guard, web};

/// Paths that belong to the API are never answered by the dashboard (the route table says
/// which they are).
use crate::routes::is_api_path;

/// Cache policy of the hashed files under `/assets/`.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache policy of everything else: revalidate every time.
const NO_CACHE: &str = "no-cache";
/// Larger files are refused rather than read into memory (the dashboard's chunks are far smaller).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// The dashboard's HTML only loads its own scripts and styles, and may not be framed.
const HTML_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

const NOT_BUILT_PAGE: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<title>Users API: dashboard not built</title></head>
<body style=\"font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem\">
<h1>Users API</h1>
<p>The API is running, but the dashboard has not been built.</p>
<p>Build it, then restart the service (or point <code>USERS_API__DASHBOARD__DIST</code> at the
<code>dist</code> directory):</p>
<pre>cd web-admin &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>The API itself is described at <a href=\"/docs\">/docs</a>.</p>
</body></html>
";

#[derive(Debug)]
struct Dashboard {
    dist: PathBuf,
}

/// Registers the dashboard. Configure it after the API's routes: it matches only GET/HEAD of
/// non-API paths, and every other request falls through to the app's default service.
pub fn configure(config: &mut web::ServiceConfig, dist: PathBuf) {
    let dashboard = web::Data::new(Dashboard { dist });
    config.service(
        web::resource("/{path:.*}")
            .guard(guard::Any(guard::Get()).or(guard::Head()))
            .guard(guard::fn_guard(|ctx| !is_api_path(ctx.head().uri.path())))
            .app_data(dashboard)
            .to(serve),
    );
}

/// What a request path names inside `dist`.
#[derive(Debug, PartialEq)]
enum Target {
    /// A file path relative to `dist`, made only of checked segments.
    File { relative: PathBuf, hashed: bool },
    /// A path that cannot name a file: the SPA fallback, or a 404 under `/assets/`.
    Invalid { hashed: bool },
}

fn target(raw_path: &str) -> Target {
    let hashed = raw_path.starts_with("/assets/");
    let Some(decoded) = percent_decode(raw_path) else {
        return Target::Invalid { hashed };
    };
    let trimmed = decoded.trim_start_matches('/');
    if trimmed.is_empty() {
        return Target::Invalid { hashed };
    }
    let mut relative = PathBuf::new();
    for segment in trimmed.split('/') {
        let safe = !segment.is_empty()
            && !segment.starts_with('.')
            && !segment.contains(['\\', '\0', ':']);
        if !safe {
            return Target::Invalid { hashed };
        }
        relative.push(segment);
    }
    Target::File { relative, hashed }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or text that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        Some("tgz") => "application/gzip",
        _ => "application/octet-stream",
    }
}

/// Reads `relative` inside `dist` if it is a regular file that really lies inside `dist`.
/// Blocking: call on the blocking pool.
fn read_inside(dist: &Path, relative: &Path) -> std::io::Result<Option<(PathBuf, Vec<u8>)>> {
    let root = match dist.canonicalize() {
        Ok(root) => root,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let candidate = match root.join(relative).canonicalize() {
        Ok(candidate) => candidate,
        Err(_) => return Ok(None),
    };
    if !candidate.starts_with(&root) {
        tracing::warn!(path = %relative.display(), "dashboard path outside dist refused");
        return Ok(None);
    }
    let metadata = std::fs::metadata(&candidate)?;
    if !metadata.is_file() || metadata.len() > MAX_FILE_BYTES {
        return Ok(None);
    }
    let bytes = std::fs::read(&candidate)?;
    Ok(Some((candidate, bytes)))
}

async fn serve(request: HttpRequest, dashboard: web::Data<Dashboard>) -> HttpResponse {
    let dashboard = dashboard.into_inner();
    let sdk = request.path().starts_with(SDK_PREFIX);
    match target(request.path()) {
        Target::File { relative, hashed } => {
            match read_blocking(Arc::clone(&dashboard), relative).await {
                Ok(Some((path, bytes))) => {
                    let cache = if hashed { IMMUTABLE } else { NO_CACHE };
                    let mut response = file_response(content_type(&path), cache, bytes);
                    if sdk {
                        allow_any_origin(&mut response);
                    }
                    response
                }
                Ok(None) if hashed || sdk => not_found(),
                Ok(None) => index(&dashboard, &request).await,
                Err(response) => response,
            }
        }
        Target::Invalid { hashed } if hashed || sdk => not_found(),
        Target::Invalid { .. } => index(&dashboard, &request).await,
    }
}

/// The client served to sites (`dist/sdk`); see the module's documentation.
const SDK_PREFIX: &str = "/sdk/";

/// Any page may load the client: a module script from another origin is fetched with CORS, and
/// the files are public and carry no credentials.
fn allow_any_origin(response: &mut HttpResponse) {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
}

async fn read_blocking(
    dashboard: Arc<Dashboard>,
    relative: PathBuf,
) -> Result<Option<(PathBuf, Vec<u8>)>, HttpResponse> {
    match web::block(move || read_inside(&dashboard.dist, &relative)).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(error)) => {
            tracing::error!(%error, "dashboard file could not be read");
            Err(unavailable())
        }
        Err(error) => {
            tracing::error!(%error, "dashboard read was cancelled");
            Err(unavailable())
        }
    }
}

/// `index.html` for the SPA fallback, or the "not built" page.
async fn index(dashboard: &Arc<Dashboard>, request: &HttpRequest) -> HttpResponse {
    match read_blocking(Arc::clone(dashboard), PathBuf::from("index.html")).await {
        Ok(Some((_, bytes))) => file_response("text/html; charset=utf-8", NO_CACHE, bytes),
        Ok(None) => {
            if request.method() == Method::GET && request.path() == "/" {
                tracing::warn!(dist = %dashboard.dist.display(), "dashboard not built");
            }
            file_response(
                "text/html; charset=utf-8",
                NO_CACHE,
                NOT_BUILT_PAGE.as_bytes().to_vec(),
            )
        }
        Err(response) => response,
    }
}

fn file_response(content_type: &'static str, cache: &'static str, bytes: Vec<u8>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(cache)));
    if content_type.starts_with("text/html") {
        response
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(HTML_CSP),
            ))
            .insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
    }
    response.body(bytes)
}

fn not_found() -> HttpResponse {
    HttpResponse::build(StatusCode::NOT_FOUND)
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE)))
        .content_type("text/plain; charset=utf-8")
        .body("Not found")
}

fn unavailable() -> HttpResponse {
    HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE)))
        .content_type("text/plain; charset=utf-8")
        .body("The dashboard could not be read")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use actix_web::body::to_bytes;
    use actix_web::{App, test as actix_test};

    use super::*;

    /// A fresh temporary directory, removed when the guard drops: `<dir>/dist` (built
    /// dashboard) and `<dir>/secret.txt` (outside it).
    fn fixture(built: bool) -> (tempfile::TempDir, PathBuf) {
        let guard = tempfile::tempdir().unwrap();
        let dir = guard.path().to_path_buf();
        let dist = dir.join("dist");
        std::fs::create_dir_all(dist.join("assets")).unwrap();
        std::fs::write(dir.join("secret.txt"), "top secret").unwrap();
        if built {
            std::fs::write(
                dist.join("index.html"),
                "<!doctype html><title>dash</title>",
            )
            .unwrap();
            std::fs::write(dist.join("assets/index-abc123.js"), "console.log(1)").unwrap();
            std::fs::write(dist.join("assets/index-abc123.css"), "body{}").unwrap();
            std::fs::write(dist.join("favicon.svg"), "<svg/>").unwrap();
            std::fs::write(dist.join(".env"), "HIDDEN=1").unwrap();
            std::fs::create_dir_all(dist.join("sdk")).unwrap();
            std::fs::write(dist.join("sdk/v1.js"), "export const v = 1;").unwrap();
            std::fs::write(dist.join("sdk/users-api-client.tgz"), [0x1f, 0x8b]).unwrap();
        }
        (guard, dist)
    }

    async fn get(
        dist: &Path,
        method: Method,
        path: &str,
    ) -> (StatusCode, header::HeaderMap, String) {
        let app = actix_test::init_service(
            App::new()
                .route(
                    "/v1/apps",
                    web::get().to(|| async { HttpResponse::Ok().body("api") }),
                )
                .configure(|config| configure(config, dist.to_path_buf()))
                .default_service(web::to(|| async {
                    HttpResponse::NotFound().body("api 404")
                })),
        )
        .await;
        let request = actix_test::TestRequest::default()
            .method(method)
            .uri(path)
            .to_request();
        let response = actix_test::call_service(&app, request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body()).await.unwrap();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    fn header_of(headers: &header::HeaderMap, name: header::HeaderName) -> &str {
        headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
    }

    #[actix_web::test]
    async fn serves_index_without_caching() {
        let (_guard, dist) = fixture(true);
        let (status, headers, body) = get(&dist, Method::GET, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<title>dash</title>"));
        assert_eq!(
            header_of(&headers, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");
        assert!(header_of(&headers, header::CONTENT_SECURITY_POLICY).contains("frame-ancestors"));
        let (status, headers, _) = get(&dist, Method::GET, "/index.html").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");
    }

    #[actix_web::test]
    async fn hashed_assets_are_immutable_and_typed() {
        let (_guard, dist) = fixture(true);
        let (status, headers, body) = get(&dist, Method::GET, "/assets/index-abc123.js").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "console.log(1)");
        assert_eq!(
            header_of(&headers, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(header_of(&headers, header::CACHE_CONTROL), IMMUTABLE);
        let (_, headers, _) = get(&dist, Method::GET, "/assets/index-abc123.css").await;
        assert_eq!(
            header_of(&headers, header::CONTENT_TYPE),
            "text/css; charset=utf-8"
        );
        let (status, headers, _) = get(&dist, Method::HEAD, "/favicon.svg").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header_of(&headers, header::CONTENT_TYPE), "image/svg+xml");
        assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");
    }

    #[actix_web::test]
    async fn the_client_is_served_to_any_origin() {
        let (_guard, dist) = fixture(true);
        let (status, headers, body) = get(&dist, Method::GET, "/sdk/v1.js").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "export const v = 1;");
        assert_eq!(
            header_of(&headers, header::CONTENT_TYPE),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            header_of(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "*"
        );
        assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");
        let (status, headers, _) = get(&dist, Method::GET, "/sdk/users-api-client.tgz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            header_of(&headers, header::CONTENT_TYPE),
            "application/gzip"
        );
        assert_eq!(
            header_of(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            "*"
        );
        // A wrong name is a 404, never the dashboard's HTML under a script's URL.
        for path in ["/sdk/v2.js", "/sdk/", "/sdk/../index.html"] {
            let (status, headers, body) = get(&dist, Method::GET, path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(!body.contains("<title>dash</title>"), "{path}");
            assert_eq!(header_of(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN), "");
        }
        // The dashboard's own files are not opened to other origins.
        let (_, headers, _) = get(&dist, Method::GET, "/assets/index-abc123.js").await;
        assert_eq!(header_of(&headers, header::ACCESS_CONTROL_ALLOW_ORIGIN), "");
    }

    #[actix_web::test]
    async fn missing_asset_is_404_not_index() {
        let (_guard, dist) = fixture(true);
        let (status, _, body) = get(&dist, Method::GET, "/assets/index-gone.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!body.contains("dash"));
    }

    #[actix_web::test]
    async fn unknown_paths_fall_back_to_index() {
        let (_guard, dist) = fixture(true);
        for path in ["/apps/my-site/users", "/login", "/apps/x?y=1", "/v1x"] {
            let (status, headers, body) = get(&dist, Method::GET, path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(body.contains("<title>dash</title>"), "{path}");
            assert_eq!(header_of(&headers, header::CACHE_CONTROL), "no-cache");
        }
    }

    #[actix_web::test]
    async fn api_paths_are_left_to_the_api() {
        let (_guard, dist) = fixture(true);
        let (status, _, body) = get(&dist, Method::GET, "/v1/apps").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "api"));
        for path in [
            "/v1/nothing",
            "/v1",
            "/auth/session",
            "/openapi.json",
            "/docs",
            "/docs/index.html",
            "/health",
            "/ready",
        ] {
            let (status, _, body) = get(&dist, Method::GET, path).await;
            assert_eq!(
                (status, body.as_str()),
                (StatusCode::NOT_FOUND, "api 404"),
                "{path}"
            );
        }
        let (status, _, body) = get(&dist, Method::POST, "/login").await;
        assert_eq!((status, body.as_str()), (StatusCode::NOT_FOUND, "api 404"));
    }

    #[actix_web::test]
    async fn traversal_and_hidden_files_never_leak() {
        let (_guard, dist) = fixture(true);
        for path in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/assets/..%2f..%2fsecret.txt",
            "/assets/%2e%2e/%2e%2e/secret.txt",
            "/..%5csecret.txt",
            "/.env",
            "/%2eenv",
            "/assets/%zz",
            "/%00",
        ] {
            let (_, _, body) = get(&dist, Method::GET, path).await;
            assert!(!body.contains("top secret"), "{path}");
            assert!(!body.contains("HIDDEN"), "{path}");
        }
    }

    #[cfg(unix)]
    #[actix_web::test]
    async fn symlinks_out_of_dist_are_refused() {
        let (_guard, dist) = fixture(true);
        std::os::unix::fs::symlink(dist.join("../secret.txt"), dist.join("leak.txt")).unwrap();
        let (status, _, body) = get(&dist, Method::GET, "/leak.txt").await;
        assert_eq!(status, StatusCode::OK); // the SPA fallback, not the file
        assert!(!body.contains("top secret"));
    }

    #[actix_web::test]
    async fn explains_how_to_build_when_dist_is_missing() {
        let (_guard, dist) = fixture(false);
        let (status, headers, body) = get(&dist, Method::GET, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("npm ci && npm run build")
                || body.contains("npm ci &amp;&amp; npm run build")
        );
        assert_eq!(
            header_of(&headers, header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        let nowhere = dist.join("does-not-exist");
        let (status, _, body) = get(&nowhere, Method::GET, "/apps").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("dashboard has not been built"));
    }

    #[test]
    fn targets_are_checked_segment_by_segment() {
        assert_eq!(
            target("/assets/a-1.js"),
            Target::File {
                relative: PathBuf::from("assets/a-1.js"),
                hashed: true
            }
        );
        assert_eq!(target("/"), Target::Invalid { hashed: false });
        assert_eq!(target("/a//b"), Target::Invalid { hashed: false });
        assert_eq!(target("/assets/../x"), Target::Invalid { hashed: true });
        assert_eq!(
            target("/%C3%A9t%C3%A9"),
            Target::File {
                relative: PathBuf::from("été"),
                hashed: false
            }
        );
        assert_eq!(target("/%ff"), Target::Invalid { hashed: false });
        assert!(is_api_path("/v1/apps") && is_api_path("/health") && !is_api_path("/healthz"));
    }
}

//! The small pages e-mail links lead to when an app names no page of its own
//! (`mail-settings`' `verifyEmailUrl`, `resetPasswordUrl`, `acceptInviteUrl`):
//! `GET /account/verify-email`, `/account/reset-password`, `/account/accept-invite`, and their
//! one script, `/account/pages.js`. Each reads `?token=`, removes it from the address bar, and
//! calls the API on this origin (same-origin: no CORS rule applies).

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Path;

use crate::error::ApiError;

/// Their policy: our one script, inline styles, requests to this origin only.
pub const ACCOUNT_PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src \
                                       'unsafe-inline'; connect-src 'self'; base-uri 'none'; \
                                       form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = include_str!("pages/page.html");
const SCRIPT: &str = include_str!("pages/pages.js");

const PASSWORD_FIELD: &str = r#"<label for="password">New password (8 to 128 characters)</label>
<input id="password" type="password" autocomplete="new-password" minlength="8" maxlength="128" required>"#;

fn page(name: &str) -> Option<String> {
    let (title, wait, fields, button) = match name {
        "verify-email" => (
            "Confirm your email address",
            "Confirming…",
            String::new(),
            "Confirm",
        ),
        "reset-password" => (
            "Choose a new password",
            "",
            PASSWORD_FIELD.to_owned(),
            "Set the password",
        ),
        "accept-invite" => (
            "Accept the invitation",
            "Loading the invitation…",
            format!(
                "<label for=\"name\">Your name (optional)</label>\n<input id=\"name\" autocomplete=\"name\" maxlength=\"200\">\n{PASSWORD_FIELD}"
            ),
            "Accept and set the password",
        ),
        "pages.js" => return None,
        _ => return None,
    };
    Some(
        PAGE.replace("{{TITLE}}", title)
            .replace("{{PAGE}}", name)
            .replace("{{WAIT}}", wait)
            .replace("{{FIELDS}}", &fields)
            .replace("{{BUTTON}}", button),
    )
}

/// A page for a link's token, or the pages' script.
#[utoipa::path(
    get,
    path = "/account/{page}",
    tag = "accounts",
    params(("page" = String, Path, description = "`verify-email`, `reset-password`, `accept-invite`, or `pages.js`")),
    responses(
        (status = 200, description = "The page (HTML), or its script (`pages.js`)", content(
            (String = "text/html"),
            (String = "text/javascript"),
        )),
        (status = 404, description = "No such page", body = crate::error::ErrorBody),
    )
)]
pub async fn account_page(name: Path<String>) -> Result<HttpResponse, ApiError> {
    let mut response = HttpResponse::Ok();
    response
        .insert_header(("content-security-policy", ACCOUNT_PAGE_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if name.as_str() == "pages.js" {
        return Ok(response
            .content_type("text/javascript; charset=utf-8")
            .body(SCRIPT));
    }
    match page(&name) {
        Some(html) => Ok(response.content_type("text/html; charset=utf-8").body(html)),
        None => Err(ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "page_not_found",
            "No page has this name",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_filled_in() {
        for name in ["verify-email", "reset-password", "accept-invite"] {
            let html = page(name).expect("a page");
            assert!(!html.contains("{{"), "{name}: {html}");
            assert!(html.contains(&format!("data-page=\"{name}\"")));
        }
        assert_eq!(page("../etc/passwd"), None);
    }
}

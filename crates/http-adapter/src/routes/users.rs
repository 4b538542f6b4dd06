//! An app's user records: list (keyset pages), read, erase, export.

use std::borrow::Cow;
use std::sync::Arc;

use actix_session::Session;
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path, Query};
use actix_web::{HttpResponse, http::StatusCode};
use base64::Engine as _;
use domain::{Services, UserListing};
use schema_validation::Schema;
use serde::Deserialize;
use serde_json::Value;
use storage_port::{Storage, Timestamp, UserRecord};

use crate::ApiState;
use crate::dto::{UserPageResponse, UserResponse};
use crate::error::{ApiError, ErrorBody};
use crate::routes::auth::no_store;
use crate::session;

/// Records read per step of an export.
const EXPORT_PAGE_SIZE: u32 = 1000;

/// Query parameters of a user listing.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1 to 500; 50 when absent.
    pub limit: Option<String>,
    /// `nextCursor` of the previous page (opaque).
    pub cursor: Option<String>,
    /// Only emails containing this text (any case).
    pub q: Option<String>,
    /// RFC 3339: only records created at or after this instant.
    pub created_after: Option<String>,
    /// RFC 3339: only records created strictly before this instant.
    pub created_before: Option<String>,
}

/// A cursor is the URL-safe base64 of the last id of the previous page. Clients treat it as
/// opaque; decoding it checks that it holds one of our ids (UUIDv7 text).
pub fn encode_cursor(last_id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last_id)
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|id| is_record_id(id))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                "The cursor is not one this API returned",
            )
        })
}

/// Ours are UUIDv7 in lower-case hyphenated text.
fn is_record_id(text: &str) -> bool {
    uuid::Uuid::try_parse(text)
        .is_ok_and(|id| id.get_version_num() == 7 && id.hyphenated().to_string() == text)
}

/// `limit`, a whole number from 1 to the largest page.
fn parse_limit(text: &str) -> Result<u32, ApiError> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|limit| (1..=domain::MAX_PAGE_SIZE).contains(limit))
        .ok_or_else(|| {
            ApiError::invalid_field(
                "limit",
                "range",
                format!("must be a whole number from 1 to {}", domain::MAX_PAGE_SIZE),
            )
        })
}

fn parse_time(field: &str, text: Option<String>) -> Result<Option<Timestamp>, ApiError> {
    text.map(|text| {
        Timestamp::parse_rfc3339(&text)
            .ok_or_else(|| ApiError::invalid_field(field, "date", "must be an RFC 3339 timestamp"))
    })
    .transpose()
}

/// One page of `app_id`'s users (the caller has authorized the request).
pub async fn list_page(
    state: &ApiState,
    app_id: &str,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    state.services.apps.find_app(app_id).await?;
    let limit = params.limit.as_deref().map(parse_limit).transpose()?;
    let listing = UserListing {
        limit,
        after_id: params.cursor.as_deref().map(decode_cursor).transpose()?,
        email_contains: params.q,
        created_after: parse_time("createdAfter", params.created_after)?,
        created_before: parse_time("createdBefore", params.created_before)?,
    };
    let page = state.services.users.list(app_id, listing).await?;
    Ok(no_store(HttpResponse::Ok()).json(UserPageResponse {
        next_cursor: page.next_cursor.as_deref().map(encode_cursor),
        users: page.users.into_iter().map(UserResponse::from).collect(),
    }))
}

/// A page of the app's users, oldest first, by keyset pagination: a page never skips or
/// repeats a record, even while new records arrive.
#[utoipa::path(
    get,
    path = "/v1/apps/{appId}/users",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path), ListParams),
    responses(
        (status = 200, body = UserPageResponse),
        (status = 400, description = "`invalid_cursor`, or a malformed query string", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: another app's owner", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
        (status = 422, description = "A bad limit or date", body = ErrorBody),
        (status = 503, description = "Storage unavailable", body = ErrorBody),
    )
)]
pub async fn list_users(
    session: Session,
    state: Data<ApiState>,
    app_id: Path<String>,
    params: Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    session::manager_of(&session, &state, &app_id).await?;
    list_page(&state, &app_id, params.into_inner()).await
}

/// One user record.
#[utoipa::path(
    get,
    path = "/v1/apps/{appId}/users/{userId}",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path), ("userId" = String, Path)),
    responses(
        (status = 200, body = UserResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`unknown_app` or `user_not_found`", body = ErrorBody),
    )
)]
pub async fn get_user(
    session: Session,
    state: Data<ApiState>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app_id, user_id) = path.into_inner();
    session::manager_of(&session, &state, &app_id).await?;
    state.services.apps.find_app(&app_id).await?;
    let user = state.services.users.find(&app_id, &user_id).await?;
    Ok(no_store(HttpResponse::Ok()).json(UserResponse::from(user)))
}

/// Erases one user record.
#[utoipa::path(
    delete,
    path = "/v1/apps/{appId}/users/{userId}",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path), ("userId" = String, Path)),
    responses(
        (status = 204, description = "Erased"),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`unknown_app` or `user_not_found`", body = ErrorBody),
    )
)]
pub async fn delete_user(
    session: Session,
    state: Data<ApiState>,
    path: Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app_id, user_id) = path.into_inner();
    let principal = session::manager_of(&session, &state, &app_id).await?;
    state.services.apps.find_app(&app_id).await?;
    state.services.users.delete(&app_id, &user_id).await?;
    tracing::info!(
        subject = principal.subject(),
        app_id,
        user_id,
        "user record erased"
    );
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` (default) or `ndjson`.
    pub format: Option<String>,
}

/// The export's two formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Ndjson,
}

/// Why [`write_export`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    App(#[from] domain::AppError),
    #[error("{0}")]
    Write(#[from] std::io::Error),
}

/// The export of `GET /v1/apps/{appId}/users/export`, written to `out` instead of a response
/// (the CLI's `user export`), so that both give the same bytes.
pub async fn write_export(
    services: Arc<Services<dyn Storage>>,
    app_id: &str,
    format: ExportFormat,
    out: &mut impl std::io::Write,
) -> Result<(), ExportError> {
    services.apps.find_app(app_id).await?;
    let columns = export_columns(&services, app_id).await?;
    let mut export = Export {
        services,
        app_id: app_id.to_owned(),
        columns,
        format,
        after_id: None,
        header_written: false,
        done: false,
    };
    while !export.done {
        out.write_all(&export.next_chunk().await?)?;
    }
    Ok(out.flush()?)
}

/// The current schema's field keys, in schema order: the CSV columns after the fixed ones.
async fn export_columns(
    services: &Services<dyn Storage>,
    app_id: &str,
) -> Result<Vec<String>, domain::AppError> {
    let schema = services
        .apps
        .current_schema(app_id)
        .await?
        .map_or_else(Schema::empty, |saved| saved.schema);
    Ok(schema.fields().iter().map(|f| f.key().to_owned()).collect())
}

/// Every record of the app, streamed page by page in constant memory. CSV columns: `id`,
/// `email`, `createdAt`, `updatedAt`, `schemaVersion`, then the current schema's fields in
/// schema order. Every data cell is quoted, and a text cell that could start a formula
/// (`=`, `+`, `-`, `@`, `|`, `;`, `,`, `"`, a tab or line break, their fullwidth forms, also
/// after leading spaces or invisible characters) is prefixed with `'`, so that spreadsheets do
/// not run it; control characters are written as U+FFFD. NDJSON: one record per line, as in
/// the listing.
#[utoipa::path(
    get,
    path = "/v1/apps/{appId}/users/export",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path), ExportParams),
    responses(
        (status = 200, description = "The export, as an attachment", content(
            (String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 400, description = "A malformed query string", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
        (status = 422, description = "An unknown format", body = ErrorBody),
    )
)]
pub async fn export_users(
    session: Session,
    state: Data<ApiState>,
    app_id: Path<String>,
    params: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let app_id = app_id.into_inner();
    let principal = session::manager_of(&session, &state, &app_id).await?;
    let format = match params.format.as_deref() {
        None | Some("csv") => ExportFormat::Csv,
        Some("ndjson") => ExportFormat::Ndjson,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "format",
                "enum",
                "must be csv or ndjson",
            ));
        }
    };
    state.services.apps.find_app(&app_id).await?;
    let columns = export_columns(&state.services, &app_id).await?;
    tracing::info!(subject = principal.subject(), app_id, "user export");
    let (content_type, extension) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Ndjson => ("application/x-ndjson", "ndjson"),
    };
    let disposition = format!("attachment; filename=\"{app_id}-users.{extension}\"");
    let export = Export {
        services: state.services.clone(),
        app_id,
        columns,
        format,
        after_id: None,
        header_written: false,
        done: false,
    };
    let stream = futures::stream::unfold(export, |mut export| async move {
        if export.done {
            return None;
        }
        let chunk = export.next_chunk().await;
        if chunk.is_err() {
            export.done = true;
        }
        Some((chunk, export))
    });
    Ok(no_store(HttpResponse::Ok())
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .streaming(stream))
}

struct Export {
    services: Arc<Services<dyn Storage>>,
    app_id: String,
    columns: Vec<String>,
    format: ExportFormat,
    after_id: Option<String>,
    header_written: bool,
    done: bool,
}

impl Export {
    async fn next_chunk(&mut self) -> Result<Bytes, std::io::Error> {
        let page = self
            .services
            .users
            .scan(&self.app_id, self.after_id.take(), EXPORT_PAGE_SIZE)
            .await
            .map_err(|error| {
                tracing::error!(error = %error, app_id = self.app_id, "export failed mid-stream");
                std::io::Error::other("export failed")
            })?;
        // About what a record takes, so that the buffer rarely grows.
        let mut out = Vec::with_capacity(page.users.len() * 256);
        match self.format {
            ExportFormat::Csv => {
                if !self.header_written {
                    let mut header = csv::WriterBuilder::new().from_writer(&mut out);
                    let fixed = ["id", "email", "createdAt", "updatedAt", "schemaVersion"];
                    let columns = self.columns.iter().map(String::as_str);
                    header
                        .write_record(fixed.into_iter().chain(columns))
                        .map_err(std::io::Error::other)?;
                    header.flush()?;
                    drop(header);
                    self.header_written = true;
                }
                // One writer per chunk, written straight into the chunk's buffer. Every data
                // cell is quoted (OWASP), so a `;` or `,` never starts a cell in any locale.
                let mut writer = csv::WriterBuilder::new()
                    .quote_style(csv::QuoteStyle::Always)
                    .from_writer(&mut out);
                let mut scratch = String::new();
                for user in &page.users {
                    write_csv_record(&mut writer, user, &self.columns, &mut scratch)
                        .map_err(std::io::Error::other)?;
                }
                writer.flush()?;
            }
            ExportFormat::Ndjson => {
                for user in page.users {
                    serde_json::to_writer(&mut out, &UserResponse::from(user))?;
                    out.push(b'\n');
                }
            }
        }
        self.after_id = page.next_cursor;
        self.done = self.after_id.is_none();
        Ok(Bytes::from(out))
    }
}

/// One CSV row of `user`: the fixed columns, then `columns` from its data. `scratch` is reused
/// for the cells that must be formatted (numbers), so that most cells allocate nothing.
fn write_csv_record<W: std::io::Write>(
    writer: &mut csv::Writer<W>,
    user: &UserRecord,
    columns: &[String],
    scratch: &mut String,
) -> csv::Result<()> {
    use std::fmt::Write as _;
    writer.write_field(defuse(&user.id).as_bytes())?;
    writer.write_field(defuse(&user.email).as_bytes())?;
    writer.write_field(user.created_at.to_rfc3339())?;
    writer.write_field(user.updated_at.to_rfc3339())?;
    scratch.clear();
    let _ = write!(scratch, "{}", user.schema_version);
    writer.write_field(scratch.as_bytes())?;
    for key in columns {
        match user.data.get(key) {
            None | Some(Value::Null) => writer.write_field(b"")?,
            Some(Value::String(text)) => writer.write_field(defuse(text).as_bytes())?,
            Some(Value::Bool(flag)) => writer.write_field(if *flag { "true" } else { "false" })?,
            Some(Value::Number(number)) => {
                scratch.clear();
                let _ = write!(scratch, "{number}");
                writer.write_field(scratch.as_bytes())?;
            }
            Some(other) => writer.write_field(defuse(&other.to_string()).as_bytes())?,
        }
    }
    // An empty record ends the row the fields above started.
    writer.write_record(None::<&[u8]>)
}

/// Keeps spreadsheets from reading a text cell as a formula (OWASP "CSV injection"): a cell
/// whose first character, or first character after leading spaces and invisible characters,
/// could start a formula, a DDE call or a new cell gets a `'` in front. Every data cell is also
/// quoted (see `write_csv_record`), so a separator inside a cell never starts a new one, in any
/// locale. Control characters other than tab and line breaks become U+FFFD.
pub fn defuse(text: &str) -> Cow<'_, str> {
    let dangerous = text
        .chars()
        .find(|&c| !is_blank_or_invisible(c))
        .is_some_and(starts_formula)
        || text.starts_with(['\t', '\r', '\n']);
    let has_controls = text.chars().any(is_unwritable_control);
    if !dangerous && !has_controls {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 1);
    if dangerous {
        out.push('\'');
    }
    out.extend(text.chars().map(|c| {
        if is_unwritable_control(c) {
            char::REPLACEMENT_CHARACTER
        } else {
            c
        }
    }));
    Cow::Owned(out)
}

/// What spreadsheets (Excel, LibreOffice, Google Sheets) read at the start of a cell as a
/// formula, a DDE command (`|`), a cell separator of some locale (`;`, `,`), or a quote that
/// opens a new quoted cell; and the fullwidth forms some of them also accept.
fn starts_formula(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '|' | ';' | ',' | '"' | '\t' | '\r' | '\n'
            | '\u{FF1D}' // ＝
            | '\u{FF0B}' // ＋
            | '\u{FF0D}' // －
            | '\u{FF20}' // ＠
            | '\u{FF5C}' // ｜
            | '\u{FF1B}' // ；
            | '\u{FF0C}' // ，
            | '\u{2212}' // − (minus sign)
    )
}

/// Characters a reader may skip before it decides what a cell starts with: white space, and
/// the zero-width and format characters (BOM, ZWSP, joiners, bidi marks).
fn is_blank_or_invisible(c: char) -> bool {
    c.is_whitespace() || domain::is_invisible(c)
}

/// Control characters that have no business in a CSV file (NUL among them).
fn is_unwritable_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = "01936f3c-6b1e-7cc2-9a51-3f0c2d1e4b5a";
        assert_eq!(decode_cursor(&encode_cursor(id)).expect("decodes"), id);
        for bad in [
            "",
            "!!!",
            "AAAA AAAA",
            &encode_cursor("a b"),
            &encode_cursor("hello"),
            &encode_cursor("01936F3C-6B1E-7CC2-9A51-3F0C2D1E4B5A"),
            // A version 4 id is not one of ours.
            &encode_cursor("9f3c2d1e-4b5a-4cc2-9a51-3f0c2d1e4b5a"),
        ] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formula_cells_are_defused() {
        for text in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "\nx",
            " =1+1",
            "\n=1+1",
            "\"=1+1",
            "\u{FF1D}1+1",
            "\u{FEFF}=1+1",
            "\u{200B}=1+1",
            "|calc",
            ";=1+1",
            ",=1+1",
        ] {
            assert_eq!(defuse(text), format!("'{text}"), "{text:?}");
        }
        for harmless in [
            "Ada",
            " Ada",
            "%0A",
            "a=b",
            "a;=b",
            "",
            "1990-12-10",
            "x@example.com",
        ] {
            assert_eq!(defuse(harmless), harmless, "{harmless:?}");
        }
    }

    #[test]
    fn control_characters_are_not_written_raw() {
        assert_eq!(defuse("a\0b"), "a\u{FFFD}b");
        assert_eq!(defuse("=\0"), "'=\u{FFFD}");
        assert_eq!(defuse("line\nbreak\ttab"), "line\nbreak\ttab");
    }
}

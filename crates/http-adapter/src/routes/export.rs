//! `GET /v1/apps/{appId}/users/export`: every record of an app as CSV or NDJSON, streamed
//! page by page in constant memory, with spreadsheet formulas defused. The CLI's `user export`
//! writes the same bytes through [`write_export`].

use std::borrow::Cow;

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path, Query};
use domain::{AppAccess, ManagementPermission, RecordError, RecordExport, Services};
use serde::Deserialize;
use serde_json::Value;
use storage_port::{Storage, UserRecord};

use crate::account_auth::AppManager;
use crate::error::{ApiError, ErrorBody};
use crate::respond::no_store;
use crate::responses::UserResponse;
use crate::state::ApiState;

/// Records read per step of an export.
const EXPORT_PAGE_SIZE: u32 = 1000;

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
    Records(#[from] RecordError),
    #[error("{0}")]
    Write(#[from] std::io::Error),
}

/// The export of `GET /v1/apps/{appId}/users/export`, written to `out` instead of a response
/// (the CLI's `user export`), so that both give the same bytes.
pub async fn write_export(
    services: &Services<dyn Storage>,
    access: &AppAccess,
    format: ExportFormat,
    out: &mut impl std::io::Write,
) -> Result<(), ExportError> {
    let mut export = Export::new(
        services.records.export(access, EXPORT_PAGE_SIZE).await?,
        format,
    );
    while let Some(chunk) = export.next_chunk().await {
        out.write_all(&chunk?)?;
    }
    Ok(out.flush()?)
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
    operation_id = "export_users",
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
pub async fn export_records(
    state: Data<ApiState>,
    app_id: Path<String>,
    params: Query<ExportParams>,
    manager: AppManager,
) -> Result<HttpResponse, ApiError> {
    let access = manager.app_access(&app_id, ManagementPermission::ReadRecords)?;
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
    let records = state
        .services
        .records
        .export(&access, EXPORT_PAGE_SIZE)
        .await?;
    let (content_type, extension) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Ndjson => ("application/x-ndjson", "ndjson"),
    };
    let disposition = format!(
        "attachment; filename=\"{}-users.{extension}\"",
        access.app_id()
    );
    let stream = futures::stream::unfold(Export::new(records, format), |mut export| async move {
        let chunk = export.next_chunk().await?;
        Some((chunk, export))
    });
    Ok(no_store(HttpResponse::Ok())
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .streaming(stream))
}

/// An export in progress: the header once, then a chunk per page of records.
struct Export {
    records: RecordExport<dyn Storage>,
    format: ExportFormat,
    header_written: bool,
}

impl Export {
    fn new(records: RecordExport<dyn Storage>, format: ExportFormat) -> Self {
        Self {
            records,
            format,
            header_written: false,
        }
    }

    /// The next chunk, or `None` at the end (also after a failed chunk, which ends the
    /// stream: a client sees a cut-off download, never a partial file that looks whole).
    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        let page = match self.records.scan.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => return None,
            Err(error) => {
                tracing::error!(
                    error = %error,
                    app_id = self.records.scan.app_id(),
                    "export failed mid-stream"
                );
                return Some(Err(std::io::Error::other("export failed")));
            }
        };
        Some(self.format_page(page))
    }

    fn format_page(&mut self, page: Vec<UserRecord>) -> Result<Bytes, std::io::Error> {
        // About what a record takes, so that the buffer rarely grows.
        let mut out = Vec::with_capacity(page.len() * 256);
        match self.format {
            ExportFormat::Csv => {
                if !self.header_written {
                    let mut header = csv::WriterBuilder::new().from_writer(&mut out);
                    let fixed = ["id", "email", "createdAt", "updatedAt", "schemaVersion"];
                    let columns = self.records.columns.iter().map(String::as_str);
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
                for record in &page {
                    write_csv_record(&mut writer, record, &self.records.columns, &mut scratch)
                        .map_err(std::io::Error::other)?;
                }
                writer.flush()?;
            }
            ExportFormat::Ndjson => {
                for record in page {
                    serde_json::to_writer(&mut out, &UserResponse::from(record))?;
                    out.push(b'\n');
                }
            }
        }
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

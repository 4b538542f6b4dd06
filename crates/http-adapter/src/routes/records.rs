//! An app's records (what sign-ups stored): list in keyset pages, read, erase. The export is
//! in `export`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Query};
use base64::Engine as _;
use domain::{AppAccess, ManagementPermission, RecordListing};
use serde::Deserialize;
use storage_port::Timestamp;

use crate::account_auth::AppManager;
use crate::error::{ApiError, ErrorBody};
use crate::respond::no_store;
use crate::responses::{UserPageResponse, UserResponse};
use crate::state::ApiState;

/// Query parameters of a record listing.
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
pub(crate) fn is_record_id(text: &str) -> bool {
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

/// One page of the app's records. The query is checked first, then the service looks the
/// app up (404).
pub async fn list_page(
    state: &ApiState,
    access: &AppAccess,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let limit = params.limit.as_deref().map(parse_limit).transpose()?;
    let listing = RecordListing {
        limit,
        after_id: params.cursor.as_deref().map(decode_cursor).transpose()?,
        email_contains: params.q,
        created_after: parse_time("createdAfter", params.created_after)?,
        created_before: parse_time("createdBefore", params.created_before)?,
    };
    let page = state.services.records.list(access, listing).await?;
    Ok(no_store(HttpResponse::Ok()).json(UserPageResponse {
        next_cursor: page.next_cursor.as_deref().map(encode_cursor),
        users: page.users.into_iter().map(UserResponse::from).collect(),
    }))
}

/// A page of the app's users, oldest first, by keyset pagination: a page never skips or
/// repeats a record, even while new records arrive.
#[utoipa::path(
    get,
    operation_id = "list_users",
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
pub async fn list_records(
    state: Data<ApiState>,
    app_id: Path<String>,
    params: Query<ListParams>,
    manager: AppManager,
) -> Result<HttpResponse, ApiError> {
    let access = manager.app_access(&app_id, ManagementPermission::ReadRecords)?;
    list_page(&state, &access, params.into_inner()).await
}

/// One user record.
#[utoipa::path(
    get,
    operation_id = "get_user",
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
pub async fn get_record(
    state: Data<ApiState>,
    path: Path<(String, String)>,
    manager: AppManager,
) -> Result<HttpResponse, ApiError> {
    let (app_id, record_id) = path.into_inner();
    let access = manager.app_access(&app_id, ManagementPermission::ReadRecords)?;
    let record = state.services.records.find(&access, &record_id).await?;
    Ok(no_store(HttpResponse::Ok()).json(UserResponse::from(record)))
}

/// Erases one user record.
#[utoipa::path(
    delete,
    operation_id = "delete_user",
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
pub async fn delete_record(
    state: Data<ApiState>,
    path: Path<(String, String)>,
    manager: AppManager,
) -> Result<HttpResponse, ApiError> {
    let (app_id, record_id) = path.into_inner();
    let access = manager.app_access(&app_id, ManagementPermission::DeleteRecords)?;
    state.services.records.delete(&access, &record_id).await?;
    Ok(HttpResponse::NoContent().finish())
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
}

//! An app's e-mail, for its operators (ACCOUNTS.md §3): the mail settings and templates
//! (`GET`/`PUT /v1/apps/{appId}/mail-settings`), a preview, a test send, and the outbox log
//! (`GET /v1/apps/{appId}/mail/messages`), where the development mailer's messages are read.

use actix_web::web::{Data, Path, Payload, Query};
use actix_web::{HttpRequest, HttpResponse};
use domain::{MailSettingsUpdate, TestSend};
use serde::Deserialize;
use storage_port::{MailStatus, MessageQuery};

use crate::body::read_limited;
use crate::error::{ApiError, ErrorBody};
use crate::operator_session::CurrentOperator;
use crate::requests::{MailSettingsRequest, MailTryRequest, TemplateBody};
use crate::respond::no_store;
use crate::responses::{
    MailSettingsResponse, OutboxMessageBody, OutboxPage, RenderedMail, TestQueued,
};
use crate::routes::apps::MANAGEMENT_BODY_LIMIT;
use crate::routes::organizations::{decode_cursor, encode_cursor, is_user_id, page_limit};
use crate::state::ApiState;

/// The app's mail settings: its own values and templates, the built-in defaults used where it
/// has none, and the variables a template may use.
#[utoipa::path(
    get,
    path = "/v1/apps/{appId}/mail-settings",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    responses(
        (status = 200, body = MailSettingsResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: another app's owner", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
    )
)]
pub async fn get_mail_settings(
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.app_access(&app_id)?;
    let mail = &state.services.mail;
    let settings = mail.settings(&access).await?;
    Ok(no_store(HttpResponse::Ok()).json(MailSettingsResponse::of(settings, mail.config())))
}

/// Replaces the app's mail settings whole: sender name, link targets (each gets `?token=`),
/// and templates (`verify_email`, `reset_password`, `invitation`) with `{{variable}}`
/// placeholders; every inserted value is HTML-escaped in the HTML part. Absent members take
/// the defaults. Queued messages keep what they say.
#[utoipa::path(
    put,
    path = "/v1/apps/{appId}/mail-settings",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    request_body = MailSettingsRequest,
    responses(
        (status = 200, body = MailSettingsResponse),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `senderName`, the URLs, `templates.<kind>.<part>` (`unknown_variable`, `missing_link`, `length`)", body = ErrorBody),
    )
)]
pub async fn put_mail_settings(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.app_access(&app_id)?;
    let body = read_limited(&request, payload, MANAGEMENT_BODY_LIMIT).await?;
    let settings = MailSettingsRequest::parse(&body)?.into_settings();
    let mail = &state.services.mail;
    let saved = mail
        .update_settings(&access, MailSettingsUpdate { settings })
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(MailSettingsResponse::of(saved, mail.config())))
}

/// A template filled with sample values, as a recipient would see it: the saved one, or the
/// `template` sent (an unsaved edit).
#[utoipa::path(
    post,
    path = "/v1/apps/{appId}/mail-settings/preview",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    request_body = MailTryRequest,
    responses(
        (status = 200, body = RenderedMail),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `kind`, the template", body = ErrorBody),
    )
)]
pub async fn preview_mail(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.app_access(&app_id)?;
    let body = read_limited(&request, payload, MANAGEMENT_BODY_LIMIT).await?;
    let body = MailTryRequest::parse(&body, false)?;
    let purpose = body.purpose()?;
    let template = body.template.map(TemplateBody::into_template);
    let (from, rendered) = state
        .services
        .mail
        .preview(&access, purpose, template)
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(RenderedMail {
        from,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
    }))
}

/// Sends a test message of a template to `to`.
///
/// The subject is prefixed with `[test]`, the values are samples and the link leads nowhere;
/// it goes through the outbox like any message: follow it in the e-mail log.
#[utoipa::path(
    post,
    path = "/v1/apps/{appId}/mail/test",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path)),
    request_body = MailTryRequest,
    responses(
        (status = 202, description = "Queued", body = TestQueued),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden` or `csrf_rejected`", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `kind`, `to`, the template", body = ErrorBody),
    )
)]
pub async fn test_mail(
    request: HttpRequest,
    payload: Payload,
    state: Data<ApiState>,
    app_id: Path<String>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.app_access(&app_id)?;
    let body = read_limited(&request, payload, MANAGEMENT_BODY_LIMIT).await?;
    let body = MailTryRequest::parse(&body, true)?;
    let purpose = body.purpose()?;
    let message_id = state
        .services
        .mail
        .test_send(
            &access,
            TestSend {
                to: body.to.unwrap_or_default(),
                purpose,
                template: body.template.map(TemplateBody::into_template),
            },
        )
        .await?;
    Ok(no_store(HttpResponse::Accepted()).json(TestQueued { message_id }))
}

/// `limit`, `cursor`, `status` of the e-mail log.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageParams {
    /// 1 to 500; 50 when absent.
    pub limit: Option<String>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// `pending`, `sent` or `failed`.
    pub status: Option<String>,
}

/// The app's outbox, newest first: every message with its status, attempts and last error.
/// Without an SMTP server (the development mailer) this is where the messages are read.
#[utoipa::path(
    get,
    path = "/v1/apps/{appId}/mail/messages",
    tag = "management",
    security(("session_cookie" = [])),
    params(("appId" = String, Path), MessageParams),
    responses(
        (status = 200, body = OutboxPage),
        (status = 400, description = "`invalid_cursor`: a cursor this API did not return", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 403, description = "`forbidden`: another app's owner", body = ErrorBody),
        (status = 404, description = "`unknown_app`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `limit`, `cursor`, `status`", body = ErrorBody),
    )
)]
pub async fn list_messages(
    state: Data<ApiState>,
    app_id: Path<String>,
    params: Query<MessageParams>,
    CurrentOperator(operator): CurrentOperator,
) -> Result<HttpResponse, ApiError> {
    let access = operator.app_access(&app_id)?;
    let limit = page_limit(params.limit.as_deref()).map_err(ApiError::for_management)?;
    let before_id =
        decode_cursor(params.cursor.as_deref(), is_user_id).map_err(ApiError::for_management)?;
    let status = match params.status.as_deref() {
        None => None,
        Some(text) => Some(MailStatus::parse(text).ok_or_else(|| {
            ApiError::invalid_field("status", "enum", "must be pending, sent or failed")
        })?),
    };
    let page = state
        .services
        .mail
        .messages(
            &access,
            &MessageQuery {
                limit,
                before_id,
                status,
            },
        )
        .await?;
    Ok(no_store(HttpResponse::Ok()).json(OutboxPage {
        messages: page
            .messages
            .into_iter()
            .map(OutboxMessageBody::from)
            .collect(),
        next_cursor: page.next_cursor.as_deref().map(encode_cursor),
    }))
}

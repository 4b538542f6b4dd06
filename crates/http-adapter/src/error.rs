use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use domain::{
    AccountError, ApiKeyError, AppError, DirectoryError, Forbidden, OperatorAuthError, RecordError,
    SubmitError,
};
use schema_validation::{Violation, Violations};
use serde::Serialize;
use storage_port::StorageError;

/// Every error the API answers with, in the one documented shape:
/// `{"error": {"code", "message", "details"?}}`. The cause is logged, never sent.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<ErrorDetail>,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
    /// The kind of store failure behind this answer, for the metrics.
    pub store_error: Option<&'static str>,
    /// Close the connection after answering: what is left of the request on it cannot be
    /// trusted (a body that never finished, an ambiguous length).
    pub close_connection: bool,
    /// Answered in the accounts routes' envelope (`"success": false` beside `error`), with
    /// `WWW-Authenticate` on a 401 (ACCOUNTS.md §2).
    pub accounts: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Where: `email`, `data.age`, `fields[2].min`.
    #[schema(example = "data.age")]
    pub field: String,
    /// A stable machine code: `required`, `min`, `max`, `minLength`, `maxLength`, `regex`,
    /// `enum`, `type`, `unknown`, `date`, `email`, ...
    #[schema(example = "max")]
    pub code: String,
    #[schema(example = "must be at most 120")]
    pub message: String,
}

/// The error envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorContent,
}

/// The error envelope of the accounts routes (`/v1/auth/*`, `/v1/users/me*`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountErrorBody {
    /// Always `false`.
    pub success: bool,
    pub error: ErrorContent,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorContent {
    #[schema(example = "validation_failed")]
    pub code: String,
    #[schema(example = "data.age must be at most 120")]
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            store_error: None,
            close_connection: false,
            accounts: false,
        }
    }

    /// The same error in the accounts routes' envelope.
    pub fn for_accounts(self) -> Self {
        Self {
            accounts: true,
            ..self
        }
    }

    /// The same error in the management routes' envelope (no `success` member).
    pub fn for_management(self) -> Self {
        Self {
            accounts: false,
            ..self
        }
    }

    /// 401: no credential at all.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send an access token: Authorization: Bearer <token>",
        )
        .for_accounts()
    }

    /// 401: a token that is malformed, forged, for a revoked session, or not ours.
    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The token is not valid; log in again",
        )
        .for_accounts()
    }

    /// 403: the app wants a verified address first.
    pub fn email_not_verified() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "email_not_verified",
            "Verify your email address first: open the link we sent, or ask for a new one",
        )
    }

    /// 409: a membership that exists.
    pub fn already_member() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "already_member",
            "The user is already a member of this organization",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }

    /// A request body that did not arrive within `application.body_timeout_secs`.
    pub fn request_timeout() -> Self {
        Self {
            close_connection: true,
            ..Self::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The request body did not arrive in time",
            )
        }
    }

    /// `Content-Length` and `Transfer-Encoding` together (RFC 9112 §6.3).
    pub fn ambiguous_framing() -> Self {
        Self {
            close_connection: true,
            ..Self::bad_request("A request may not have both Content-Length and Transfer-Encoding")
        }
    }

    /// A query string that could not be read into its parameters, said for people: serde's
    /// own words (``duplicate field `limit` ``) name its internals.
    pub fn invalid_query(error: &actix_web::error::QueryPayloadError) -> Self {
        let text = error.to_string();
        let message = match text
            .split_once("duplicate field `")
            .and_then(|(_, rest)| rest.split_once('`'))
        {
            Some((name, _)) => format!("{name} is given twice in the query string"),
            None => "The query string could not be read".to_owned(),
        };
        Self::bad_request(message)
    }

    pub fn unknown_app() -> Self {
        Self::new(StatusCode::NOT_FOUND, "unknown_app", "No app has this id")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Nothing here")
    }

    pub fn origin_not_allowed() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            "This origin may not submit to this app",
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body must be at most {limit} bytes"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send application/json (or application/x-www-form-urlencoded from an HTML form)",
        )
    }

    /// The dashboard routes take JSON only.
    pub fn unsupported_media_type_json() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send application/json",
        )
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests; try again later",
        );
        error.retry_after = Some(retry_after.max(1));
        error
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Log in first (POST /auth/login)",
        )
    }

    pub fn invalid_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Invalid credentials",
        )
    }

    /// 403 for an account or key that lacks a permission or role, naming it (in the message
    /// and as `details[0].field = "permission"`).
    pub fn forbidden_needs(needs: impl Into<String>) -> Self {
        let needs = needs.into();
        Self {
            details: vec![ErrorDetail {
                field: "permission".to_owned(),
                code: "missing".to_owned(),
                message: needs.clone(),
            }],
            ..Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("This needs {needs}"),
            )
        }
        .for_accounts()
    }

    pub fn organization_access_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "organization_access_denied",
            "Not a member of this organization (or, registering, it cannot be joined with this address)",
        )
        .for_accounts()
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You may not access this resource",
        )
    }

    pub fn csrf_rejected() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_rejected",
            "State-changing dashboard requests must come from this service's own origin",
        )
    }

    pub fn duplicate_app() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "duplicate_app",
            "An app with this id already exists",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This method is not allowed here",
        )
    }

    /// A 422 about one field.
    pub fn invalid_field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self::validation(Violations(vec![Violation::new(field, code, message)]))
    }

    pub fn validation(violations: Violations) -> Self {
        let details: Vec<ErrorDetail> = violations
            .iter()
            .map(|v| ErrorDetail {
                field: v.field.clone(),
                code: v.code.to_owned(),
                message: v.message.clone(),
            })
            .collect();
        let message = violations.to_string();
        Self {
            details,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message,
            )
        }
    }

    /// A storage failure: 503 when the store is unavailable, else 500. The cause is logged
    /// here, once, with the request's span; the request's end does not log it again.
    pub fn storage(error: StorageError) -> Self {
        let store_error = crate::metrics::store_error_kind(&error);
        let answer = match error {
            StorageError::Unavailable(cause) => {
                tracing::error!(error = %cause_chain(&*cause), "storage unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "Storage is unavailable; try again shortly",
                )
            }
            other => Self::internal(&other),
        };
        Self {
            store_error,
            ..answer
        }
    }

    /// 500. The cause and its whole chain of sources are logged here, once.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause_chain(cause), "unexpected error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side",
        )
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorContent {
                code: self.code.to_owned(),
                message: self.message.clone(),
                details: self.details.clone(),
            },
        }
    }
}

/// `error: source: source of source`, the way `anyhow` prints `{:#}`.
pub(crate) fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

/// Logs a failed request once, when it ends. A client error (4xx) is the client's business and
/// an everyday event (the dashboard's session probe is a 401), so it is a debug line with the
/// answer's code. A server error from `ApiError` was logged with its cause where it was made
/// (`internal`, `storage`); any other (one of actix-web's own) is logged here with its chain.
pub(crate) fn log_request_error(status: StatusCode, error: &actix_web::Error) {
    if let Some(api) = error.as_error::<ApiError>() {
        if status.is_client_error() {
            tracing::debug!(status = status.as_u16(), code = api.code, error = %api.message, "request refused");
        }
    } else if status.is_server_error() {
        tracing::error!(status = status.as_u16(), error = %error, "request failed");
    } else {
        tracing::debug!(status = status.as_u16(), error = %error, "request refused");
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if self.close_connection {
            response.force_close();
        }
        if !self.accounts {
            return response.json(self.body());
        }
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = match self.code {
                "unauthorized" => "Bearer",
                "token_expired" => {
                    "Bearer error=\"invalid_token\", error_description=\"the token has expired\""
                }
                _ => "Bearer error=\"invalid_token\"",
            };
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            ));
        }
        response.json(AccountErrorBody {
            success: false,
            error: self.body().error,
        })
    }
}

impl From<SubmitError> for ApiError {
    fn from(error: SubmitError) -> Self {
        match error {
            SubmitError::UnknownApp => Self::unknown_app(),
            SubmitError::Invalid(violations) => Self::validation(violations),
            SubmitError::Storage(error) => Self::storage(error),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        Self::storage(error)
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Invalid(violations) => Self::validation(violations),
            AppError::DuplicateId => Self::duplicate_app(),
            AppError::NotFound => Self::unknown_app(),
            AppError::Forbidden(forbidden) => forbidden.into(),
            AppError::Storage(error) => Self::storage(error),
            AppError::Hashing(error) => Self::internal(&error),
        }
    }
}

impl From<RecordError> for ApiError {
    fn from(error: RecordError) -> Self {
        match error {
            RecordError::Invalid(violations) => Self::validation(violations),
            RecordError::UnknownApp => Self::unknown_app(),
            RecordError::NotFound => Self::new(
                StatusCode::NOT_FOUND,
                "user_not_found",
                "No user record has this id",
            ),
            RecordError::Storage(error) => Self::storage(error),
        }
    }
}

/// The domain logged why when it refused.
impl From<Forbidden> for ApiError {
    fn from(_: Forbidden) -> Self {
        Self::forbidden()
    }
}

/// Accounts' errors, in the accounts envelope (ACCOUNTS.md §2).
impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(violations) => Self::validation(violations),
            AccountError::UnknownApp => Self::unknown_app(),
            AccountError::EmailTaken => Self::new(
                StatusCode::CONFLICT,
                "email_taken",
                "An account with this email exists; log in instead",
            ),
            AccountError::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The email or password is wrong",
            ),
            AccountError::WrongPassword => Self::invalid_field(
                "current_password",
                "invalid",
                "is not the account's password",
            ),
            AccountError::InvalidToken => Self::invalid_token(),
            AccountError::TokenExpired => Self::new(
                StatusCode::UNAUTHORIZED,
                "token_expired",
                "The access token has expired; refresh it",
            ),
            AccountError::TenantMismatch => Self::new(
                StatusCode::FORBIDDEN,
                "tenant_mismatch",
                "The credential belongs to another app",
            ),
            AccountError::SessionNotFound => Self::new(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "No session of yours has this id",
            ),
            AccountError::OrganizationAccessDenied => Self::organization_access_denied(),
            AccountError::Forbidden(needs) => Self::forbidden_needs(needs),
            AccountError::EmailNotVerified => Self::email_not_verified(),
            AccountError::LinkInvalid => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_link",
                "The link is invalid, used, replaced or expired; ask for a new one",
            ),
            AccountError::TooSoon(wait) => Self::rate_limited(wait.as_secs().max(1)),
            AccountError::LoginRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "login_required",
                "This address has an account: log in and accept with its access token",
            ),
            AccountError::InvitationForAnotherAccount => Self::new(
                StatusCode::FORBIDDEN,
                "invitation_for_another_account",
                "The invitation is for another email address",
            ),
            AccountError::AlreadyMember => Self::already_member(),
            AccountError::AccountDisabled => Self::new(
                StatusCode::FORBIDDEN,
                "account_disabled",
                "The account is disabled; ask the app's administrators",
            ),
            AccountError::Storage(error) => Self::storage(error),
            AccountError::Hashing(error) => Self::internal(&error),
            AccountError::Keys(error) => Self::internal(&error),
        }
        .for_accounts()
    }
}

impl From<domain::MailError> for ApiError {
    fn from(error: domain::MailError) -> Self {
        match error {
            domain::MailError::Invalid(violations) => Self::validation(violations),
            domain::MailError::UnknownApp => Self::unknown_app(),
            domain::MailError::Storage(error) => Self::storage(error),
        }
    }
}

impl From<OperatorAuthError> for ApiError {
    fn from(error: OperatorAuthError) -> Self {
        match error {
            OperatorAuthError::InvalidCredentials => Self::invalid_credentials(),
            OperatorAuthError::SessionEnded => Self::unauthenticated(),
            OperatorAuthError::Storage(error) => Self::storage(error),
            OperatorAuthError::Hashing(error) => Self::internal(&error),
        }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::Invalid(violations) => Self::validation(violations),
            DirectoryError::UnknownApp => Self::unknown_app(),
            DirectoryError::Unauthenticated => Self::invalid_token(),
            DirectoryError::Forbidden(needs) => Self::forbidden_needs(needs),
            DirectoryError::OrganizationAccessDenied => Self::organization_access_denied(),
            DirectoryError::EmailNotVerified => Self::email_not_verified(),
            DirectoryError::NotFound(what) => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("No {what} has this id"),
            ),
            DirectoryError::SlugTaken => Self::new(
                StatusCode::CONFLICT,
                "slug_taken",
                "Another organization of this app has this slug",
            ),
            DirectoryError::EmailTaken => Self::new(
                StatusCode::CONFLICT,
                "email_taken",
                "An account with this email exists",
            ),
            DirectoryError::AlreadyMember => Self::already_member(),
            DirectoryError::LastAdmin => Self::new(
                StatusCode::CONFLICT,
                "last_admin",
                "An organization must keep at least one admin",
            ),
            DirectoryError::Storage(error) => Self::storage(error),
        }
        .for_accounts()
    }
}

impl From<ApiKeyError> for ApiError {
    fn from(error: ApiKeyError) -> Self {
        match error {
            ApiKeyError::Invalid(violations) => Self::validation(violations),
            ApiKeyError::UnknownApp => Self::unknown_app(),
            ApiKeyError::NotFound => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "This app has no such API key",
            ),
            ApiKeyError::Storage(error) => Self::storage(error),
        }
    }
}

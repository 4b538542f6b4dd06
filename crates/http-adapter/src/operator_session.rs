//! Operators' dashboard sessions: an actix-session cookie (signed and encrypted with the
//! configured key) holding who logged in (and which incarnation of that account), their
//! credential version and two times. Every request that needs a login takes a
//! [`CurrentOperator`], which checks the cookie against storage through the domain's
//! [`domain::OperatorSessions`].

use actix_session::config::{CookieContentSecurity, TtlExtensionPolicy};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionExt as _, SessionMiddleware};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use base64::Engine as _;

use domain::{Operator, OperatorAuthError, OperatorClaims, OperatorRole};
use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use storage_port::Timestamp;

use crate::error::ApiError;
use crate::state::ApiState;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "users_api_session";
/// The session entry holding the claims.
const CLAIMS_KEY: &str = "auth";
/// `last_seen` is written back at most this often, so that not every request re-sets the cookie.
const TOUCH_EVERY_MILLIS: i64 = 60_000;

/// The key that signs and encrypts session cookies: at least 64 bytes.
#[derive(Clone)]
pub struct SessionKey(Key);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

/// Why a configured session key was refused.
#[derive(Debug, thiserror::Error)]
pub enum SessionKeyError {
    #[error("session.secret_key must be base64")]
    NotBase64,
    #[error("session.secret_key must hold at least 64 bytes, not {0}")]
    TooShort(usize),
}

impl SessionKey {
    /// From base64 text (standard or URL-safe, padded or not) of at least 64 bytes.
    pub fn parse(text: &str) -> Result<Self, SessionKeyError> {
        let text = text.trim();
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let bytes = engines
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or(SessionKeyError::NotBase64)?;
        if bytes.len() < 64 {
            return Err(SessionKeyError::TooShort(bytes.len()));
        }
        Ok(Self(Key::from(&bytes)))
    }

    /// A random key for this process only.
    pub fn generate() -> Self {
        Self(Key::generate())
    }
}

/// How session cookies are made.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// `None`: a throwaway key is generated at start-up (with a warning).
    pub key: Option<SessionKey>,
    /// Send the cookie over HTTPS only.
    pub secure_cookie: bool,
    /// The dashboard's public origin (`https://users.example.com`), normalized. When set,
    /// state-changing requests must come from it; otherwise from the request's own scheme and
    /// host (as forwarded by a proxy).
    pub public_origin: Option<String>,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            key: None,
            secure_cookie: true,
            public_origin: None,
        }
    }
}

/// The middleware for the dashboard routes. A browser-session cookie (no `Max-Age`): the
/// timeouts are enforced on the claims inside it, which the client cannot change.
pub fn middleware(key: &SessionKey, secure: bool) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key.0.clone())
        .cookie_name(COOKIE_NAME.to_owned())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Strict)
        .cookie_secure(secure)
        .cookie_path("/".to_owned())
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(
            actix_session::config::BrowserSession::default()
                .state_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
        )
        .build()
}

/// The claims as they travel inside the encrypted cookie.
#[derive(Debug, Serialize, Deserialize)]
struct StoredClaims {
    /// Random; names this session so that logout can revoke it.
    id: String,
    role: String,
    subject: String,
    credential_version: i64,
    /// The account's incarnation. Required: a cookie made before it existed does not parse
    /// and its holder logs in again.
    incarnation: String,
    /// Unix milliseconds.
    issued_at: i64,
    last_seen: i64,
}

impl From<&OperatorClaims> for StoredClaims {
    fn from(claims: &OperatorClaims) -> Self {
        Self {
            id: claims.session_id.clone(),
            role: claims.operator.role().as_str().to_owned(),
            subject: claims.operator.subject().to_owned(),
            credential_version: claims.credential_version,
            incarnation: claims.incarnation.clone(),
            issued_at: claims.issued_at.as_unix_millis(),
            last_seen: claims.last_seen.as_unix_millis(),
        }
    }
}

impl StoredClaims {
    fn into_claims(self) -> Option<OperatorClaims> {
        let operator = match OperatorRole::parse(&self.role)? {
            OperatorRole::Admin => Operator::Admin {
                email: self.subject,
            },
            OperatorRole::AppOwner => Operator::AppOwner {
                app_id: self.subject,
            },
        };
        Some(OperatorClaims {
            operator,
            session_id: self.id,
            credential_version: self.credential_version,
            incarnation: self.incarnation,
            issued_at: Timestamp::from_unix_millis(self.issued_at),
            last_seen: Timestamp::from_unix_millis(self.last_seen),
        })
    }
}

/// Starts a session for `claims` under a new cookie (no fixation).
pub fn start(session: &Session, claims: &OperatorClaims) -> Result<(), ApiError> {
    session.renew();
    session.clear();
    session
        .insert(CLAIMS_KEY, StoredClaims::from(claims))
        .map_err(|e| ApiError::internal(&e))
}

/// Ends the session: its row in the store is revoked (so a copy of the cookie replayed on any
/// instance, before or after a restart, is refused) and the cookie removed.
pub async fn end(session: &Session, state: &ApiState) -> Result<(), ApiError> {
    let claims = session
        .get::<StoredClaims>(CLAIMS_KEY)
        .ok()
        .flatten()
        .filter(|stored| !stored.id.is_empty())
        .and_then(StoredClaims::into_claims);
    session.purge();
    if let Some(claims) = claims {
        state.services.operator_sessions.logout(&claims).await?;
    }
    Ok(())
}

/// Who is logged in, or 401 (and the session is purged) when nobody is, or the session has
/// expired, or its account's password was rotated or the account deleted.
pub async fn authenticate(session: &Session, state: &ApiState) -> Result<Operator, ApiError> {
    let claims = session
        .get::<StoredClaims>(CLAIMS_KEY)
        .ok()
        .flatten()
        .filter(|stored| !stored.id.is_empty())
        .and_then(StoredClaims::into_claims);
    let Some(claims) = claims else {
        if !session.entries().is_empty() {
            session.purge();
        }
        return Err(ApiError::unauthenticated());
    };
    let now = Timestamp::now();
    match state.services.operator_sessions.check(&claims, now).await {
        Ok(()) => {}
        Err(OperatorAuthError::SessionEnded) => {
            session.purge();
            return Err(ApiError::unauthenticated());
        }
        Err(other) => return Err(other.into()),
    }
    if now.as_unix_millis() - claims.last_seen.as_unix_millis() >= TOUCH_EVERY_MILLIS {
        // Failing to extend the idle timer is not worth failing the request for.
        let _ = session.update(CLAIMS_KEY, |mut stored: StoredClaims| {
            stored.last_seen = now.as_unix_millis();
            stored
        });
    }
    Ok(claims.operator)
}

/// The logged-in operator, as an extractor: 401 as [`authenticate`] says otherwise. What the
/// operator may do is then the domain's to decide (`Operator::app_access`, `admin_access`).
///
/// List it after a handler's path and query extractors: actix polls them all and answers the
/// first error, and this one may wait on storage, so a malformed path or query is answered
/// first, without a storage read.
#[derive(Debug)]
pub struct CurrentOperator(pub Operator);

impl FromRequest for CurrentOperator {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = request.get_session();
        let state = request.app_data::<Data<ApiState>>().cloned();
        Box::pin(async move {
            let Some(state) = state else {
                return Err(ApiError::internal(&NoState));
            };
            authenticate(&session, &state).await.map(CurrentOperator)
        })
    }
}

/// The routes were registered without their state: a wiring mistake, never a client's.
#[derive(Debug, thiserror::Error)]
#[error("the API state is not registered")]
struct NoState;

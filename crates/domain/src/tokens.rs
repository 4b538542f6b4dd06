//! Access tokens as the domain sees them: their claims, and the port a crypto adapter fills in
//! (`token-adapter`: EdDSA with Ed25519). The keys themselves are records in the store
//! (`SigningKeyStore`), their private halves sealed by the adapter with the configured
//! key-encryption key.

use serde::{Deserialize, Serialize};
use storage_port::{SigningKeyRecord, Timestamp};

/// The claims of an access token (ACCOUNTS.md §1). Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The configured public URL of the service.
    pub iss: String,
    /// The app id.
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// The active organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The role in the active organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The effective permissions.
    #[serde(default)]
    pub permissions: Vec<String>,
    pub email: String,
    pub email_verified: bool,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// Random, unique per token.
    pub jti: String,
}

/// Why a token (or a sealed secret) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON, or claims of the wrong shape.
    #[error("the token is malformed")]
    Malformed,
    /// An algorithm other than EdDSA, no `kid` or one not among the keys, or a header that
    /// names a key by reference (`jku`, `x5u`, `jwk`, `x5c`) or asks for extensions (`crit`).
    #[error("the token is not signed by one of our keys")]
    UnknownKey,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Sealed data that does not open with the key-encryption key (another key, or changed).
    #[error("sealed data could not be opened")]
    Unsealable,
    /// A key record that cannot be used (a malformed public or private key).
    #[error("a signing key cannot be used: {0}")]
    BadKey(String),
}

/// Signing, verifying and sealing: what the domain asks of a crypto adapter.
pub trait TokenCrypto: Send + Sync + std::fmt::Debug {
    /// A new key pair with a random `kid`, its private half sealed.
    fn generate_key(&self, now: Timestamp) -> Result<SigningKeyRecord, TokenError>;

    /// A compact JWS of `claims` signed with `key` (header `{"alg":"EdDSA","typ":"JWT","kid"}`).
    /// Fails with [`TokenError::Unsealable`] when the key's private half does not open.
    fn sign(&self, key: &SigningKeyRecord, claims: &AccessClaims) -> Result<String, TokenError>;

    /// Checks the header (exactly `EdDSA`, a `kid` among `keys`, no key references), the
    /// signature, and `exp`/`nbf` against `now` (Unix seconds) with `leeway` seconds. `iss`,
    /// `aud` and the session are the caller's to check.
    fn verify(
        &self,
        keys: &[SigningKeyRecord],
        token: &str,
        now: i64,
        leeway: i64,
    ) -> Result<AccessClaims, TokenError>;

    /// The key's public JWK: `{"kty":"OKP","crv":"Ed25519","x","kid","alg":"EdDSA","use":"sig"}`.
    fn public_jwk(&self, key: &SigningKeyRecord) -> Result<serde_json::Value, TokenError>;

    /// Seals a small secret with the key-encryption key (authenticated encryption, a random
    /// nonce each time), as URL-safe text.
    fn seal(&self, plain: &[u8]) -> Result<String, TokenError>;

    /// Opens what [`TokenCrypto::seal`] made.
    fn open(&self, sealed: &str) -> Result<Vec<u8>, TokenError>;
}

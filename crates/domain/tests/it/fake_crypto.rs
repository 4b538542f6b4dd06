//! A stand-in for the token adapter: tokens are readable JSON with the `kid` appended, seals
//! are reversible text. Enough to test the domain's rules (keys, sessions, rotation); the real
//! cryptography is tested in `token-adapter`.

use std::sync::atomic::{AtomicU32, Ordering};

use base64::Engine as _;
use domain::{AccessClaims, TokenCrypto, TokenError};
use storage_port::{SigningKeyRecord, Timestamp};

#[derive(Debug, Default)]
pub struct FakeCrypto {
    pub keys_made: AtomicU32,
    /// Keys this instance "cannot open" (another key-encryption key).
    pub foreign_prefix: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenCrypto for FakeCrypto {
    fn generate_key(&self, now: Timestamp) -> Result<SigningKeyRecord, TokenError> {
        let n = self.keys_made.fetch_add(1, Ordering::SeqCst);
        let kid = format!(
            "{}-k{n}-{}",
            self.foreign_prefix.as_deref().unwrap_or("own"),
            now.as_unix_millis()
        );
        Ok(SigningKeyRecord {
            kid: kid.clone(),
            algorithm: "EdDSA".into(),
            public_key: format!("public-{kid}"),
            sealed_private_key: self.seal(kid.as_bytes())?,
            created_at: now,
        })
    }

    fn sign(&self, key: &SigningKeyRecord, claims: &AccessClaims) -> Result<String, TokenError> {
        self.open(&key.sealed_private_key)?;
        let payload = serde_json::to_vec(claims).map_err(|_| TokenError::Malformed)?;
        Ok(format!("{}.{}", b64(&payload), key.kid))
    }

    fn verify(
        &self,
        keys: &[SigningKeyRecord],
        token: &str,
        now: i64,
        leeway: i64,
    ) -> Result<AccessClaims, TokenError> {
        let (payload, kid) = token.split_once('.').ok_or(TokenError::Malformed)?;
        if !keys.iter().any(|key| key.kid == kid) {
            return Err(TokenError::UnknownKey);
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let claims: AccessClaims =
            serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
        if now > claims.exp + leeway {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    fn public_jwk(&self, key: &SigningKeyRecord) -> Result<serde_json::Value, TokenError> {
        Ok(serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": key.public_key, "kid": key.kid}))
    }

    fn seal(&self, plain: &[u8]) -> Result<String, TokenError> {
        let prefix = self.foreign_prefix.as_deref().unwrap_or("own");
        Ok(format!("{prefix}:{}", b64(plain)))
    }

    fn open(&self, sealed: &str) -> Result<Vec<u8>, TokenError> {
        let prefix = self.foreign_prefix.as_deref().unwrap_or("own");
        let text = sealed
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or(TokenError::Unsealable)?;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| TokenError::Unsealable)
    }
}

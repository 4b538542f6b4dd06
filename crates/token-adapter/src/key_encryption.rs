//! The key-encryption key (`tokens.key_encryption_key`) that seals the signing keys at rest.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// The key that seals private signing keys: the SHA-256 of the configured bytes, so any
/// length from 32 bytes up gives a full-strength AEAD key. Every instance on one store needs
/// the same one, or none of them can sign with the keys another created.
#[derive(Clone)]
pub struct KeyEncryptionKey([u8; 32]);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(..)")
    }
}

/// Why a configured key-encryption key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyEncryptionKeyError {
    #[error("tokens.key_encryption_key must be base64")]
    NotBase64,
    #[error("tokens.key_encryption_key must hold at least 32 bytes, not {0}")]
    TooShort(usize),
}

impl KeyEncryptionKey {
    /// The fewest bytes a configured key may hold.
    pub const MIN_BYTES: usize = 32;

    /// From base64 text (standard or URL-safe, padded or not) of at least 32 bytes.
    pub fn parse(text: &str) -> Result<Self, KeyEncryptionKeyError> {
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
            .ok_or(KeyEncryptionKeyError::NotBase64)?;
        if bytes.len() < Self::MIN_BYTES {
            return Err(KeyEncryptionKeyError::TooShort(bytes.len()));
        }
        Ok(Self(Sha256::digest(&bytes).into()))
    }

    /// A random key for this process only (development): keys sealed with it cannot be
    /// opened after a restart.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        Self(bytes)
    }

    pub(crate) fn aead_key(&self) -> &[u8; 32] {
        &self.0
    }
}

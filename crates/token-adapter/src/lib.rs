//! The token adapter: [`domain::TokenCrypto`] with EdDSA (Ed25519) access tokens.
//!
//! Tokens are compact JWS written and read by hand: the only algorithm there is is EdDSA, so
//! a header naming another (`none`, `HS256` with the public key as a secret, …) is refused
//! before anything else is looked at. Private keys are stored sealed with XChaCha20-Poly1305
//! under the configured key-encryption key, so the store never holds them in the clear.

mod key_encryption;
mod tokens;

pub use key_encryption::{KeyEncryptionKey, KeyEncryptionKeyError};
pub use tokens::Ed25519Tokens;

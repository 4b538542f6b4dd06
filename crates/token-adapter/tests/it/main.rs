//! The token adapter against its contract (`domain::TokenCrypto`), against hand-made hostile
//! tokens, and against an independent verifier (PyJWT).

mod keys;
mod pyjwt;
mod refusals;
mod sealing;
mod signing;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::{AccessClaims, TokenCrypto};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::Value;
use storage_port::{SigningKeyRecord, Timestamp};
use token_adapter::{Ed25519Tokens, KeyEncryptionKey};

/// 48 bytes whose standard base64 holds `+` and `/`, so the URL-safe form differs from it.
pub const KEK_BYTES: [u8; 48] = [
    0xfb, 0xff, 0xbf, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
    0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c,
    0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0xfe, 0xff,
];

/// A fixed "now" for the tests that do not talk to another verifier (Unix seconds).
pub const NOW: i64 = 1_800_000_000;

pub fn kek_text() -> String {
    base64::engine::general_purpose::STANDARD.encode(KEK_BYTES)
}

pub fn kek() -> KeyEncryptionKey {
    KeyEncryptionKey::parse(&kek_text()).expect("a valid key-encryption key")
}

pub fn tokens() -> Ed25519Tokens {
    Ed25519Tokens::new(kek())
}

pub fn other_tokens() -> Ed25519Tokens {
    Ed25519Tokens::new(KeyEncryptionKey::generate())
}

pub fn new_key(tokens: &Ed25519Tokens) -> SigningKeyRecord {
    tokens
        .generate_key(Timestamp::from_unix_millis(NOW * 1000))
        .expect("a new key")
}

/// Claims valid at `now` for fifteen minutes.
pub fn claims_at(now: i64) -> AccessClaims {
    AccessClaims {
        iss: "https://users.example.com".to_owned(),
        aud: "app-a".to_owned(),
        sub: "0190f5a2-7c1e-7000-8000-000000000001".to_owned(),
        sid: "session-1".to_owned(),
        org: Some("org_1".to_owned()),
        role: Some("member".to_owned()),
        permissions: vec!["users:read".to_owned(), "billing:read".to_owned()],
        email: "ada@example.com".to_owned(),
        email_verified: true,
        iat: now,
        nbf: now,
        exp: now + 900,
        jti: "jti-1".to_owned(),
    }
}

pub fn claims() -> AccessClaims {
    claims_at(NOW)
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// The three parts of a compact JWS.
pub fn parts(token: &str) -> Vec<&str> {
    token.split('.').collect()
}

/// The decoded header of a token, as JSON.
pub fn header_of(token: &str) -> Value {
    serde_json::from_slice(&unb64(parts(token)[0])).expect("header JSON")
}

/// The record's private key, opened as the adapter would.
pub fn private_key(tokens: &Ed25519Tokens, record: &SigningKeyRecord) -> SigningKey {
    let seed: [u8; 32] = tokens
        .open(&record.sealed_private_key)
        .expect("opens")
        .try_into()
        .expect("a 32-byte seed");
    SigningKey::from_bytes(&seed)
}

/// A token with any header and payload bytes, really signed with the record's key: what
/// the adapter refuses about it is then the header or the payload, not the signature.
pub fn signed_with(
    tokens: &Ed25519Tokens,
    record: &SigningKeyRecord,
    header: &[u8],
    payload: &[u8],
) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let signature = private_key(tokens, record).sign(input.as_bytes());
    format!("{input}.{}", b64(signature.to_bytes()))
}

pub fn json(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON")
}

pub fn claims_json(claims: &AccessClaims) -> Vec<u8> {
    serde_json::to_vec(claims).expect("claims JSON")
}

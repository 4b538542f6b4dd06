//! [`Ed25519Tokens`]: signing, verifying and sealing for the domain's [`TokenCrypto`] port.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use domain::{AccessClaims, TokenCrypto, TokenError};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Serialize;
use serde_json::{Map, Value};
use storage_port::{SigningKeyRecord, Timestamp};

use crate::KeyEncryptionKey;

/// The JWS `alg`, and the `algorithm` of every key record we write.
const ALGORITHM: &str = "EdDSA";
/// Binds sealed data to this use: a ciphertext made for anything else does not open.
const SEAL_LABEL: &[u8] = b"users-api seal v1";
const NONCE_BYTES: usize = 24;
const TAG_BYTES: usize = 16;
const KID_BYTES: usize = 16;
/// Header members that point at a key somewhere else, or ask for extensions we do not know:
/// honouring any of them would let the token choose its own key.
const REFUSED_HEADER_MEMBERS: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "crit"];

/// EdDSA (Ed25519) access tokens as compact JWS, and XChaCha20-Poly1305 sealing under the
/// key-encryption key. Opened signing keys and parsed public keys are kept by `kid`, so
/// signing does not open the seal and verifying does not decode the point every time.
pub struct Ed25519Tokens {
    cipher: XChaCha20Poly1305,
    signing_keys: Mutex<HashMap<String, Cached<SigningKey>>>,
    verifying_keys: Mutex<HashMap<String, Cached<VerifyingKey>>>,
}

/// A key made from a record, with the record's text it was made from: a record that changed
/// under the same `kid` is read again rather than served from the cache.
struct Cached<K> {
    source: String,
    key: K,
}

impl std::fmt::Debug for Ed25519Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Tokens").finish_non_exhaustive()
    }
}

/// The protected header we write, members in this order.
#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

impl Ed25519Tokens {
    pub fn new(key_encryption_key: KeyEncryptionKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&Key::from(*key_encryption_key.aead_key())),
            signing_keys: Mutex::default(),
            verifying_keys: Mutex::default(),
        }
    }

    /// The record's private key, opened once and then kept.
    fn signing_key(&self, record: &SigningKeyRecord) -> Result<SigningKey, TokenError> {
        let mut cache = self
            .signing_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(cached) = cache.get(&record.kid)
            && cached.source == record.sealed_private_key
        {
            return Ok(cached.key.clone());
        }
        let seed: [u8; 32] = self
            .open(&record.sealed_private_key)?
            .try_into()
            .map_err(|_| TokenError::BadKey("the private key is not 32 bytes".to_owned()))?;
        let key = SigningKey::from_bytes(&seed);
        if URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()) != record.public_key {
            return Err(TokenError::BadKey(
                "the private key does not match the public key".to_owned(),
            ));
        }
        cache.insert(
            record.kid.clone(),
            Cached {
                source: record.sealed_private_key.clone(),
                key: key.clone(),
            },
        );
        Ok(key)
    }

    /// The record's public key, parsed once and then kept.
    fn verifying_key(&self, record: &SigningKeyRecord) -> Result<VerifyingKey, TokenError> {
        let mut cache = self
            .verifying_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(cached) = cache.get(&record.kid)
            && cached.source == record.public_key
        {
            return Ok(cached.key);
        }
        let key = parse_public_key(&record.public_key)?;
        cache.insert(
            record.kid.clone(),
            Cached {
                source: record.public_key.clone(),
                key,
            },
        );
        Ok(key)
    }
}

fn parse_public_key(text: &str) -> Result<VerifyingKey, TokenError> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| TokenError::BadKey("the public key is not 32 bytes of base64url".into()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| TokenError::BadKey("the public key is not an Ed25519 point".to_owned()))
}

fn require_eddsa(record: &SigningKeyRecord) -> Result<(), TokenError> {
    if record.algorithm == ALGORITHM {
        Ok(())
    } else {
        Err(TokenError::BadKey(format!(
            "the key {} is for {}, not {ALGORITHM}",
            record.kid, record.algorithm
        )))
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    bytes
}

fn decode_part(part: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)
}

impl TokenCrypto for Ed25519Tokens {
    fn generate_key(&self, now: Timestamp) -> Result<SigningKeyRecord, TokenError> {
        let seed = random_bytes::<32>();
        let key = SigningKey::from_bytes(&seed);
        Ok(SigningKeyRecord {
            kid: URL_SAFE_NO_PAD.encode(random_bytes::<KID_BYTES>()),
            algorithm: ALGORITHM.to_owned(),
            public_key: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
            sealed_private_key: self.seal(&seed)?,
            created_at: now,
        })
    }

    fn sign(&self, key: &SigningKeyRecord, claims: &AccessClaims) -> Result<String, TokenError> {
        require_eddsa(key)?;
        let signing_key = self.signing_key(key)?;
        let header = Header {
            alg: ALGORITHM,
            typ: "JWT",
            kid: &key.kid,
        };
        let header = serde_json::to_vec(&header).map_err(|_| TokenError::Malformed)?;
        let payload = serde_json::to_vec(claims).map_err(|_| TokenError::Malformed)?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = signing_key.sign(signing_input.as_bytes());
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }

    fn verify(
        &self,
        keys: &[SigningKeyRecord],
        token: &str,
        now: i64,
        leeway: i64,
    ) -> Result<AccessClaims, TokenError> {
        // Exactly three parts; the signing input is the text as received.
        let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Malformed)?;
        if payload.contains('.') {
            return Err(TokenError::Malformed);
        }
        let header: Map<String, Value> =
            serde_json::from_slice(&decode_part(header)?).map_err(|_| TokenError::Malformed)?;
        if header.get("alg").and_then(Value::as_str) != Some(ALGORITHM)
            || REFUSED_HEADER_MEMBERS
                .iter()
                .any(|member| header.contains_key(*member))
        {
            return Err(TokenError::UnknownKey);
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(TokenError::UnknownKey)?;
        let record = keys
            .iter()
            .find(|key| key.kid == kid && key.algorithm == ALGORITHM)
            .ok_or(TokenError::UnknownKey)?;
        let verifying_key = self.verifying_key(record)?;

        let signature = Signature::from_slice(&decode_part(signature)?)
            .map_err(|_| TokenError::BadSignature)?;
        verifying_key
            .verify_strict(signing_input.as_bytes(), &signature)
            .map_err(|_| TokenError::BadSignature)?;

        let claims: AccessClaims =
            serde_json::from_slice(&decode_part(payload)?).map_err(|_| TokenError::Malformed)?;
        if now > claims.exp.saturating_add(leeway) {
            return Err(TokenError::Expired);
        }
        if now.saturating_add(leeway) < claims.nbf {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }

    fn public_jwk(&self, key: &SigningKeyRecord) -> Result<Value, TokenError> {
        require_eddsa(key)?;
        let public_key = self.verifying_key(key)?;
        Ok(serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(public_key.as_bytes()),
            "kid": key.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }))
    }

    fn seal(&self, plain: &[u8]) -> Result<String, TokenError> {
        let nonce = random_bytes::<NONCE_BYTES>();
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: SEAL_LABEL,
                },
            )
            .map_err(|_| TokenError::BadKey("the secret is too long to seal".to_owned()))?;
        let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    fn open(&self, sealed: &str) -> Result<Vec<u8>, TokenError> {
        let sealed = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| TokenError::Unsealable)?;
        if sealed.len() < NONCE_BYTES + TAG_BYTES {
            return Err(TokenError::Unsealable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let nonce = XNonce::try_from(nonce).map_err(|_| TokenError::Unsealable)?;
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: SEAL_LABEL,
                },
            )
            .map_err(|_| TokenError::Unsealable)
    }
}

//! The key-encryption key as configured.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use domain::TokenCrypto;
use token_adapter::{Ed25519Tokens, KeyEncryptionKey, KeyEncryptionKeyError};

use crate::{KEK_BYTES, kek, kek_text, tokens};

#[test]
fn every_base64_spelling_of_the_same_bytes_is_the_same_key() {
    let sealed = tokens().seal(b"secret").expect("seals");
    let spellings = [
        STANDARD.encode(KEK_BYTES),
        STANDARD_NO_PAD.encode(KEK_BYTES),
        URL_SAFE.encode(KEK_BYTES),
        URL_SAFE_NO_PAD.encode(KEK_BYTES),
        format!("  {}\n", STANDARD.encode(KEK_BYTES)),
    ];
    assert_ne!(
        spellings[0], spellings[2],
        "the alphabets differ for these bytes"
    );

    for text in spellings {
        let key = KeyEncryptionKey::parse(&text).expect("parses");
        assert_eq!(
            Ed25519Tokens::new(key).open(&sealed).as_deref(),
            Ok(&b"secret"[..]),
            "{text:?}"
        );
    }
}

#[test]
fn the_key_is_the_hash_of_all_the_bytes_not_their_first_32() {
    let sealed = tokens().seal(b"secret").expect("seals");
    let mut changed_tail = KEK_BYTES;
    changed_tail[47] ^= 1;
    let key = KeyEncryptionKey::parse(&STANDARD.encode(changed_tail)).expect("parses");

    assert_eq!(
        Ed25519Tokens::new(key).open(&sealed),
        Err(domain::TokenError::Unsealable)
    );
}

#[test]
fn fewer_than_32_bytes_or_no_base64_are_refused() {
    assert_eq!(
        KeyEncryptionKey::parse(&STANDARD.encode([1u8; 31])).map(|_| ()),
        Err(KeyEncryptionKeyError::TooShort(31))
    );
    assert_eq!(
        KeyEncryptionKey::parse("").map(|_| ()),
        Err(KeyEncryptionKeyError::TooShort(0))
    );
    assert!(KeyEncryptionKey::parse(&STANDARD.encode([1u8; 32])).is_ok());
    for text in ["not base64 at all", "abc$", "a+b_c"] {
        assert_eq!(
            KeyEncryptionKey::parse(text).map(|_| ()),
            Err(KeyEncryptionKeyError::NotBase64),
            "{text}"
        );
    }
    assert_eq!(
        KeyEncryptionKeyError::TooShort(31).to_string(),
        "tokens.key_encryption_key must hold at least 32 bytes, not 31"
    );
}

#[test]
fn debug_output_shows_no_key_material() {
    let shown = format!("{:?} {:?}", kek(), tokens());

    assert!(shown.contains("KeyEncryptionKey(..)"), "{shown}");
    assert!(shown.contains("Ed25519Tokens"), "{shown}");
    for secret in [kek_text(), URL_SAFE_NO_PAD.encode(KEK_BYTES)] {
        assert!(!shown.contains(&secret), "{shown}");
    }
    assert!(!shown.contains("251"), "no bytes printed: {shown}");
}

#[test]
fn generated_keys_differ() {
    let sealed = Ed25519Tokens::new(KeyEncryptionKey::generate())
        .seal(b"secret")
        .expect("seals");

    assert_eq!(
        Ed25519Tokens::new(KeyEncryptionKey::generate()).open(&sealed),
        Err(domain::TokenError::Unsealable)
    );
}

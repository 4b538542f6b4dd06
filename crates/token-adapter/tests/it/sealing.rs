//! Sealing small secrets under the key-encryption key.

use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use domain::{TokenCrypto, TokenError};
use sha2::{Digest as _, Sha256};

use crate::{KEK_BYTES, b64, other_tokens, tokens, unb64};

#[test]
fn what_is_sealed_opens_again() {
    let tokens = tokens();
    for plain in [&b""[..], b"x", &[0xa5; 32], &[7; 1000]] {
        let sealed = tokens.seal(plain).expect("seals");
        assert_eq!(tokens.open(&sealed).as_deref(), Ok(plain));
    }
}

#[test]
fn a_seal_is_base64url_of_a_24_byte_nonce_and_the_ciphertext_with_its_tag() {
    let sealed = tokens().seal(&[1; 32]).expect("seals");

    assert!(
        sealed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{sealed}"
    );
    assert_eq!(unb64(&sealed).len(), 24 + 32 + 16);
}

#[test]
fn every_seal_has_its_own_nonce() {
    let tokens = tokens();
    let first = tokens.seal(b"same").expect("seals");
    let second = tokens.seal(b"same").expect("seals");

    assert_ne!(first, second);
    assert_ne!(unb64(&first)[..24], unb64(&second)[..24]);
}

/// The format written down: XChaCha20-Poly1305 under SHA-256 of the configured bytes, with
/// the label as associated data, so a store's sealed keys can be opened by another tool.
#[test]
fn the_seal_is_xchacha20_poly1305_under_the_sha256_of_the_key_with_the_label() {
    let cipher = XChaCha20Poly1305::new(&Key::from(<[u8; 32]>::from(Sha256::digest(KEK_BYTES))));
    let sealed = unb64(&tokens().seal(b"secret").expect("seals"));
    let (nonce, ciphertext) = sealed.split_at(24);
    let nonce = XNonce::try_from(nonce).expect("24 bytes");

    let opened = cipher.decrypt(
        &nonce,
        Payload {
            msg: ciphertext,
            aad: b"users-api seal v1",
        },
    );
    assert_eq!(opened.as_deref(), Ok(&b"secret"[..]));
    assert!(
        cipher.decrypt(&nonce, ciphertext).is_err(),
        "the label is bound as associated data"
    );

    // Sealed without the label (as another use of the same key might), it does not open.
    let nonce = XNonce::from([9u8; 24]);
    let mut unlabelled = nonce.to_vec();
    unlabelled.extend(cipher.encrypt(&nonce, &b"secret"[..]).expect("encrypts"));
    assert_eq!(tokens().open(&b64(unlabelled)), Err(TokenError::Unsealable));
}

#[test]
fn any_changed_bit_makes_the_seal_unopenable() {
    let tokens = tokens();
    let sealed = unb64(&tokens.seal(&[3; 32]).expect("seals"));

    // In the nonce, the ciphertext and the tag.
    for position in [0, 23, 24, 40, sealed.len() - 16, sealed.len() - 1] {
        let mut changed = sealed.clone();
        changed[position] ^= 0x01;
        assert_eq!(
            tokens.open(&b64(&changed)),
            Err(TokenError::Unsealable),
            "byte {position}"
        );
    }
    let mut longer = sealed.clone();
    longer.push(0);
    let shorter = &sealed[..sealed.len() - 1];
    for changed in [&longer[..], shorter, &sealed[..39], &sealed[..24], &[]] {
        assert_eq!(tokens.open(&b64(changed)), Err(TokenError::Unsealable));
    }
}

#[test]
fn text_that_is_not_base64url_is_unsealable() {
    let tokens = tokens();
    let sealed = tokens.seal(b"secret").expect("seals");

    for text in [
        "not base64!",
        &format!("{sealed}="),
        &format!("+{}", &sealed[1..]),
        &format!(" {sealed}"),
    ] {
        assert_eq!(tokens.open(text), Err(TokenError::Unsealable), "{text}");
    }
}

#[test]
fn another_key_encryption_key_cannot_open_it() {
    let sealed = tokens().seal(b"secret").expect("seals");

    assert_eq!(other_tokens().open(&sealed), Err(TokenError::Unsealable));
}

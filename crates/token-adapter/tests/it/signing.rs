//! Signing, verifying and the JWKS entry.

use domain::{TokenCrypto, TokenError};
use serde_json::json;

use crate::{NOW, b64, claims, header_of, new_key, other_tokens, parts, tokens, unb64};

#[test]
fn a_signed_token_verifies_to_its_claims() {
    let tokens = tokens();
    let key = new_key(&tokens);

    let token = tokens.sign(&key, &claims()).expect("signs");

    assert_eq!(parts(&token).len(), 3);
    assert_eq!(
        tokens.verify(&[key], &token, NOW, 30).expect("verifies"),
        claims()
    );
}

#[test]
fn the_header_is_exactly_alg_typ_kid_in_that_order() {
    let tokens = tokens();
    let key = new_key(&tokens);

    let token = tokens.sign(&key, &claims()).expect("signs");

    let header = String::from_utf8(unb64(parts(&token)[0])).expect("UTF-8");
    assert_eq!(
        header,
        format!(r#"{{"alg":"EdDSA","typ":"JWT","kid":"{}"}}"#, key.kid)
    );
    let payload: domain::AccessClaims =
        serde_json::from_slice(&unb64(parts(&token)[1])).expect("claims JSON");
    assert_eq!(payload, claims());
    assert_eq!(unb64(parts(&token)[2]).len(), 64, "an Ed25519 signature");
}

#[test]
fn verification_picks_the_key_named_by_kid_among_current_and_previous() {
    let tokens = tokens();
    let previous = new_key(&tokens);
    let current = new_key(&tokens);
    let keys = [current.clone(), previous.clone()];

    let old = tokens.sign(&previous, &claims()).expect("signs");
    let new = tokens.sign(&current, &claims()).expect("signs");

    assert_eq!(header_of(&old)["kid"], json!(previous.kid));
    assert_eq!(tokens.verify(&keys, &old, NOW, 0), Ok(claims()));
    assert_eq!(tokens.verify(&keys, &new, NOW, 0), Ok(claims()));
}

#[test]
fn verification_needs_no_private_key() {
    let signer = tokens();
    let key = new_key(&signer);
    let token = signer.sign(&key, &claims()).expect("signs");

    // An instance with another key-encryption key cannot open the private half, but the
    // public one is all verifying takes.
    assert_eq!(other_tokens().verify(&[key], &token, NOW, 0), Ok(claims()));
}

#[test]
fn the_jwks_entry_is_an_okp_ed25519_key_with_kid_alg_and_use() {
    let tokens = tokens();
    let key = new_key(&tokens);

    let jwk = tokens.public_jwk(&key).expect("a JWK");

    assert_eq!(
        jwk,
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": key.public_key,
            "kid": key.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    );
    assert_eq!(unb64(&key.public_key).len(), 32);
}

#[test]
fn a_new_key_has_a_random_16_byte_kid_a_raw_public_key_and_a_sealed_seed() {
    let tokens = tokens();
    let first = new_key(&tokens);
    let second = new_key(&tokens);

    for key in [&first, &second] {
        assert_eq!(unb64(&key.kid).len(), 16);
        assert_eq!(key.algorithm, "EdDSA");
        assert_eq!(key.created_at.as_unix_millis(), NOW * 1000);
        for text in [&key.kid, &key.public_key, &key.sealed_private_key] {
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{text} is base64url without padding"
            );
        }
        let seed = tokens.open(&key.sealed_private_key).expect("opens");
        assert_eq!(seed.len(), 32);
        let public = crate::private_key(&tokens, key).verifying_key();
        assert_eq!(b64(public.as_bytes()), key.public_key);
    }
    assert_ne!(first.kid, second.kid);
    assert_ne!(first.public_key, second.public_key);
}

#[test]
fn a_key_made_by_one_instance_signs_in_another_with_the_same_key_encryption_key() {
    let maker = tokens();
    let key = new_key(&maker);
    // Another process with the same configured key, reading the record from the store.
    let other_instance = tokens();

    let token = other_instance.sign(&key, &claims()).expect("signs");

    assert_eq!(maker.verify(&[key], &token, NOW, 0), Ok(claims()));
}

#[test]
fn a_key_made_under_another_key_encryption_key_does_not_sign() {
    let key = new_key(&tokens());

    assert_eq!(
        other_tokens().sign(&key, &claims()),
        Err(TokenError::Unsealable)
    );
}

#[test]
fn a_record_whose_private_half_does_not_match_its_public_key_does_not_sign() {
    let tokens = tokens();
    let mut key = new_key(&tokens);
    key.public_key = new_key(&tokens).public_key;

    assert!(matches!(
        tokens.sign(&key, &claims()),
        Err(TokenError::BadKey(_))
    ));
}

#[test]
fn a_record_changed_under_the_same_kid_is_read_again_not_served_from_the_cache() {
    let tokens = tokens();
    let mut key = new_key(&tokens);
    let token = tokens.sign(&key, &claims()).expect("signs");
    assert_eq!(tokens.verify(&[key.clone()], &token, NOW, 0), Ok(claims()));

    let replacement = new_key(&tokens);
    key.public_key = replacement.public_key;
    key.sealed_private_key = replacement.sealed_private_key;

    assert_eq!(
        tokens.verify(&[key.clone()], &token, NOW, 0),
        Err(TokenError::BadSignature)
    );
    let resigned = tokens.sign(&key, &claims()).expect("signs");
    assert_eq!(tokens.verify(&[key], &resigned, NOW, 0), Ok(claims()));
}

#[test]
fn records_that_are_not_usable_keys_are_bad_keys() {
    let tokens = tokens();
    let good = new_key(&tokens);
    let token = tokens.sign(&good, &claims()).expect("signs");
    let broken = [
        ("not base64", "not base64!"),
        ("31 bytes", &b64([7u8; 31])),
        // y = 2 is not on the curve (decompression fails).
        (
            "not a point",
            &b64({
                let mut y = [0u8; 32];
                y[0] = 2;
                y
            }),
        ),
    ];
    for (what, public_key) in broken {
        let mut key = good.clone();
        key.kid = format!("broken-{what}");
        key.public_key = public_key.to_owned();
        assert!(
            matches!(tokens.public_jwk(&key), Err(TokenError::BadKey(_))),
            "{what}"
        );
        let mut forged = token.clone();
        forged.replace_range(
            ..parts(&token)[0].len(),
            &b64(format!(
                r#"{{"alg":"EdDSA","typ":"JWT","kid":"{}"}}"#,
                key.kid
            )),
        );
        assert!(
            matches!(
                tokens.verify(&[key], &forged, NOW, 0),
                Err(TokenError::BadKey(_))
            ),
            "{what}"
        );
    }

    let mut other_algorithm = good.clone();
    other_algorithm.algorithm = "RS256".to_owned();
    assert!(matches!(
        tokens.sign(&other_algorithm, &claims()),
        Err(TokenError::BadKey(_))
    ));
    assert!(matches!(
        tokens.public_jwk(&other_algorithm),
        Err(TokenError::BadKey(_))
    ));
}

//! Tokens that must not verify, each with the exact reason.

use domain::{AccessClaims, TokenCrypto, TokenError};
use hmac::{KeyInit as _, Mac as _};
use serde_json::{Value, json};
use storage_port::SigningKeyRecord;
use token_adapter::Ed25519Tokens;

use crate::{NOW, b64, claims, claims_json, json, new_key, parts, signed_with, tokens, unb64};

fn setup() -> (Ed25519Tokens, SigningKeyRecord, String) {
    let tokens = tokens();
    let key = new_key(&tokens);
    let token = tokens.sign(&key, &claims()).expect("signs");
    (tokens, key, token)
}

fn verify(
    tokens: &Ed25519Tokens,
    key: &SigningKeyRecord,
    token: &str,
) -> Result<AccessClaims, TokenError> {
    tokens.verify(std::slice::from_ref(key), token, NOW, 30)
}

/// A token signed by us in every respect but the header.
fn with_header(tokens: &Ed25519Tokens, key: &SigningKeyRecord, header: &Value) -> String {
    signed_with(tokens, key, &json(header), &claims_json(&claims()))
}

fn hs256(secret: &[u8], header: &Value, claims: &AccessClaims) -> String {
    let input = format!("{}.{}", b64(json(header)), b64(claims_json(claims)));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(mac.finalize().into_bytes()))
}

#[test]
fn alg_none_without_a_signature_is_refused() {
    let (tokens, key, _) = setup();
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": key.kid});
        let token = format!("{}.{}.", b64(json(&header)), b64(claims_json(&claims())));

        assert_eq!(
            verify(&tokens, &key, &token),
            Err(TokenError::UnknownKey),
            "{alg}"
        );
    }
}

/// The classic confusion: a verifier that takes `alg` from the token would check an HMAC
/// keyed with the published public key. We never do.
#[test]
fn hs256_keyed_with_the_public_key_is_refused() {
    let (tokens, key, _) = setup();
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": key.kid});
    let raw = unb64(&key.public_key);
    let jwk = serde_json::to_vec(&tokens.public_jwk(&key).expect("jwk")).expect("JSON");

    for secret in [&raw[..], key.public_key.as_bytes(), &jwk] {
        let token = hs256(secret, &header, &claims());
        assert_eq!(verify(&tokens, &key, &token), Err(TokenError::UnknownKey));
    }
}

#[test]
fn any_algorithm_but_eddsa_is_refused_even_with_a_good_signature() {
    let (tokens, key, _) = setup();
    let algorithms = [
        json!("HS256"),
        json!("RS256"),
        json!("ES256"),
        json!("PS256"),
        json!("Ed25519"),
        json!("eddsa"),
        json!("EdDSA "),
        json!(["EdDSA"]),
        Value::Null,
    ];
    for alg in algorithms {
        let token = with_header(
            &tokens,
            &key,
            &json!({"alg": alg, "typ": "JWT", "kid": key.kid}),
        );
        assert_eq!(
            verify(&tokens, &key, &token),
            Err(TokenError::UnknownKey),
            "{alg}"
        );
    }
    let no_alg = with_header(&tokens, &key, &json!({"typ": "JWT", "kid": key.kid}));
    assert_eq!(verify(&tokens, &key, &no_alg), Err(TokenError::UnknownKey));
}

#[test]
fn a_changed_payload_fails_the_signature() {
    let (tokens, key, token) = setup();
    let mut elevated = claims();
    elevated.role = Some("admin".to_owned());
    elevated.permissions.push("users:delete".to_owned());
    let [header, _, signature] = parts(&token)[..] else {
        panic!("three parts")
    };

    let forged = format!("{header}.{}.{signature}", b64(claims_json(&elevated)));

    assert_eq!(
        verify(&tokens, &key, &forged),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn a_changed_or_truncated_signature_fails() {
    let (tokens, key, token) = setup();
    let [header, payload, signature] = parts(&token)[..] else {
        panic!("three parts")
    };
    let mut flipped = unb64(signature);
    flipped[10] ^= 0x40;
    let signatures = [
        b64(&flipped),
        b64(&unb64(signature)[..63]),
        b64([0u8; 64]),
        String::new(),
    ];
    for signature in signatures {
        let forged = format!("{header}.{payload}.{signature}");
        assert_eq!(
            verify(&tokens, &key, &forged),
            Err(TokenError::BadSignature),
            "{signature:?}"
        );
    }
}

#[test]
fn a_header_changed_after_signing_fails_the_signature() {
    let (tokens, key, token) = setup();
    let header = json!({"kid": key.kid, "alg": "EdDSA", "typ": "JWT"});
    let [_, payload, signature] = parts(&token)[..] else {
        panic!("three parts")
    };

    let forged = format!("{}.{payload}.{signature}", b64(json(&header)));

    assert_eq!(
        verify(&tokens, &key, &forged),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn a_token_from_a_key_we_do_not_hold_is_an_unknown_key() {
    let (tokens, key, _) = setup();
    let stranger = new_key(&tokens);
    let token = tokens.sign(&stranger, &claims()).expect("signs");

    assert_eq!(verify(&tokens, &key, &token), Err(TokenError::UnknownKey));
    assert_eq!(
        tokens.verify(&[], &token, NOW, 30),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn a_stranger_claiming_our_kid_fails_the_signature() {
    let (tokens, key, _) = setup();
    let stranger = new_key(&tokens);

    let token = with_header(
        &tokens,
        &stranger,
        &json!({"alg": "EdDSA", "typ": "JWT", "kid": key.kid}),
    );

    assert_eq!(verify(&tokens, &key, &token), Err(TokenError::BadSignature));
}

#[test]
fn a_missing_or_non_text_kid_is_an_unknown_key() {
    let (tokens, key, _) = setup();
    for header in [
        json!({"alg": "EdDSA", "typ": "JWT"}),
        json!({"alg": "EdDSA", "typ": "JWT", "kid": null}),
        json!({"alg": "EdDSA", "typ": "JWT", "kid": 7}),
        json!({"alg": "EdDSA", "typ": "JWT", "kid": [key.kid]}),
        json!({"alg": "EdDSA", "typ": "JWT", "kid": ""}),
    ] {
        let token = with_header(&tokens, &key, &header);
        assert_eq!(
            verify(&tokens, &key, &token),
            Err(TokenError::UnknownKey),
            "{header}"
        );
    }
}

#[test]
fn headers_that_name_a_key_elsewhere_or_ask_for_extensions_are_refused() {
    let (tokens, key, _) = setup();
    let jwk = tokens.public_jwk(&key).expect("jwk");
    let members = [
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("jwk", jwk),
        ("x5c", json!(["MIIB"])),
        ("crit", json!(["exp"])),
        ("jku", Value::Null),
    ];
    for (member, value) in members {
        let mut header = json!({"alg": "EdDSA", "typ": "JWT", "kid": key.kid});
        header[member] = value;
        let token = with_header(&tokens, &key, &header);

        assert_eq!(
            verify(&tokens, &key, &token),
            Err(TokenError::UnknownKey),
            "{member}"
        );
    }
}

#[test]
fn other_header_members_are_ignored() {
    let (tokens, key, _) = setup();
    let header = json!({"alg": "EdDSA", "kid": key.kid, "typ": "at+jwt", "cty": "x"});
    let token = with_header(&tokens, &key, &header);

    assert_eq!(verify(&tokens, &key, &token), Ok(claims()));
}

#[test]
fn an_expired_token_is_refused_beyond_the_leeway_and_accepted_within_it() {
    let tokens = tokens();
    let key = new_key(&tokens);
    let mut expired = claims();
    expired.iat = NOW - 930;
    expired.nbf = NOW - 930;
    expired.exp = NOW - 30;
    let token = tokens.sign(&key, &expired).expect("signs");
    let keys = std::slice::from_ref(&key);

    assert_eq!(tokens.verify(keys, &token, NOW, 30), Ok(expired.clone()));
    assert_eq!(
        tokens.verify(keys, &token, NOW, 29),
        Err(TokenError::Expired)
    );
    assert_eq!(
        tokens.verify(keys, &token, NOW + 1, 30),
        Err(TokenError::Expired)
    );
    assert_eq!(
        tokens.verify(keys, &token, NOW, 0),
        Err(TokenError::Expired)
    );
    assert_eq!(tokens.verify(keys, &token, NOW - 30, 0), Ok(expired));
}

#[test]
fn a_token_not_valid_yet_is_refused_beyond_the_leeway() {
    let tokens = tokens();
    let key = new_key(&tokens);
    let mut early = claims();
    early.nbf = NOW + 60;
    let token = tokens.sign(&key, &early).expect("signs");
    let keys = std::slice::from_ref(&key);

    assert_eq!(
        tokens.verify(keys, &token, NOW, 30),
        Err(TokenError::NotYetValid)
    );
    assert_eq!(
        tokens.verify(keys, &token, NOW, 59),
        Err(TokenError::NotYetValid)
    );
    assert_eq!(tokens.verify(keys, &token, NOW, 60), Ok(early.clone()));
    assert_eq!(tokens.verify(keys, &token, NOW + 30, 30), Ok(early));
}

#[test]
fn extreme_times_do_not_overflow() {
    let tokens = tokens();
    let key = new_key(&tokens);
    let mut forever = claims();
    forever.exp = i64::MAX;
    forever.nbf = i64::MIN;
    let token = tokens.sign(&key, &forever).expect("signs");
    let keys = std::slice::from_ref(&key);

    assert_eq!(
        tokens.verify(keys, &token, i64::MAX, i64::MAX),
        Ok(forever.clone())
    );
    assert_eq!(tokens.verify(keys, &token, i64::MIN, 30), Ok(forever));
}

#[test]
fn garbage_is_malformed() {
    let (tokens, key, token) = setup();
    let [header, payload, signature] = parts(&token)[..] else {
        panic!("three parts")
    };
    let garbage = [
        String::new(),
        "abc".to_owned(),
        header.to_owned(),
        format!("{header}.{payload}"),
        format!("{token}.{signature}"),
        format!("{header}.{payload}.{signature}."),
        format!(".{token}"),
        "....".to_owned(),
        "!!!.???.***".to_owned(),
        format!("{header}=.{payload}.{signature}"),
        format!(
            "{}.{payload}.{signature}",
            header.replace('_', "/").replace('-', "+") + "+/"
        ),
        format!("{}.{payload}.{signature}", b64("not json")),
        format!("{}.{payload}.{signature}", b64(r#"["alg","EdDSA"]"#)),
        format!("{}.{payload}.{signature}", b64("")),
    ];
    for text in garbage {
        assert_eq!(
            verify(&tokens, &key, &text),
            Err(TokenError::Malformed),
            "{text}"
        );
    }
    let bad_signature_text = format!("{header}.{payload}.{signature}!");
    assert_eq!(
        verify(&tokens, &key, &bad_signature_text),
        Err(TokenError::Malformed)
    );
}

#[test]
fn a_well_signed_payload_that_is_not_our_claims_is_malformed() {
    let (tokens, key, _) = setup();
    let header = json(&json!({"alg": "EdDSA", "typ": "JWT", "kid": key.kid}));
    let mut without_exp = serde_json::to_value(claims()).expect("JSON");
    without_exp
        .as_object_mut()
        .expect("an object")
        .remove("exp");
    let mut text_exp = serde_json::to_value(claims()).expect("JSON");
    text_exp["exp"] = json!("soon");
    let payloads = [
        b"not json".to_vec(),
        json(&json!([1, 2, 3])),
        json(&without_exp),
        json(&text_exp),
    ];
    for payload in payloads {
        let token = signed_with(&tokens, &key, &header, &payload);
        assert_eq!(verify(&tokens, &key, &token), Err(TokenError::Malformed));
    }
}

//! Independent verification: PyJWT (with `cryptography` for EdDSA) reads our JWKS and
//! verifies our tokens, as an app's own backend would with any JOSE library.
//!
//! Needs Python 3 with the PyPI packages `pyjwt` and `cryptography`. The interpreter is
//! `USERS_API_TEST_PYTHON` when set, else the workspace's `.venv/bin/python` when there (where
//! `scripts/test.sh` installs PyPI packages), else `python3`. Nothing is installed here, and
//! the test fails, never skips, without them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use domain::TokenCrypto;
use serde_json::{Value, json};

use crate::{b64, claims_at, claims_json, new_key, parts, tokens};

const VERIFY: &str = r#"
import json, sys
import cryptography  # PyJWT verifies EdDSA only with it
import jwt

token = open(sys.argv[1]).read()
jwks = jwt.PyJWKSet.from_dict(json.load(open(sys.argv[2])))
kid = jwt.get_unverified_header(token)["kid"]
key = jwks[kid]
claims = jwt.decode(token, key.key, algorithms=["EdDSA"], audience=sys.argv[3], issuer=sys.argv[4])
print(json.dumps(claims))
"#;

fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("USERS_API_TEST_PYTHON") {
        return python.into();
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// Runs the PyJWT check on `token` against `jwks`.
fn pyjwt_verify(token: &str, jwks: &Value, audience: &str, issuer: &str) -> Output {
    let dir = tempfile::tempdir().expect("a temp dir");
    let token_path = dir.path().join("token.txt");
    let jwks_path = dir.path().join("jwks.json");
    std::fs::write(&token_path, token).expect("write the token");
    std::fs::write(&jwks_path, jwks.to_string()).expect("write the JWKS");
    let python = python();
    let output = Command::new(&python)
        .arg("-c")
        .arg(VERIFY)
        .arg(&token_path)
        .arg(&jwks_path)
        .arg(audience)
        .arg(issuer)
        .output()
        .unwrap_or_else(|error| panic!("{} does not run: {error}", python.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError") && !stderr.contains("MissingCryptographyError"),
        "{} lacks PyJWT or cryptography (pip install pyjwt cryptography): {stderr}",
        python.display()
    );
    output
}

fn unix_now() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(since.as_secs()).expect("in range")
}

#[test]
fn pyjwt_verifies_our_tokens_against_our_jwks() {
    let tokens = tokens();
    let previous = new_key(&tokens);
    let current = new_key(&tokens);
    let jwks = json!({
        "keys": [
            tokens.public_jwk(&current).expect("jwk"),
            tokens.public_jwk(&previous).expect("jwk"),
        ]
    });
    let claims = claims_at(unix_now());

    for key in [&current, &previous] {
        let token = tokens.sign(key, &claims).expect("signs");

        let output = pyjwt_verify(&token, &jwks, &claims.aud, &claims.iss);

        assert!(
            output.status.success(),
            "PyJWT refused the token: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let verified: Value = serde_json::from_slice(&output.stdout).expect("claims JSON");
        assert_eq!(verified, serde_json::to_value(&claims).expect("JSON"));
    }
}

/// The same check fails when it should, so its success above means something.
#[test]
fn pyjwt_refuses_a_changed_token_and_another_audience() {
    let tokens = tokens();
    let key = new_key(&tokens);
    let jwks = json!({"keys": [tokens.public_jwk(&key).expect("jwk")]});
    let claims = claims_at(unix_now());
    let token = tokens.sign(&key, &claims).expect("signs");

    let mut elevated = claims.clone();
    elevated.role = Some("admin".to_owned());
    let [header, _, signature] = parts(&token)[..] else {
        panic!("three parts")
    };
    let forged = format!("{header}.{}.{signature}", b64(claims_json(&elevated)));
    let output = pyjwt_verify(&forged, &jwks, &claims.aud, &claims.iss);
    assert!(!output.status.success(), "PyJWT accepted a changed payload");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("InvalidSignatureError"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let output = pyjwt_verify(&token, &jwks, "app-b", &claims.iss);
    assert!(!output.status.success(), "PyJWT accepted another audience");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("InvalidAudienceError"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

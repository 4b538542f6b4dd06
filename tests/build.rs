//! `cfg(mongo_test_server)` when `USERS_API_TEST_MONGO=1` (set by
//! `scripts/with-mongo-test-server.sh`) and `cfg(smtp_test_server)` when `USERS_API_TEST_SMTP=1`
//! (set by `scripts/with-smtp-test-server.sh`): the tests that need the server run; without it
//! they are ignored, and the test runner counts them as ignored rather than as passed. The flag,
//! not the server's URI, decides, because the URI's port changes at every run and each change
//! would rebuild the crate.

fn main() {
    for (variable, cfg) in [
        ("USERS_API_TEST_MONGO", "mongo_test_server"),
        ("USERS_API_TEST_SMTP", "smtp_test_server"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={variable}");
        if std::env::var(variable).as_deref() == Ok("1") {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}

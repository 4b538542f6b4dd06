//! `cfg(smtp_test_server)` when `USERS_API_TEST_SMTP=1` (set by
//! `scripts/with-smtp-test-server.sh`): the tests that need the server run; without it they
//! are ignored, and the test runner counts them as ignored rather than as passed. The flag,
//! not the server's URLs, decides, because their ports change at every run and each change
//! would rebuild the crate.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(smtp_test_server)");
    println!("cargo::rerun-if-env-changed=USERS_API_TEST_SMTP");
    if std::env::var("USERS_API_TEST_SMTP").as_deref() == Ok("1") {
        println!("cargo::rustc-cfg=smtp_test_server");
    }
}

//! `cfg(mongo_test_server)` when `USERS_API_TEST_MONGO=1` (set by
//! `scripts/with-mongo-test-server.sh`): the tests that need the server run; without it they
//! are ignored, and the test runner counts them as ignored rather than as passed. The flag,
//! not the server's URI, decides, because the URI's port changes at every run and each change
//! would rebuild the crate.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mongo_test_server)");
    println!("cargo::rerun-if-env-changed=USERS_API_TEST_MONGO");
    if std::env::var("USERS_API_TEST_MONGO").as_deref() == Ok("1") {
        println!("cargo::rustc-cfg=mongo_test_server");
    }
}

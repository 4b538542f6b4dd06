#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need on a fresh Debian machine
# with Rust, Node 20 and Python 3 (root, or sudo, for apt):
#   - formatting and clippy, clean with -D warnings;
#   - dependency licenses (cargo-deny, installed from crates.io when missing);
#   - every Rust test of the workspace, with the MongoDB wire-protocol test server (nx-27017,
#     from PyPI, in .venv) started for them, so no MongoDB test is skipped;
#   - the JavaScript client, the example site and its browser test in Debian's Chromium.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n=== %s\n' "$*"; }

step "format"
cargo fmt --all --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "dependency licenses (cargo-deny)"
if ! cargo deny --version >/dev/null 2>&1; then
  cargo install --locked cargo-deny
fi
cargo deny --offline check licenses bans sources

step "Rust tests (memory, SQLite and the MongoDB wire-protocol test server)"
USERS_API_REQUIRE_MONGO=1 bash scripts/with-mongo-test-server.sh cargo test --workspace --locked

step "JavaScript client, example site and browser tests"
USERS_API_BIN="$PWD/target/debug/users-api" bash scripts/test-js.sh

step "all tests passed"

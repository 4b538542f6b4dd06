#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need on a fresh Debian machine
# with Rust, Node 20 and Python 3 (root, or sudo, for apt):
#   - formatting and clippy, clean with -D warnings;
#   - dependency licenses (cargo-deny, installed from crates.io when missing);
#   - every Rust test of the workspace, with the MongoDB wire-protocol test server (nx-27017,
#     from PyPI, in .venv) and the SMTP test server (scripts/smtp_test_server.py on aiosmtpd,
#     from PyPI, in .venv) started for them, so no MongoDB or SMTP test is skipped, and PyJWT
#     (PyPI, in .venv) to verify our access tokens independently (the accounts guide's Python
#     sample uses it too);
#   - schemathesis (PyPI, in .venv) against /openapi.json with an admin session;
#   - the docs: the API reference is current, every shell and curl sample runs;
#   - the JavaScript client, the example site and its browser test in Debian's Chromium;
#   - the admin dashboard's unit tests and its browser test against the binary.
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
# cargo-deny reads the metadata of every target's dependencies (windows-sys too); on a fresh
# machine those crates are not downloaded yet, and --offline (no advisory database fetch) would
# then fail. cargo fetch downloads them for all targets from the registry.
cargo fetch --locked
cargo deny --offline check licenses bans sources

step "Python packages the Rust tests and the docs' samples use (PyJWT verifies our tokens independently)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check "pyjwt==2.10.1" "cryptography==44.0.0"

step "Rust tests (memory, SQLite, the MongoDB wire-protocol and the SMTP test servers)"
USERS_API_REQUIRE_MONGO=1 USERS_API_REQUIRE_SMTP=1 bash scripts/with-smtp-test-server.sh bash scripts/with-mongo-test-server.sh cargo test --workspace --locked

step "schemathesis against /openapi.json, logged in as an admin"
bash scripts/test-schemathesis.sh target/debug/users-api

step "docs: the API reference matches /openapi.json; every shell and curl sample runs"
command -v curl >/dev/null || { apt-get update && apt-get install -y curl; }
docs_work="$(mktemp -d)"
docs_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
USERS_API__STORAGE__BACKEND=memory PORT="$docs_port" USERS_API__LOG__LEVEL=warn target/debug/users-api serve &
docs_server=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$docs_port/health" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$docs_port/openapi.json" >"$docs_work/openapi.json"
kill "$docs_server"; wait "$docs_server" || true
python3 scripts/api-reference.py "$docs_work/openapi.json" --check
python3 scripts/test-doc-samples.py target/debug/users-api
rm -rf "$docs_work"

step "JavaScript client, example site and browser tests"
USERS_API_BIN="$PWD/target/debug/users-api" bash scripts/test-js.sh

step "admin dashboard: unit tests, build and browser test"
USERS_API_BIN="$PWD/target/debug/users-api" bash scripts/test-web-admin.sh

step "all tests passed"

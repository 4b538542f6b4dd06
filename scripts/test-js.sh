#!/usr/bin/env bash
# Tests the JavaScript side: the @users-api/client package (type check, unit tests, OpenAPI
# check against the real service, `npm pack` install check), the React/Vite example and the
# accounts example (type check, browser test in Debian's Chromium against the real service;
# the accounts one with the SMTP test server of scripts/with-smtp-test-server.sh).
#
# Works from a fresh clone: installs what it needs (npm ci, Chromium from apt when missing,
# the service via cargo). Exits non-zero on any failure; skips nothing.
#
#   USERS_API_BIN   use this service binary instead of building target/debug/users-api
#   CHROMIUM_PATH   use this Chromium instead of /usr/bin/chromium
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
client="$root/clients/js"
example="$root/examples/react-vite"
accounts_example="$root/examples/accounts-react"
# shellcheck source=scripts/js-common.sh
source "$root/scripts/js-common.sh"

step "Chromium"
if [ ! -x "$CHROMIUM_PATH" ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
fi
"$CHROMIUM_PATH" --version

step "client: install (npm ci builds dist/ through prepare)"
(cd "$client" && npm ci)

step "client: type check (strict, sources, tests and docs samples)"
(cd "$client" && npm run lint)

build_service
fetch_openapi

step "client: unit tests (Vitest), OpenAPI check included"
(cd "$client" && npx vitest run)

step "client: npm pack, install the tarball elsewhere, import it"
(cd "$client" && node --test scripts/pack.test.mjs)

step "example: install and type check"
(cd "$example" && npm ci && npm run typecheck)

step "example: browser test (vite build, Chromium, the service)"
(cd "$example" && node --test e2e/)

step "accounts example: install and type check"
(cd "$accounts_example" && npm ci && npm run typecheck)

step "accounts example: browser test (SMTP test server, the service, the Node route, vite preview, Chromium)"
bash "$root/scripts/with-smtp-test-server.sh" bash -c 'cd "$1" && node --test e2e/' _ "$accounts_example"

step "all JavaScript tests passed"

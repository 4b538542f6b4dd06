#!/usr/bin/env bash
# Tests the dashboard (web-admin/): npm ci, strict type check, Vitest unit tests (with the
# OpenAPI check against the real service's /openapi.json), vite build, then the browser test
# (Debian's Chromium via playwright-core) against the real users-api binary serving the build.
#
# Exits non-zero on any failure; skips nothing (the OpenAPI check is given a document).
#
#   USERS_API_BIN   use this service binary instead of building target/debug/users-api
#   CHROMIUM_PATH   use this Chromium instead of /usr/bin/chromium
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
web="$root/web-admin"
# shellcheck source=scripts/js-common.sh
source "$root/scripts/js-common.sh"

test -x "$CHROMIUM_PATH" || { echo "no Chromium at $CHROMIUM_PATH (apt-get install chromium, or set CHROMIUM_PATH)" >&2; exit 1; }

step "web-admin: install (npm ci)"
(cd "$web" && npm ci)

step "web-admin: type check (tsc --noEmit, strict)"
(cd "$web" && npm run lint)

build_service
fetch_openapi

step "web-admin: unit tests (Vitest), OpenAPI check included"
(cd "$web" && npx vitest run)

step "web-admin: build (vite build -> web-admin/dist)"
(cd "$web" && npm run build)
ls "$web"/dist/assets/*.js >/dev/null

step "web-admin: browser test (the service serving web-admin/dist, Chromium)"
(cd "$web" && node --test --test-reporter=spec e2e/)

step "all web-admin tests passed"

#!/usr/bin/env bash
# Property-based API testing with schemathesis (PyPI) against /openapi.json, logged in as an
# admin: fails on any server error (5xx) and on any answer that breaks the document (status
# codes, content types, headers, body schemas). Installs schemathesis into .venv when missing.
#
#   bash scripts/test-schemathesis.sh [BINARY]      (default: target/debug/users-api)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCHEMATHESIS_VERSION="4.32.5"
BINARY="${1:-target/debug/users-api}"
[ -x "$BINARY" ] || cargo build -p server
[ -x .venv/bin/python ] || python3 -m venv .venv
if [ "$(.venv/bin/python -m pip show schemathesis 2>/dev/null | sed -n 's/^Version: //p')" != "$SCHEMATHESIS_VERSION" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

work="$(mktemp -d)"
port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
USERS_API__STORAGE__BACKEND=memory USERS_API__RATE_LIMIT__ENABLED=false PORT="$port" \
  USERS_API__HASHING__MEMORY_KIB=8 USERS_API__HASHING__ITERATIONS=1 USERS_API__LOG__LEVEL=warn \
  USERS_API__ADMIN__BOOTSTRAP_EMAIL=admin@example.com USERS_API__ADMIN__BOOTSTRAP_PASSWORD='a long admin passphrase' \
  "$BINARY" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fsS "$base/health" >/dev/null 2>&1 && break; sleep 0.2; done

# Log in (same-origin, JSON, as the CSRF rule wants) and keep the session cookie.
curl -fsS -c "$work/cookies" -H "origin: $base" -H 'content-type: application/json' \
  -d '{"email": "admin@example.com", "password": "a long admin passphrase"}' "$base/auth/login" >/dev/null
cookie="$(awk '$6 == "users_api_session" { print $6 "=" $7 }' "$work/cookies")"
[ -n "$cookie" ] || { echo "login did not set the session cookie" >&2; exit 1; }
# An app for the generated requests to find.
curl -fsS -b "$work/cookies" -H "origin: $base" -H 'content-type: application/json' \
  -d '{"sourceAppId": "fuzz-site", "name": "Fuzz", "allowedOrigins": ["*"]}' "$base/v1/apps" >/dev/null

.venv/bin/schemathesis run "$base/openapi.json" \
  --header "Cookie: $cookie" --header "Origin: $base" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --exclude-path /auth/logout \
  --max-examples 25 --workers 2 --request-timeout 10 \
  --suppress-health-check all
echo "schemathesis: no server error and no schema violation"

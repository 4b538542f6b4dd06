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
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

step() { printf '\n=== %s\n' "$*"; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

test -x "$CHROMIUM_PATH" || { echo "no Chromium at $CHROMIUM_PATH (apt-get install chromium, or set CHROMIUM_PATH)" >&2; exit 1; }

step "web-admin: install (npm ci)"
(cd "$web" && npm ci)

step "web-admin: type check (tsc --noEmit, strict)"
(cd "$web" && npm run lint)

step "service: build"
if [ -z "${USERS_API_BIN:-}" ]; then
  (cd "$root" && cargo build -p server)
  export USERS_API_BIN="$root/target/debug/users-api"
fi
test -x "$USERS_API_BIN" || { echo "no service binary at $USERS_API_BIN" >&2; exit 1; }

step "service: fetch /openapi.json"
port="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
(
  cd "$root"
  USERS_API__STORAGE__BACKEND=memory USERS_API__RATE_LIMIT__ENABLED=false PORT="$port" \
    exec "$USERS_API_BIN" serve
) >"$work/openapi-server.log" 2>&1 &
server_pid=$!
export USERS_API_OPENAPI="$work/openapi.json"
if ! node - "$port" "$USERS_API_OPENAPI" <<'JS'
const [port, out] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 60_000;
for (;;) {
  try {
    if ((await fetch(`${base}/health`)).status === 200) break;
  } catch {}
  if (Date.now() > deadline) { console.error('the service did not come up'); process.exit(1); }
  await new Promise((done) => setTimeout(done, 200));
}
const response = await fetch(`${base}/openapi.json`);
if (response.status !== 200) { console.error(`GET /openapi.json answered ${response.status}`); process.exit(1); }
const text = await response.text();
JSON.parse(text);
(await import('node:fs')).writeFileSync(out, text);
console.log(`saved ${text.length} bytes of OpenAPI to ${out}`);
JS
then
  cat "$work/openapi-server.log" >&2
  exit 1
fi
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=""

step "web-admin: unit tests (Vitest), OpenAPI check included"
(cd "$web" && npx vitest run)

step "web-admin: build (vite build -> web-admin/dist)"
(cd "$web" && npm run build)
ls "$web"/dist/assets/*.js >/dev/null

step "web-admin: browser test (the service serving web-admin/dist, Chromium)"
(cd "$web" && node --test --test-reporter=spec e2e/)

step "all web-admin tests passed"

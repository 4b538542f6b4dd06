#!/usr/bin/env bash
# Tests the JavaScript side: the @users-api/client package (type check, unit tests, OpenAPI
# check against the real service, `npm pack` install check) and the React/Vite example (type
# check, browser test in Debian's Chromium against the real service).
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
node - "$port" "$USERS_API_OPENAPI" <<'EOF'
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
EOF
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=""

step "client: unit tests (Vitest), OpenAPI check included"
(cd "$client" && npx vitest run)

step "client: npm pack, install the tarball elsewhere, import it"
(cd "$client" && node --test scripts/pack.test.mjs)

step "example: install and type check"
(cd "$example" && npm ci && npm run typecheck)

step "example: browser test (vite build, Chromium, the service)"
(cd "$example" && node --test e2e/)

step "all JavaScript tests passed"

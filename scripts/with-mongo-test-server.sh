#!/usr/bin/env bash
# Runs a command with a MongoDB wire-protocol test server (nx-27017, MongoDB's protocol over
# SQLite; no mongod or Docker needed):
#
#   bash scripts/with-mongo-test-server.sh cargo test -p mongo-adapter
#
# - installs nx-27017 into ./.venv (python3 -m venv) when it is not there yet;
# - starts it on a free loopback port with a fresh temporary data directory, waits until it
#   accepts connections, and exports
#     USERS_API_TEST_MONGO             1: the tests that need the server are built to run, not
#                                      ignored (a build-time flag, see crates/mongo-adapter/build.rs)
#     USERS_API_TEST_MONGO_URI         mongodb://127.0.0.1:PORT
#     USERS_API_TEST_MONGO_SERVER_CMD  path of a control script for a *second* server that tests
#                                      may stop and restart: `start` starts it (or leaves it
#                                      running) and prints its URI, which stays the same across
#                                      restarts, as does its data; `stop` stops it.
# - runs the command, stops both servers, removes the temporary data and exits with the
#   command's status.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

NX_VERSION="0.8.1" # the version whose behaviour the mongo-adapter tests were written against
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
installed="$("$VENV/bin/python" -m pip show nx-27017 2>/dev/null | sed -n "s/^Version: //p" || true)"
if [ "$installed" != "$NX_VERSION" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "nx-27017==$NX_VERSION"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/users-api-mongo.XXXXXX")"
CTL="$WORK/server-ctl"

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The control script knows one server: its port, data directory, pid and log live in $2.
# It is written as a file so tests can run it as a plain command.
cat >"$CTL" <<'CTL_EOF'
#!/usr/bin/env bash
# Controls one nx-27017 test server. Usage: server-ctl start|stop [STATE_DIR]
set -euo pipefail
STATE="${2:-__DEFAULT_STATE__}"
NX="__NX__"
PORT="$(cat "$STATE/port")"

accepting() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }
running() { [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; }

case "${1:-}" in
start)
    if ! running; then
        mkdir -p "$STATE/data"
        # setsid + /dev/null: the server must not hold the caller's terminal or output pipes.
        setsid "$NX" --host 127.0.0.1 -p "$PORT" --data-dir "$STATE/data" \
            --pid-file "$STATE/nx.pid" --log-file "$STATE/nx.log" \
            </dev/null >>"$STATE/server.out" 2>&1 &
        echo $! >"$STATE/pid"
    fi
    for _ in $(seq 1 300); do
        if accepting; then
            echo "mongodb://127.0.0.1:$PORT"
            exit 0
        fi
        if ! running; then
            echo "the test server exited; its output:" >&2
            cat "$STATE/server.out" >&2 || true
            exit 1
        fi
        sleep 0.1
    done
    echo "the test server did not accept connections on port $PORT within 30 s" >&2
    exit 1
    ;;
stop)
    if running; then
        pid="$(cat "$STATE/pid")"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/pid"
    # Stopped means no longer accepting, so a caller can rely on connections failing now.
    for _ in $(seq 1 100); do
        accepting || exit 0
        sleep 0.1
    done
    echo "port $PORT still accepts connections after stop" >&2
    exit 1
    ;;
*)
    echo "usage: $0 start|stop [STATE_DIR]" >&2
    exit 2
    ;;
esac
CTL_EOF
sed -i -e "s|__NX__|$VENV/bin/nx-27017|" -e "s|__DEFAULT_STATE__|$WORK/restartable|" "$CTL"
chmod +x "$CTL"

mkdir -p "$WORK/main" "$WORK/restartable"
free_port >"$WORK/main/port"
restartable_port="$(free_port)"
while [ "$restartable_port" = "$(cat "$WORK/main/port")" ]; do restartable_port="$(free_port)"; done
echo "$restartable_port" >"$WORK/restartable/port"

cleanup() {
    "$CTL" stop "$WORK/restartable" >/dev/null 2>&1 || true
    "$CTL" stop "$WORK/main" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! USERS_API_TEST_MONGO_URI="$("$CTL" start "$WORK/main")"; then
    echo "could not start the MongoDB test server" >&2
    exit 1
fi
export USERS_API_TEST_MONGO_URI
export USERS_API_TEST_MONGO=1
export USERS_API_TEST_MONGO_SERVER_CMD="$CTL"
echo "MongoDB test server (nx-27017 $NX_VERSION) at $USERS_API_TEST_MONGO_URI" >&2

set +e
"$@"
status=$?
set -e
exit "$status"

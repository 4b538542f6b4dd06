#!/usr/bin/env bash
# Runs a command with the SMTP test server (scripts/smtp_test_server.py, on aiosmtpd from PyPI;
# no real mail leaves the machine):
#
#   bash scripts/with-smtp-test-server.sh cargo test -p tests mailbox
#   bash scripts/with-smtp-test-server.sh bash scripts/with-mongo-test-server.sh cargo test
#
# - installs aiosmtpd into ./.venv (python3 -m venv) when it is not there yet;
# - starts the server on two free loopback ports with a fresh temporary directory, waits until
#   both accept connections, and exports
#     USERS_API_TEST_SMTP           1: the tests that need the server are built to run, not
#                                   ignored (a build-time flag, see tests/build.rs)
#     USERS_API_TEST_SMTP_URL       smtp://127.0.0.1:PORT, plain SMTP, no AUTH
#     USERS_API_TEST_SMTP_AUTH_URL  smtp://mailer:secret-pass@127.0.0.1:PORT2, AUTH PLAIN/LOGIN
#                                   required (530 before it), without TLS; other credentials 535
#     USERS_API_TEST_SMTP_DIR       the delivered messages, one JSON file each, named so they sort
#                                   in delivery order (see scripts/smtp_test_server.py)
#   Recipients whose local part starts with `refuse` get 550, with `tempfail` 451.
# - runs the command, stops the server, removes the temporary directory and exits with the
#   command's status. The server's log is printed if it does not start.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

AIOSMTPD_VERSION="1.4.6" # the version whose behaviour the SMTP tests were written against
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
installed="$("$VENV/bin/python" -m pip show aiosmtpd 2>/dev/null | sed -n "s/^Version: //p" || true)"
if [ "$installed" != "$AIOSMTPD_VERSION" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/users-api-smtp.XXXXXX")"
SERVER_PID=""

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

running() { [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; }

cleanup() {
    if running; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(free_port)"
auth_port="$(free_port)"
while [ "$auth_port" = "$port" ]; do auth_port="$(free_port)"; done

mkdir -p "$WORK/messages"
# setsid + /dev/null: the server must not hold the caller's terminal or output pipes.
setsid "$VENV/bin/python" "$ROOT/scripts/smtp_test_server.py" --host 127.0.0.1 \
    --port "$port" --auth-port "$auth_port" --dir "$WORK/messages" \
    --ready-file "$WORK/ready" --log-file "$WORK/server.log" \
    </dev/null >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 300); do
    [ -f "$WORK/ready" ] && break
    if ! running; then
        echo "the SMTP test server exited; its log:" >&2
        cat "$WORK/server.log" >&2 || true
        exit 1
    fi
    sleep 0.1
done
if [ ! -f "$WORK/ready" ]; then
    echo "the SMTP test server did not accept connections on ports $port and $auth_port within 30 s; its log:" >&2
    cat "$WORK/server.log" >&2 || true
    exit 1
fi

export USERS_API_TEST_SMTP=1
export USERS_API_TEST_SMTP_URL="smtp://127.0.0.1:$port"
export USERS_API_TEST_SMTP_AUTH_URL="smtp://mailer:secret-pass@127.0.0.1:$auth_port"
export USERS_API_TEST_SMTP_DIR="$WORK/messages"
echo "SMTP test server (aiosmtpd $AIOSMTPD_VERSION) at $USERS_API_TEST_SMTP_URL, AUTH at 127.0.0.1:$auth_port, messages in $USERS_API_TEST_SMTP_DIR" >&2

set +e
"$@"
status=$?
set -e
exit "$status"

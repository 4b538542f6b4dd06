#!/usr/bin/env python3
"""The SMTP test server of the tests (aiosmtpd), started by scripts/with-smtp-test-server.sh.

Two listeners on --host:
  --port       plain SMTP, no AUTH: accepts mail from anyone;
  --auth-port  requires AUTH PLAIN or LOGIN (allowed without TLS: loopback only) as
               mailer / secret-pass; MAIL before AUTH gets 530, other credentials 535.

At RCPT TO, by the address's local part (case-insensitive): `refuse...` gets
`550 5.1.1 mailbox unavailable`, `tempfail...` gets `451 4.3.0 try again later`, anything
else is accepted.

Every accepted message (either port) becomes one JSON file in --dir,
`<zero-padded sequence>-<uuid4 hex>.json`, written as `*.tmp` and then renamed, so a reader
never sees half a file and the names sort in delivery order:
  mail_from, rcpt_tos (the accepted recipients), from, to, subject (decoded), message_id,
  text / html (the decoded text/plain and text/html parts, or null), content_type (the top-level
  one), authenticated_as (the AUTH user, or null), raw (the message as received).

--ready-file is written once both listeners accept connections. SIGTERM or SIGINT stops the
server cleanly. The log goes to --log-file (default: standard error).
"""

import argparse
import email
import email.policy
import json
import logging
import os
import signal
import sys
import threading
import uuid
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "mailer"
PASSWORD = "secret-pass"

log = logging.getLogger("smtp_test_server")


class Handler:
    """Shared by both listeners; each runs in its own thread, hence the lock."""

    def __init__(self, directory):
        self.directory = directory
        self.lock = threading.Lock()
        self.sequence = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rsplit("@", 1)[0].lower()
        if local.startswith("refuse"):
            log.info("RCPT %s refused (550)", address)
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("tempfail"):
            log.info("RCPT %s deferred (451)", address)
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or b""
        try:
            record = describe(raw)
        except Exception:  # a message we cannot parse is still delivered, raw
            log.exception("could not parse the message from %s", envelope.mail_from)
            record = {
                "from": "",
                "to": "",
                "subject": "",
                "message_id": "",
                "text": None,
                "html": None,
                "content_type": "",
            }
        authenticated_as = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            authenticated_as = session.auth_data.login.decode("utf-8", "replace")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            **record,
            "authenticated_as": authenticated_as,
            "raw": raw.decode("utf-8", "replace"),
        }
        with self.lock:
            self.sequence += 1
            name = f"{self.sequence:08d}-{uuid.uuid4().hex}.json"
            path = os.path.join(self.directory, name)
            with open(path + ".tmp", "w", encoding="utf-8") as out:
                json.dump(record, out, ensure_ascii=False, indent=1)
            os.replace(path + ".tmp", path)
        log.info(
            "delivered %s from %s to %s (subject %r)",
            name,
            envelope.mail_from,
            ", ".join(envelope.rcpt_tos),
            record["subject"],
        )
        return "250 2.0.0 OK: queued as " + name


def describe(raw):
    """The parsed fields of one message; line ends in the parts become \\n."""
    message = email.message_from_bytes(
        raw.replace(b"\r\n", b"\n"), policy=email.policy.default
    )

    def header(name):
        value = message.get(name)
        return "" if value is None else str(value)

    def part(kind):
        body = message.get_body((kind,))
        if body is None:
            return None
        try:
            return body.get_content()
        except (LookupError, ValueError):  # an unknown charset or a broken encoding
            payload = body.get_payload(decode=True) or b""
            return payload.decode("utf-8", "replace")

    return {
        "from": header("From"),
        "to": header("To"),
        "subject": header("Subject"),
        "message_id": header("Message-ID"),
        "text": part("plain"),
        "html": part("html"),
        "content_type": message.get_content_type(),
    }


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    log.info("AUTH %s as %r: %s", mechanism, getattr(auth_data, "login", None), ok)
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--auth-port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--log-file")
    args = parser.parse_args()

    logging.basicConfig(
        filename=args.log_file,
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    os.makedirs(args.dir, exist_ok=True)
    # Deliberate: AUTH without TLS, on loopback only.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")

    # The controllers' threads inherit this mask, so the signals reach sigwait below.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)

    handler = Handler(args.dir)
    plain = Controller(handler, hostname=args.host, port=args.port)
    auth = Controller(
        handler,
        hostname=args.host,
        port=args.auth_port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    plain.start()
    try:
        auth.start()
        try:
            with open(args.ready_file + ".tmp", "w", encoding="utf-8") as ready:
                ready.write(f"{args.port} {args.auth_port}\n")
            os.replace(args.ready_file + ".tmp", args.ready_file)
            log.info(
                "listening on %s:%d (plain) and %s:%d (AUTH), messages in %s",
                args.host,
                args.port,
                args.host,
                args.auth_port,
                args.dir,
            )
            received = signal.sigwait(stop_signals)
            log.info("stopping on %s", signal.Signals(received).name)
        finally:
            auth.stop()
    finally:
        plain.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

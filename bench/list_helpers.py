"""Helpers of bench/list.sh (the management-listing benchmark), one sub-command each.

  login BASE EMAIL                 our dashboard login (password on stdin); prints "name=value"
                                   of the session cookie
  count BASE COOKIE APP            the app's number of user records (GET /v1/apps, admins only)
  walk BASE COOKIE APP PAGES LIMIT follows nextCursor from page 1 to page PAGES; prints JSON with
                                   the cursor of page PAGES and how long the walk took
  check URL HEADER KEY COUNT       GET URL with one "Name: value" header; fails unless it answers
                                   200 with COUNT items under KEY; prints the first item's id
  pb-token API EMAIL              a PocketBase superuser token (password on stdin)
  pb-total API TOKEN               totalItems of the signups collection
  pb-seed DB TOTAL                 inserts TOTAL records into PocketBase's data.db table signups,
                                   with the values bench/seed.lua sends to our service
  rss PID OUT STOPFILE             samples VmRSS of PID every 50 ms until STOPFILE exists; writes
                                   JSON {max_rss_kb, samples, seconds} to OUT

Standard library only (python3 of the machine, no venv needed).
"""

import json
import os
import random
import sqlite3
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Émilie du Châtelet", "Ken Thompson"]


def http(method, url, headers=None, body=None, timeout=120):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def fail(message):
    print(f"list_helpers: {message}", file=sys.stderr)
    sys.exit(1)


def login(base, email):
    password = sys.stdin.readline().rstrip("\r\n")
    # The CSRF rule: a POST must come from our own origin, as JSON.
    status, headers, body = http("POST", f"{base}/auth/login", {"origin": base},
                                 {"email": email, "password": password})
    if status != 200:
        fail(f"login answered {status}: {body[:300]!r}")
    for value in headers.get_all("set-cookie") or []:
        pair = value.split(";", 1)[0].strip()
        if pair.startswith("users_api_session="):
            print(pair)
            return
    fail("login set no users_api_session cookie")


def count(base, cookie, app):
    status, _, body = http("GET", f"{base}/v1/apps", {"cookie": cookie})
    if status != 200:
        fail(f"GET /v1/apps answered {status}: {body[:300]!r}")
    for entry in json.loads(body)["apps"]:
        if entry["sourceAppId"] == app:
            print(entry["userCount"])
            return
    fail(f"no app {app} in GET /v1/apps")


def walk(base, cookie, app, pages, limit):
    pages, limit = int(pages), int(limit)
    cursor, started = None, time.monotonic()
    for page in range(1, pages):
        url = f"{base}/v1/apps/{app}/users?limit={limit}"
        if cursor:
            url += f"&cursor={cursor}"
        status, _, body = http("GET", url, {"cookie": cookie})
        if status != 200:
            fail(f"page {page} answered {status}: {body[:300]!r}")
        answer = json.loads(body)
        if len(answer["users"]) != limit or not answer.get("nextCursor"):
            fail(f"page {page} holds {len(answer['users'])} users, nextCursor "
                 f"{answer.get('nextCursor')!r}: fewer records than {pages} pages?")
        cursor = answer["nextCursor"]
    print(json.dumps({"cursor": cursor, "pages_walked": pages - 1,
                      "seconds": round(time.monotonic() - started, 3)}))


def check(url, header, key, expected):
    name, _, value = header.partition(":")
    status, _, body = http("GET", url, {name.strip(): value.strip()} if name else {})
    if status != 200:
        fail(f"{url} answered {status}: {body[:300]!r}")
    items = json.loads(body).get(key) or []
    if len(items) != int(expected):
        fail(f"{url} holds {len(items)} items under {key!r}, expected {expected}")
    print(items[0]["id"])


def pb_token(api, email):
    password = sys.stdin.readline().rstrip("\r\n")
    status, _, body = http("POST", f"{api}/collections/_superusers/auth-with-password", {},
                           {"identity": email, "password": password})
    if status != 200:
        fail(f"PocketBase superuser login answered {status}: {body[:300]!r}")
    print(json.loads(body)["token"])


def pb_total(api, token):
    status, _, body = http("GET", f"{api}/collections/signups/records?perPage=1&fields=id",
                           {"authorization": token})
    if status != 200:
        fail(f"PocketBase count answered {status}: {body[:300]!r}")
    print(json.loads(body)["totalItems"])


def pb_rows(total):
    """Record g of PocketBase's copy: the values bench/seed.lua sends for g (keep in step)."""
    rng = random.Random(20261123)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    start = datetime(2026, 11, 23, 10, 0, 0, tzinfo=timezone.utc)
    for g in range(1, total + 1):
        birthday = ""
        if g % 4 == 0:
            birthday = f"{1950 + g % 50:04d}-{1 + g % 12:02d}-{1 + g % 28:02d} 00:00:00.000Z"
        # Sent true when g % 4 == 0, false when g % 2 == 0, else absent: PocketBase stores
        # an absent bool as false.
        consent_optional = g % 4 == 0
        # Creation order = insertion order (rowid), one millisecond apart.
        at = start + timedelta(milliseconds=g)
        stamp = at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
        yield {
            "id": "".join(rng.choices(alphabet, k=15)),
            "email": f"user{g}@example.com",
            "fullName": NAMES[g % len(NAMES)],
            "age": 18 + g % 60,
            "plan": "free" if g % 3 == 0 else "pro",
            "birthday": birthday,
            "consentRequired": 1,
            "consentOptional": 1 if consent_optional else 0,
            "created": stamp,
            "updated": stamp,
        }


def pb_seed(db, total):
    total = int(total)
    started = time.monotonic()
    connection = sqlite3.connect(db, isolation_level=None)
    columns = [row[1] for row in connection.execute("PRAGMA table_info(signups)")]
    wanted = ["id", "email", "fullName", "age", "plan", "birthday", "consentRequired",
              "consentOptional", "created", "updated"]
    if sorted(columns) != sorted(wanted):
        fail(f"unexpected columns of signups: {columns} (PocketBase version changed?)")
    if connection.execute("SELECT count(*) FROM signups").fetchone()[0] != 0:
        fail("signups is not empty")
    sql = (f"INSERT INTO signups ({', '.join(f'`{c}`' for c in wanted)}) "
           f"VALUES ({', '.join(f':{c}' for c in wanted)})")
    connection.execute("BEGIN")
    connection.executemany(sql, pb_rows(total))
    connection.execute("COMMIT")
    # Fold the WAL into the database file, so that PocketBase starts as on any restart.
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stored = connection.execute("SELECT count(*) FROM signups").fetchone()[0]
    connection.close()
    if stored != total:
        fail(f"{stored} rows in signups after inserting {total}")
    print(json.dumps({"rows": stored, "seconds": round(time.monotonic() - started, 3)}))


def rss(pid, out, stopfile):
    status = f"/proc/{pid}/status"
    peak, samples, started = 0, 0, time.monotonic()
    while not os.path.exists(stopfile):
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        peak = max(peak, int(line.split()[1]))
                        samples += 1
                        break
        except OSError:
            break
        time.sleep(0.05)
    with open(out, "w") as f:
        json.dump({"max_rss_kb": peak, "samples": samples,
                   "seconds": round(time.monotonic() - started, 3)}, f)


COMMANDS = {"login": login, "count": count, "walk": walk, "check": check, "pb-token": pb_token,
            "pb-total": pb_total, "pb-seed": pb_seed, "rss": rss}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        fail(f"usage: {sys.argv[0]} {'|'.join(COMMANDS)} ARGS...")
    COMMANDS[sys.argv[1]](*sys.argv[2:])

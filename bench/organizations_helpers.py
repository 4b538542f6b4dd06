"""Helpers of bench/organizations.sh (an organization's member list), one sub-command each.
The API key, where one is needed, is read from the environment variable BENCH_API_KEY (not
from the command line).

  login BASE EMAIL                 our dashboard login (password on stdin); prints "name=value"
                                   of the session cookie
  api-key BASE COOKIE APP ROLE     creates an API key of APP with ROLE (the dashboard session;
                                   Origin = BASE, JSON body); prints the key
  org BASE APP NAME                creates an organization with the API key; prints its id
  walk BASE APP ORG LIMIT AFTER    follows data.next_cursor through every page of LIMIT members;
                                   checks the ids are unique and ascending; prints JSON with
                                   the count, the first id, the id of member AFTER (1-based), the
                                   cursor of a
                                   page starting after it (URL-safe base64 without padding of
                                   that id), the id of member AFTER + 1 (the deep page's first)
                                   and how long the walk took
  check FILE STATUS COUNT [FIRST]  a page curl saved to FILE, answered STATUS: fails unless it
                                   is 200 with COUNT members under data.users (and, when given,
                                   FIRST the first one's id); prints the first id

Standard library only (python3 of the machine, no venv needed).
"""

import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request


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
    print(f"organizations_helpers: {message}", file=sys.stderr)
    sys.exit(1)


def key_headers(app):
    key = os.environ.get("BENCH_API_KEY") or fail("BENCH_API_KEY is not set")
    return {"x-api-key": key, "x-app-id": app}


def cursor_of(user_id):
    """What crates/http-adapter/src/routes/organizations.rs encode_cursor makes of an id."""
    return base64.urlsafe_b64encode(user_id.encode()).decode().rstrip("=")


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


def api_key(base, cookie, app, role):
    status, _, body = http("POST", f"{base}/v1/apps/{app}/api-keys",
                           {"cookie": cookie, "origin": base}, {"name": "bench", "role": role})
    if status != 201:
        fail(f"POST /v1/apps/{app}/api-keys answered {status}: {body[:300]!r}")
    key = json.loads(body).get("key")
    if not key:
        fail(f"the API key's answer holds no key: {body[:300]!r}")
    print(key)


def org(base, app, name):
    status, _, body = http("POST", f"{base}/v1/organizations", key_headers(app), {"name": name})
    if status != 201:
        fail(f"POST /v1/organizations answered {status}: {body[:300]!r}")
    print(json.loads(body)["data"]["id"])


def members_page(base, app, organization, limit, cursor):
    url = f"{base}/v1/organizations/{organization}/users?limit={limit}"
    if cursor:
        url += f"&cursor={cursor}"
    status, _, body = http("GET", url, key_headers(app))
    if status != 200:
        fail(f"{url} answered {status}: {body[:300]!r}")
    data = json.loads(body)["data"]
    return [user["id"] for user in data["users"]], data.get("next_cursor")


def walk(base, app, organization, limit, after):
    limit, after = int(limit), int(after)
    started = time.monotonic()
    cursor, count, pages, last = None, 0, 0, ""
    first_id, after_id, first_deep_id, after_next = None, None, None, None
    while True:
        ids, next_cursor = members_page(base, app, organization, limit, cursor)
        pages += 1
        for user_id in ids:
            if user_id <= last:
                fail(f"page {pages}: id {user_id} after {last}: not unique and ascending")
            last = user_id
            count += 1
            if count == 1:
                first_id = user_id
            if count == after:
                after_id = user_id
            elif count == after + 1:
                first_deep_id = user_id
        # The page that ends exactly at member AFTER: its next_cursor is the deep cursor too.
        if count == after:
            after_next = next_cursor
        if not next_cursor:
            break
        if len(ids) != limit:
            fail(f"page {pages} holds {len(ids)} members but has a next_cursor")
        cursor = next_cursor
    if first_deep_id is None:
        fail(f"only {count} members: none after number {after}")
    deep = cursor_of(after_id)
    if after_next is not None and after_next != deep:
        fail(f"next_cursor {after_next!r} after member {after} is not the cursor of its id {deep!r}")
    print(json.dumps({"members": count, "pages_walked": pages, "page_limit": limit,
                      "first_id": first_id, "after": after, "after_id": after_id, "first_deep_id": first_deep_id,
                      "cursor": deep,
                      "cursor_checked_against_next_cursor": after_next is not None,
                      "seconds": round(time.monotonic() - started, 3)}))


def check(path, status, expected, first=None):
    body = open(path, "rb").read()
    if status != "200":
        fail(f"the page answered {status}: {body[:300]!r}")
    users = json.loads(body)["data"]["users"]
    if len(users) != int(expected):
        fail(f"the page holds {len(users)} members, expected {expected}")
    if first and users[0]["id"] != first:
        fail(f"the page's first member is {users[0]['id']}, expected {first}")
    print(users[0]["id"])


COMMANDS = {"login": login, "api-key": api_key, "org": org, "walk": walk, "check": check}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        fail(f"usage: {sys.argv[0]} {'|'.join(COMMANDS)} ARGS...")
    COMMANDS[sys.argv[1]](*sys.argv[2:])

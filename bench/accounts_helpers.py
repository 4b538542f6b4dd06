"""Helpers of bench/accounts.sh (the accounts benchmark), one sub-command each. Passwords are
the run's throwaway ones, given as arguments.

  register BASE EMAIL PASSWORD       POST /v1/auth/register (x-app-id: bench); prints JSON
                                     {token, refresh_token, user_id}
  login BASE EMAIL PASSWORD          POST /v1/auth/login; prints JSON {token, refresh_token}
  refresh BASE REFRESH_TOKEN         POST /v1/auth/refresh; prints JSON {token, refresh_token}
  chains BASE EMAIL PASSWORD N FILE  N logins of one account, PARALLEL at a time (8): writes the
                                     N refresh tokens to FILE, one per line (N sessions, N chains)
  sessions BASE TOKEN                the number of active sessions of the token's account
                                     (GET /v1/users/me/sessions)
  check URL HEADER EXPECT            GET URL with one "Name: value" header; fails unless it
                                     answers 200 with EXPECT in its body
  pb-auth API COLLECTION IDENTITY PASSWORD
                                     PocketBase auth-with-password; prints JSON {token, id}
  pb-user API SUPERUSER_TOKEN EMAIL PASSWORD
                                     creates a record of PocketBase's users collection; prints its id
  pb-rules API SUPERUSER_TOKEN       makes sure the users collection's view rule is
                                     "id = @request.auth.id" (its default) and its rate limits
                                     are off (their default); prints the rules as JSON

Standard library only (python3 of the machine, no venv needed).
"""

import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

APP = "bench"
PARALLEL = 8


def http(method, url, headers=None, body=None, timeout=300):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def fail(message):
    print(f"accounts_helpers: {message}", file=sys.stderr)
    sys.exit(1)


def ours(method, url, body=None, token=None, expect=200):
    headers = {"x-app-id": APP}
    if token:
        headers["authorization"] = f"Bearer {token}"
    status, raw = http(method, url, headers, body)
    if status != expect:
        fail(f"{method} {url} answered {status}: {raw[:300]!r}")
    answer = json.loads(raw)
    if not answer.get("success"):
        fail(f"{method} {url}: {raw[:300]!r}")
    return answer["data"]


def register(base, email, password):
    data = ours("POST", f"{base}/v1/auth/register",
                {"email": email, "password": password, "name": "Bench Account"}, expect=201)
    print(json.dumps({"token": data["token"], "refresh_token": data["refresh_token"],
                      "user_id": data["user"]["id"]}))


def login_once(base, email, password):
    data = ours("POST", f"{base}/v1/auth/login", {"email": email, "password": password})
    return {"token": data["token"], "refresh_token": data["refresh_token"]}


def login(base, email, password):
    print(json.dumps(login_once(base, email, password)))


def refresh(base, token):
    data = ours("POST", f"{base}/v1/auth/refresh", {"refresh_token": token})
    print(json.dumps({"token": data["token"], "refresh_token": data["refresh_token"]}))


def chains(base, email, password, n, path):
    n = int(n)
    with ThreadPoolExecutor(PARALLEL) as pool:
        tokens = list(pool.map(lambda _: login_once(base, email, password)["refresh_token"],
                               range(n)))
    if len(set(tokens)) != n:
        fail("two logins gave the same refresh token")
    with open(path, "w") as f:
        f.write("".join(t + "\n" for t in tokens))
    print(n)


def sessions(base, token):
    data = ours("GET", f"{base}/v1/users/me/sessions", token=token)
    print(len(data["sessions"]))


def check(url, header, expect):
    name, _, value = header.partition(":")
    status, raw = http("GET", url, {name.strip(): value.strip()})
    if status != 200 or expect.encode() not in raw:
        fail(f"GET {url} answered {status}: {raw[:300]!r}")
    print(status)


def pb_auth(api, collection, identity, password):
    status, raw = http("POST", f"{api}/collections/{collection}/auth-with-password", {},
                       {"identity": identity, "password": password})
    if status != 200:
        fail(f"PocketBase auth-with-password ({collection}) answered {status}: {raw[:300]!r}")
    answer = json.loads(raw)
    print(json.dumps({"token": answer["token"], "id": answer["record"]["id"]}))


def pb_user(api, token, email, password):
    status, raw = http("POST", f"{api}/collections/users/records", {"Authorization": token},
                       {"email": email, "password": password, "passwordConfirm": password})
    if status != 200:
        fail(f"PocketBase user creation answered {status}: {raw[:300]!r}")
    print(json.loads(raw)["id"])


def pb_rules(api, token):
    auth = {"Authorization": token}
    status, raw = http("GET", f"{api}/collections/users", auth)
    if status != 200:
        fail(f"PocketBase GET collections/users answered {status}: {raw[:300]!r}")
    collection = json.loads(raw)
    rule = "id = @request.auth.id"
    if collection.get("viewRule") != rule:
        status, raw = http("PATCH", f"{api}/collections/users", auth, {"viewRule": rule})
        if status != 200:
            fail(f"PocketBase PATCH collections/users answered {status}: {raw[:300]!r}")
        collection = json.loads(raw)
    status, raw = http("GET", f"{api}/settings", auth)
    if status != 200:
        fail(f"PocketBase GET settings answered {status}: {raw[:300]!r}")
    limits = json.loads(raw).get("rateLimits") or {}
    if limits.get("enabled"):
        status, raw = http("PATCH", f"{api}/settings", auth, {"rateLimits": {"enabled": False}})
        if status != 200:
            fail(f"PocketBase PATCH settings answered {status}: {raw[:300]!r}")
    print(json.dumps({"viewRule": collection.get("viewRule"), "authRule": collection.get("authRule"),
                      "rateLimits": False}))


COMMANDS = {
    "register": register, "login": login, "refresh": refresh, "chains": chains,
    "sessions": sessions, "check": check, "pb-auth": pb_auth, "pb-user": pb_user,
    "pb-rules": pb_rules,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        fail(f"usage: accounts_helpers.py {{{','.join(COMMANDS)}}} ...")
    COMMANDS[sys.argv[1]](*sys.argv[2:])

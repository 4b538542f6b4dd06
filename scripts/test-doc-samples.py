#!/usr/bin/env python3
"""Runs the shell and curl samples of the docs against the real binary, in the order a reader
follows them, and checks what they answer.

Every fenced block after a `<!-- sample: NAME -->` marker is a sample. JavaScript, TypeScript
and JSON samples are checked by the client's Vitest suite (clients/js/test/docs-samples.test.ts);
shell samples that only run npm are the very commands scripts/test-js.sh runs. Every other
sample must be run here: an unknown sample name fails the test, so none can go untested. The
accounts guide's Python sample (PyJWT) runs here too, with the checkout's .venv/bin/python (or
USERS_API_PYTHON), where scripts/test.sh installs PyJWT and cryptography.

Usage: scripts/test-doc-samples.py BINARY   (e.g. target/debug/users-api)
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md",
        ROOT / "examples/react-vite/README.md", ROOT / "examples/accounts-react/README.md",
        ROOT / "clients/js/README.md"]
SAMPLE = re.compile(r"<!-- sample: ([\w-]+) -->\n```(\w+)\n(.*?)```", re.S)

# Samples whose commands scripts/test-js.sh runs itself (npm ci / lint / test / pack / build).
RUN_BY_TEST_JS = {"shell-install-client", "shell-run-example", "shell-example-run", "shell-client-development",
                  "accounts-example-e2e"}
# Compared with examples/react-vite/.env.example by the client's docs-samples test.
CHECKED_BY_CLIENT_TESTS = {"env-example"}
# Build commands: the test uses the binary it is given instead of building a release one.
BUILDS = {"shell-run-service": "./target/release/users-api serve"}


def samples():
    found = {}
    for doc in DOCS:
        for name, language, body in SAMPLE.findall(doc.read_text()):
            assert name not in found or found[name][1] == body, f"sample {name} differs between docs"
            found[name] = (language, body, doc.relative_to(ROOT))
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    binary = str(Path(sys.argv[1]).resolve())
    all_samples = samples()
    port = free_port()
    checkout_before = git_status()
    work = Path(tempfile.mkdtemp(prefix="doc-samples-"))
    try:
        run_samples(binary, all_samples, port, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # The samples write their files (cookies, schema.json) to temporary places, and so does
    # this test: the checkout is as it was.
    assert git_status() == checkout_before, f"the doc samples changed the checkout:\n{git_status()}"


def git_status():
    """The checkout's `git status`, untracked files included (None outside a git checkout)."""
    try:
        return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def run_samples(binary, all_samples, port, work):
    # mktemp in a sample makes its files here.
    (work / "tmp").mkdir()
    env = {**os.environ, "USERS_API_CONFIG_DIR": str(work / "no-config"), "PORT": str(port),
           "TMPDIR": str(work / "tmp"),
           "USERS_API__HASHING__MEMORY_KIB": "8", "USERS_API__HASHING__ITERATIONS": "1",
           "USERS_API__LOG__LEVEL": "warn"}
    ran = set()

    def shell(name, stdin="", extra_env=None, cwd=work):
        language, body, doc = all_samples[name]
        assert language in ("sh", "bash"), f"{name} in {doc} is not a shell block"
        script = (body.replace("./target/release/users-api", binary)
                      .replace("http://localhost:8080", f"http://127.0.0.1:{port}")
                      .replace("/tmp/schema.json", str(work / "schema.json")))
        script = re.sub(r"^users-api ", binary + " ", script, flags=re.M)
        ran.add(name)
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env={**env, **(extra_env or {})},
                                input=stdin, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{name} ({doc}) failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def expect(name, needle, stdin="", extra_env=None, cwd=work):
        output = shell(name, stdin, extra_env, cwd)
        assert needle in output, f"{name}: expected {needle!r} in:\n{output}"
        print(f"ok   {name}")
        return output

    # getting-started.md, in order, with the service running beside the CLI.
    language, body, _ = all_samples["shell-run-service"]
    assert BUILDS["shell-run-service"] in body
    ran.add("shell-run-service")
    server = subprocess.Popen([binary, "serve"], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health") as answer:
                    if answer.status == 200:
                        break
            except OSError:
                assert time.time() < deadline, "the service did not start"
                time.sleep(0.1)
        print("ok   shell-run-service")
        expect("curl-health", '{"status":"ok"}')
        created = json.loads(expect("shell-create-app", '"sourceAppId":"my-marketing-site"'))
        assert len(created["password"]) == 32
        language, schema, _ = all_samples["schema-example"]
        (work / "schema.json").write_text(schema)
        expect("shell-set-schema", "saved schema version 1")
        time.sleep(1.2)  # the running service re-reads an app within its one-second cache
        expect("curl-first-submission", "HTTP/1.1 200")
        expect("shell-list-users", '"email":"ada@example.com"')
        # examples/react-vite/README.md: the same app, set up in a database of its own.
        expect("shell-example-create-app", "saved schema version 1",
               extra_env={"USERS_API__STORAGE__SQLITE__PATH": str(work / "example" / "users.db")})
        # security.md
        expect("curl-preflight", "HTTP/1.1 204")
        expect("curl-origin-refused", "origin_not_allowed")
        # README.md
        if "readme-admin-create" in all_samples:
            expect("readme-admin-create", "created admin admin@example.com", stdin="a long admin passphrase\n")
            # The curl samples run in a folder standing for the reader's checkout: they must
            # leave nothing in it (the cookie jar is a mktemp file).
            checkout = work / "checkout"
            checkout.mkdir()
            api = {"api": f"http://127.0.0.1:{port}"}
            created = expect("readme-api-app", '"sourceAppId":"my-landing-page"', extra_env=api, cwd=checkout)
            assert '"role":"admin"' in created and '"password":"' in created, created
            jars = list((work / "tmp").iterdir())
            assert len(jars) == 1 and "users_api_session" in jars[0].read_text(), jars
            # A reader runs the blocks in one shell; here each runs in its own, so they are
            # given the first block's variables.
            api["cookies"] = str(jars[0])
            expect("readme-api-schema", '"version":1', extra_env=api, cwd=checkout)
            ran.add("readme-fetch")
            language, script, _ = all_samples["readme-fetch"]
            script = script.replace("http://localhost:8080", f"http://127.0.0.1:{port}")
            (work / "readme-fetch.mjs").write_text(script)
            fetched = subprocess.run(["node", "readme-fetch.mjs"], cwd=work, check=True, timeout=60,
                                     capture_output=True, text=True).stdout
            assert fetched.startswith("200 "), fetched
            print("ok   readme-fetch")
            ran.add("readme-form")
            language, form, _ = all_samples["readme-form"]
            fields = dict(re.findall(r'name="(\w+)"(?: value="([^"]*)")?', form))
            assert fields.get("_appId") == "my-landing-page", fields
            posted = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-d",
                                     "_appId=my-landing-page&email=form%40example.com&fullName=Form&plan=pro&consentRequired=on&website=",
                                     f"http://127.0.0.1:{port}/v1/users"], capture_output=True, text=True, timeout=30).stdout
            assert posted == "303", f"the README form's fields post with {posted}"
            print("ok   readme-form")
            read = expect("readme-read", "ada@example.com", extra_env=api, cwd=checkout)
            assert '"key":"fullName"' in read and "id,email" in read, read
            assert not any(checkout.iterdir()), f"the README's samples left {list(checkout.iterdir())}"

        # docs/accounts.md, in its order, as the README's platform admin.
        assert "readme-admin-create" in ran, "the accounts guide's samples log in as the README's admin"
        run_accounts_guide(shell, expect, ran, all_samples, port, work)
        run_accounts_example(shell, expect, ran, all_samples, work)

    finally:
        server.terminate()
        server.wait(timeout=30)

    # JSON/JS/TS samples are the client's (its Vitest suite checks them), but for the README's,
    # which are run above.
    checked_elsewhere = {n for n, (lang, _, _) in all_samples.items()
                         if lang not in ("sh", "bash", "python") and not n.startswith("readme-")}
    missing = set(all_samples) - ran - RUN_BY_TEST_JS - CHECKED_BY_CLIENT_TESTS - checked_elsewhere
    assert not missing, f"samples nobody runs: {sorted(missing)}"
    print(f"doc samples: {len(ran)} run here, {len(RUN_BY_TEST_JS)} run by scripts/test-js.sh, "
          f"{len(checked_elsewhere)} checked by the client's tests")


def run_accounts_example(shell, expect, ran, all_samples, work):
    """examples/accounts-react/README.md: its set-up against the running service (whose admin is
    the README's), its settings files copied in a copy of the example, its npm commands held to
    the example's package.json and to what scripts/test-js.sh runs."""
    example = ROOT / "examples/accounts-react"
    # 1. The service: the README's admin command, through cargo; the service is the one running.
    _, body, _ = all_samples["accounts-example-service"]
    _, admin, _ = all_samples["readme-admin-create"]
    lines = [line.split("#")[0].strip() for line in body.strip().splitlines()]
    assert lines[0] == admin.strip().replace("./target/release/users-api", "cargo run -p server --"), lines
    assert lines[1] == "cargo run -p server", lines
    ran.add("accounts-example-service")
    print("ok   accounts-example-service")
    # 2. The app, its links and a key.
    checkout = work / "accounts-example"
    checkout.mkdir()
    output = expect("accounts-example-setup", '"key":"uak_', cwd=checkout)
    assert '"sourceAppId":"teams-example"' in output, output
    assert '"acceptInviteUrl":"http://localhost:5173/join"' in output, output
    assert '"permissions":["users:read"]' in output, output
    assert not any(checkout.iterdir()), f"the example's set-up left {list(checkout.iterdir())}"
    # 3. The settings files, in a copy of the example's.
    (checkout / "server").mkdir()
    for name in (".env.example", "server/.env.example"):
        shutil.copy(example / name, checkout / name)
    shell("accounts-example-env", cwd=checkout)
    assert (checkout / ".env.local").read_text() == (example / ".env.example").read_text()
    assert (checkout / "server/.env").read_text() == (example / "server/.env.example").read_text()
    for variable in ("USERS_API_URL", "USERS_API_APP_ID", "USERS_API_KEY", "PORT"):
        assert f"{variable}=" in (checkout / "server/.env").read_text(), variable
    print("ok   accounts-example-env")
    # 4. Start it: `npm ci` in the client and the example is what scripts/test-js.sh runs; each
    # `npm run` names one of the example's scripts (its browser test runs the same route and a
    # build of the same site).
    _, body, _ = all_samples["accounts-example-start"]
    scripts = json.loads((example / "package.json").read_text())["scripts"]
    named = re.findall(r"npm run (\w+)", body)
    assert named == ["server", "dev"], named
    assert all(name in scripts for name in named), (named, scripts)
    assert "server/index.mjs" in scripts["server"] and "server/.env" in scripts["server"], scripts
    assert "(cd ../../clients/js && npm ci)" in body and "\nnpm ci" in body, body
    ran.add("accounts-example-start")
    print("ok   accounts-example-start")


def run_accounts_guide(shell, expect, ran, all_samples, port, work):
    """docs/accounts.md's samples, in reading order. A reader runs them in one shell and copies
    values from one answer into the next command (TOKEN, REFRESH_TOKEN, ORG, USERS_API_KEY,
    MEMBER_TOKEN, the link's TOKEN_FROM_THE_LINK); here each runs in a shell of its own, so the
    runner reads those values from the answers and hands them on."""
    checkout = work / "accounts-checkout"
    checkout.mkdir()
    jars_before = set((work / "tmp").iterdir())
    env = {"api": f"http://127.0.0.1:{port}"}

    def answer(name, needle, link=None):
        if link is not None:
            language, body, doc = all_samples[name]
            assert "TOKEN_FROM_THE_LINK" in body, f"{name} ({doc}) has no TOKEN_FROM_THE_LINK"
            all_samples[name] = (language, body.replace("TOKEN_FROM_THE_LINK", link), doc)
        return expect(name, needle, extra_env=env, cwd=checkout)

    def data(output):
        """The `data` of the last `{success, data}` answer a sample printed."""
        decoder, last, index = json.JSONDecoder(), None, 0
        while (start := output.find("{", index)) != -1:
            try:
                value, index = decoder.raw_decode(output, start)
            except json.JSONDecodeError:
                index = start + 1
                continue
            if isinstance(value, dict) and "success" in value:
                last = value
        assert last is not None and last["success"] is True, output
        return last["data"]

    def link(name, kind):
        output = answer(name, "token=")
        tokens = re.findall(r"token=([A-Za-z0-9_-]+)", output)
        assert tokens and len(set(tokens)) == 1, f"{name}: one link expected in the newest {kind} e-mail:\n{output}"
        # The newest message is the one the guide says it is.
        request = urllib.request.Request(f"{env['api']}/v1/apps/my-site/mail/messages?limit=1",
                                         headers={"cookie": cookie_header(env["cookies"])})
        with urllib.request.urlopen(request) as log:
            newest = json.load(log)["messages"][0]
        assert newest["kind"] == kind and tokens[0] in newest["text"], f"{name}: the newest e-mail is {newest}"
        return tokens[0]

    def keep_tokens(name, output):
        session = data(output)
        assert session["token"].count(".") == 2 and session["refresh_token"], f"{name}: no tokens in {session}"
        env["TOKEN"], env["REFRESH_TOKEN"] = session["token"], session["refresh_token"]

    created = answer("curl-accounts-setup", '"sourceAppId":"my-site"')
    assert '"role":"admin"' in created, created
    jars = set((work / "tmp").iterdir()) - jars_before
    assert len(jars) == 1 and "users_api_session" in next(iter(jars)).read_text(), jars
    env["cookies"] = str(next(iter(jars)))

    # Creating users.
    registered = data(answer("curl-accounts-register", '"email_verified":false'))
    response = json.loads(all_samples["accounts-register-response"][1])["data"]
    assert set(response) == set(registered), (sorted(response), sorted(registered))
    assert set(response["user"]) <= set(registered["user"]), set(response["user"]) - set(registered["user"])
    keep_tokens("curl-accounts-register", json.dumps({"success": True, "data": registered}))
    time.sleep(0.5)  # the outbox sender delivers within moments
    token = link("curl-accounts-verification-link", "verify_email")
    verified = data(answer("curl-accounts-verify", '"email_verified":true', link=token))
    assert verified["email"] == "ada@example.com", verified

    # Authentication, forgotten passwords included (a reset ends every session: log in again).
    output = answer("curl-accounts-login", '"email":"ada@example.com"')
    keep_tokens("curl-accounts-login", output)
    answer("curl-accounts-forgot", '"sent":true')
    time.sleep(0.5)
    token = link("curl-accounts-reset-link", "reset_password")
    answer("curl-accounts-reset", '"password_reset":true', link=token)
    old_token = env["TOKEN"]
    refused = subprocess.run(["curl", "-s", "-H", f"authorization: Bearer {old_token}",
                              f"http://127.0.0.1:{port}/v1/users/me"], capture_output=True, text=True, timeout=30).stdout
    assert '"invalid_token"' in refused, f"the reset left the old session working: {refused}"
    keep_tokens("curl-accounts-login-again", answer("curl-accounts-login-again", '"email":"ada@example.com"'))

    # Tokens.
    spent = env["REFRESH_TOKEN"]
    keep_tokens("curl-accounts-refresh", answer("curl-accounts-refresh", '"refresh_token"'))
    assert env["REFRESH_TOKEN"] != spent
    verify_with_pyjwt(all_samples, ran, port, env["TOKEN"])

    # Profile.
    output = answer("curl-accounts-profile", '"bio":"Mathematician"')
    assert data(output)["avatar_url"] == "https://example.com/ada.png", output

    # Organization members.
    organization = data(answer("curl-accounts-organization", '"slug":"engines"'))
    assert organization["role"] == "admin" and organization["id"].startswith("org_"), organization
    env["ORG"] = organization["id"]
    invitation = data(answer("curl-accounts-invite", '"email":"grace@example.com"'))
    assert invitation["role"] == "member", invitation
    time.sleep(0.5)
    token = link("curl-accounts-invite-link", "invitation")
    output = answer("curl-accounts-accept", '"status":"pending"', link=token)
    accepted = data(output)
    assert accepted["user"]["email"] == "grace@example.com" and accepted["user"]["role"] == "member", accepted
    env["MEMBER_TOKEN"] = accepted["token"]
    members = data(answer("curl-accounts-members", '"email":"grace@example.com"'))["users"]
    assert sorted((m["email"], m["role"]) for m in members) == [("ada@example.com", "admin"), ("grace@example.com", "member")], members

    # Server routes.
    created = json.loads(answer("curl-accounts-api-key", '"key":"uak_'))
    assert created["permissions"] == ["records:read", "users:read"], created
    env["USERS_API_KEY"] = created["key"]
    members = data(answer("curl-accounts-api-key-call", '"email":"ada@example.com"'))["users"]
    assert len(members) == 2, members
    records = json.loads(answer("curl-accounts-crm-sync", '"users"'))
    assert {"ada@example.com", "grace@example.com"} <= {r["email"] for r in records["users"]}, records

    # Troubleshooting.
    output = answer("curl-accounts-401", '"invalid_token"')
    assert "HTTP/1.1 401" in output and re.search(r"(?im)^www-authenticate: Bearer", output) and '"unauthorized"' in output, output
    output = answer("curl-accounts-403", '"forbidden"')
    assert "invites:write" in output and '"permission"' in output, output
    answer("curl-accounts-422", '"too_common"')

    assert not any(checkout.iterdir()), f"the accounts guide's samples left {list(checkout.iterdir())}"


def cookie_header(jar):
    """The Cookie header of a curl cookie jar (Netscape format; HttpOnly lines start `#HttpOnly_`)."""
    pairs = []
    for line in Path(jar).read_text().splitlines():
        fields = line.removeprefix("#HttpOnly_").split("\t")
        if len(fields) == 7 and not line.startswith("# "):
            pairs.append(f"{fields[5]}={fields[6]}")
    return "; ".join(pairs)


def verify_with_pyjwt(all_samples, ran, port, token):
    """The guide's PyJWT sample verifies a real access token. PyJWT is in the checkout's .venv
    (scripts/test.sh installs it there for the Rust tests too), or the interpreter
    USERS_API_PYTHON names."""
    python = os.environ.get("USERS_API_PYTHON") or str(ROOT / ".venv/bin/python")
    probe = subprocess.run([python, "-c", "import jwt, cryptography"], capture_output=True, text=True) \
        if Path(python).exists() or shutil.which(python) else None
    assert probe is not None and probe.returncode == 0, (
        f"the accounts guide's Python sample needs PyJWT and cryptography in {python}: "
        "python3 -m venv .venv && .venv/bin/python -m pip install pyjwt==2.10.1 cryptography==44.0.0 "
        "(scripts/test.sh does), or set USERS_API_PYTHON")
    language, body, doc = all_samples["accounts-verify-pyjwt"]
    assert language == "python", f"accounts-verify-pyjwt in {doc} is not a Python block"
    check = body + "\nimport json, sys\nprint(json.dumps(verify(sys.argv[1])))\n"
    # The tokens' issuer is the service's public URL: by default http://localhost:PORT.
    result = subprocess.run([python, "-c", check, token], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "USERS_API_URL": f"http://localhost:{port}"})
    assert result.returncode == 0, f"accounts-verify-pyjwt ({doc}) failed:\n{result.stdout}\n{result.stderr}"
    claims = json.loads(result.stdout)
    assert claims["aud"] == "my-site" and claims["email"] == "ada@example.com", claims
    ran.add("accounts-verify-pyjwt")
    print("ok   accounts-verify-pyjwt")


if __name__ == "__main__":
    main()

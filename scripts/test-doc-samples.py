#!/usr/bin/env python3
"""Runs the shell and curl samples of the docs against the real binary, in the order a reader
follows them, and checks what they answer.

Every fenced block after a `<!-- sample: NAME -->` marker is a sample. JavaScript, TypeScript
and JSON samples are checked by the client's Vitest suite (clients/js/test/docs-samples.test.ts);
shell samples that only run npm are the very commands scripts/test-js.sh runs. Every other
sample must be run here: an unknown sample name fails the test, so none can go untested.

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
        ROOT / "examples/react-vite/README.md", ROOT / "clients/js/README.md"]
SAMPLE = re.compile(r"<!-- sample: ([\w-]+) -->\n```(\w+)\n(.*?)```", re.S)

# Samples whose commands scripts/test-js.sh runs itself (npm ci / lint / test / pack / build).
RUN_BY_TEST_JS = {"shell-install-client", "shell-run-example", "shell-example-run", "shell-client-development"}
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

    finally:
        server.terminate()
        server.wait(timeout=30)

    # JSON/JS/TS samples are the client's (its Vitest suite checks them), but for the README's,
    # which are run above.
    checked_elsewhere = {n for n, (lang, _, _) in all_samples.items()
                         if lang not in ("sh", "bash") and not n.startswith("readme-")}
    missing = set(all_samples) - ran - RUN_BY_TEST_JS - CHECKED_BY_CLIENT_TESTS - checked_elsewhere
    assert not missing, f"samples nobody runs: {sorted(missing)}"
    print(f"doc samples: {len(ran)} run here, {len(RUN_BY_TEST_JS)} run by scripts/test-js.sh, "
          f"{len(checked_elsewhere)} checked by the client's tests")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes docs/api-reference.md from the service's OpenAPI document, or checks it is current.

    scripts/api-reference.py openapi.json            # rewrite docs/api-reference.md
    scripts/api-reference.py openapi.json --check    # fail if it is not what would be written

The document comes from GET /openapi.json of a running service (scripts/test.sh fetches it).
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "api-reference.md"

ERROR_CODES = [
    ("bad_request", 400, "Malformed request: `Missing x-app-id header`, `Invalid x-app-id header`, a missing `_appId` form field, a parameter given twice in the query string, both `Content-Length` and `Transfer-Encoding` (the connection is closed)."),
    ("invalid_json", 400, "The body is not a JSON object (syntax error, too deeply nested, an array)."),
    ("unauthenticated", 401, "No valid dashboard session."),
    ("invalid_credentials", 401, "Login failed; one message whatever was wrong."),
    ("origin_not_allowed", 403, "The page's origin is not in the app's `allowedOrigins`."),
    ("forbidden", 403, "Logged in, but not allowed (another app's data); on the accounts routes, `details[0]` (`field: \"permission\"`) names the missing permission or role."),
    ("csrf_rejected", 403, "A state-changing request with the session cookie from another origin, or not JSON."),
    ("not_found", 404, "No such route or record."),
    ("unknown_app", 404, "No app has this id."),
    ("method_not_allowed", 405, "The route exists, not with this method."),
    ("request_timeout", 408, "The body did not arrive within `application.body_timeout_secs` (10 s); the connection is closed."),
    ("duplicate_app", 409, "The `sourceAppId` is taken, in any case: `APP-A` and `app-a` cannot coexist."),
    ("user_not_found", 404, "The app has no user with this id."),
    ("invalid_cursor", 400, "The `cursor` is not one this service handed out."),
    ("unauthorized", 401, "Accounts: no `Authorization: Bearer` token."),
    ("invalid_token", 401, "Accounts: a malformed, forged or foreign token, an ended session, a spent or unknown refresh token."),
    ("token_expired", 401, "Accounts: the access token is past `exp` (with 30 s leeway); refresh it."),
    ("tenant_mismatch", 403, "Accounts: the token or API key belongs to another app than `x-app-id` names."),
    ("organization_access_denied", 403, "Accounts: not a member of the organization concerned, or (register) it cannot be joined with this address."),
    ("email_not_verified", 403, "Accounts: the app lets only verified accounts do this (create an organization)."),
    ("invalid_api_key", 401, "Management routes: an unknown, revoked or expired API key."),
    ("slug_taken", 409, "Accounts: another organization of the app has this slug."),
    ("last_admin", 409, "Accounts: the change would leave an organization without an admin."),
    ("email_taken", 409, "Accounts: the email is already an account of the app."),
    ("already_member", 409, "Accounts: the user is already a member of the organization."),
    ("session_not_found", 404, "Accounts: no active session of yours has this id."),
    ("payload_too_large", 413, "Body over the limit (16 KiB on public routes)."),
    ("unsupported_media_type", 415, "Not `application/json` (or, on `POST /v1/users`, an HTML form)."),
    ("validation_failed", 422, "`details` lists every problem: `field`, `code`, `message`."),
    ("rate_limited", 429, "Too many requests; `Retry-After` says how many seconds to wait."),
    ("internal_error", 500, "A bug; the answer's `x-request-id` finds it in the logs."),
    ("storage_unavailable", 503, "The database is not answering; retry shortly. From `/ready`, the message says why when the store knows (a full disk, a read-only file)."),
    ("storage_corrupt", 503, "From `/ready` only: the database reported damaged data; restore a backup."),
]

DETAIL_CODES = "`required`, `min`, `max`, `minLength`, `maxLength`, `regex`, `enum`, `type`, `unknown`, `date` (data fields), `email` (the email), and for schemas `key`, `duplicateKey`, `kind`, `notApplicable`, `range`, `tooManyFields`, `label`, `invalid`."


def resolve(document, schema):
    while isinstance(schema, dict) and "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def example_of(document, schema, depth=0):
    schema = resolve(document, schema)
    if not isinstance(schema, dict) or depth > 6:
        return None
    if "example" in schema:
        return schema["example"]
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            return example_of(document, schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return {name: example_of(document, prop, depth + 1) for name, prop in schema.get("properties", {}).items()
                if name in schema.get("required", []) or depth == 0}
    if kind == "array":
        item = example_of(document, schema.get("items", {}), depth + 1)
        return [] if item is None else [item]
    return {"string": "…", "integer": 0, "number": 0, "boolean": True}.get(kind)


def render(document):
    lines = [
        "# API reference",
        "",
        "Generated from `GET /openapi.json` by `scripts/api-reference.py`; `scripts/test.sh` fails when",
        "this page and the service disagree. `GET /docs` shows the same document interactively.",
        "",
        "## Errors",
        "",
        "Every error has one shape:",
        "",
        "```json",
        '{"error": {"code": "validation_failed", "message": "data.age must be at most 120",',
        '           "details": [{"field": "data.age", "code": "max", "message": "must be at most 120"}]}}',
        "```",
        "",
        "| code | status | meaning |",
        "|---|---|---|",
        *[f"| `{code}` | {status} | {meaning} |" for code, status, meaning in ERROR_CODES],
        "",
        f"Detail codes: {DETAIL_CODES}",
        "",
        "## Routes",
    ]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            lines += ["", f"### `{method.upper()} {path}`", ""]
            text = operation.get("description") or operation.get("summary") or ""
            if text:
                lines += [text.strip(), ""]
            parameters = operation.get("parameters", [])
            if parameters:
                lines += ["| parameter | in | required | description |", "|---|---|---|---|"]
                for p in parameters:
                    lines.append(f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} | {p.get('description', '').strip()} |")
                lines.append("")
            body = operation.get("requestBody", {}).get("content", {})
            for content_type, media in body.items():
                lines += [f"Request (`{content_type}`):", "", "```json",
                          json.dumps(example_of(document, media.get("schema", {})), indent=2, ensure_ascii=False), "```", ""]
            lines += ["| status | meaning |", "|---|---|"]
            for status, response in operation.get("responses", {}).items():
                lines.append(f"| {status} | {response.get('description', '').strip()} |")
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json")
                if content and status.startswith("2"):
                    lines += ["", f"Response {status}:", "", "```json",
                              json.dumps(example_of(document, content.get("schema", {})), indent=2, ensure_ascii=False), "```"]
    return "\n".join(lines) + "\n"


def main():
    document = json.loads(Path(sys.argv[1]).read_text())
    text = render(document)
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit("docs/api-reference.md is not current: run scripts/api-reference.py with the service's /openapi.json")
        print("docs/api-reference.md matches /openapi.json")
    else:
        OUT.write_text(text)
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

"""`make smoke API=<url> TOKEN=<jwt>`: a read-only check of a running stack (deployed or local).

Four GETs, nothing written: the health route, the OpenAPI document, the dashboard without a
token (the authorizer must refuse it: 401) and the dashboard with the token passed (200; the
token must hold the admin role). One line per check; exit status 0 only if all pass.

The token is read from AMDSYNC_SMOKE_TOKEN (the Makefile passes TOKEN that way, so it never
shows in a process list) and is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

BASE_PATH = "/api/advancedmd"
TOKEN_ENV = "AMDSYNC_SMOKE_TOKEN"  # noqa: S105 - the variable's name, not a token
# API Gateway gives up on an integration after 30 s; a cold start fits well inside it.
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    millis: int

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    detail: str


def api_base(url: str) -> str:
    """The API base URL: the stack's ApiBaseUrl output, or a host URL it is appended to."""
    url = url.rstrip("/")
    return url if url.endswith(BASE_PATH) else url + BASE_PATH


def fetch(url: str, token: str | None = None) -> Answer:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if not url.startswith(("https://", "http://")):
        raise ValueError("the API URL must be http(s)")
    request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 - checked
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return Answer(status, body, round((time.monotonic() - started) * 1000))


def check_health(answer: Answer) -> str | None:
    body = answer.json()
    if answer.status != 200 or not isinstance(body, dict) or body.get("status") != "ok":
        return f"expected 200 {{'status': 'ok'}}, got {answer.status}"
    return None


def check_openapi(answer: Answer) -> str | None:
    body = answer.json()
    if answer.status != 200 or not isinstance(body, dict):
        return f"expected 200 with a JSON document, got {answer.status}"
    if not str(body.get("openapi", "")).startswith("3.1"):
        return "not an OpenAPI 3.1 document"
    if not any(path.endswith("/sync/dashboard") for path in body.get("paths", {})):
        return "the document lacks /sync/dashboard"
    return None


def check_refused(answer: Answer) -> str | None:
    if answer.status != 401:
        return f"expected 401 without a token (is the JWT authorizer on?), got {answer.status}"
    return None


def check_dashboard(answer: Answer) -> str | None:
    if answer.status == 401:
        return "401: the token was refused (expired, wrong issuer or audience)"
    if answer.status == 403:
        return "403: the token is valid but lacks the admin role"
    if answer.status != 200 or not isinstance(answer.json(), dict):
        return f"expected 200 with a JSON object, got {answer.status}"
    return None


Check = tuple[str, str, bool, Callable[[Answer], str | None]]
CHECKS: tuple[Check, ...] = (
    ("health", "/health", False, check_health),
    ("openapi", "/openapi.json", False, check_openapi),
    ("authorizer", "/sync/dashboard", False, check_refused),
    ("dashboard", "/sync/dashboard", True, check_dashboard),
)


def run_checks(api: str, token: str) -> list[Outcome]:
    base = api_base(api)
    outcomes = []
    for name, path, with_token, check in CHECKS:
        try:
            answer = fetch(base + path, token if with_token else None)
        except (OSError, ValueError) as error:
            outcomes.append(Outcome(name, False, f"{path}: {type(error).__name__}: {error}"))
            continue
        problem = check(answer)
        detail = f"GET {path} -> {answer.status} in {answer.millis} ms"
        outcomes.append(
            Outcome(name, problem is None, f"{detail}: {problem}" if problem else detail)
        )
    return outcomes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make smoke", description=__doc__.split("\n")[0])
    parser.add_argument("--api", required=True, help="the stack's ApiBaseUrl output")
    args = parser.parse_args(argv)
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        print(f"smoke: set {TOKEN_ENV} (make smoke TOKEN=<admin jwt>)", file=sys.stderr)
        return 2
    outcomes = run_checks(args.api, token)
    for outcome in outcomes:
        print(f"{'ok  ' if outcome.ok else 'FAIL'} {outcome.name:<10} {outcome.detail}")
    failed = [o.name for o in outcomes if not o.ok]
    print(f"smoke: {len(outcomes) - len(failed)}/{len(outcomes)} passed" + (
        f", failed: {', '.join(failed)}" if failed else ""
    ))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

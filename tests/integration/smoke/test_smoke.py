"""`make smoke` (local/smoke.py) against a stub API on loopback that answers as a deployed stack
does: public health and OpenAPI routes, a dashboard behind a bearer token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local import smoke

ADMIN_TOKEN = "header.admin-payload.signature"
PROVIDER_TOKEN = "header.provider-payload.signature"
OPENAPI = {"openapi": "3.1.0", "paths": {"/api/advancedmd/sync/dashboard": {}}}


class StubApi(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None]]  # (method, path, authorization)

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization")
        self.seen.append(("GET", self.path, authorization))
        if self.path == "/dev/api/advancedmd/health":
            self._answer(200, {"status": "ok"})
        elif self.path == "/dev/api/advancedmd/openapi.json":
            self._answer(200, OPENAPI)
        elif self.path == "/dev/api/advancedmd/sync/dashboard":
            self._dashboard(authorization)
        else:
            self._answer(404, {"message": "Not Found"})

    def do_POST(self) -> None:
        self.seen.append(("POST", self.path, None))
        self._answer(405, {})

    def _dashboard(self, authorization: str | None) -> None:
        if authorization == f"Bearer {ADMIN_TOKEN}":
            self._answer(200, {"patients": {}, "appointments": {}})
        elif authorization == f"Bearer {PROVIDER_TOKEN}":
            self._answer(403, {"code": "FORBIDDEN"})
        else:
            self._answer(401, {"message": "Unauthorized"})

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def stub() -> Iterator[tuple[str, list[tuple[str, str, str | None]]]]:
    seen: list[tuple[str, str, str | None]] = []
    handler = type("Handler", (StubApi,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dev/api/advancedmd", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def run(
    api: str, token: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setenv(smoke.TOKEN_ENV, token)
    status = smoke.main(["--api", api])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_a_healthy_stack_passes_with_read_only_calls_and_the_token_only_where_needed(
    stub: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api, seen = stub
    status, output = run(api, ADMIN_TOKEN, monkeypatch, capsys)
    assert status == 0, output
    assert "smoke: 4/4 passed" in output
    assert ADMIN_TOKEN not in output
    assert [method for method, _, _ in seen] == ["GET"] * 4
    with_token = [path for _, path, auth in seen if auth == f"Bearer {ADMIN_TOKEN}"]
    assert with_token == ["/dev/api/advancedmd/sync/dashboard"]


def test_the_host_url_alone_is_enough(
    stub: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api, _ = stub
    status, output = run(api.removesuffix("/api/advancedmd"), ADMIN_TOKEN, monkeypatch, capsys)
    assert status == 0, output


def test_a_token_without_the_admin_role_fails_and_says_why(
    stub: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api, _ = stub
    status, output = run(api, PROVIDER_TOKEN, monkeypatch, capsys)
    assert status == 1
    assert "FAIL dashboard" in output and "lacks the admin role" in output
    assert "smoke: 3/4 passed, failed: dashboard" in output
    assert PROVIDER_TOKEN not in output


def test_a_refused_token_fails(
    stub: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api, _ = stub
    status, output = run(api, "expired.token.value", monkeypatch, capsys)
    assert status == 1 and "the token was refused" in output


def test_a_wrong_url_fails_every_check(
    stub: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api, _ = stub
    status, output = run(api.replace("/dev/", "/prod/"), ADMIN_TOKEN, monkeypatch, capsys)
    assert status == 1
    assert "smoke: 0/4 passed" in output


def test_no_server_fails_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubApi)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    status, output = run(f"http://127.0.0.1:{port}", ADMIN_TOKEN, monkeypatch, capsys)
    assert status == 1 and "URLError" in output and "Traceback" not in output


def test_no_token_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, output = run("http://127.0.0.1:9", "", monkeypatch, capsys)
    assert status == 2 and smoke.TOKEN_ENV in output

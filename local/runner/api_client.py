"""A small JSON-over-HTTP client for the local stack: the product's API (one dev token per role)
and the simulator's `/_sim/` admin API. Used by the demo seed and the e2e tests; stdlib only.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]

    def expect(self, *statuses: int) -> Any:
        """The body, after checking the status (the message names the call's outcome only)."""
        if self.status not in statuses:
            raise ApiCallError(self)
        return self.body


class ApiCallError(RuntimeError):
    def __init__(self, reply: Reply) -> None:
        super().__init__(f"unexpected HTTP {reply.status}: {json.dumps(reply.body)[:500]}")
        self.reply = reply


def request_json(
    method: str,
    url: str,
    body: object = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Reply:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - local URLs
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw, status, found = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, found = error.read(), error.code, dict(error.headers)
    text = raw.decode() if raw else ""
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return Reply(status, parsed, found)


@dataclass(frozen=True)
class AmdsyncApi:
    """The product's HTTP API at `base_url` (…/api/advancedmd), calling with a role's token."""

    base_url: str
    tokens: Mapping[str, str]
    timeout: float = DEFAULT_TIMEOUT_SECONDS  # per request; raise it on a busy machine

    def call(
        self,
        role: str | None,
        method: str,
        path: str,
        body: object = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Reply:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        headers.update(extra_headers or {})
        return request_json(method, self.base_url + path, body, headers, self.timeout)

    def get(self, role: str, path: str) -> Any:
        return self.call(role, "GET", path).expect(200)

    def put(
        self, role: str, path: str, body: object, headers: Mapping[str, str] | None = None
    ) -> Any:
        return self.call(role, "PUT", path, body, headers).expect(200, 202)

    def post(self, role: str, path: str, body: object = None) -> Any:
        return self.call(role, "POST", path, {} if body is None else body).expect(200, 202)


@dataclass(frozen=True)
class SimAdmin:
    """The simulator's admin API (`/_sim/`, see local/amdsim/README.md)."""

    base_url: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS  # per request; raise it on a busy machine

    def call(self, method: str, path: str, body: object = None) -> Any:
        url = f"{self.base_url}/_sim{path}"
        return request_json(method, url, body, timeout=self.timeout).expect(200)

    def report(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/report")
        return result

    def config(self, **switches: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "/config", switches)
        return result

    def fault(self, kind: str, count: int = 1, **match: Any) -> None:
        self.call("POST", "/faults", {"kind": kind, "count": count, **match})

    def clear_faults(self) -> None:
        self.call("DELETE", "/faults")

    def expire_tokens(self) -> None:
        self.call("POST", "/tokens/expire")

    def appointments(self, **query: str) -> list[dict[str, Any]]:
        params = "&".join(f"{key}={value}" for key, value in query.items())
        result: list[dict[str, Any]] = self.call(
            "GET", "/appointments" + ("?" + params if params else "")
        )
        return result

    def appointment(self, visit_id: str | int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/appointments/{visit_id}")
        return result

    def edit_appointment(self, visit_id: str | int, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/appointments/{visit_id}", changes)
        return result


def wait_for(
    condition: Any, timeout: float, interval: float = 0.25, what: str = "condition"
) -> Any:
    """Poll `condition()` until it returns something truthy; TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)

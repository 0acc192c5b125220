"""A tiny AMD stand-in behind httpx.MockTransport (an edge mock: no sockets)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from amdsync.amd.client import ClientOptions
from amdsync.amd.config import AmdCredentials
from amdsync.amd.memory import (
    CountingMetrics,
    ManualClock,
    MemoryLookupCache,
    MemoryRateBuckets,
    MemoryTokenCache,
)
from amdsync.amd.retry import RetryPolicy
from amdsync.amd.service import AdvancedMD, build_advancedmd
from amdsync.amd.transport import Transport

PARTNER = "https://partner.test/practicemanager/xmlrpc/processrequest.aspx"
WEBSERVER = "https://amd.test/processrequest/api-042/TEMP"
PASSWORD = "s3cret-pw"
TRUSTED = ("test",)  # the fake's hosts (partner.test, amd.test) stand in for advancedmd.com


def envelope(results: Any = None, fault_code: str | None = None, **root: Any) -> dict[str, Any]:
    error = None
    if fault_code is not None:
        error = {
            "Fault": {
                "faultcode": "Client",
                "detail": {"code": fault_code, "description": "x", "extrainfo": {"echo": PASSWORD}},
            }
        }
    return {"PPMDResults": {"Results": results, "Error": error, **root}}


class FakeAmd:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.logins = 0
        self.tokens: set[str] = set()
        self.calls: list[str] = []
        self.xmlrpc: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self.rest: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.queued: list[httpx.Response | Exception] = []  # next answers, before routing
        self.messages: list[tuple[str, dict[str, Any], httpx.Headers]] = []
        self.webserver = WEBSERVER  # what login names; change it to move the office key
        self.down_hosts: set[str] = set()  # hosts that refuse connections

    def expire_all(self) -> None:
        with self.lock:
            self.tokens.clear()

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.host in self.down_hosts:
            raise httpx.ConnectError("connection refused")
        with self.lock:
            queued = self.queued.pop(0) if self.queued else None
        if isinstance(queued, Exception):
            raise queued
        if queued is not None:
            self.calls.append("queued")
            return queued
        if request.url.path.startswith("/api/"):
            return self._rest(request)
        msg = json.loads(request.content)["ppmdmsg"]
        action = msg["@action"].lower()
        self.calls.append(action)
        self.messages.append((action, msg, request.headers))
        if action == "login":
            return self._login(request, msg)
        token = request.headers.get("cookie", "").removeprefix("token=")
        if token not in self.tokens:
            return httpx.Response(200, json=envelope(None, "-2147220479"))
        return httpx.Response(200, json=self.xmlrpc[action](msg))

    def _login(self, request: httpx.Request, msg: dict[str, Any]) -> httpx.Response:
        if msg["@psw"] != PASSWORD:
            return httpx.Response(200, json=envelope({"@success": "0"}, "-2147220480"))
        if request.url.host == "partner.test":
            ctx = {"@webserver": self.webserver}
            return httpx.Response(
                200, json=envelope({"@success": "0", "usercontext": ctx}, "-2147220476")
            )
        with self.lock:
            self.logins += 1
            token = f"TOKEN-{self.logins:04d}-abcdef"
            self.tokens.add(token)
        ctx = {"@webserver": self.webserver, "#text": token}
        return httpx.Response(200, json=envelope({"@success": "1", "usercontext": ctx}))

    def _rest(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return httpx.Response(401)
        path = request.url.path.removeprefix("/api/api-042/TEMP")
        return self.rest[(request.method, path)](request)


def make_amd(
    fake: FakeAmd,
    *,
    clock: ManualClock | None = None,
    password: str = PASSWORD,
    max_rate_wait: float = 120.0,
    token_cache: MemoryTokenCache | None = None,
    buckets: MemoryRateBuckets | None = None,
    lookup_cache: MemoryLookupCache | None = None,
    metrics: CountingMetrics | None = None,
) -> AdvancedMD:
    creds = AmdCredentials(
        office_key="999999",
        username="DEMO",
        password=password,
        app_name="TEMP",
        partner_login_url=PARTNER,
        trusted_hosts=TRUSTED,
    )
    return build_advancedmd(
        creds,
        scope="main",
        token_cache=token_cache or MemoryTokenCache(),
        rate_buckets=buckets or MemoryRateBuckets(),
        lookup_cache=lookup_cache or MemoryLookupCache(),
        clock=clock or ManualClock(datetime(2025, 3, 15, 18, 0, tzinfo=UTC)),
        transport=Transport(transport=httpx.MockTransport(fake.handler)),
        options=ClientOptions(
            max_rate_wait=max_rate_wait, retry=RetryPolicy(rng=lambda lo, hi: hi / 100)
        ),
        metrics=metrics,
    )

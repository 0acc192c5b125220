"""HTTP transport: one pooled httpx client, explicit timeouts, every outcome classified.

Only this module touches httpx. It knows nothing of tokens' lifetimes or budgets: it sends,
then turns the answer into a `Reply`/JSON or one of the `errors` families. Bodies are never
logged (they carry PHI, and a failed login's fault can echo the password, PROTOCOL §1.4).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

from amdsync.amd.envelope import Reply, Wire, parse_reply
from amdsync.amd.errors import (
    AmdError,
    ConnectionFailed,
    ServerError,
    ServerUnreachable,
    TimeoutError_,
    classify_fault,
    classify_http,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0
    write: float = 10.0
    pool: float = 5.0

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True)
class RestReply:
    status: int
    body: Any
    location: str | None


class Transport:
    """Share one instance per process: its connection pool is what makes calls cheap."""

    def __init__(
        self,
        client: httpx.Client | None = None,
        *,
        timeouts: Timeouts | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = client or httpx.Client(
            timeout=(timeouts or Timeouts()).to_httpx(),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def post_xmlrpc(self, url: str, body: Wire, token: str | None = None) -> Reply:
        """POST a `ppmdmsg`; faults raise, except the redirect and overflow which are data."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token is not None:
            headers["Cookie"] = f"token={token}"  # option A of §1.5
        response = self._send("POST", url, headers=headers, json=body, committed=True)
        reply = _parse_or_none(response)
        if reply is not None and reply.fault is not None:
            error = classify_fault(
                reply.fault.raw_code, reply.fault.description, response.status_code
            )
            if error is not None:
                raise error
        if response.status_code >= 400 or reply is None:
            raise classify_http(response.status_code) or ServerError(
                "AdvancedMD sent an unreadable reply", http_status=response.status_code
            )
        return reply

    def rest(
        self,
        method: str,
        url: str,
        token: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> RestReply:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        response = self._send(
            method,
            url,
            headers=headers,
            json=json,
            params=params,
            committed=method.upper() != "GET",
        )
        body = _json_or_none(response)
        error = classify_http(response.status_code, body)
        if error is not None:
            raise error
        return RestReply(response.status_code, body, response.headers.get("Location"))

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        json: Any = None,
        params: dict[str, str] | None = None,
        committed: bool,
    ) -> httpx.Response:
        started = time.monotonic()
        try:
            response = self._client.request(method, url, headers=headers, json=json, params=params)
        # `from None`: httpx exceptions hold the request, whose headers carry the token.
        except (httpx.ConnectError, httpx.ConnectTimeout):
            # The request never left: safe to retry even a create.
            raise ServerUnreachable() from None
        except httpx.PoolTimeout:
            # Never left either, but our own pool was busy: says nothing about the server.
            raise ConnectionFailed() from None
        except httpx.TimeoutException:
            raise TimeoutError_(maybe_committed=committed) from None
        except httpx.TransportError:
            raise ConnectionFailed(maybe_committed=committed) from None
        log.debug(
            "AMD answered",
            extra={
                "method": method,
                "status": response.status_code,
                "ms": round((time.monotonic() - started) * 1000),
            },
        )
        return response


def _parse_or_none(response: httpx.Response) -> Reply | None:
    if not response.content.strip():
        return None
    try:
        return parse_reply(response.content)
    except AmdError:
        return None


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        return None

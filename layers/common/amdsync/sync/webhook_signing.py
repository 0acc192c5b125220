"""Standard Webhooks signatures (`standardwebhooks`) and the HTTP send of one signed event.

The signature covers `webhook-id.webhook-timestamp.body`; the timestamp is the attempt's (a
receiver rejects one older than five minutes), the id the event's (the same on every retry).
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from math import floor
from typing import Protocol

import httpx
from standardwebhooks import Webhook

from amdsync.domain.webhooks import WebhookEvent

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
USER_AGENT = "amdsync-webhooks/1"
# Short: a slow receiver must not hold the delivery function (or the API's test ping).
TIMEOUT = httpx.Timeout(5.0, connect=3.0)


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks format (`whsec_` + base64 of 32 bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def event_body(event: WebhookEvent) -> bytes:
    return event.model_dump_json(by_alias=True).encode()


def signed_headers(secret: str, event_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed at `at`."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }


@dataclass(frozen=True)
class SendResult:
    status_code: int | None  # None: no HTTP answer (timeout, refused)
    latency_ms: int
    error_code: str | None  # None on a 2xx

    @property
    def ok(self) -> bool:
        return self.error_code is None


class Sender(Protocol):
    def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult: ...


class HttpxSender:
    """POSTs with httpx: short timeouts, no redirects (the guard checked this URL, not another),
    no proxy from the environment, the answer's body never read beyond what httpx buffers."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(
            timeout=TIMEOUT, follow_redirects=False, trust_env=False
        )

    def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        all_headers = {"content-type": "application/json", "user-agent": USER_AGENT, **headers}
        started = time.perf_counter()
        try:
            reply = self._client.post(url, content=body, headers=all_headers)
        except httpx.TimeoutException:
            return SendResult(None, _elapsed(started), "TIMEOUT")
        except httpx.HTTPError:
            return SendResult(None, _elapsed(started), "CONNECT_FAILED")
        ok = 200 <= reply.status_code < 300
        return SendResult(reply.status_code, _elapsed(started), None if ok else "HTTP_STATUS")


def _elapsed(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)

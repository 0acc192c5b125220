"""moto's ThreadedMotoServer: every AWS API the functions use, on one local port.

Children reach it through `AWS_ENDPOINT_URL` plus dummy credentials and a region; the runner's
own boto3 clients get the same settings explicitly (the runner never edits its own os.environ).
"""

from __future__ import annotations

import logging
import sys
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from local.runner.template import LOCAL_REGION

DUMMY_ACCESS_KEY = "testing"
DUMMY_SECRET_KEY = "testing"  # noqa: S105 - moto accepts any credentials


class MotoInUse(RuntimeError):
    """Another MotoEndpoint is running in this process (they would share moto's state)."""


_ACTIVE: list[MotoEndpoint] = []
_DYNAMODB_LOCK = threading.RLock()


def serialize_dynamodb() -> None:
    """Let moto's DynamoDB answer one request at a time (idempotent, process-wide).

    moto's `transact_write_items` deep-copies each table it touches while other request threads
    may write to that table, which crashes ("dictionary changed size during iteration") under
    concurrent workers; and its conditional writes check, then write, with nothing in between
    to stop another thread (two racing lease takers could both win). Real DynamoDB has neither
    problem; serialising here changes no result the product can observe, only the local
    server's concurrency. Tests that race threads against in-process moto call it too.
    """
    from moto.dynamodb.responses import DynamoHandler  # noqa: PLC0415 - moto loads lazily

    original = DynamoHandler.call_action
    if getattr(original, "serialized", False):
        return

    def call_action(self: DynamoHandler) -> Any:
        with _DYNAMODB_LOCK:
            return original(self)

    call_action.serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def forget_cached_sdk_clients() -> None:
    """Drop the AWS clients this process caches across calls: they are bound to the endpoint
    that was current when they were made, which is gone once it stops.

    Powertools parameters keeps one provider (and its boto3 client) per process, which is right
    in Lambda, where the endpoint never changes; in a test process the next stack listens on
    another port. Only a module already loaded is touched (the runner never imports Powertools).
    """
    base = sys.modules.get("aws_lambda_powertools.utilities.parameters.base")
    if base is not None:
        base.DEFAULT_PROVIDERS.clear()


@dataclass
class MotoEndpoint:
    """A running moto server. `start()` binds (port 0 picks a free one); `stop()` resets moto's
    in-process state, so the next stack in the same process starts empty.

    moto keeps its backends in process-global state, so two servers in one process would see
    (and reset) each other's resources: only one endpoint may run per process at a time.
    """

    host: str = "127.0.0.1"
    port: int = 5000
    region: str = LOCAL_REGION
    _server: Any = field(default=None, init=False, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoEndpoint:
        # One access-log line per AWS call drowns the functions' own logs.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        if _ACTIVE:
            raise MotoInUse(f"moto already runs at {_ACTIVE[0].url} in this process")
        serialize_dynamodb()
        server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        server.start()
        self._server = server
        self.host, self.port = server.get_host_and_port()
        _ACTIVE.append(self)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        try:
            self.reset()
        finally:
            self._server.stop()
            self._server = None
            _ACTIVE.remove(self)
            forget_cached_sdk_clients()

    def reset(self) -> None:
        """Drop every moto resource (moto's own admin API)."""
        url = f"{self.url}/moto-api/reset"
        request = urllib.request.Request(url, method="POST", data=b"")  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            response.read()

    def environment(self) -> dict[str, str]:
        """What a child process needs to reach moto with the AWS SDK."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_KEY,
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def client(self, service: str) -> Any:
        """A boto3 client for `service` bound to this endpoint (cached; clients are
        thread-safe)."""
        if service not in self._clients:
            self._clients[service] = self._new_client(service)
        return self._clients[service]

    def _new_client(self, service: str) -> Any:
        session = boto3.session.Session(
            aws_access_key_id=DUMMY_ACCESS_KEY,
            aws_secret_access_key=DUMMY_SECRET_KEY,
            region_name=self.region,
        )
        return session.client(service, endpoint_url=self.url)  # type: ignore[call-overload]

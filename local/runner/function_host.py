"""Run each function in its own processes, as Lambda runs each in its own sandboxes.

Powertools' Logger/Metrics/Tracer are module-level singletons configured from the environment
(POWERTOOLS_SERVICE_NAME, ...), so two functions must never share a process. A `FunctionHost`
is one spawned process holding one warm handler; a `FunctionPool` starts hosts on demand up to a
concurrency limit (cold starts happen on first use, like Lambda) and hands each invocation to an
idle one. A handler exception comes back as `FunctionError` carrying Lambda's error payload; a
run longer than the function's Timeout kills the host and raises `FunctionTimeout`.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import threading
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from local.runner.function_specs import FunctionSpec
from local.runner.host_child import serve

_SPAWN = multiprocessing.get_context("spawn")  # never fork: moto's threads live in the parent
_INIT_TIMEOUT_SECONDS = 60.0
_STOP_GRACE_SECONDS = 3.0


class FunctionError(RuntimeError):
    """The handler raised (or failed to initialise). `payload` is Lambda's error shape.

    Log `error_type`, not the message: a handler's message may quote request data (PHI).
    """

    def __init__(self, function: str, payload: dict[str, Any]) -> None:
        super().__init__(f"{function}: {payload.get('errorType')}: {payload.get('errorMessage')}")
        self.function = function
        self.payload = payload

    @property
    def error_type(self) -> str:
        return str(self.payload.get("errorType", ""))


class FunctionTimeout(FunctionError):
    """The invocation ran past the function's Timeout; its host was killed."""


@dataclass(frozen=True)
class HostConfig:
    """Everything a host process needs: which code, which environment."""

    spec: FunctionSpec
    environment: dict[str, str]  # the complete environment of the process
    # The file the function's processes append their output to (None: the runner's terminal).
    log_file: str | None = None


class FunctionHost:
    """One process running one function's handler; one invocation at a time."""

    def __init__(self, config: HostConfig) -> None:
        self.config = config
        parent_end, child_end = _SPAWN.Pipe()
        self._conn: Connection = parent_end
        self._process: BaseProcess = _SPAWN.Process(
            target=serve,
            args=(
                child_end,
                config.environment,
                str(config.spec.code_dir),
                config.spec.handler,
                config.log_file,
            ),
            name=f"lambda:{config.spec.logical_id}",
            daemon=True,
        )
        self._process.start()
        child_end.close()
        self._await_ready()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def _await_ready(self) -> None:
        name = self.config.spec.logical_id
        if not self._conn.poll(_INIT_TIMEOUT_SECONDS):
            self.kill()
            raise FunctionTimeout(name, {"errorType": "Runtime.InitTimeout", "errorMessage": ""})
        try:
            status, payload = self._conn.recv()
        except EOFError:
            self.kill()
            raise FunctionError(name, {"errorType": "Runtime.ExitError"}) from None
        if status != "ready":
            self.kill()
            raise FunctionError(name, payload)

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        spec = self.config.spec
        context = {
            "function_name": spec.function_name,
            "function_version": "$LATEST",
            "invoked_function_arn": spec.arn,
            "memory_limit_in_mb": spec.memory_mb,
            "aws_request_id": request_id or str(uuid.uuid4()),
            "log_group_name": f"/aws/lambda/{spec.function_name}",
            "log_stream_name": f"local/{self.pid}",
            "timeout_seconds": spec.timeout_seconds,
        }
        try:
            self._conn.send((json.dumps(event), context))
            ready = self._conn.poll(spec.timeout_seconds + 1.0)
            if not ready:
                self.kill()
                message = f"Task timed out after {spec.timeout_seconds:.2f} seconds"
                raise FunctionTimeout(
                    spec.logical_id, {"errorType": "Sandbox.Timedout", "errorMessage": message}
                )
            status, payload = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self.kill()
            raise FunctionError(
                spec.logical_id, {"errorType": "Runtime.ExitError", "errorMessage": "host exited"}
            ) from None
        if status == "ok":
            return json.loads(payload)
        raise FunctionError(spec.logical_id, payload)

    def stop(self) -> None:
        """Ask the child to exit; kill it if it does not within a grace period."""
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._process.join(_STOP_GRACE_SECONDS)
        self.kill()

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(_STOP_GRACE_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()


@dataclass
class FunctionPool:
    """Up to `max_concurrency` hosts of one function; callers block while all are busy."""

    config: HostConfig
    max_concurrency: int = 1
    _idle: list[FunctionHost] = field(default_factory=list, init=False)
    _hosts: list[FunctionHost] = field(default_factory=list, init=False)
    _starting: int = field(default=0, init=False)
    _closed: bool = field(default=False, init=False)
    _lock: threading.Condition = field(default_factory=threading.Condition, init=False)

    @property
    def name(self) -> str:
        return self.config.spec.logical_id

    def prewarm(self, count: int = 1) -> None:
        """Cold-start `count` hosts now (surfacing init errors at startup, not first use)."""
        hosts = [self._acquire() for _ in range(min(count, self.max_concurrency))]
        for host in hosts:
            self._release(host)

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        host = self._acquire()
        try:
            return host.invoke(event, request_id)
        finally:
            self._release(host)

    def pids(self) -> list[int]:
        with self._lock:
            return [host.pid for host in self._hosts if host.pid is not None]

    def _acquire(self) -> FunctionHost:
        with self._lock:
            while True:
                if self._closed:
                    raise FunctionError(self.name, {"errorType": "Runner.Stopped"})
                if self._idle:
                    return self._idle.pop()
                if len(self._hosts) + self._starting < self.max_concurrency:
                    self._starting += 1
                    break
                self._lock.wait()
        try:
            host = FunctionHost(self.config)
        finally:
            with self._lock:
                self._starting -= 1
                self._lock.notify_all()
        with self._lock:
            self._hosts.append(host)
        return host

    def _release(self, host: FunctionHost) -> None:
        with self._lock:
            if host.alive and not self._closed:
                self._idle.append(host)
            else:
                if host in self._hosts:
                    self._hosts.remove(host)
                host.kill()
            self._lock.notify_all()

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            hosts, self._hosts, self._idle = list(self._hosts), [], []
            self._lock.notify_all()
        for host in hosts:
            host.stop()

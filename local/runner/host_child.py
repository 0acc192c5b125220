"""The child side of a function host: one process, one function, like a Lambda sandbox.

Kept free of runner imports so the child starts fast. The process replaces its environment with
the function's before importing the handler (Powertools reads its service name and log level at
import), puts the code directory first on sys.path as Lambda does, then answers invocations from
the parent pipe until the pipe closes or it is told to stop.

Wire format (both directions are JSON strings, so a result that Lambda could not serialise fails
here too): parent sends `(event_json, context_fields)` or None to stop; child answers
`("ok", result_json)` or `("error", error_payload)`, after a first `("ready", None)` or
`("init_error", error_payload)`.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_monotonic: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


def error_payload(exc: BaseException) -> dict[str, Any]:
    """Lambda's invoke error shape: errorType, errorMessage, stackTrace."""
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def serve(
    conn: Connection,
    environment: dict[str, str],
    code_dir: str,
    handler: str,
    log_file: str | None = None,
) -> None:
    """Entry point of the child process (multiprocessing target)."""
    # Ctrl-C reaches the whole process group; the parent decides when hosts stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if log_file is not None:
        _append_output_to(log_file)
    os.environ.clear()
    os.environ.update(environment)
    time.tzset()  # Lambda runs in UTC (TZ is set in the environment)
    sys.path.insert(0, code_dir)
    module_name, _, attribute = handler.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except BaseException as exc:  # an init error is reported, as Lambda does
        conn.send(("init_error", error_payload(exc)))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away: no orphans
        if message is None:
            return
        event_json, context_fields = message
        conn.send(_invoke(function, event_json, context_fields))


def _append_output_to(path: str) -> None:
    """stdout and stderr (descriptors 1 and 2: also warnings and C extensions) go to `path`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _invoke(function: Any, event_json: str, context_fields: dict[str, Any]) -> tuple[str, Any]:
    timeout_seconds = float(context_fields.pop("timeout_seconds"))
    context = LocalLambdaContext(
        **context_fields, deadline_monotonic=time.monotonic() + timeout_seconds
    )
    try:
        result = function(json.loads(event_json), context)
        return ("ok", json.dumps(result))
    except Exception as exc:
        return ("error", error_payload(exc))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()

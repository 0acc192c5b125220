"""Load a function's handler module the way Lambda does and invoke it with a sample event."""

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FUNCTIONS = REPO / "functions"
EVENTS = REPO / "events"

FUNCTION_NAMES = ("api", "sync_worker", "pull", "weekly_report", "webhook_delivery")


@dataclass
class FakeLambdaContext:
    function_name: str = "amdsync-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-west-2:123456789012:function:amdsync-test"
    aws_request_id: str = "req-test-0001"
    log_group_name: str = "/aws/lambda/amdsync-test"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_handler(name: str) -> ModuleType:
    """Import functions/<name>/app.py fresh, under a unique module name (all are called app)."""
    module_name = f"amdsync_function_{name}"
    sys.modules.pop(module_name, None)
    # Lambda gives each function its own process, so Powertools' module-level singletons
    # (service name, appended keys) start fresh: do the same here.
    sys.modules.pop("amdsync.observability", None)
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_event(relative: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / relative).read_text())
    return event


@dataclass
class DeadlineContext(FakeLambdaContext):
    """A Lambda context running out of time: every look at the clock costs `step_ms`, so a pull
    that checks its deadline between pieces meets it part-way through a window."""

    remaining_ms: int = 30_000
    step_ms: int = 0
    asked: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.asked += 1
        left = self.remaining_ms
        self.remaining_ms = max(0, self.remaining_ms - self.step_ms)
        return left

"""Injected faults for the next N matching calls (`POST /_sim/faults`)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

# pre: answered without touching state. post: state is committed first.
KINDS = {
    "http500": "pre",
    "timeout": "pre",  # sleep delay_ms, then drop the connection without a reply
    "delay": "pre",  # sleep delay_ms, then answer normally
    "429": "pre",
    "expired": "pre",  # the presented token is expired for real, expiry fault returned
    "lapse": "pre",  # as expired, with the -2147219456 "invalid user context" variant
    "privilege": "pre",  # HTTP 200 fault 3085 with extrainfo.permissiondetails
    "malformed": "pre",  # HTTP 200 with a truncated, unparseable body; nothing committed
    "drop": "post",  # commit the change, then drop the connection: client sees a failure
}
DEFAULT_DELAY_MS = {"timeout": 2000, "delay": 500}


@dataclass
class FaultRule:
    kind: str
    remaining: int = 1
    action: str | None = None
    path: str | None = None
    delay_ms: int = 0

    def matches(self, action: str, path: str) -> bool:
        if self.action and self.action.lower() != action.lower():
            return False
        return not (self.path and self.path not in path)


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, spec: dict[str, Any]) -> FaultRule:
        kind = str(spec.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}")
        count = int(spec.get("count", 1))
        if count < 1:
            raise ValueError("count must be >= 1")
        delay = int(spec.get("delay_ms", DEFAULT_DELAY_MS.get(kind, 0)))
        rule = FaultRule(kind, count, spec.get("action"), spec.get("path"), delay)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, action: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(action, path):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return FaultRule(rule.kind, 1, rule.action, rule.path, rule.delay_ms)
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(r) for r in self._rules]

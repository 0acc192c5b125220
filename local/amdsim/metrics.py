"""Counters behind `GET /_sim/report`. Only ids, actions and reasons are kept (no PHI)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from typing import Any

MAX_VIOLATIONS_KEPT = 500


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.logins = 0
            self.login_redirects = 0
            self.login_failures = 0
            self.calls_by_tier: Counter[str] = Counter()
            self.calls_by_action: Counter[str] = Counter()
            self.rate_limited_by_tier: Counter[str] = Counter()
            self.rate_limited_by_action: Counter[str] = Counter()
            self.http_429 = 0
            self.violations: list[dict[str, str]] = []
            self.violation_count = 0
            self.faults_injected: Counter[str] = Counter()
            self.msgtime_skew_warnings = 0
            self.window_gap_warnings = 0
            self.expired_token_uses = 0
            self.superseded_token_uses = 0

    def call(self, action: str, tier: int) -> None:
        with self._lock:
            self.calls_by_tier[str(tier)] += 1
            self.calls_by_action[action] += 1

    def rate_limited(self, action: str, tier: str) -> None:
        with self._lock:
            self.rate_limited_by_tier[tier] += 1
            self.rate_limited_by_action[action] += 1

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def fault_injected(self, kind: str) -> None:
        with self._lock:
            self.faults_injected[kind] += 1

    def violation(self, reason: str, action: str, at: datetime) -> None:
        with self._lock:
            self.violation_count += 1
            if len(self.violations) < MAX_VIOLATIONS_KEPT:
                self.violations.append({"reason": reason, "action": action, "at": at.isoformat()})

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            excess = sum(self.rate_limited_by_action.values())
            return {
                "logins": self.logins,
                "login_redirects": self.login_redirects,
                "login_failures": self.login_failures,
                "calls": {
                    "total": sum(self.calls_by_action.values()),
                    "by_tier": dict(self.calls_by_tier),
                    "by_action": dict(self.calls_by_action),
                },
                "rate_limited": {
                    "total": excess,
                    "by_tier": dict(self.rate_limited_by_tier),
                    "by_action": dict(self.rate_limited_by_action),
                },
                "excess_call_cents": excess,
                "http_429": self.http_429,
                "violations": {"count": self.violation_count, "items": list(self.violations)},
                "faults_injected": dict(self.faults_injected),
                "msgtime_skew_warnings": self.msgtime_skew_warnings,
                "window_gap_warnings": self.window_gap_warnings,
                "expired_token_uses": self.expired_token_uses,
                "superseded_token_uses": self.superseded_token_uses,
            }

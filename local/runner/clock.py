"""Clocks for the scheduler: real time, a fast (scaled) clock, and a manual one for tests.

A clock answers two questions: what time is it (an aware UTC datetime), and how many *real*
seconds until a given instant, so the scheduler knows how long to sleep. The fast clock is the
one to share with the AMD simulator later (its admin API `POST /_sim/clock` can be told the same
instant); SQS visibility timeouts and JWT expiry stay on real time.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

_MANUAL_POLL_SECONDS = 0.05


class Clock(Protocol):
    def now(self) -> datetime: ...

    def real_seconds_until(self, instant: datetime) -> float: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def real_seconds_until(self, instant: datetime) -> float:
        return max(0.0, (instant - self.now()).total_seconds())


class ScaledClock:
    """Runs `speed` times faster than real time from `start` (default: now)."""

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._lock = threading.Lock()
        self._anchor_real = time.monotonic()
        self._anchor = start or datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            elapsed = time.monotonic() - self._anchor_real
            return self._anchor + timedelta(seconds=elapsed * self.speed)

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._anchor_real = time.monotonic()
            self._anchor = instant.astimezone(UTC)

    def real_seconds_until(self, instant: datetime) -> float:
        return max(0.0, (instant - self.now()).total_seconds() / self.speed)


class ManualClock:
    """Moves only when told to; `advance()` and `set()` are for tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant.astimezone(UTC)

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def real_seconds_until(self, instant: datetime) -> float:
        # Nobody knows when a test will tick: look again soon.
        return 0.0 if instant <= self.now() else _MANUAL_POLL_SECONDS

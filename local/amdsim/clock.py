"""Clocks. `SimClock` is the simulated (product-side) clock: it follows real time by default and
tests may set, freeze or advance it. `AmdClock` is AdvancedMD's own clock: the same instant
plus `clock_offset_seconds` (AMD running ahead of, or behind, the product). Everything AMD
judges or stamps (peak hours, rate windows, token expiry, `servertime`, `@lst`) uses `AmdClock`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def _real_utc() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


def _to_ms(instant: datetime) -> datetime:
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


class SimClock:
    """Thread-safe clock. `now()` is the simulated instant (UTC, millisecond resolution).

    `stamp()` hands out strictly increasing instants for change records and `servertime`
    values, so ordering holds even when the clock is frozen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        self._last_stamp: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return _to_ms(_real_utc() + self._offset)

    def stamp(self, offset: timedelta = timedelta(0)) -> datetime:
        """A strictly increasing instant (`now() + offset`), even when the clock is frozen."""
        with self._lock:
            now = self._now_locked() + offset
            if self._last_stamp is not None and now <= self._last_stamp:
                now = self._last_stamp + timedelta(milliseconds=1)
            self._last_stamp = now
            return now

    def set(self, instant: datetime, *, frozen: bool) -> None:
        if instant.tzinfo is None:
            raise ValueError("instant must carry a UTC offset")
        instant = _to_ms(instant.astimezone(UTC))
        with self._lock:
            if frozen:
                self._frozen_at = instant
            else:
                self._frozen_at = None
                self._offset = instant - _real_utc()
            self._last_stamp = None

    def advance(self, seconds: float) -> None:
        delta = timedelta(seconds=seconds)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = _to_ms(self._frozen_at + delta)
            else:
                self._offset += delta

    def freeze(self) -> None:
        with self._lock:
            self._frozen_at = self._now_locked()

    def follow_real_time(self) -> None:
        with self._lock:
            self._offset = timedelta(0)
            self._frozen_at = None
            self._last_stamp = None

    def describe(self) -> dict[str, Any]:
        with self._lock:
            now = self._now_locked()
            return {
                "now": now.isoformat().replace("+00:00", "Z"),
                "frozen": self._frozen_at is not None,
                "offset_seconds": self._offset.total_seconds(),
            }


class AmdClock:
    """AdvancedMD's clock: the simulated clock shifted by `offset_seconds()` (read per call, so a
    run-time `clock_offset_seconds` switch takes effect at once). Millisecond resolution."""

    def __init__(self, base: SimClock, offset_seconds: Callable[[], float]) -> None:
        self._base = base
        self._offset_seconds = offset_seconds

    def offset(self) -> timedelta:
        return timedelta(milliseconds=round(float(self._offset_seconds()) * 1000))

    def now(self) -> datetime:
        return self._base.now() + self.offset()

    def stamp(self) -> datetime:
        return self._base.stamp(self.offset())

    def describe(self) -> dict[str, Any]:
        return {
            "now": self.now().isoformat().replace("+00:00", "Z"),
            "clock_offset_seconds": self.offset().total_seconds(),
        }

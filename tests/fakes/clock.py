"""A settable, advanceable, timezone-aware (UTC) clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Denver


class FakeClock:
    def __init__(self, now: datetime = DEFAULT_NOW) -> None:
        self._now = now
        self.set(now)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = now.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

"""In-memory, thread-safe implementations of the ports, for unit tests and single-process use."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from amdsync.domain.pacing import ClockOffset, PaceState
from amdsync.domain.token_keys import TokenOwner, token_cache_key


@dataclass(frozen=True)
class MemoryToken:
    token: str
    webserver: str
    issued_at: datetime
    expires_at: datetime


class MemoryTokenCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, MemoryToken] = {}
        self._leases: dict[str, tuple[str, datetime]] = {}

    def load(self, owner: TokenOwner) -> MemoryToken | None:
        with self._lock:
            return self._tokens.get(token_cache_key(owner))

    def save(
        self,
        owner: TokenOwner,
        *,
        token: str,
        webserver: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> None:
        with self._lock:
            self._tokens[token_cache_key(owner)] = MemoryToken(
                token, webserver, issued_at, expires_at
            )

    def discard(self, owner: TokenOwner, token: str) -> None:
        key = token_cache_key(owner)
        with self._lock:
            current = self._tokens.get(key)
            if current is not None and current.token == token:
                del self._tokens[key]

    def try_lease(self, owner: TokenOwner, holder: str, now: datetime, until: datetime) -> bool:
        key = token_cache_key(owner)
        with self._lock:
            held = self._leases.get(key)
            if held is not None and held[0] != holder and held[1] > now:
                return False
            self._leases[key] = (holder, until)
            return True

    def release_lease(self, owner: TokenOwner, holder: str) -> None:
        key = token_cache_key(owner)
        with self._lock:
            held = self._leases.get(key)
            if held is not None and held[0] == holder:
                del self._leases[key]


class MemoryRateBuckets:
    """The pacing item per office key, in one process (a lock stands in for the condition)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrivals: dict[str, dict[str, float]] = {}
        self._clocks: dict[str, ClockOffset] = {}
        self._counts: dict[tuple[str, str], dict[str, int]] = {}

    def advance(
        self,
        scope: str,
        spacing: Mapping[str, float],
        now: float,
        clock: ClockOffset | None = None,
    ) -> tuple[bool, PaceState]:
        with self._lock:
            arrivals = self._arrivals.setdefault(scope, {})
            free = all(arrivals.get(name, now) <= now for name in spacing)
            if free:
                for name, gap in spacing.items():
                    arrivals[name] = now + gap
                if clock is not None:
                    self._clocks[scope] = clock
            return free, PaceState(dict(arrivals), self._clocks.get(scope))

    def hold(self, scope: str, budgets: Sequence[str], until: float) -> None:
        with self._lock:
            arrivals = self._arrivals.setdefault(scope, {})
            for name in budgets:
                arrivals[name] = max(arrivals.get(name, until), until)

    def state(self, scope: str) -> PaceState:
        with self._lock:
            return PaceState(dict(self._arrivals.get(scope, {})), self._clocks.get(scope))

    def count(self, scope: str, window: str, budgets: Sequence[str], expires_at: datetime) -> None:
        with self._lock:
            counts = self._counts.setdefault((scope, window), {})
            for name in budgets:
                counts[name] = counts.get(name, 0) + 1
            if len(self._counts) > 64:  # display only: keep the recent minutes
                for key in sorted(self._counts, key=lambda k: k[1])[:-32]:
                    del self._counts[key]

    def used(self, scope: str, window: str) -> dict[str, int]:
        with self._lock:
            return dict(self._counts.get((scope, window), {}))


class MemoryLookupCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str], tuple[list[dict[str, Any]], datetime]] = {}

    def get(self, scope: str, kind: str, now: datetime) -> list[dict[str, Any]] | None:
        with self._lock:
            entry = self._rows.get((scope, kind))
            if entry is None or entry[1] <= now:
                return None
            return copy.deepcopy(entry[0])

    def put(self, scope: str, kind: str, rows: list[dict[str, Any]], expires_at: datetime) -> None:
        with self._lock:
            self._rows[(scope, kind)] = (copy.deepcopy(rows), expires_at)

    def invalidate(self, scope: str, kind: str) -> None:
        with self._lock:
            self._rows.pop((scope, kind), None)


class ManualClock:
    """A clock that moves only when told to; `sleep` advances it instantly."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = start or datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self._now += timedelta(seconds=max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


class CountingMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        # (name, sorted dimensions) -> count, for the points that carry dimensions.
        self.by_dimensions: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + value
            if dimensions:
                key = (name, tuple(sorted(dimensions.items())))
                self.by_dimensions[key] = self.by_dimensions.get(key, 0) + value

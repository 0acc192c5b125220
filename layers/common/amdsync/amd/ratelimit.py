"""Distributed rate limiter: one usage counter per office key, budget and one-minute window.

AMD measures "per office key, per tier, over each one-minute interval" (PROTOCOL §6), so a
fixed-window counter is the closest model: a window's limit is fixed by whether the window
*starts* in peak hours. The limiter never sleeps; `acquire` returns a `Permit` or a `Wait` and
the caller decides whether to sleep (CLI) or defer the work (Lambda worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from amdsync.amd.ports import Clock, RateBuckets
from amdsync.amd.tiers import Budget, LimitTable

WINDOW = timedelta(minutes=1)
# Keep counters a little past their window so `limits` can still show the last minute.
_RETENTION = timedelta(minutes=3)
# Land safely inside the next window rather than on its exact edge.
_EDGE = 0.001


@dataclass(frozen=True)
class Permit:
    budgets: tuple[Budget, ...]
    window_start: datetime


@dataclass(frozen=True)
class Wait:
    seconds: float
    budget: Budget


@dataclass(frozen=True)
class BudgetState:
    budget: Budget
    used: int
    limit: int
    peak: bool
    resets_in: float


def window_start(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(second=0, microsecond=0)


def bucket_name(budget: Budget, start: datetime) -> str:
    return f"{budget.value}#{start:%Y-%m-%dT%H:%M}"


class RateLimiter:
    def __init__(
        self,
        buckets: RateBuckets,
        scope: str,
        clock: Clock,
        table: LimitTable | None = None,
    ) -> None:
        self._buckets = buckets
        self._scope = scope
        self._clock = clock
        self._table = table or LimitTable.default()

    def acquire(self, budgets: Budget | Sequence[Budget], cost: int = 1) -> Permit | Wait:
        """Take `cost` from every budget in the current window, all or nothing."""
        wanted = (budgets,) if isinstance(budgets, Budget) else tuple(budgets)
        now = self._clock.now()
        start = window_start(now)
        taken: list[Budget] = []
        for budget in wanted:
            limit = self._table.limit(budget, start)
            if cost > limit:
                # Not satisfiable in this window (e.g. a 0 limit); try the next one.
                self._undo(taken, start, cost)
                return Wait(self._until_next(now, start), budget)
            name = bucket_name(budget, start)
            if not self._buckets.try_take(
                self._scope, name, cost=cost, limit=limit, expires_at=start + _RETENTION
            ):
                self._undo(taken, start, cost)
                return Wait(self._until_next(now, start), budget)
            taken.append(budget)
        return Permit(budgets=wanted, window_start=start)

    def note_server_limit(self, budgets: Sequence[Budget]) -> float:
        """AMD answered 429: close the window for everyone and say how long to wait."""
        now = self._clock.now()
        start = window_start(now)
        for budget in budgets:
            self._buckets.exhaust(
                self._scope,
                bucket_name(budget, start),
                limit=self._table.limit(budget, start),
                expires_at=start + _RETENTION,
            )
        return self._until_next(now, start)

    def snapshot(self, budgets: Sequence[Budget] = tuple(Budget)) -> list[BudgetState]:
        now = self._clock.now()
        start = window_start(now)
        peak = self._table.is_peak(start)
        return [
            BudgetState(
                budget=b,
                used=self._buckets.used(self._scope, bucket_name(b, start)),
                limit=self._table.limit(b, start),
                peak=peak,
                resets_in=self._until_next(now, start),
            )
            for b in budgets
        ]

    def _undo(self, taken: list[Budget], start: datetime, cost: int) -> None:
        # Give back what an all-or-nothing acquire already took, so no budget leaks.
        for budget in taken:
            self._buckets.give_back(self._scope, bucket_name(budget, start), cost=cost)

    @staticmethod
    def _until_next(now: datetime, start: datetime) -> float:
        return max(0.0, (start + WINDOW - now).total_seconds()) + _EDGE

"""Distributed pacing limiter: safe however AMD counts its "one-minute intervals" (PROTOCOL §6).

AMD may count calendar minutes on its own clock, a sliding 60 s window, or a token bucket
(PROTOCOL §9.19-21 are OPEN). One rule satisfies all three: never let more than L calls into
*any* 60 s span. GCRA (the generic cell rate algorithm, virtual scheduling) with no burst
tolerance does exactly that. Each budget of an office key has a theoretical arrival time (TAT)
in one shared item; a call may go when every budget it spends has TAT <= now, and then moves
each TAT to now + T (all or none, one conditional write). So successive calls of a budget are
at least T apart, and a closed 60 s span holds at most floor(60 / T) + 1 of them. With

    T = (60 s + margin) / L

that is at most L even when arrivals at AMD shift against each other by up to `margin`
(network jitter, clock differences between our processes): L + 1 calls need L * T = 60 s +
margin. Throughput is 60 / (60 + margin) of the ceiling (96.8 % with the 2 s default), for
every L, including L = 1 (the change feed and login: one call per 62 s).

Peak hours (06:00-18:00 America/Denver, weekdays) are judged on AMD's clock, which we only
estimate (`AmdClock`: AMD minus ours within [lo, hi]; +/- 30 s until learned). A call sent at
our `now` reaches AMD at some instant in [now + lo, now + hi + margin]; every window that can
hold it ends within 60 s after that. If any instant of [now + lo, now + hi + margin + 60 s] is
peak, the call is paced at the peak limit. So peak pacing starts 60 s + tolerance before 06:00
and lasts a tolerance past 18:00, on the estimate of AMD's clock.

The limiter never sleeps: `acquire` returns a `Permit` or a `Wait` and the caller decides to
sleep (CLI, pull, short pacing waits) or to defer the work (Lambda worker).

Lanes (SPEC §9.3). An interactive caller that is about to sleep for a slot *claims* it
(`claim`): the claim is one more arrival time in the same item (`<budget>!claim`), set to
just after the slot. A background call spends the claim name too, with spacing 0, so its
conditional write fails while an interactive claim is pending and succeeds (leaving the claim
at "now", i.e. expired) otherwise. So interactive work waits at most one slot of its tier,
however many background workers compete, and a claim its owner never uses (the process
died) costs background one slot at most.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from amdsync.amd.amdclock import AmdClock
from amdsync.amd.lanes import INTERACTIVE, Lane
from amdsync.amd.ports import Clock, RateBuckets
from amdsync.amd.tiers import Budget, LimitTable

WINDOW = 60.0
# Seconds by which arrivals at AMD may shift against each other without breaking the rule.
DEFAULT_MARGIN = 2.0
# After AMD's own 429 every budget of the call waits this long (a window clears in 60 s).
_PENALTY = WINDOW
# Counters are informational (`limits`, the dashboard); keep them a little past their minute.
_COUNT_RETENTION = timedelta(minutes=3)
# Land just after the arrival time rather than exactly on it.
_EDGE = 0.001
# How long past its slot an interactive claim holds background off: covers the claimant's
# sleep overshoot and one round trip to the pacing item.
CLAIM_GRACE = 1.0


def claim_name(budget: Budget) -> str:
    return f"{budget.value}!claim"


@dataclass(frozen=True)
class Permit:
    budgets: tuple[Budget, ...]
    at: datetime
    peak: bool


@dataclass(frozen=True)
class Wait:
    seconds: float
    budget: Budget


@dataclass(frozen=True)
class BudgetState:
    budget: Budget
    used: int  # calls permitted in this calendar minute of our clock (display only)
    limit: int  # AMD's per-minute limit that pacing applies now
    peak: bool
    resets_in: float  # seconds until that counter's minute ends
    next_in: float  # seconds until a call of this budget may go


def minute_name(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%Y-%m-%dT%H:%M}"


def emission_interval(limit: int, margin: float = DEFAULT_MARGIN) -> float:
    """Seconds between calls so that no 60 s span, shifted by up to `margin`, holds > limit."""
    return (WINDOW + margin) / limit


class RateLimiter:
    def __init__(
        self,
        buckets: RateBuckets,
        scope: str,
        clock: Clock,
        table: LimitTable | None = None,
        *,
        amd_clock: AmdClock | None = None,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        self._buckets = buckets
        self._scope = scope
        self._clock = clock
        self._table = table or LimitTable.default()
        self._amd_clock = amd_clock or AmdClock()
        self._margin = margin

    @property
    def amd_clock(self) -> AmdClock:
        return self._amd_clock

    def peak_pacing(self, now: datetime | None = None) -> bool:
        """Whether a call sent at `now` could count in a window AMD judges as peak."""
        at = now or self._clock.now()
        lo, hi = self._amd_clock.bounds(at)
        start = at + timedelta(seconds=lo)
        end = at + timedelta(seconds=hi + self._margin + WINDOW)
        return self._table.peak_within(start, end)

    def limit(self, budget: Budget, peak: bool) -> int:
        return self._table.limits[budget].at(peak)

    def acquire(
        self, budgets: Budget | Sequence[Budget], lane: Lane = INTERACTIVE
    ) -> Permit | Wait:
        """Take a call's slot in every budget named, all or nothing. Background calls also
        yield to any pending interactive claim on those budgets."""
        wanted = (budgets,) if isinstance(budgets, Budget) else tuple(budgets)
        now = self._clock.now()
        peak = self.peak_pacing(now)
        spacing: dict[str, float] = {}
        for budget in wanted:
            limit = self.limit(budget, peak)
            if limit <= 0:
                return Wait(WINDOW, budget)  # no call allowed at all now: look again later
            spacing[budget.value] = emission_interval(limit, self._margin)
            if lane != INTERACTIVE:
                spacing[claim_name(budget)] = 0.0
        share = self._amd_clock.to_share()
        taken, state = self._buckets.advance(self._scope, spacing, now.timestamp(), share)
        self._amd_clock.shared_is(state.clock)
        if taken:
            self._buckets.count(
                self._scope,
                minute_name(now),
                [b.value for b in wanted],
                expires_at=now + _COUNT_RETENTION,
            )
            return Permit(budgets=wanted, at=now, peak=peak)
        return self._wait(wanted, spacing, state.arrivals, now)

    def claim(self, budgets: Sequence[Budget], slot_in: float) -> None:
        """An interactive caller will take the slot `slot_in` seconds from now: background
        calls hold off until just after it."""
        until = self._clock.now().timestamp() + slot_in + CLAIM_GRACE
        self._buckets.hold(self._scope, [claim_name(b) for b in budgets], until)

    def next_allowed_in(self, budgets: Budget | Sequence[Budget]) -> float:
        """Seconds until a call spending `budgets` may go (0 = now); takes nothing."""
        wanted = (budgets,) if isinstance(budgets, Budget) else tuple(budgets)
        now = self._clock.now()
        state = self._buckets.state(self._scope)
        self._amd_clock.shared_is(state.clock)
        return max([0.0, *(state.arrivals.get(b.value, 0.0) - now.timestamp() for b in wanted)])

    def note_server_limit(self, budgets: Sequence[Budget]) -> float:
        """AMD answered 429 anyway: hold every budget of the call for a full window, for
        every process, and say how long to wait."""
        now = self._clock.now().timestamp()
        until = now + _PENALTY + self._margin
        self._buckets.hold(self._scope, [b.value for b in budgets], until)
        return until - now + _EDGE

    def snapshot(self, budgets: Sequence[Budget] = tuple(Budget)) -> list[BudgetState]:
        now = self._clock.now()
        peak = self.peak_pacing(now)
        state = self._buckets.state(self._scope)
        used = self._buckets.used(self._scope, minute_name(now))
        minute_end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        return [
            BudgetState(
                budget=b,
                used=used.get(b.value, 0),
                limit=self.limit(b, peak),
                peak=peak,
                resets_in=(minute_end - now).total_seconds(),
                next_in=max(0.0, state.arrivals.get(b.value, 0.0) - now.timestamp()),
            )
            for b in budgets
        ]

    @staticmethod
    def _wait(
        wanted: tuple[Budget, ...],
        spacing: Mapping[str, float],
        arrivals: Mapping[str, float],
        now: datetime,
    ) -> Wait:
        """The budget that keeps the call waiting longest (the first named, on a tie: the feed
        before its tier; a pending claim counts for its budget), and for how long."""

        def free_at(budget: Budget) -> float:
            names = (budget.value, claim_name(budget))
            return max(arrivals.get(name, 0.0) for name in names if name in spacing)

        budget = max(wanted, key=free_at)
        return Wait(max(free_at(budget) - now.timestamp(), 0.0) + _EDGE, budget)

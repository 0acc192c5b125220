"""Shared pacing state of one office key (ARCHITECTURE §3.1 "Pacing", SPEC §9.3).

Values only; the arithmetic that uses them lives in `amdsync.amd.ratelimit` and
`amdsync.amd.amdclock`, the storage in `amdsync.store` (DynamoDB, files) and `amd.memory`.

* Each budget (`T1`, `T2`, `T3`, `FEED`, `LOGIN`) has a *theoretical arrival time* (GCRA, the
  generic cell rate algorithm): the earliest instant, in epoch seconds on the product's clock,
  at which the next call spending that budget may go.
* `ClockOffset` is what the product has learned about AMD's clock: AMD's clock minus ours lies
  within [lo, hi] seconds. It is kept next to the arrival times so a new process (a fresh Lambda
  container, the CLI) starts with what the fleet already knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Clocks kept by NTP drift by far less than 100 ppm; an old estimate widens by this much per
# second of age, so it never claims more certainty than it has.
DRIFT_PER_SECOND = 1e-4


@dataclass(frozen=True)
class ClockOffset:
    """AMD's clock minus the product's lies in [lo, hi] seconds; last narrowed at `at` (epoch
    seconds, product's clock)."""

    lo: float
    hi: float
    at: float

    @property
    def mid(self) -> float:
        return (self.lo + self.hi) / 2

    @property
    def width(self) -> float:
        return self.hi - self.lo

    def aged(self, now: float) -> ClockOffset:
        """The same knowledge seen at `now`: wider by the drift since `at`."""
        spread = DRIFT_PER_SECOND * max(0.0, now - self.at)
        return ClockOffset(self.lo - spread, self.hi + spread, max(self.at, now))

    def merge(self, other: ClockOffset) -> ClockOffset:
        """Both bound the same offset, so the truth lies in their intersection. If they do not
        intersect, AMD's clock was stepped (or one reading was wrong): trust the newer one."""
        now = max(self.at, other.at)
        a, b = self.aged(now), other.aged(now)
        lo, hi = max(a.lo, b.lo), min(a.hi, b.hi)
        if lo <= hi:
            return ClockOffset(lo, hi, now)
        return other if other.at >= self.at else self


@dataclass(frozen=True)
class PaceState:
    """One office key's shared item: arrival time per budget name, and the clock estimate."""

    arrivals: Mapping[str, float] = field(default_factory=dict)
    clock: ClockOffset | None = None

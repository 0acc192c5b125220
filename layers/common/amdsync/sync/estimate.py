"""Queue position and wait estimates from queue depth and the live Tier 2 budget (SPEC §6).

A job costs about one Tier 2 call (REST scheduler calls are budgeted as Tier 2), and the shared
limiter lets one Tier 2 call go every `emission_interval(limit)` seconds, (60 s + margin) / L
(amd/ratelimit.py): that is the fastest the queue can drain. It may drain slower, when the
workers rather than AMD's budget are the bottleneck (few workers, slow jobs); then the pace of
the latest completions says more. `estimate_wait` takes the slower of the two.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from amdsync.amd.ratelimit import emission_interval
from amdsync.amd.tiers import Budget, LimitTable
from amdsync.domain.journal import SyncLogEntry

CALLS_PER_JOB = 1.0
# The completions the observed pace is read from: the latest few, if recent. While a backlog
# drains they follow each other as fast as the workers and AMD allow.
PACE_SAMPLE = 20
PACE_WINDOW = timedelta(minutes=5)
PACE_FRESH = timedelta(minutes=2)
# Work whose completions say how fast jobs go: syncs, not pulls, bulk bookkeeping or settings.
_JOB_ENTITIES = frozenset({"appointment", "patient"})


@dataclass(frozen=True)
class WaitEstimate:
    queue_position: int
    estimated_wait_seconds: int


def seconds_per_job(now: datetime, limits: LimitTable | None = None) -> float:
    """The limiter's spacing for one job's Tier 2 calls at `now` (peak or off-peak)."""
    table = limits or LimitTable.default()
    return CALLS_PER_JOB * emission_interval(table.limit(Budget.TIER2, now))


def recent_pace(entries: Iterable[SyncLogEntry], now: datetime) -> float | None:
    """Seconds between the latest job completions (median gap), or None without enough
    recent ones (then only the budget counts)."""
    done = sorted(
        (e.at for e in entries if e.entity_type in _JOB_ENTITIES and e.outcome != "deferred"),
        reverse=True,
    )[:PACE_SAMPLE]
    if len(done) < PACE_SAMPLE or now - done[0] > PACE_FRESH:
        return None
    gaps = [(later - earlier).total_seconds() for later, earlier in itertools.pairwise(done)]
    return statistics.median(gaps)


def estimate_wait(
    depth: int,
    now: datetime,
    limits: LimitTable | None = None,
    pace: float | None = None,
) -> WaitEstimate:
    """`depth` jobs ahead: each at the limiter's spacing, or at `pace` (seconds per job
    observed, `recent_pace`) when that is slower."""
    per_job = max(seconds_per_job(now, limits), pace or 0.0)
    wait = math.ceil(max(depth, 0) * per_job)
    return WaitEstimate(queue_position=max(depth, 0), estimated_wait_seconds=wait)

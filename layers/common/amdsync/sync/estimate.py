"""Queue position and wait estimates from queue depth and the live Tier 2 budget (SPEC §6)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from amdsync.amd.tiers import Budget, LimitTable

# A sync job costs about one Tier 2 call (REST scheduler calls are budgeted as Tier 2).
CALLS_PER_JOB = 1.0


@dataclass(frozen=True)
class WaitEstimate:
    queue_position: int
    estimated_wait_seconds: int


def seconds_per_job(now: datetime, limits: LimitTable | None = None) -> float:
    table = limits or LimitTable.default()
    return 60.0 * CALLS_PER_JOB / table.limit(Budget.TIER2, now)


def estimate_wait(depth: int, now: datetime, limits: LimitTable | None = None) -> WaitEstimate:
    wait = math.ceil(max(depth, 0) * seconds_per_job(now, limits))
    return WaitEstimate(queue_position=max(depth, 0), estimated_wait_seconds=wait)

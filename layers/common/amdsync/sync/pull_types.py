"""A pull's summary (carried across invocations in its checkpoint) and its options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from amdsync.domain.errors import SyncErrorCode

# The summary counters carried in the checkpoint from one invocation to the next.
COUNTERS = (
    "updated", "created", "cancelled", "conflicts", "charges", "unlinked", "degraded", "visits",
    "unreadable",
)  # fmt: skip

# The counts a pull reports to whoever asked for it (GET /appointments/pull-updates/{pullId}).
REPORTED = ("updated", "created", "cancelled", "conflicts", "charges", "unlinked")

# Seconds left in this invocation (the Lambda context's get_remaining_time_in_millis() / 1000).
Remaining = Callable[[], float]


@dataclass
class PullSummary:
    updated: int = 0
    created: int = 0
    cancelled: int = 0
    conflicts: int = 0
    charges: int = 0
    unlinked: int = 0
    degraded: int = 0  # visits read without a lookup AMD would not answer (fields not compared)
    visits: int = 0
    amd_calls: int = 0
    servertime: str | None = None
    unreadable: int = 0
    # ok | partial (stopped at its deadline; the next run resumes) | busy | too_soon | blocked
    status: str = "ok"
    error_code: SyncErrorCode | None = None
    pushes: list[str] = field(default_factory=list)
    retry_after: float | None = None  # too_soon: seconds until AMD's feed may be read

    def counts(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in COUNTERS}

    def reported(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in REPORTED}


@dataclass(frozen=True)
class PullOptions:
    bootstrap_days_back: int = 1
    bootstrap_days_ahead: int = 14
    # The guard trips only above this many cancellations, so one cancel in a quiet week passes.
    mass_change_min: int = 5
    # AMD's change feed goes at most once per 60 s + margin per office key, whoever calls
    # (SPEC §9.3; the shared limiter's FEED budget). A pull that would have to wait longer than
    # this for it answers `too_soon` without calling AMD: 0 for the pull button (the caller is
    # told when); the pull function passes PULL_MAX_RATE_WAIT, so a scheduled pull waits the
    # few seconds inside its run instead of skipping a minute.
    max_feed_wait: float = 0.0
    # Visits per stored piece: the unit of checkpointing (and of work repeated after a crash);
    # 250 keeps a piece ~75 KB (DynamoDB items: 400 KB) and half a second of work at most.
    chunk_size: int = 250
    # A run with a deadline starts no piece with less than this many seconds left.
    deadline_margin: float = 10.0
    # The lease of a run without a deadline (the CLI): the pull function's timeout.
    lease_seconds: float = 120.0

"""Counters behind `/sync/stats` and `/sync/dashboard` (SPEC §9.3: bounded work per request).

The stores keep these up to date as they write (ADD on small counter items), so a stats or
dashboard request reads a handful of items instead of every log entry or record. The same pure
functions count a list of entries or records, so a recount is the reference the counters must
equal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from amdsync.domain.journal import SyncLogEntry
from amdsync.domain.status import EhrStatus, canonical_status

SYNC_ENTITIES = ("appointment", "patient")
SYNCS, SUCCEEDED, FAILED = "syncs", "succeeded", "failed"
SKIPPED, SYNCS_DEFERRED = "skipped", "syncsDeferred"
DEFERRED, CONFLICTS, DURATION_SUM = "deferred", "conflicts", "durationSum"
ERROR_PREFIX, DURATION_PREFIX = "err_", "dur_"
# Duration histogram edges (ms): 10 ms steps to 1 s, 100 ms to 10 s, 1 s to 2 min; a p95 read
# from it is the bucket's upper edge (within 10 % of the exact figure).
OVERFLOW_MS = 120_000


def duration_bucket(ms: int) -> int:
    """The upper edge of the histogram bucket `ms` falls in."""
    for step, limit in ((10, 1_000), (100, 10_000), (1_000, OVERFLOW_MS)):
        if ms <= limit:
            return max(step, -(-ms // step) * step)
    return OVERFLOW_MS + 1


def log_counters(entry: SyncLogEntry) -> dict[str, int]:
    """What one sync log entry adds to its hour's counters."""
    counts: Counter[str] = Counter()
    if entry.outcome == "deferred":
        counts[DEFERRED] += 1
    if entry.outcome == "conflict":
        counts[CONFLICTS] += 1
    if entry.entity_type not in SYNC_ENTITIES:
        return dict(counts)
    counts[SYNCS] += 1
    if entry.outcome == "success":
        counts[SUCCEEDED] += 1
        counts[DURATION_SUM] += entry.duration_ms
        counts[f"{DURATION_PREFIX}{duration_bucket(entry.duration_ms)}"] += 1
    elif entry.outcome in ("error", "conflict"):
        counts[FAILED] += 1
        if entry.error_code is not None:
            counts[f"{ERROR_PREFIX}{entry.error_code.value}"] += 1
    elif entry.outcome == "skipped":
        counts[SKIPPED] += 1
    elif entry.outcome == "deferred":
        counts[SYNCS_DEFERRED] += 1
    return dict(counts)


def count_logs(entries: Iterable[SyncLogEntry]) -> dict[str, int]:
    """The recount: the sum of `log_counters` over entries."""
    total: Counter[str] = Counter()
    for entry in entries:
        total.update(log_counters(entry))
    return dict(total)


def hour_of(at: datetime) -> str:
    """The counter bucket (UTC hour) an instant belongs to, sortable: `2026-12-05T13`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def hours_window(end: datetime, period: timedelta) -> tuple[datetime, datetime]:
    """Stats periods are whole UTC hours ending with the current one (24h = 24 buckets)."""
    last = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = max(1, int(period.total_seconds() // 3600))
    return last - timedelta(hours=hours - 1), last + timedelta(hours=1)


# ---------------------------------------------------------------- records (dashboard cards)

RECORDS = "records"
STATUS_PREFIX = "status_"
SEEN, WITH_CHARGES = "seen", "withCharges"


def record_keys(
    status: str, ehr_status: str | None = None, charges: bool | None = None
) -> set[str]:
    """The dashboard counters one stored record contributes 1 to."""
    found = {RECORDS, f"{STATUS_PREFIX}{status}"}
    if ehr_status is not None and canonical_status(ehr_status) is EhrStatus.COMPLETED:
        found.add(SEEN)
        if charges:
            found.add(WITH_CHARGES)
    return found


def record_delta(old: set[str], new: set[str]) -> dict[str, int]:
    """ADD values that move the counters from a record's old keys to its new ones."""
    return {**dict.fromkeys(old - new, -1), **dict.fromkeys(new - old, 1)}

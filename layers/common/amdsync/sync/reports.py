"""Aggregates for `/sync/stats`, the dashboard and the weekly report, from stored data only."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from amdsync.domain.aggregates import (
    CONFLICTS,
    DEFERRED,
    DURATION_PREFIX,
    DURATION_SUM,
    ERROR_PREFIX,
    FAILED,
    RECORDS,
    SEEN,
    SKIPPED,
    STATUS_PREFIX,
    SUCCEEDED,
    SYNCS,
    SYNCS_DEFERRED,
    WITH_CHARGES,
    count_logs,
    hours_window,
)
from amdsync.domain.journal import SyncLogEntry
from amdsync.sync.context import SyncContext

PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


class Report(BaseModel):
    """camelCase on the wire like the rest of the API (SPEC §9.4); snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True
    )


class SyncStats(Report):
    """Sync attempts (appointments and patients) in a period. `total` is every attempt:
    `succeeded + failed + skipped + deferred`. A deferral is our own limiter asking to wait,
    not a sync that failed, so it counts apart and stays out of the success rate."""

    period: str
    total: int = 0
    succeeded: int = 0
    failed: int = Field(default=0, description="Errors and conflicts")
    skipped: int = Field(default=0, description="Nothing to do, or left out by the settings")
    deferred: int = Field(default=0, description="Postponed by the rate limit; retried later")
    success_rate: float | None = Field(default=None, description="succeeded / (succeeded + failed)")
    average_duration_ms: float | None = None
    p95_duration_ms: float | None = None
    errors_by_type: dict[str, int] = Field(default_factory=dict)
    rate_limit_waits: int = Field(default=0, description="Every rate-limit deferral, pulls too")
    conflicts: int = 0


def p95(values: list[int]) -> float | None:
    """Nearest-rank 95th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)])


def p95_of_histogram(buckets: dict[int, int]) -> float | None:
    """Nearest-rank 95th percentile of a duration histogram: the upper edge of its bucket."""
    total = sum(buckets.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(0.95 * total)), 0
    for edge in sorted(buckets):
        seen += buckets[edge]
        if seen >= rank:
            return float(edge)
    return None  # unreachable: the ranks add up to total


def stats_from_counts(counts: dict[str, int], period: str) -> SyncStats:
    """SyncStats from summed counters (domain/aggregates.py)."""
    succeeded, failed = counts.get(SUCCEEDED, 0), counts.get(FAILED, 0)
    decided = succeeded + failed
    duration_sum = counts.get(DURATION_SUM, 0)
    errors = {k[len(ERROR_PREFIX) :]: v for k, v in counts.items() if k.startswith(ERROR_PREFIX)}
    buckets = {
        int(k[len(DURATION_PREFIX) :]): v
        for k, v in counts.items()
        if k.startswith(DURATION_PREFIX) and v
    }
    return SyncStats(
        period=period,
        total=counts.get(SYNCS, 0),
        succeeded=succeeded,
        failed=failed,
        skipped=counts.get(SKIPPED, 0),
        deferred=counts.get(SYNCS_DEFERRED, 0),
        success_rate=round(succeeded / decided, 4) if decided else None,
        average_duration_ms=round(duration_sum / succeeded, 1) if succeeded else None,
        p95_duration_ms=p95_of_histogram(buckets),
        # Most frequent first; ties by code, so the order does not depend on storage order.
        errors_by_type=dict(sorted(((k, v) for k, v in errors.items() if v), key=_by_count)),
        rate_limit_waits=counts.get(DEFERRED, 0),
        conflicts=counts.get(CONFLICTS, 0),
    )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def sync_stats(entries: list[SyncLogEntry], period: str) -> SyncStats:
    """The recount: what the counters must add up to for these entries."""
    return stats_from_counts(count_logs(entries), period)


def stats_window(period: str, end: datetime) -> tuple[datetime, datetime]:
    """The whole UTC hours a period covers, ending with the current one."""
    return hours_window(end, PERIODS[period])


def stats_for(ctx: SyncContext, period: str, now: datetime | None = None) -> SyncStats:
    """From the hourly counters: a few small items, whatever the log volume."""
    start, end = stats_window(period, now or ctx.clock.now())
    return stats_from_counts(ctx.logs.counts_between(start, end), period)


class StatusCard(Report):
    """Records by sync status: `total = synced + pending + error + conflict`."""

    total: int = 0
    synced: int = 0
    pending: int = 0
    error: int = 0
    conflict: int = 0
    last_synced: datetime | None = None


def _card(counts: dict[str, int], last_synced: str | None) -> StatusCard:
    def count(name: str) -> int:
        return max(0, counts.get(name, 0))  # never below zero, even mid-recount

    return StatusCard(
        total=count(RECORDS),
        synced=count(f"{STATUS_PREFIX}synced"),
        pending=count(f"{STATUS_PREFIX}pending"),
        error=count(f"{STATUS_PREFIX}error"),
        conflict=count(f"{STATUS_PREFIX}conflict"),
        last_synced=datetime.fromisoformat(last_synced) if last_synced else None,
    )


class ChargesCard(Report):
    seen: int = 0
    with_charges: int = 0
    without_charges: int = 0


def charges_card(counts: dict[str, int]) -> ChargesCard:
    """AMD visits seen (checked out) with charges posted vs without, from pulled data."""
    seen, posted = max(0, counts.get(SEEN, 0)), max(0, counts.get(WITH_CHARGES, 0))
    return ChargesCard(seen=seen, with_charges=posted, without_charges=seen - posted)


class Dashboard(Report):
    patients: StatusCard
    appointments: StatusCard
    charges: ChargesCard
    last_pull: datetime | None
    open_conflicts: int


def dashboard(ctx: SyncContext) -> Dashboard:
    """From counters kept by the stores (a few items), never a read of every record."""
    appointments, appointments_synced = ctx.appointments.counts()
    patients, patients_synced = ctx.patients.counts()
    return Dashboard(
        patients=_card(patients, patients_synced),
        appointments=_card(appointments, appointments_synced),
        charges=charges_card(appointments),
        last_pull=ctx.watermark.succeeded_at(),
        open_conflicts=ctx.conflicts.open_count(),
    )

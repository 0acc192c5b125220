"""Aggregates for `/sync/stats`, the dashboard and the weekly report, from stored data only."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.journal import SyncLogEntry
from amdsync.domain.status import EhrStatus, canonical_status
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


def sync_stats(entries: list[SyncLogEntry], period: str) -> SyncStats:
    syncs = [e for e in entries if e.entity_type in ("appointment", "patient")]
    succeeded = [e for e in syncs if e.outcome == "success"]
    failed = [e for e in syncs if e.outcome in ("error", "conflict")]
    skipped = sum(1 for e in syncs if e.outcome == "skipped")
    deferred = sum(1 for e in syncs if e.outcome == "deferred")
    durations = [e.duration_ms for e in succeeded]
    decided = len(succeeded) + len(failed)
    errors = Counter(e.error_code.value for e in failed if e.error_code is not None)
    return SyncStats(
        period=period,
        total=len(syncs),
        succeeded=len(succeeded),
        failed=len(failed),
        skipped=skipped,
        deferred=deferred,
        success_rate=round(len(succeeded) / decided, 4) if decided else None,
        average_duration_ms=round(sum(durations) / len(durations), 1) if durations else None,
        p95_duration_ms=p95(durations),
        errors_by_type=dict(errors.most_common()),
        rate_limit_waits=sum(1 for e in entries if e.outcome == "deferred"),
        conflicts=sum(1 for e in entries if e.outcome == "conflict"),
    )


def stats_for(ctx: SyncContext, period: str, now: datetime | None = None) -> SyncStats:
    end = now or ctx.clock.now()
    return sync_stats(ctx.logs.between(end - PERIODS[period], end), period)


class StatusCard(Report):
    """Records by sync status: `total = synced + pending + error + conflict`."""

    total: int = 0
    synced: int = 0
    pending: int = 0
    error: int = 0
    conflict: int = 0
    last_synced: datetime | None = None


def _card(records: list[tuple[str, datetime | None]]) -> StatusCard:
    counts = Counter(status for status, _ in records)
    return StatusCard(
        total=len(records),
        synced=counts["synced"],
        pending=counts["pending"],
        error=counts["error"],
        conflict=counts["conflict"],
        last_synced=max((at for _, at in records if at), default=None),
    )


class ChargesCard(Report):
    seen: int = 0
    with_charges: int = 0
    without_charges: int = 0


def charges_card(records: list[AppointmentSyncRecord]) -> ChargesCard:
    """AMD visits seen (checked out) with charges posted vs without, from pulled data."""
    seen = [r for r in records if canonical_status(r.status) is EhrStatus.COMPLETED]
    posted = sum(1 for r in seen if r.charges_posted)
    return ChargesCard(seen=len(seen), with_charges=posted, without_charges=len(seen) - posted)


class Dashboard(Report):
    patients: StatusCard
    appointments: StatusCard
    charges: ChargesCard
    last_pull: datetime | None
    open_conflicts: int


def dashboard(ctx: SyncContext) -> Dashboard:
    appointments = ctx.appointments.list_all()
    patients = ctx.patients.list_all()
    now = ctx.clock.now()
    pulls = [
        e
        for e in ctx.logs.between(now - timedelta(days=3), now + timedelta(seconds=1))
        if e.entity_type == "pull" and e.outcome == "success"
    ]
    return Dashboard(
        patients=_card([(p.amd_sync_status, p.last_synced_to_amd) for p in patients]),
        appointments=_card([(a.amd_sync_status, a.last_synced_to_amd) for a in appointments]),
        charges=charges_card(appointments),
        last_pull=max((e.at for e in pulls), default=None),
        open_conflicts=len(ctx.conflicts.list("open")),
    )

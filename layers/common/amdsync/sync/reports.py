"""Aggregates for `/sync/stats`, the dashboard and the weekly report, from stored data only."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.journal import SyncLogEntry
from amdsync.domain.status import EhrStatus, canonical_status
from amdsync.sync.context import SyncContext

PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


@dataclass
class SyncStats:
    period: str
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    success_rate: float | None = None
    average_duration_ms: float | None = None
    p95_duration_ms: float | None = None
    errors_by_type: dict[str, int] = field(default_factory=dict)
    rate_limit_waits: int = 0
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
    durations = [e.duration_ms for e in succeeded]
    decided = len(succeeded) + len(failed)
    errors = Counter(e.error_code.value for e in failed if e.error_code is not None)
    return SyncStats(
        period=period,
        total=len(syncs),
        succeeded=len(succeeded),
        failed=len(failed),
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


@dataclass
class StatusCard:
    total: int = 0
    synced: int = 0
    pending: int = 0
    error: int = 0
    conflict: int = 0
    last_synced: datetime | None = None


def _card(records: list[tuple[str, datetime | None]]) -> StatusCard:
    card = StatusCard(total=len(records))
    for status, synced_at in records:
        setattr(card, status, getattr(card, status) + 1)
        if synced_at and (card.last_synced is None or synced_at > card.last_synced):
            card.last_synced = synced_at
    return card


@dataclass
class ChargesCard:
    seen: int = 0
    with_charges: int = 0
    without_charges: int = 0


def charges_card(records: list[AppointmentSyncRecord]) -> ChargesCard:
    """AMD visits seen (checked out) with charges posted vs without, from pulled data."""
    seen = [r for r in records if canonical_status(r.status) is EhrStatus.COMPLETED]
    posted = sum(1 for r in seen if r.charges_posted)
    return ChargesCard(seen=len(seen), with_charges=posted, without_charges=len(seen) - posted)


@dataclass
class Dashboard:
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

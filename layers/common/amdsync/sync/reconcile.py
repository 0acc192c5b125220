"""Reconcile a date range: compare what AMD holds (GETDATEVISITS, one call per day) with our
records, report the differences, and queue a push for every appointment that needs one.

Differences found:
- `amd_only`: AMD appointments no EHR record owns (recorded as unlinked for review);
- `missing_in_amd`: records with a visit id AMD did not list for its day, or no visit id yet;
- `differing`: records whose AMD values differ from the agreed base snapshot.
Nothing is changed in AMD here: the queued pushes (level-triggered, idempotent) do that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from amdsync.amd.lanes import BACKGROUND
from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.errors import UnknownStatusError
from amdsync.domain.review import UnlinkedAmdAppointment
from amdsync.jobs import SyncJob
from amdsync.sync.amd_view import amd_snapshot, base_in_zone
from amdsync.sync.context import SyncContext
from amdsync.sync.journal import new_id
from amdsync.sync.ports import AmdAppointment
from amdsync.sync.resolve import ReverseMappings


@dataclass
class ReconcileReport:
    days: int = 0
    amd_appointments: int = 0
    records: int = 0
    amd_only: list[str] = field(default_factory=list)
    missing_in_amd: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)
    queued: int = 0


def reconcile_range(
    ctx: SyncContext,
    first: date,
    last: date,
    provider_id: str | None = None,
    *,
    enqueue: bool = True,
) -> ReconcileReport:
    """`enqueue=False` leaves the queueing to the caller (a bulk job counts progress)."""
    report = ReconcileReport(days=(last - first).days + 1)
    amd_visits: dict[str, AmdAppointment] = {}
    for offset in range(report.days):
        for visit in ctx.scheduler.visits_on(first + timedelta(days=offset)).visits:
            amd_visits[visit.visit_id] = visit
    report.amd_appointments = len(amd_visits)
    records = [
        r
        for r in ctx.appointments.list_between(
            first.isoformat(), (last + timedelta(days=1)).isoformat()
        )
        if provider_id is None or r.provider_id == provider_id
    ]
    report.records = len(records)
    reverse = ReverseMappings(ctx.mappings)
    owned = set()
    to_push: list[SyncJob] = []
    for record in records:
        visit_id = record.advanced_md_visit_id
        found = amd_visits.get(visit_id) if visit_id else None
        if visit_id:
            owned.add(visit_id)
        if found is None:
            report.missing_in_amd.append(record.appointment_id)
        elif _differs(ctx, record, found, reverse):
            report.differing.append(record.appointment_id)
        else:
            continue
        to_push.append(_job(ctx, record.appointment_id, record.ehr_version))
    for visit_id, amd_visit in amd_visits.items():
        if visit_id not in owned and ctx.appointments.owner_of_visit(visit_id) is None:
            report.amd_only.append(visit_id)
            _record_unlinked(ctx, amd_visit)
    if to_push and enqueue:
        ctx.queue.enqueue(to_push)
    report.queued = len(to_push) if enqueue else 0
    return report


def _differs(
    ctx: SyncContext,
    record: AppointmentSyncRecord,
    visit: AmdAppointment,
    reverse: ReverseMappings,
) -> bool:
    try:
        amd = amd_snapshot(visit, reverse, ctx.practice_time, record)
    except UnknownStatusError:
        return True
    base = base_in_zone(record.base_snapshot, record.time_zone)
    return any(base.get(name) != value for name, value in amd.items())


def _job(ctx: SyncContext, appointment_id: str, version: int) -> SyncJob:
    # A fresh trigger: an earlier job for this version may sit in SQS's 5-minute dedup window.
    return SyncJob(
        kind="appointment",
        entityId=appointment_id,
        version=version,
        practice=ctx.practice,
        trigger=new_id()[:16],
        lane=BACKGROUND,  # reconcile is a sweep: it never delays an EHR write
    )


def _record_unlinked(ctx: SyncContext, visit: AmdAppointment) -> None:
    now = ctx.clock.now()
    ctx.appointments.record_unlinked(
        UnlinkedAmdAppointment(
            advanced_md_visit_id=visit.visit_id,
            advanced_md_patient_id=visit.patient_id,
            start=visit.start,
            amd_status=visit.status_code,
            first_seen=now,
            last_seen=now,
        )
    )

"""What must hold after any campaign (SPEC §2.1, §2.2, §2.4, §8 "no data loss or corruption").

1. Every EHR appointment exists exactly once in AMD, holding the converged state, or its record
   is in `conflict`/`error` with a reason; nothing is left `pending` (lost work); AMD holds no
   appointment under our reference id that no record owns (an orphan is a duplicate booking).
2. No AMD-side change is missing from the change feed: each person-edit in AMD is followed by a
   feed entry for that field, unless the EHR already wanted that value or it became a conflict.
3. Zero protocol violations: no real 429 (injected ones do not count), no violation the
   simulator recorded, one login per token lifetime at most, no duplicate patient.
"""

from __future__ import annotations

from typing import Any

from amdsync.domain.status import canonical_status, ehr_status_from_amd
from local.amdsim.handle import SimHandle
from tests.reliability.campaign import CampaignResult
from tests.reliability.world import Product, sim_visits_by_reference


def check(product: Product, sim: SimHandle, result: CampaignResult) -> list[str]:
    problems: list[str] = []
    problems += _appointments(product, sim)
    problems += _feed(product, result)
    problems += _protocol(sim, result)
    return problems


def _appointments(product: Product, sim: SimHandle) -> list[str]:
    ctx = product.ctx
    problems: list[str] = []
    by_ref = sim_visits_by_reference(sim)
    owned: set[str] = set()
    records = ctx.appointments.list_all()
    for record in records:
        ref = ctx.reference_id(record.appointment_id)
        visits = by_ref.get(ref, [])
        where = f"{record.appointment_id} ({record.amd_sync_status})"
        if record.amd_sync_status == "pending":
            problems.append(f"{where}: still pending after the queue drained (lost work)")
        if record.amd_sync_status in ("error", "conflict") and not (
            record.amd_sync_error_code and record.amd_sync_error
        ):
            problems.append(f"{where}: {record.amd_sync_status} without a reason")
        visit_id = record.advanced_md_visit_id
        if visit_id:
            owned.add(visit_id)
        ids = sorted(str(v.id) for v in visits)
        if len(visits) > 1:
            problems.append(f"{where}: {len(visits)} AMD appointments {ids} (duplicate)")
        if visits and visit_id is None:
            problems.append(f"{where}: AMD has {ids} but the record holds no visit id")
        if visit_id and ids and visit_id not in ids:
            problems.append(f"{where}: record says visit {visit_id}, AMD has {ids}")
        if record.amd_sync_status != "synced":
            continue
        if not visits:
            if str(record.status) != "CANCELLED":
                problems.append(f"{where}: synced but not in AMD")
            continue
        visit = visits[0]
        amd_status = ehr_status_from_amd(visit.status, bool(visit.confirmed_at))
        amd_start = visit.start.isoformat(timespec="seconds")
        if canonical_status(record.status) != canonical_status(amd_status):
            problems.append(f"{where}: status EHR {record.status} vs AMD {amd_status}")
        if visit.status < 10 and (amd_start, visit.duration) != (
            record.start,
            record.duration_minutes,
        ):
            problems.append(
                f"{where}: time EHR {record.start}/{record.duration_minutes} vs "
                f"AMD {amd_start}/{visit.duration}"
            )
    for ref, visits in by_ref.items():
        for visit in visits:
            if str(visit.id) not in owned:
                problems.append(f"AMD appointment {visit.id} ({ref}) is owned by no record")
    return problems


def _feed(product: Product, result: CampaignResult) -> list[str]:
    ctx = product.ctx
    entries = ctx.feed.read(0, 1_000_000)
    conflicts = {c.appointment_id for c in ctx.conflicts.list(None)}
    problems: list[str] = []
    for edit in result.amd_edits:
        if edit.ehr_value == edit.value:
            continue  # both sides already agreed: nothing for the EHR to learn
        if edit.appointment_id in conflicts:
            continue  # changed on both sides: a person decides (SPEC §2.3)
        if (edit.appointment_id, edit.field, edit.value) in asked_after(result, edit.at_op):
            continue  # the EHR asked for the same value meanwhile: both agree, nothing to say
        seen = any(
            e.sequence > edit.feed_head
            and e.appointment_id == edit.appointment_id
            and edit.field in e.fields
            for e in entries
        )
        if not seen:
            problems.append(
                f"AMD change {edit.field}={edit.value} of {edit.appointment_id} "
                f"(visit {edit.visit_id}) never reached the change feed"
            )
    return problems


def asked_after(result: CampaignResult, op: int) -> set[tuple[str, str, Any]]:
    return {(a, f, v) for a, f, v, index in result.ehr_requests if index >= op}


def _protocol(sim: SimHandle, result: CampaignResult) -> list[str]:
    report: dict[str, Any] = result.report or sim.admin.report()
    summary = sim.sim.state.summary()
    problems: list[str] = []
    if report["rate_limited"]["total"]:
        problems.append(f"AMD rate limit exceeded: {report['rate_limited']}")
    injected_429 = report["faults_injected"].get("429", 0)
    if report["http_429"] > injected_429:
        problems.append(f"{report['http_429'] - injected_429} real HTTP 429 from AMD")
    if report["violations"]["count"]:
        problems.append(f"protocol violations: {report['violations']['items'][:5]}")
    if summary["duplicate_patients"]:
        problems.append(f"duplicate AMD patients: {summary['duplicate_patient_groups']}")
    if result.handler_errors:
        problems.append(f"unexpected handler errors: {result.handler_errors[:5]}")
    return problems

"""Bulk sync of 500 appointments (SPEC §6 "Bulk sync"): progress counts right, each appointment
is created exactly once, also when the same range is bulk-synced again.

500 creates would take >40 min at AMD's peak Tier 2 limit on the real clock, so here the
simulator's limits are off and the product gets an unlimited table (`Services.limits`).

Marked slow: each job costs ~20 DynamoDB/SQS calls on moto (~0.2 s), so the 1000 jobs of two
runs take ~2-3 minutes on 2 cores. `BULK_TOTAL=50` runs a quick version locally.
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from datetime import time as clock_time

import pytest

from amdsync.domain.bulk import BulkSyncRequest
from amdsync.sync.bulk import BulkSync
from tests.integration.sync.conftest import BULK_PROVIDERS, UNLIMITED, World, work_days
from tests.integration.sync.invariants import assert_sim_clean, calls

TOTAL = int(os.environ.get("BULK_TOTAL", "500"))
HOURS = range(8, 17)  # 50-minute sessions on the hour: 9 a day in an 08:00-17:00 column


def _slots() -> list[tuple[str, datetime]]:
    providers = sorted(BULK_PROVIDERS)
    per_day = len(providers) * len(HOURS)
    days = work_days(-(-TOTAL // per_day))
    slots = [
        (provider, datetime.combine(day, clock_time(hour)))
        for day in days
        for provider in providers
        for hour in HOURS
    ]
    return slots[:TOTAL]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_bulk_sync_of_500_creates_each_once_and_reports_progress(world: World) -> None:
    world.sim.admin.config(rate_limits_enabled=False)
    ctx = world.new_services(UNLIMITED).context()
    world.ctx.settings.save(
        world.ctx.settings.get().value.model_copy(update={"auto_sync_appointments": False}), 0
    )
    patient = world.id("P")
    world.register_patient(patient)
    world.drain(ctx)
    slots = _slots()
    ids = [world.id(f"B{n:03d}") for n in range(TOTAL)]
    for appt, (provider, start) in zip(ids, slots, strict=True):
        assert world.register(appt, patient, start, provider=provider).queued is None
    request = BulkSyncRequest.model_validate(
        {"from": slots[0][1].date().isoformat(), "to": slots[-1][1].date().isoformat()}
    )
    bulk = BulkSync(ctx)

    began = time.monotonic()
    job = bulk.start(request, actor="billing-1")
    assert (job.state, job.total) == ("planning", None)  # found and queued in the background
    planning = bulk.progress(job.job_id)
    assert planning is not None and (planning.done, planning.failed, planning.state) == (
        0,
        0,
        "planning",
    )
    first = world.drain(ctx)
    first_seconds = time.monotonic() - began

    progress = bulk.progress(job.job_id)
    assert progress is not None
    assert (progress.total, progress.done, progress.failed) == (TOTAL, TOTAL, 0), progress
    assert progress.state == "done" and bulk.eta_seconds(progress) == 0
    assert {d.kind for d in first} == {"done"}
    visits = {world.record(a).advanced_md_visit_id for a in ids}
    assert len(visits) == TOTAL and None not in visits
    assert calls(world.report(), "appointments.create") == TOTAL

    again = bulk.start(request, actor="billing-1")  # the same range again: nothing twice
    world.drain(ctx)
    repeat = bulk.progress(again.job_id)
    assert repeat is not None
    assert (repeat.total, repeat.done, repeat.failed, repeat.state) == (
        TOTAL,
        TOTAL,
        0,
        "done",
    )
    assert {world.record(a).advanced_md_visit_id for a in ids} == visits
    report = world.report()
    assert calls(report, "appointments.create") == TOTAL
    assert len([a for a in world.amd_appointments() if a["referenceid"]]) == TOTAL
    assert_sim_clean(report)
    print(f"bulk: first run {first_seconds:.1f}s for {TOTAL} creates")

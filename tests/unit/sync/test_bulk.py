"""Bulk sync: batches of at most 50, progress from the worker, re-runs, cancel."""

from __future__ import annotations

from datetime import date

import pytest

from amdsync.domain.bulk import BulkSyncRequest
from amdsync.domain.mappings import MappingKind
from amdsync.sync.bulk import BulkSync
from amdsync.sync.worker import JobProcessor
from tests.fakes import FakeAmd, World, build_world
from tests.unit.sync.helpers import drain, register, register_patient


@pytest.fixture
def world() -> World:
    world = build_world(amd=FakeAmd(enforce_overlap=False))
    world.settings.update(auto_sync_appointments=False)  # only the bulk sync queues work
    register_patient(world)
    drain(world)
    world.queue.clear()
    return world


def _appointments(world: World, count: int, provider: str = "DR-7", first: int = 0) -> None:
    for i in range(first, first + count):
        day, slot = 1 + i % 10, i // 10 % 10
        register(
            world,
            f"A-{i}",
            providerId=provider,
            start=f"2026-12-{day:02d}T{8 + slot:02d}:00:00",
        )


def _request(provider: str | None = None) -> BulkSyncRequest:
    return BulkSyncRequest.model_validate(
        {"from": "2026-12-01", "to": "2026-12-10", "providerId": provider}
    )


def test_500_appointments_go_out_in_batches_of_at_most_50(world: World) -> None:
    _appointments(world, 500)
    bulk = BulkSync(world.ctx)
    job = bulk.start(_request(), actor="billing@x")
    assert job.total == 500
    batches = world.queue.calls
    assert len(batches) == 10
    assert all(len(b.jobs) <= 50 and b.bulk_job_id == job.job_id for b in batches)
    assert {j.bulk for b in batches for j in b.jobs} == {job.job_id}
    assert bulk.eta_seconds(bulk.progress(job.job_id) or job) > 0

    drain(world)
    progress = bulk.progress(job.job_id)
    assert progress is not None
    assert (progress.done, progress.failed, progress.state, progress.percent) == (
        500,
        0,
        "completed",
        100,
    )
    assert bulk.eta_seconds(progress) == 0
    assert len(world.amd.appointments) == 500
    assert all(r.amd_sync_status == "synced" for r in world.appointments.list_all())


def test_a_rerun_creates_nothing_twice(world: World) -> None:
    _appointments(world, 120)
    bulk = BulkSync(world.ctx)
    bulk.start(_request(), actor="billing@x")
    drain(world)
    again = bulk.start(_request(), actor="billing@x")
    assert world.queue.deduplicated == []  # a re-run is not swallowed by SQS dedup
    drain(world)
    assert len(world.amd.appointments) == 120
    assert world.amd.count("book") == 120
    progress = bulk.progress(again.job_id)
    assert progress is not None and (progress.done, progress.state) == (120, "completed")


def test_a_provider_filter_limits_the_range(world: World) -> None:
    _appointments(world, 10, "DR-7")
    _appointments(world, 4, "DR-8", first=100)
    job = BulkSync(world.ctx).start(_request("DR-8"), actor="billing@x")
    assert job.total == 4
    assert {j.entity_id for j in world.queue.sent} == {f"A-{i}" for i in range(100, 104)}


def test_failures_are_counted(world: World) -> None:
    _appointments(world, 5)
    register(world, "A-odd", appointmentType="INTAKE_90", start="2026-12-05T18:00:00")
    world.mappings.remove(MappingKind.APPOINTMENT_TYPES, "INTAKE_90")
    bulk = BulkSync(world.ctx)
    job = bulk.start(_request(), actor="billing@x")
    drain(world)
    progress = bulk.progress(job.job_id)
    assert progress is not None and (progress.done, progress.failed) == (5, 1)


def test_cancel_stops_the_remaining_work(world: World) -> None:
    _appointments(world, 200)
    bulk = BulkSync(world.ctx)
    job = bulk.start(_request(), actor="billing@x")
    processor = JobProcessor(world.ctx)
    for _ in range(60):
        next_job = world.queue.take()
        assert next_job is not None
        processor.process(next_job)
    cancelled = bulk.cancel(job.job_id, actor="billing@x")
    assert cancelled is not None and cancelled.state == "cancelled"
    calls = world.amd.calls_made()
    drain(world)
    assert world.amd.calls_made() == calls
    assert len(world.amd.appointments) == 60
    progress = bulk.progress(job.job_id)
    assert progress is not None and (progress.done, progress.state) == (60, "cancelled")
    assert [e.action for e in world.audit.entries] == ["bulk_sync_start", "bulk_sync_cancel"]


def test_an_empty_range_completes_at_once(world: World) -> None:
    job = BulkSync(world.ctx).start(_request(), actor="billing@x")
    progress = BulkSync(world.ctx).progress(job.job_id)
    assert job.total == 0 and world.queue.calls == []
    assert progress is not None and progress.state == "completed"
    assert date(2026, 12, 1) == job.from_

"""Reconcile mode: AMD's appointments in a range vs our records; differences queued."""

from __future__ import annotations

from datetime import date

from amdsync.domain.bulk import BulkSyncRequest
from amdsync.sync.bulk import BulkSync
from amdsync.sync.reconcile import reconcile_range
from amdsync.sync.worker import JobProcessor
from tests.fakes import FakeAmd, World, build_world
from tests.unit.sync.helpers import register, synced


def _world() -> World:
    return build_world(amd=FakeAmd(enforce_overlap=False))


def test_in_sync_range_reports_nothing_and_queues_nothing() -> None:
    world = _world()
    synced(world, "A-1", start="2026-12-01T10:00:00")
    report = reconcile_range(world.ctx, date(2026, 12, 1), date(2026, 12, 2))
    assert (report.days, report.records, report.amd_appointments) == (2, 1, 1)
    assert (report.amd_only, report.missing_in_amd, report.differing) == ([], [], [])
    assert report.queued == 0
    assert list(world.queue.pending) == []


def test_differences_are_reported_and_queued() -> None:
    world = _world()
    edited = synced(world, "A-1", start="2026-12-01T10:00:00")
    synced(world, "A-2", start="2026-12-01T11:00:00")
    register(world, "A-3", start="2026-12-01T12:00:00")  # never pushed: no visit id
    world.queue.clear()
    world.amd.person_edits(edited, duration_minutes=25)
    stranger = world.amd.person_books(start="2026-12-01T15:00:00")
    report = reconcile_range(world.ctx, date(2026, 12, 1), date(2026, 12, 1))
    assert report.differing == ["A-1"]
    assert report.missing_in_amd == ["A-3"]
    assert report.amd_only == [stranger.visit_id]
    assert report.queued == 2
    assert sorted(j.entity_id for j in list(world.queue.pending)) == ["A-1", "A-3"]
    assert [u.advanced_md_visit_id for u in world.appointments.list_unlinked()] == [
        stranger.visit_id
    ]


def test_provider_filter_limits_the_records_compared() -> None:
    world = _world()
    register(world, "A-7", start="2026-12-01T10:00:00", providerId="DR-7")
    register(world, "A-8", start="2026-12-01T10:00:00", providerId="DR-8")
    world.queue.clear()
    report = reconcile_range(world.ctx, date(2026, 12, 1), date(2026, 12, 1), "DR-8")
    assert report.missing_in_amd == ["A-8"]


def test_bulk_in_reconcile_mode_queues_only_the_differences() -> None:
    world = _world()
    synced(world, "A-1", start="2026-12-01T10:00:00")
    synced(world, "A-2", start="2026-12-01T11:00:00")
    register(world, "A-3", start="2026-12-01T12:00:00")
    world.queue.clear()
    request = BulkSyncRequest.model_validate(
        {"from": "2026-12-01", "to": "2026-12-01", "mode": "reconcile"}
    )
    bulk = BulkSync(world.ctx)
    started = bulk.start(request, actor="billing@x")
    assert started.state == "planning" and started.reconcile is None  # AMD is read later
    plan_step = world.queue.take()
    assert plan_step is not None and plan_step.kind == "bulk_plan"
    JobProcessor(world.ctx).process(plan_step)
    job = bulk.progress(started.job_id)
    assert job is not None and job.total == 1
    assert job.reconcile == {
        "amdAppointments": 2,
        "amdOnly": 0,
        "missingInAmd": 1,
        "differing": 0,
    }
    assert [j.entity_id for j in world.queue.pending] == ["A-3"]

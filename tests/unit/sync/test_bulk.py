"""Bulk sync (SPEC §9.3): started at once in `planning`, planned page by page in the background
(batches of at most 50, nothing twice), progress from the worker, cancel in every state."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from amdsync.domain.bulk import BulkJob, BulkSyncRequest
from amdsync.domain.mappings import MappingKind
from amdsync.jobs import SyncJob
from amdsync.sync import bulk as bulk_module
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
            start=f"2026-12-{day:02d}T{8 + slot:02d}:{i // 100 % 6 * 10:02d}:00",
        )


def _request(provider: str | None = None) -> BulkSyncRequest:
    return BulkSyncRequest.model_validate(
        {"from": "2026-12-01", "to": "2026-12-10", "providerId": provider}
    )


def _sync_jobs(world: World) -> list[SyncJob]:
    return [j for j in world.queue.sent if j.kind == "appointment"]


def _plan_all(world: World) -> int:
    """Run only the planning steps (bulk_plan messages); returns how many ran."""
    processor, steps, others = JobProcessor(world.ctx), 0, []
    while (message := world.queue.take()) is not None:
        if message.kind != "bulk_plan":
            others.append(message)
            continue
        assert processor.process(message).kind == "done"
        steps += 1
    world.queue.pending.extend(others)
    return steps


def _progress(world: World, job: BulkJob) -> BulkJob:
    progress = BulkSync(world.ctx).progress(job.job_id)
    assert progress is not None
    return progress


def test_start_only_records_the_job_and_queues_its_first_planning_step(world: World) -> None:
    _appointments(world, 30)
    job = BulkSync(world.ctx).start(_request(), actor="billing@x")
    assert (job.state, job.total, job.planned) == ("planning", None, 0)
    assert [(j.kind, j.entity_id, j.version, j.lane) for j in world.queue.sent] == [
        ("bulk_plan", job.job_id, 0, "background")
    ]


def test_a_job_still_planning_behind_a_backlog_says_it_will_wait_for_it(world: World) -> None:
    """Seen on `make run`: a bulk started behind the seed's 200 background syncs showed
    `planning` with an estimate of 0 s for minutes, while its planning step waited its turn."""
    backlog = [
        SyncJob(kind="appointment", entityId=f"B-{i}", version=1, practice=world.ctx.practice,
                lane="background")
        for i in range(40)
    ]  # fmt: skip
    world.queue.enqueue(backlog)
    bulk = BulkSync(world.ctx)
    job = bulk.start(_request(), actor="billing@x")
    assert (job.state, job.total) == ("planning", None)
    per_job = bulk_module.seconds_per_job(world.ctx.clock.now())
    assert bulk.eta_seconds(job) >= int(40 * per_job) > 0


def test_500_appointments_go_out_in_batches_of_at_most_50(world: World) -> None:
    _appointments(world, 500)
    bulk = BulkSync(world.ctx)
    job = bulk.start(_request(), actor="billing@x")
    assert _plan_all(world) == 2  # 250 appointments per planning step
    batches = [c for c in world.queue.calls if c.bulk_job_id == job.job_id]
    assert len(batches) == 10
    assert all(len(b.jobs) <= 50 for b in batches)
    assert {(j.bulk, j.lane) for b in batches for j in b.jobs} == {(job.job_id, "background")}
    planned = _progress(world, job)
    assert (planned.state, planned.total) == ("running", 500)
    assert bulk.eta_seconds(planned) > 0

    drain(world)
    progress = _progress(world, job)
    assert (progress.done, progress.failed, progress.state, progress.percent) == (
        500,
        0,
        "done",
        100,
    )
    assert bulk.eta_seconds(progress) == 0
    assert len(world.amd.appointments) == 500
    assert all(r.amd_sync_status == "synced" for r in world.appointments.list_all())


def test_planning_is_paged_through_the_index(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_module, "PLAN_PAGE_SIZE", 40)
    _appointments(world, 130)
    job = BulkSync(world.ctx).start(_request(), actor="billing@x")
    assert _plan_all(world) == 4  # 40 + 40 + 40 + 10
    assert sorted(j.entity_id for j in _sync_jobs(world)) == sorted(f"A-{i}" for i in range(130))
    assert _progress(world, job).total == 130


def test_rerunning_a_planning_page_enqueues_nothing_twice(world: World) -> None:
    _appointments(world, 120)
    job = BulkSync(world.ctx).start(_request(), actor="billing@x")
    step = world.queue.take()
    assert step is not None
    processor = JobProcessor(world.ctx)
    processor.process(step)
    # The same message again, long after SQS's 5-minute deduplication would have caught it
    # (a redelivery after a lost acknowledgement), then the page itself re-run from scratch.
    world.clock.advance(timedelta(minutes=10))
    processor.process(step)
    stored = world.bulk_jobs.jobs[job.job_id]
    world.bulk_jobs.jobs[job.job_id] = type(stored)(
        stored.value.model_copy(update={"state": "planning", "plan_page": 0}), stored.version
    )
    processor.process(step)
    sent = [j.entity_id for j in _sync_jobs(world)]
    assert len(sent) == 120 and len(set(sent)) == 120
    assert world.queue.deduplicated == []  # the plan markers did it, not SQS
    drain(world)
    assert world.amd.count("book") == 120
    assert _progress(world, job).state == "done"


def test_a_page_planned_but_not_confirmed_is_queued_again(world: World) -> None:
    """A crash between queueing and confirming: the re-run hands the page out again (SQS's
    deduplication drops the copy within its window); nothing is lost."""
    _appointments(world, 10)
    job = BulkSync(world.ctx).start(_request(), actor="billing@x")
    world.bulk_jobs.plan(job.job_id, ["A-0", "A-1"])  # an earlier run's markers, unconfirmed
    _plan_all(world)
    assert sorted(j.entity_id for j in _sync_jobs(world)) == sorted(f"A-{i}" for i in range(10))
    assert _progress(world, job).total == 10


def test_a_planning_step_ahead_of_its_page_is_deferred(world: World) -> None:
    _appointments(world, 5)
    job = BulkSync(world.ctx).start(_request(), actor="billing@x")
    early = SyncJob(kind="bulk_plan", entityId=job.job_id, version=1, practice=world.ctx.practice)
    assert JobProcessor(world.ctx).process(early).kind == "defer"
    assert _sync_jobs(world) == []


def test_a_rerun_creates_nothing_twice(world: World) -> None:
    _appointments(world, 120)
    bulk = BulkSync(world.ctx)
    bulk.start(_request(), actor="billing@x")
    drain(world)
    again = bulk.start(_request(), actor="billing@x")
    drain(world)
    assert world.queue.deduplicated == []  # a re-run is not swallowed by SQS dedup
    assert len(world.amd.appointments) == 120
    assert world.amd.count("book") == 120
    progress = _progress(world, again)
    assert (progress.done, progress.state) == (120, "done")


def test_a_provider_filter_limits_the_range(world: World) -> None:
    _appointments(world, 10, "DR-7")
    _appointments(world, 4, "DR-8", first=100)
    job = BulkSync(world.ctx).start(_request("DR-8"), actor="billing@x")
    _plan_all(world)
    assert _progress(world, job).total == 4
    assert {j.entity_id for j in _sync_jobs(world)} == {f"A-{i}" for i in range(100, 104)}


def test_failures_are_counted(world: World) -> None:
    _appointments(world, 5)
    register(world, "A-odd", appointmentType="INTAKE_90", start="2026-12-05T18:00:00")
    world.mappings.remove(MappingKind.APPOINTMENT_TYPES, "INTAKE_90")
    bulk = BulkSync(world.ctx)
    job = bulk.start(_request(), actor="billing@x")
    drain(world)
    progress = _progress(world, job)
    assert (progress.done, progress.failed) == (5, 1)


def test_cancel_while_planning_stops_the_planner(world: World) -> None:
    _appointments(world, 40)
    bulk = BulkSync(world.ctx)
    calls = world.amd.calls_made()
    job = bulk.start(_request(), actor="billing@x")
    cancelled = bulk.cancel(job.job_id, actor="billing@x")
    assert cancelled is not None and cancelled.state == "cancelled"
    drain(world)
    assert _sync_jobs(world) == [] and world.amd.calls_made() == calls
    assert _progress(world, job).state == "cancelled"


def test_cancel_while_running_stops_the_remaining_work(world: World) -> None:
    _appointments(world, 200)
    bulk = BulkSync(world.ctx)
    job = bulk.start(_request(), actor="billing@x")
    _plan_all(world)
    assert _progress(world, job).state == "running"
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
    progress = _progress(world, job)
    assert (progress.done, progress.state) == (60, "cancelled")
    assert [e.action for e in world.audit.entries] == ["bulk_sync_start", "bulk_sync_cancel"]


def test_cancel_of_a_done_or_cancelled_job_changes_nothing(world: World) -> None:
    _appointments(world, 3)
    bulk = BulkSync(world.ctx)
    finished = bulk.start(_request(), actor="billing@x")
    drain(world)
    done = bulk.cancel(finished.job_id, actor="billing@x")
    assert done is not None and (done.state, done.done) == ("done", 3)
    stopped = bulk.start(_request(), actor="billing@x")
    bulk.cancel(stopped.job_id, actor="billing@x")
    again = bulk.cancel(stopped.job_id, actor="billing@x")
    assert again is not None and again.state == "cancelled"
    assert [e.action for e in world.audit.entries].count("bulk_sync_cancel") == 1


def test_an_empty_range_is_done_once_planned(world: World) -> None:
    job = BulkSync(world.ctx).start(_request(), actor="billing@x")
    _plan_all(world)
    progress = _progress(world, job)
    assert (progress.total, progress.state, progress.percent) == (0, "done", 100)
    assert _sync_jobs(world) == []
    assert date(2026, 12, 1) == job.from_

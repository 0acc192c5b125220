"""The worker's decisions: done, defer, retry, dead_letter."""

from __future__ import annotations

import random
from datetime import timedelta

from amdsync.amd.errors import RateLimited, ServerError
from amdsync.domain.errors import SyncErrorCode
from amdsync.jobs import SyncJob
from amdsync.sync.worker import (
    MAX_BACKOFF_SECONDS,
    RETRY_BUDGET,
    JobProcessor,
    backoff,
)
from tests.fakes import PRACTICE, World
from tests.unit.sync.helpers import (
    APPT,
    PATIENT,
    drain,
    job,
    push,
    register,
    register_patient,
    synced,
)


def _patient_job(version: int = 1) -> SyncJob:
    return SyncJob(kind="patient", entityId=PATIENT, version=version, practice=PRACTICE)


def test_a_successful_sync_is_done(world: World) -> None:
    register_patient(world)
    register(world)
    decisions = drain(world)
    assert [d.kind for d in decisions] == ["done", "done"]  # patient job, appointment job
    assert world.appointments.record(APPT).amd_sync_status == "synced"


def test_a_permanent_error_is_done_and_left_on_the_record(world: World) -> None:
    register(world)  # no demographics: PATIENT_NOT_SYNCED
    assert JobProcessor(world.ctx).process(job()).kind == "done"
    assert world.appointments.record(APPT).amd_sync_status == "error"


def test_rate_limit_deferrals_never_dead_letter(world: World) -> None:
    synced(world)
    register(world, version=2, durationMinutes=30)
    world.amd.faults.fail("get_appointment", RateLimited(12.5), times=100)
    processor = JobProcessor(world.ctx)
    decisions = [processor.process(job(version=2)) for _ in range(100)]
    assert {(d.kind, d.delay, d.code) for d in decisions} == {("defer", 12.5, None)}
    record = world.appointments.record(APPT)
    assert (record.attempts, record.amd_sync_status) == (0, "pending")
    assert processor.process(job(version=2)).kind == "done"
    assert world.appointments.record(APPT).amd_sync_status == "synced"


def test_a_zero_retry_after_still_waits_a_moment(world: World) -> None:
    synced(world)
    world.amd.faults.fail("get_appointment", RateLimited(0.0))
    decision = JobProcessor(world.ctx).process(job())
    assert decision.kind == "defer" and decision.delay >= 1.0


def test_transient_failures_retry_then_dead_letter_with_the_record_in_error(
    world: World,
) -> None:
    synced(world)
    register(world, version=2, durationMinutes=30)
    world.amd.faults.fail("get_appointment", ServerError(), times=100)
    processor = JobProcessor(world.ctx)
    decisions = [processor.process(job(version=2)) for _ in range(RETRY_BUDGET)]
    assert [d.kind for d in decisions] == ["retry"] * (RETRY_BUDGET - 1) + ["dead_letter"]
    assert all(d.code is SyncErrorCode.AMD_UNAVAILABLE for d in decisions)
    assert all(d.delay >= 1.0 for d in decisions[:-1])
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.amd_sync_error_code) == (
        "error",
        SyncErrorCode.AMD_UNAVAILABLE,
    )
    assert world.metrics.total("SyncDeadLettered") == 1


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    assert all(1.0 <= backoff(0, rng) <= 10.0 for _ in range(50))
    assert max(backoff(3, rng) for _ in range(200)) > 10.0
    assert all(backoff(30, rng) <= MAX_BACKOFF_SECONDS for _ in range(50))


def test_a_transient_patient_failure_is_retried_not_raised(world: World) -> None:
    register_patient(world)
    world.amd.faults.fail("add_patient", ServerError())
    decision = JobProcessor(world.ctx).process(_patient_job())
    assert (decision.kind, decision.code) == ("retry", SyncErrorCode.AMD_UNAVAILABLE)
    assert JobProcessor(world.ctx).process(_patient_job()).kind == "done"
    assert world.patients.record(PATIENT).is_synced
    assert len(world.amd.patients) == 1


def test_a_rate_limited_patient_sync_is_deferred(world: World) -> None:
    register_patient(world)
    world.amd.faults.fail("find_patient", RateLimited(9.0))
    decision = JobProcessor(world.ctx).process(_patient_job())
    assert (decision.kind, decision.delay) == ("defer", 9.0)
    assert world.patients.record(PATIENT).attempts == 0


def test_a_patient_busy_elsewhere_defers_the_appointment(world: World) -> None:
    register_patient(world)
    register(world)
    now = world.clock.now()
    world.leases.acquire(f"patient#{PATIENT}", "other-worker", now, now + timedelta(seconds=60))
    decision = JobProcessor(world.ctx).process(job())
    assert decision.kind == "defer"
    assert world.appointments.record(APPT).attempts == 0
    assert world.amd.calls_made() == 0


def test_a_synced_patient_releases_appointments_waiting_for_it(world: World) -> None:
    register(world)
    push(world)  # PATIENT_NOT_SYNCED
    world.queue.clear()
    register_patient(world)
    drain(world)
    record = world.appointments.record(APPT)
    assert record.amd_sync_status == "synced" and record.advanced_md_visit_id is not None
    assert len(world.amd.appointments) == 1
    assert world.queue.deduplicated == []

"""Push under failures: lost replies, transient errors, business errors, rate limits."""

from __future__ import annotations

import pytest

from amdsync.amd.errors import (
    AppointmentConflict,
    RateLimited,
    ServerError,
    SessionExpired,
    TimeoutError_,
)
from amdsync.domain.errors import SyncErrorCode
from amdsync.sync.push import PushOutcome, RetryLater
from tests.fakes import World
from tests.unit.sync.helpers import APPT, push, register, register_patient, synced


def _ready(world: World) -> None:
    register_patient(world)
    register(world)


def test_lost_reply_on_book_is_found_by_reference_and_not_booked_again(world: World) -> None:
    _ready(world)
    world.amd.faults.fail_after_commit("book", TimeoutError_(maybe_committed=True))
    with pytest.raises(RetryLater) as first:
        push(world)
    assert first.value.code is SyncErrorCode.AMD_UNAVAILABLE
    assert len(world.amd.appointments) == 1  # AMD did create it
    pending = world.appointments.record(APPT)
    assert pending.create_intent_at is not None and pending.advanced_md_visit_id is None
    assert pending.amd_sync_status == "pending"

    result = push(world)
    assert result.outcome is PushOutcome.SYNCED
    assert world.amd.count("book") == 1
    assert len(world.amd.appointments) == 1
    assert world.amd.count("find_visit_by_reference") == 1
    assert world.appointments.record(APPT).advanced_md_visit_id == result.visit_id


def test_lost_reply_is_also_found_by_patient_provider_and_time(world: World) -> None:
    """Fallback when AMD did not keep the reference id."""
    _ready(world)
    world.amd.faults.fail_after_commit("book", ServerError())
    with pytest.raises(RetryLater):
        push(world)
    world.amd.references.clear()
    assert push(world).outcome is PushOutcome.SYNCED
    assert world.amd.count("book") == 1 and world.amd.count("find_visit") == 1


def test_a_crash_after_booking_before_storing_the_id_does_not_book_twice(world: World) -> None:
    _ready(world)
    world.appointments.faults.fail("claim_visit", RuntimeError("lambda died"))
    with pytest.raises(RetryLater):
        push(world)
    assert push(world).outcome is PushOutcome.SYNCED
    assert len(world.amd.appointments) == 1


def test_a_failed_book_leaves_nothing_in_amd_and_retries(world: World) -> None:
    _ready(world)
    world.amd.faults.fail("book", ServerError(http_status=503))
    with pytest.raises(RetryLater):
        push(world)
    assert world.amd.appointments == {}
    assert push(world).outcome is PushOutcome.SYNCED
    assert world.amd.count("book") == 2 and len(world.amd.appointments) == 1


def test_repeated_and_stale_jobs_cost_only_the_read(world: World) -> None:
    synced(world)
    before = list(world.amd.calls)
    for _ in range(3):
        assert push(world).outcome is PushOutcome.NOOP
    assert world.amd.calls[len(before) :] == ["get_appointment"] * 3
    assert len(world.amd.appointments) == 1


@pytest.mark.parametrize(
    "error", [ServerError(http_status=500), TimeoutError_(), SessionExpired(amd_code=1025)]
)
def test_transient_errors_retry_later_and_leave_the_record_pending(
    world: World, error: Exception
) -> None:
    synced(world)
    register(world, version=2, start="2026-12-01T11:00:00")
    world.amd.faults.fail("edit", error)
    with pytest.raises(RetryLater) as raised:
        push(world)
    assert raised.value.code is SyncErrorCode.AMD_UNAVAILABLE
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.amd_sync_error_code, record.attempts) == (
        "pending",
        SyncErrorCode.AMD_UNAVAILABLE,
        1,
    )
    assert record.base_snapshot["start"] == "2026-12-01T10:00:00"  # nothing agreed yet
    assert push(world).outcome is PushOutcome.SYNCED
    assert world.amd.appointment(record.advanced_md_visit_id or "").start == "2026-12-01T11:00:00"
    assert world.appointments.record(APPT).attempts == 0


def test_an_overlap_is_a_business_error_shown_and_not_retried(world: World) -> None:
    register_patient(world)
    world.amd.person_books(start="2026-12-01T10:30:00", column_id="31")  # the slot is taken
    register(world)
    result = push(world)
    assert (result.outcome, result.error_code) == (PushOutcome.ERROR, SyncErrorCode.AMD_OVERLAP)
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.amd_sync_error_code) == (
        "error",
        SyncErrorCode.AMD_OVERLAP,
    )
    assert record.amd_sync_error is not None and "4101" in record.amd_sync_error
    assert world.amd.count("book") == 1
    assert len(world.amd.appointments) == 1  # only the person's


def test_an_injected_appointment_conflict_is_not_retried(world: World) -> None:
    _ready(world)
    world.amd.faults.fail("book", AppointmentConflict(amd_code=4186, http_status=409))
    result = push(world)  # no RetryLater: returned, not raised
    assert result.error_code is SyncErrorCode.AMD_OVERLAP
    log = world.logs.for_entity("appointment", APPT)[-1]
    assert (log.outcome, log.error_code) == ("error", SyncErrorCode.AMD_OVERLAP)


def test_rate_limited_defers_without_counting_an_attempt(world: World) -> None:
    synced(world)
    register(world, version=2, durationMinutes=30)
    world.amd.faults.fail("get_appointment", RateLimited(42.0))
    with pytest.raises(RetryLater) as raised:
        push(world)
    assert raised.value.code is SyncErrorCode.RATE_LIMITED
    assert raised.value.retry_after == 42.0
    record = world.appointments.record(APPT)
    assert record.attempts == 0
    assert record.amd_sync_status == "pending"
    assert record.amd_sync_error_code is None
    log = world.logs.for_entity("appointment", APPT)[-1]
    assert (log.outcome, log.error_code) == ("deferred", SyncErrorCode.RATE_LIMITED)
    assert world.metrics.total("SyncFailed") == 0


def test_rate_limited_during_patient_sync_also_defers(world: World) -> None:
    _ready(world)
    world.amd.faults.fail("find_patient", RateLimited(7.0))
    with pytest.raises(RetryLater) as raised:
        push(world)
    assert (raised.value.code, raised.value.retry_after) == (SyncErrorCode.RATE_LIMITED, 7.0)
    assert world.appointments.record(APPT).attempts == 0


def test_visit_gone_from_amd_is_an_error(world: World) -> None:
    visit = synced(world)
    del world.amd.appointments[visit]
    register(world, version=2, durationMinutes=30)
    assert push(world).error_code is SyncErrorCode.AMD_NOT_FOUND

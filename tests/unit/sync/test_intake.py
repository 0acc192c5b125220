"""Intake: registering desired state, status changes and manual sync requests."""

from __future__ import annotations

import pytest

from amdsync.domain.errors import IllegalTransitionError
from amdsync.sync.intake import Intake, NotRegistered
from tests.fakes import World
from tests.unit.sync.helpers import (
    APPT,
    PATIENT,
    change_status,
    demographics,
    drain,
    register,
    register_patient,
    synced,
)


def test_registering_a_new_appointment_stores_it_pending_and_queues_one_job(world: World) -> None:
    accepted = register(world)
    assert accepted.applied
    assert world.appointments.record(APPT).amd_sync_status == "pending"
    assert [(j.entity_id, j.version) for j in world.queue.sent] == [(APPT, 1)]
    assert accepted.queued is not None and accepted.queued.queue_position == 1
    assert world.amd.calls_made() == 0


def test_a_newer_version_updates_the_desired_state(world: World) -> None:
    register(world)
    accepted = register(world, version=2, start="2026-12-01T11:00:00")
    assert accepted.applied
    record = world.appointments.record(APPT)
    assert (record.start, record.ehr_version) == ("2026-12-01T11:00:00", 2)
    assert [j.version for j in world.queue.sent] == [1, 2]


def test_stale_ehr_versions_are_ignored_and_flagged(world: World) -> None:
    register(world, version=2, start="2026-12-01T11:00:00")
    accepted = register(world, version=1, start="2026-12-01T08:00:00")
    assert not accepted.applied and accepted.queued is None and accepted.stale
    assert world.appointments.record(APPT).start == "2026-12-01T11:00:00"
    assert len(world.queue.sent) == 1


def test_a_repeated_request_is_an_idempotent_no_op(world: World) -> None:
    register(world, version=2, start="2026-12-01T11:00:00")
    accepted = register(world, version=2, start="2026-12-01T11:00:00")
    assert not accepted.applied and accepted.queued is None and not accepted.stale
    assert len(world.queue.sent) == 1


def test_a_concurrent_writer_is_retried_not_overwritten(world: World) -> None:
    register(world)
    # Between our read and our write the EHR's next version lands.
    world.appointments.before_next_save(lambda: register(world, version=3, durationMinutes=30))
    accepted = register(world, version=2, start="2026-12-01T11:00:00")
    assert not accepted.applied  # re-read found version 3: ours is now stale
    record = world.appointments.record(APPT)
    assert (record.ehr_version, record.duration_minutes) == (3, 30)


def test_illegal_transition_raises_before_any_amd_call(world: World) -> None:
    synced(world)
    change_status(world, "CANCELLED", reason="PATIENT_REQUEST")
    calls = world.amd.calls_made()
    queued = len(world.queue.sent)
    with pytest.raises(IllegalTransitionError):
        change_status(world, "CHECKED_OUT")
    assert world.amd.calls_made() == calls
    assert len(world.queue.sent) == queued
    assert world.appointments.record(APPT).status == "CANCELLED"


def test_status_change_of_an_unknown_appointment_is_not_registered(world: World) -> None:
    with pytest.raises(NotRegistered):
        change_status(world, "CHECKED_IN")


def test_repeating_the_current_status_changes_nothing(world: World) -> None:
    register(world)
    accepted = change_status(world, "SCHEDULED")
    assert not accepted.applied
    assert world.appointments.record(APPT).ehr_version == 1


def test_a_staff_status_change_keeps_the_ehr_version_and_is_queued_anyway(world: World) -> None:
    register(world)
    accepted = change_status(world, "CANCELLED", reason="PATIENT_REQUEST")
    record = world.appointments.record(APPT)
    assert accepted.applied
    assert (record.status, record.cancel_reason, record.ehr_version) == (
        "CANCELLED",
        "PATIENT_REQUEST",
        1,
    )
    first, second = world.queue.sent
    assert second.version == 1 and second.dedup_id != first.dedup_id  # not eaten by FIFO dedup


def test_auto_sync_off_stores_but_does_not_queue(world: World) -> None:
    world.settings.update(auto_sync_appointments=False)
    accepted = register(world)
    assert accepted.applied and accepted.queued is None
    assert world.appointments.get(APPT) is not None
    change_status(world, "CONFIRMED")
    assert world.queue.sent == []


def test_manual_sync_is_always_queued_with_a_unique_dedup_id(world: World) -> None:
    world.settings.update(auto_sync_appointments=False)
    register(world)
    intake = Intake(world.ctx)
    first = intake.request_appointment_sync(APPT)
    second = intake.request_appointment_sync(APPT)
    assert first.queued is not None and second.queued is not None
    assert world.queue.deduplicated == []
    assert world.queue.depth() == 2
    dedup_ids = {j.dedup_id for j in world.queue.sent}
    assert len(dedup_ids) == 2
    assert all(j.trigger for j in world.queue.sent)


def test_manual_sync_of_unknown_entities_is_refused(world: World) -> None:
    with pytest.raises(NotRegistered):
        Intake(world.ctx).request_appointment_sync("A-404")
    with pytest.raises(NotRegistered):
        Intake(world.ctx).request_patient_sync("P-404")


def test_a_stale_patient_registration_never_overwrites_newer_demographics(
    world: World,
) -> None:
    assert register_patient(world, version=2, phone="5555550122").applied
    stale = register_patient(world, version=1, phone="5555550111")
    assert not stale.applied
    held = world.patients.get_demographics(PATIENT)
    assert held is not None and held.phone == "5555550122"
    assert [j.version for j in world.queue.sent] == [2]


def test_unchanged_demographics_cost_no_job_and_changed_ones_update_amd(world: World) -> None:
    assert register_patient(world).applied
    assert world.queue.sent[-1].kind == "patient"
    drain(world)
    assert world.patients.record(PATIENT).is_synced
    assert world.patients.get_demographics(PATIENT) is None  # held only until synced
    calls = world.amd.calls_made()
    again = Intake(world.ctx).register_patient(PATIENT, demographics(version=2))
    assert not again.applied  # same demographics as already in AMD: no job, no call
    assert world.amd.calls_made() == calls
    changed = Intake(world.ctx).register_patient(PATIENT, demographics(3, phone="5555550199"))
    assert changed.applied
    drain(world)
    assert world.amd.count("update_patient") == 1
    assert world.amd.count("add_patient") == 1


def test_an_illegal_status_in_a_put_is_refused_before_any_amd_call(world: World) -> None:
    """SPEC §5: check-out of a cancelled appointment is a 409, whichever endpoint asks."""
    synced(world)
    change_status(world, "CANCELLED", reason="PATIENT_REQUEST")
    calls, queued = world.amd.calls_made(), len(world.queue.sent)
    with pytest.raises(IllegalTransitionError):
        register(world, version=5, status="CHECKED_OUT")
    assert world.amd.calls_made() == calls and len(world.queue.sent) == queued
    assert world.appointments.record(APPT).status == "CANCELLED"


def test_a_put_with_a_legal_status_change_is_applied(world: World) -> None:
    synced(world)
    assert register(world, version=2, status="RESCHEDULED", start="2026-12-03T09:00:00").applied

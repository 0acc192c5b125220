"""The worker dies after an AMD write and before it stored what the write did; the EHR changes
the same thing before the retry (issue 13, found by the model-based test). No second AMD
patient, and our own write never comes back as an AMD-side change (SPEC §9.1). The same
scenarios against the simulator: tests/integration/sync/test_crash_rewrites.py."""

from __future__ import annotations

import pytest

from amdsync.sync.patients import PatientSync
from amdsync.sync.pull import PullRun
from amdsync.sync.push import AppointmentPush
from tests.fakes import World
from tests.unit.sync.helpers import APPT, PATIENT, register, register_patient, synced


class Crash(BaseException):
    """The worker process dies (not an error the use case may catch and record)."""


def test_a_patient_renamed_after_a_crash_behind_add_patient_is_created_once(
    world: World,
) -> None:
    register_patient(world)
    world.amd.faults.fail_after_commit("add_patient", Crash())
    with pytest.raises(Crash):
        PatientSync(world.ctx).run(PATIENT)
    register_patient(world, lastName="Renamed", ehrVersion=2)

    amd_id = PatientSync(world.ctx).run(PATIENT)

    mine = [p for p in world.amd.patients.values() if p.ehr_patient_id == PATIENT]
    assert [(p.amd_id, p.last_name) for p in mine] == [(amd_id, "RENAMED")]
    assert world.amd.calls.count("add_patient") == 1
    record = world.patients.record(PATIENT)
    assert (record.amd_sync_status, record.ehr_version) == ("synced", 2)
    assert world.patients.get_create_intent(PATIENT) is None  # held only until linked


def test_a_create_that_never_reached_amd_creates_with_the_newest_name(world: World) -> None:
    register_patient(world)
    world.amd.faults.fail("add_patient", Crash())  # dies before AMD saw the request
    with pytest.raises(Crash):
        PatientSync(world.ctx).run(PATIENT)
    register_patient(world, lastName="Renamed", ehrVersion=2)

    PatientSync(world.ctx).run(PATIENT)

    assert [p.last_name for p in world.amd.patients.values()] == ["RENAMED"]


def test_our_write_before_a_crash_is_not_pulled_back_as_an_amd_change(world: World) -> None:
    visit_id = synced(world)
    assert PullRun(world.ctx).run().status == "ok"
    register(world, version=2, durationMinutes=45)
    world.amd.faults.fail_after_commit("edit", Crash())
    with pytest.raises(Crash):
        AppointmentPush(world.ctx).run(APPT)
    assert world.amd.appointment(visit_id).duration_minutes == 45
    register(world, version=3, durationMinutes=50)  # the EHR sets it back meanwhile

    PullRun(world.ctx).run()

    assert world.feed.entries == []
    assert world.appointments.record(APPT).duration_minutes == 50
    AppointmentPush(world.ctx).run(APPT)
    assert world.amd.appointment(visit_id).duration_minutes == 50
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.amd_write_intent) == ("synced", None)
    assert world.feed.entries == []


def test_an_amd_edit_over_our_unsettled_write_is_still_an_amd_change(world: World) -> None:
    visit_id = synced(world)
    assert PullRun(world.ctx).run().status == "ok"
    register(world, version=2, durationMinutes=45)
    world.amd.faults.fail_after_commit("edit", Crash())
    with pytest.raises(Crash):
        AppointmentPush(world.ctx).run(APPT)
    world.amd.person_edits(visit_id, duration_minutes=60)  # the front desk, after our write

    PullRun(world.ctx).run()

    # Not ours: compared with the old base (50), both sides changed it differently.
    record = world.appointments.record(APPT)
    assert record.amd_sync_status == "conflict"
    assert world.amd.appointment(visit_id).duration_minutes == 60

"""`ehrVersion` belongs to the EHR (SPEC §9.1): a reused version with new content is refused,
and staff status changes never invent a version the EHR will send next."""

from __future__ import annotations

import pytest

from amdsync.domain.appointments import StatusChange
from amdsync.domain.concurrency import VersionReusedError
from amdsync.sync.intake import Accepted, Intake
from amdsync.sync.pull import PullRun
from tests.fakes import World
from tests.unit.sync.helpers import APPT, change_status, drain, register, synced


def ehr_status(world: World, status: str, version: int, reason: str | None = None) -> Accepted:
    change = StatusChange.model_validate(
        {"status": status, "reason": reason, "ehrVersion": version}
    )
    return Intake(world.ctx).change_status(APPT, change)


def test_the_same_version_with_new_content_is_refused(world: World) -> None:
    register(world, version=3, start="2026-12-01T10:00:00")
    with pytest.raises(VersionReusedError):
        register(world, version=3, start="2026-12-01T11:00:00")
    record = world.appointments.record(APPT)
    assert (record.start, record.amd_sync_status) == ("2026-12-01T10:00:00", "pending")
    assert len(world.queue.sent) == 1


def test_a_reused_version_is_judged_against_what_the_ehr_sent_not_what_amd_changed(
    world: World,
) -> None:
    """An AMD-side change overlays the record; the EHR repeating its own request is still a
    repeat, not a reuse."""
    visit = synced(world, start="2026-12-01T10:00:00")
    world.amd.person_edits(visit, status_code=1)  # front desk checks the patient in
    PullRun(world.ctx).run()
    PullRun(world.ctx).run()
    assert world.appointments.record(APPT).status == "CHECKED_IN"
    accepted = register(world, version=1, start="2026-12-01T10:00:00")
    assert not accepted.applied and not accepted.stale


def test_a_staff_status_change_leaves_room_for_the_ehrs_next_version(world: World) -> None:
    synced(world)  # ehrVersion 1
    change_status(world, "CONFIRMED")  # staff: no ehrVersion
    drain(world)
    accepted = register(world, version=2, durationMinutes=30, status="CONFIRMED")
    assert accepted.applied, "the EHR's next real version must be applied"
    drain(world)
    record = world.appointments.record(APPT)
    assert (record.ehr_version, record.duration_minutes, record.amd_sync_status) == (
        2,
        30,
        "synced",
    )
    amd = world.amd.appointment(record.advanced_md_visit_id or "")
    assert (amd.duration_minutes, amd.confirmed) == (30, True)


def test_ehr_status_changes_follow_the_version_rules(world: World) -> None:
    register(world, version=1)
    accepted = ehr_status(world, "CONFIRMED", version=2)
    assert accepted.applied
    assert world.appointments.record(APPT).ehr_version == 2
    again = ehr_status(world, "CONFIRMED", version=2)
    assert not again.applied and not again.stale
    older = ehr_status(world, "CANCELLED", version=1, reason="PATIENT_REQUEST")
    assert older.stale and world.appointments.record(APPT).status == "CONFIRMED"
    with pytest.raises(VersionReusedError):
        ehr_status(world, "CANCELLED", version=2, reason="PATIENT_REQUEST")

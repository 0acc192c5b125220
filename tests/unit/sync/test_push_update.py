"""Push, update path: status changes, edits, and AMD-side changes met during a push."""

from __future__ import annotations

import pytest

from amdsync.amd.errors import AlreadyCheckedOut
from amdsync.domain.errors import SyncErrorCode
from amdsync.sync.push import PushOutcome
from tests.fakes import World
from tests.unit.sync.helpers import APPT, change_status, push, register, synced


@pytest.mark.parametrize(
    ("status", "reason", "code", "amd_reason", "method"),
    [
        ("CONFIRMED", None, 0, None, "confirm"),
        ("CHECKED_IN", None, 1, None, "check_in"),
        ("CHECKED_OUT", None, 3, None, "check_out"),
        ("COMPLETED", None, 3, None, "check_out"),
        ("NO_SHOW", "ILLNESS", 12, "24", "no_show"),
        ("CANCELLED", "PATIENT_REQUEST", 10, "23", "cancel"),
    ],
)
def test_each_status_reaches_amd_with_its_mapped_reason(
    world: World, status: str, reason: str | None, code: int, amd_reason: str | None, method: str
) -> None:
    visit = synced(world)
    change_status(world, status, reason)
    result = push(world)
    assert result.outcome is PushOutcome.SYNCED
    assert world.amd.appointment(visit).status_code == code
    assert world.amd.count(method) == 1
    assert world.amd.calls[-2:] == ["get_appointment", method]
    if amd_reason is not None:
        assert world.amd.reasons[visit] == amd_reason
    record = world.appointments.record(APPT)
    assert record.amd_sync_status == "synced"
    assert record.base_snapshot["status"] == status
    assert world.feed.entries == []  # our own change is not echoed to the EHR


def test_check_in_then_check_out(world: World) -> None:
    visit = synced(world)
    change_status(world, "CHECKED_IN")
    push(world)
    change_status(world, "CHECKED_OUT")
    push(world)
    assert world.amd.appointment(visit).status_code == 3


def test_already_checked_out_4110_is_treated_as_done(world: World) -> None:
    synced(world)
    change_status(world, "CHECKED_OUT")
    world.amd.faults.fail("check_out", AlreadyCheckedOut(amd_code=4110))
    result = push(world)
    assert result.outcome is PushOutcome.SYNCED
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.amd_sync_error_code) == ("synced", None)


def test_an_unmapped_reason_is_reason_not_mapped(world: World) -> None:
    visit = synced(world)
    change_status(world, "CANCELLED", reason="WEATHER")
    result = push(world)
    assert result.error_code is SyncErrorCode.REASON_NOT_MAPPED
    assert world.appointments.record(APPT).amd_sync_status == "error"
    assert world.amd.appointment(visit).status_code == 0
    assert world.amd.count("cancel") == 0


def test_time_and_duration_edits_reach_amd(world: World) -> None:
    visit = synced(world)
    register(world, version=2, start="2026-12-01T14:00:00", durationMinutes=90)
    result = push(world)
    assert result.outcome is PushOutcome.SYNCED
    appt = world.amd.appointment(visit)
    assert (appt.start, appt.duration_minutes) == ("2026-12-01T14:00:00", 90)
    assert world.amd.count("edit") == 1
    assert len(world.amd.appointments) == 1
    base = world.appointments.record(APPT).base_snapshot
    assert (base["start"], base["durationMinutes"]) == ("2026-12-01T14:00:00", 90)


def test_provider_change_moves_it_to_the_providers_column(world: World) -> None:
    visit = synced(world)
    register(world, version=2, providerId="DR-8", facilityId="ANNEX")
    push(world)
    appt = world.amd.appointment(visit)
    assert (appt.profile_id, appt.column_id, appt.facility_id) == ("22", "32", "42")


def test_rescheduling_a_confirmed_appointment_moves_it(world: World) -> None:
    """CONFIRMED -> RESCHEDULED is a legal transition; the new time is the change."""
    visit = synced(world)
    change_status(world, "CONFIRMED")
    push(world)
    register(world, version=3, status="RESCHEDULED", start="2026-12-02T10:00:00")
    result = push(world)
    assert result.outcome is PushOutcome.SYNCED, result
    assert world.amd.appointment(visit).start == "2026-12-02T10:00:00"
    assert world.appointments.record(APPT).amd_sync_status == "synced"


# ------------------------------------------------------------------ AMD-side changes


def test_only_amd_changed_is_published_and_taken(world: World) -> None:
    visit = synced(world)
    world.amd.person_edits(visit, start="2026-12-01T15:00:00")
    result = push(world)  # e.g. a manual re-sync
    assert result.outcome is PushOutcome.SYNCED
    assert world.amd.count("edit") == 0
    record = world.appointments.record(APPT)
    assert record.start == "2026-12-01T15:00:00"
    assert record.base_snapshot["start"] == "2026-12-01T15:00:00"
    [entry] = world.feed.entries
    assert (entry.kind, entry.fields, entry.appointment_id) == (
        "time",
        {"start": "2026-12-01T15:00:00"},
        APPT,
    )
    assert entry.advanced_md_visit_id == visit


def test_different_fields_changed_on_each_side_merge(world: World) -> None:
    visit = synced(world)
    world.amd.person_edits(visit, status_code=1)  # front desk checked the patient in
    register(world, version=2, durationMinutes=30)  # EHR shortened the session
    result = push(world)
    assert result.outcome is PushOutcome.SYNCED
    appt = world.amd.appointment(visit)
    assert (appt.status_code, appt.duration_minutes) == (1, 30)
    record = world.appointments.record(APPT)
    assert (record.status, record.duration_minutes) == ("CHECKED_IN", 30)
    assert [e.kind for e in world.feed.entries] == ["status"]
    assert world.conflicts.list() == []


def test_same_field_changed_differently_is_a_conflict_under_manual(world: World) -> None:
    visit = synced(world)
    world.amd.person_edits(visit, start="2026-12-01T15:00:00")
    register(world, version=2, start="2026-12-01T11:00:00")
    result = push(world)
    assert (result.outcome, result.error_code) == (PushOutcome.CONFLICT, SyncErrorCode.CONFLICT)
    assert world.amd.appointment(visit).start == "2026-12-01T15:00:00"  # not overwritten
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.amd_sync_error_code) == (
        "conflict",
        SyncErrorCode.CONFLICT,
    )
    assert record.start == "2026-12-01T11:00:00"
    assert record.base_snapshot["start"] == "2026-12-01T10:00:00"
    [conflict] = world.conflicts.list()
    assert conflict.conflict_id == APPT
    field = conflict.fields["start"]
    assert (field.ehr, field.amd, field.base) == (
        "2026-12-01T11:00:00",
        "2026-12-01T15:00:00",
        "2026-12-01T10:00:00",
    )
    assert world.feed.entries == []
    assert world.logs.entries[-1].outcome == "conflict"
    assert world.metrics.total("Conflicts") == 1


def test_ehr_wins_policy_sends_the_ehr_value(world: World) -> None:
    world.settings.update(conflict_policy="ehr_wins")
    visit = synced(world)
    world.amd.person_edits(visit, start="2026-12-01T15:00:00")
    register(world, version=2, start="2026-12-01T11:00:00")
    assert push(world).outcome is PushOutcome.SYNCED
    assert world.amd.appointment(visit).start == "2026-12-01T11:00:00"
    assert world.conflicts.list() == [] and world.feed.entries == []


def test_amd_wins_policy_takes_and_publishes_the_amd_value(world: World) -> None:
    world.settings.update(conflict_policy="amd_wins")
    visit = synced(world)
    world.amd.person_edits(visit, start="2026-12-01T15:00:00")
    register(world, version=2, start="2026-12-01T11:00:00")
    assert push(world).outcome is PushOutcome.SYNCED
    assert world.amd.appointment(visit).start == "2026-12-01T15:00:00"
    assert world.amd.count("edit") == 0
    assert world.appointments.record(APPT).start == "2026-12-01T15:00:00"
    assert [(e.kind, e.fields) for e in world.feed.entries] == [
        ("time", {"start": "2026-12-01T15:00:00"})
    ]


def test_a_status_progression_beats_the_earlier_status(world: World) -> None:
    """AMD Seen beats EHR CHECKED_IN without a conflict (SPEC §6)."""
    visit = synced(world)
    world.amd.person_edits(visit, status_code=3)
    change_status(world, "CHECKED_IN")
    assert push(world).outcome is PushOutcome.SYNCED
    assert world.amd.count("check_in") == 0
    assert world.appointments.record(APPT).status == "COMPLETED"
    assert world.conflicts.list() == []


def test_deleted_in_amd_reads_as_cancelled(world: World) -> None:
    visit = synced(world)
    world.amd.person_edits(visit, status_code=11)
    push(world)
    assert world.appointments.record(APPT).status == "CANCELLED"
    assert [e.kind for e in world.feed.entries] == ["cancelled"]

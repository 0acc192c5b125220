"""Push, creation path: patient first, mappings, exactly one AMD appointment."""

from __future__ import annotations

from datetime import date

import pytest

from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.mappings import MappingKind
from amdsync.sync.push import PushOutcome
from tests.fakes import World
from tests.unit.sync.helpers import (
    APPT,
    PATIENT,
    change_status,
    push,
    register,
    register_patient,
)


def test_patient_is_created_first_then_the_appointment(world: World) -> None:
    register_patient(world)
    register(world)
    result = push(world)
    assert result.outcome is PushOutcome.SYNCED
    assert world.amd.calls.index("add_patient") < world.amd.calls.index("book")
    assert len(world.amd.patients) == 1 and len(world.amd.appointments) == 1
    patient_amd_id = next(iter(world.amd.patients))
    appt = world.amd.appointment(result.visit_id or "")
    assert (appt.patient_id, appt.profile_id, appt.column_id) == (patient_amd_id, "21", "31")
    assert (appt.facility_id, appt.type_id) == ("41", "61")
    assert (appt.start, appt.duration_minutes, appt.status_code) == ("2026-12-01T10:00:00", 50, 0)
    record = world.appointments.record(APPT)
    assert record.amd_sync_status == "synced"
    assert record.advanced_md_visit_id == appt.visit_id
    assert record.advanced_md_patient_id == patient_amd_id
    assert (record.advanced_md_provider_id, record.advanced_md_facility_id) == ("21", "41")
    assert record.base_snapshot == record.snapshot()
    assert world.patients.record(PATIENT).advanced_md_patient_id == patient_amd_id
    assert world.appointments.owner_of_visit(appt.visit_id) == APPT


def test_the_booking_carries_our_stable_reference_id(world: World) -> None:
    register_patient(world)
    register(world)
    push(world)
    assert world.amd.by_reference(world.ctx.reference_id(APPT)) is not None


def test_an_existing_amd_patient_is_linked_not_duplicated(world: World) -> None:
    existing = world.amd.person_adds_patient("Ada", "Sample", date(1980, 4, 2))
    register_patient(world)
    register(world)
    push(world)
    assert len(world.amd.patients) == 1
    assert world.amd.count("add_patient") == 0
    assert world.appointments.record(APPT).advanced_md_patient_id == existing


def test_without_demographics_the_appointment_waits_for_the_patient(world: World) -> None:
    register(world)
    result = push(world)
    assert (result.outcome, result.error_code) == (
        PushOutcome.ERROR,
        SyncErrorCode.PATIENT_NOT_SYNCED,
    )
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.amd_sync_error_code) == (
        "error",
        SyncErrorCode.PATIENT_NOT_SYNCED,
    )
    assert world.amd.appointments == {} and world.amd.patients == {}


@pytest.mark.parametrize(
    ("kind", "ehr_id", "code"),
    [
        (MappingKind.PROVIDERS, "DR-7", SyncErrorCode.PROVIDER_NOT_MAPPED),
        (MappingKind.FACILITIES, "MAIN", SyncErrorCode.FACILITY_NOT_MAPPED),
        (MappingKind.APPOINTMENT_TYPES, "THERAPY_50", SyncErrorCode.TYPE_NOT_MAPPED),
    ],
)
def test_an_unmapped_id_is_an_error_not_a_guess(
    world: World, kind: MappingKind, ehr_id: str, code: SyncErrorCode
) -> None:
    world.mappings.remove(kind, ehr_id)
    register_patient(world)
    register(world)
    result = push(world)
    assert (result.outcome, result.error_code) == (PushOutcome.ERROR, code)
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.amd_sync_error_code) == ("error", code)
    assert world.amd.count("book") == 0


def test_an_unconfirmed_suggestion_is_not_used(world: World) -> None:
    mapping = world.mappings.get(MappingKind.FACILITIES, "MAIN")
    assert mapping is not None
    world.mappings.put(mapping.model_copy(update={"confirmed": False}))
    register_patient(world)
    register(world)
    assert push(world).error_code is SyncErrorCode.FACILITY_NOT_MAPPED


def test_exactly_one_amd_appointment_whatever_the_repeats(world: World) -> None:
    register_patient(world)
    register(world)
    for _ in range(3):
        push(world)
    assert len(world.amd.appointments) == 1
    assert world.amd.count("book") == 1


def test_cancelled_before_it_was_booked_books_nothing(world: World) -> None:
    register_patient(world)
    register(world)
    change_status(world, "CANCELLED", reason="PATIENT_REQUEST")
    result = push(world)
    assert result.outcome is PushOutcome.NOOP
    assert world.amd.appointments == {}
    assert world.amd.calls_made() == 0
    record = world.appointments.record(APPT)
    assert record.amd_sync_status == "synced" and record.advanced_md_visit_id is None


def test_registered_as_checked_in_is_booked_then_checked_in(world: World) -> None:
    register_patient(world)
    register(world, status="CHECKED_IN")
    result = push(world)
    assert result.outcome is PushOutcome.SYNCED
    assert world.amd.appointment(result.visit_id or "").status_code == 1
    assert world.appointments.record(APPT).base_snapshot["status"] == "CHECKED_IN"


def test_registered_as_confirmed_is_booked_then_confirmed(world: World) -> None:
    register_patient(world)
    register(world, status="CONFIRMED")
    visit = push(world).visit_id or ""
    assert world.amd.appointment(visit).confirmed


def test_a_type_outside_the_allow_list_is_skipped(world: World) -> None:
    world.settings.update(sync_appointment_types=("INTAKE_90",))
    register_patient(world)
    register(world)
    assert push(world).outcome is PushOutcome.SKIPPED
    assert world.amd.calls_made() == 0


def test_a_missing_record_is_reported_not_raised(world: World) -> None:
    assert push(world, "A-404").outcome is PushOutcome.MISSING
    assert world.amd.calls_made() == 0


def test_a_successful_push_logs_ids_and_amd_calls(world: World) -> None:
    register_patient(world)
    register(world)
    push(world)
    entries = world.logs.for_entity("appointment", APPT)
    assert [(e.operation, e.outcome) for e in entries] == [("create", "success")]
    assert entries[0].amd_calls == world.amd.calls_made() == 3  # find + add patient, book
    patient_entries = world.logs.for_entity("patient", PATIENT)
    assert [(e.operation, e.outcome, e.amd_calls) for e in patient_entries] == [
        ("link_or_create", "success", 2)
    ]
    assert world.metrics.total("SyncSucceeded") >= 1

"""Appointment request bodies and the appointment sync record (SPEC §3-4)."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.localtime import FoldPolicy
from amdsync.domain.models import (
    SNAPSHOT_FIELDS,
    AppointmentSyncRecord,
    DesiredAppointment,
    StatusChange,
)
from amdsync.domain.status import EhrStatus

SPEC_BODY = {
    "patientId": "P-100",
    "providerId": "DR-7",
    "facilityId": "MAIN",
    "appointmentType": "THERAPY_50",
    "start": "2026-12-01T10:00:00",
    "timeZone": "America/Denver",
    "durationMinutes": 50,
    "status": "SCHEDULED",
    "ehrVersion": 1,
}


def desired(**changes):
    return DesiredAppointment.model_validate({**SPEC_BODY, **changes})


def error_fields(exc: ValidationError) -> set[str]:
    return {".".join(str(p) for p in err["loc"]) for err in exc.errors()}


def test_spec_example_body_validates_and_dumps_back_with_spec_names():
    model = desired()
    assert model.status is EhrStatus.SCHEDULED
    assert model.model_dump(mode="json", by_alias=True) == {**SPEC_BODY, "cancelReason": None}
    assert model.model_dump(mode="json") == model.model_dump(mode="json", by_alias=True)


def test_snake_case_names_are_accepted_too():
    model = DesiredAppointment(
        patient_id="P-100",
        provider_id="DR-7",
        facility_id="MAIN",
        appointment_type="THERAPY_50",
        start="2026-12-01T10:00",
        time_zone="America/Denver",
        duration_minutes=50,
        status=EhrStatus.SCHEDULED,
        ehr_version=1,
    )
    assert model == desired()


def test_start_without_seconds_is_normalized():
    assert desired(start="2026-12-01T10:00").start == "2026-12-01T10:00:00"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start", "2026-12-01T10:00:00Z"),
        ("start", "2026-12-01T10:00:00-07:00"),
        ("start", "12/01/2026 10:00 AM"),
        ("start", "2026-12-01T10:00:00.5"),
        ("start", "2026-13-01T10:00:00"),
        ("timeZone", "Mountain"),
        ("timeZone", "america/denver"),
        ("timeZone", ""),
        ("durationMinutes", 0),
        ("durationMinutes", -5),
        ("durationMinutes", "50"),
        ("durationMinutes", 24 * 60 + 1),
        ("ehrVersion", -1),
        ("ehrVersion", True),
        ("status", "scheduled"),
        ("status", "ARRIVED"),
        ("patientId", ""),
        ("patientId", "P 100"),
        ("providerId", "DR#7"),
    ],
)
def test_invalid_fields_are_rejected_and_named(field, value):
    with pytest.raises(ValidationError) as info:
        desired(**{field: value})
    assert field in error_fields(info.value)


def test_extra_fields_are_rejected():
    with pytest.raises(ValidationError) as info:
        desired(notes="patient is anxious")
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_start_in_dst_gap_is_rejected_but_allowed_in_a_zone_without_dst():
    with pytest.raises(ValidationError) as info:
        desired(start="2026-03-08T02:30:00")
    assert "start" in error_fields(info.value)
    assert "does not exist" in str(info.value)
    assert desired(start="2026-03-08T02:30:00", timeZone="America/Phoenix")


def test_models_are_frozen():
    model = desired()
    with pytest.raises(ValidationError):
        model.status = EhrStatus.CANCELLED  # type: ignore[misc]


def test_start_and_end_instants_across_spring_forward():
    # 01:30 MST + 60 real minutes = 03:30 MDT: the wall clock jumps, the duration does not.
    model = desired(start="2026-03-08T01:30:00", durationMinutes=60)
    assert model.start_instant() == datetime(2026, 3, 8, 8, 30, tzinfo=UTC)
    assert model.end_instant() - model.start_instant() == timedelta(minutes=60)


def test_ambiguous_start_uses_policy():
    model = desired(start="2026-11-01T01:30:00")
    earlier = model.start_instant()
    later = model.start_instant(FoldPolicy.LATER)
    assert later - earlier == timedelta(hours=1)
    assert earlier == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)


def test_snapshot_has_exactly_the_conflict_fields_as_json_scalars():
    snap = desired(cancelReason=None).snapshot()
    assert tuple(snap) == SNAPSHOT_FIELDS
    assert snap["status"] == "SCHEDULED"
    assert snap["durationMinutes"] == 50


def test_status_change_cancel_requires_reason():
    with pytest.raises(ValidationError) as info:
        StatusChange.model_validate({"status": "CANCELLED"})
    assert error_fields(info.value) == {"reason"}
    ok = StatusChange.model_validate(
        {"status": "CANCELLED", "reason": "PATIENT_REQUEST", "ehrVersion": 2}
    )
    assert ok.reason == "PATIENT_REQUEST"
    assert ok.ehr_version == 2


def test_status_change_reason_optional_for_no_show_and_refused_elsewhere():
    assert StatusChange.model_validate({"status": "NO_SHOW"}).reason is None
    assert StatusChange.model_validate({"status": "NO_SHOW", "reason": "NS1"}).reason == "NS1"
    with pytest.raises(ValidationError) as info:
        StatusChange.model_validate({"status": "CHECKED_IN", "reason": "LATE"})
    assert error_fields(info.value) == {"reason"}


def test_status_change_rejects_extras_and_unknown_status():
    with pytest.raises(ValidationError):
        StatusChange.model_validate({"status": "CHECKED_IN", "note": "x"})
    with pytest.raises(ValidationError) as info:
        StatusChange.model_validate({"status": "ARRIVED"})
    assert error_fields(info.value) == {"status"}


def test_record_from_desired_is_pending_and_speaks_spec_names():
    record = AppointmentSyncRecord.from_desired("A-200", desired())
    assert record.amd_sync_status == "pending"
    assert record.attempts == 0
    dumped = record.model_dump(mode="json", by_alias=True)
    for name in (
        "appointmentId",
        "advancedMDVisitId",
        "advancedMDPatientId",
        "advancedMDProviderId",
        "advancedMDFacilityId",
        "lastSyncedToAMD",
        "amdSyncStatus",
        "amdSyncError",
        "amdSyncErrorCode",
        "baseSnapshot",
    ):
        assert name in dumped
    assert dumped["appointmentId"] == "A-200"


def test_record_json_round_trip_with_amd_ids_and_timestamp():
    record = AppointmentSyncRecord.from_desired("A-200", desired()).model_copy(
        update={
            "advanced_md_visit_id": "5001",
            "amd_sync_status": "synced",
            "last_synced_to_amd": datetime(2026, 11, 25, 17, 3, 12, tzinfo=UTC),
            "base_snapshot": desired().snapshot(),
        }
    )
    text = record.model_dump_json()
    assert '"lastSyncedToAMD":"2026-11-25T17:03:12Z"' in text
    assert AppointmentSyncRecord.model_validate_json(text) == record


def test_record_normalizes_prefixed_amd_ids_and_ignores_unknown_stored_attributes():
    record = AppointmentSyncRecord.model_validate(
        {
            **SPEC_BODY,
            "appointmentId": "A-1",
            "advancedMDPatientId": "pat148",
            "advancedMDProviderId": 21,
            "advancedMDVisitId": " 5001 ",
            "pk": "PRACTICE#1",  # a storage key attribute, not a domain field
        }
    )
    assert record.advanced_md_patient_id == "148"
    assert record.advanced_md_provider_id == "21"
    assert record.advanced_md_visit_id == "5001"


@pytest.mark.parametrize("bad", ["abc", "pat", "12.5", True, -3, "1" * 19])
def test_record_rejects_malformed_amd_ids(bad):
    with pytest.raises(ValidationError):
        AppointmentSyncRecord.model_validate(
            {**SPEC_BODY, "appointmentId": "A-1", "advancedMDVisitId": bad}
        )


def test_error_status_needs_a_code_and_synced_carries_none():
    base = {**SPEC_BODY, "appointmentId": "A-1"}
    with pytest.raises(ValidationError):
        AppointmentSyncRecord.model_validate({**base, "amdSyncStatus": "error"})
    with pytest.raises(ValidationError):
        AppointmentSyncRecord.model_validate(
            {**base, "amdSyncStatus": "synced", "amdSyncErrorCode": "AMD_REJECTED"}
        )
    with pytest.raises(ValidationError):
        AppointmentSyncRecord.model_validate({**base, "amdSyncStatus": "done"})
    record = AppointmentSyncRecord.model_validate(
        {**base, "amdSyncStatus": "error", "amdSyncErrorCode": "PATIENT_NOT_SYNCED"}
    )
    assert record.amd_sync_error_code is SyncErrorCode.PATIENT_NOT_SYNCED


def test_record_rejects_naive_last_synced():
    with pytest.raises(ValidationError):
        AppointmentSyncRecord.model_validate(
            {**SPEC_BODY, "appointmentId": "A-1", "lastSyncedToAMD": "2026-11-25T17:03:12"}
        )


def test_with_desired_updates_desired_fields_and_keeps_amd_state():
    record = AppointmentSyncRecord.from_desired("A-200", desired()).model_copy(
        update={"advanced_md_visit_id": "5001", "attempts": 2}
    )
    newer = desired(start="2026-12-02T11:00:00", ehrVersion=2, status="CONFIRMED")
    updated = record.with_desired(newer)
    assert updated.start == "2026-12-02T11:00:00"
    assert updated.ehr_version == 2
    assert updated.status is EhrStatus.CONFIRMED
    assert updated.advanced_md_visit_id == "5001"
    assert updated.attempts == 2
    assert updated.appointment_id == "A-200"

"""Settings and mappings (SPEC §3)."""

import pytest
from pydantic import ValidationError

from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.models import Mapping, MappingKind, Settings


def test_settings_defaults_match_spec():
    settings = Settings()
    assert settings.auto_sync_appointments is True
    assert settings.conflict_policy == "manual"
    assert settings.sync_frequency == "realtime"
    assert settings.sync_appointment_types is None
    assert 0 < settings.mass_change_guard_ratio <= 1
    assert set(settings.model_dump(by_alias=True)) == {
        "autoSyncAppointments",
        "syncFrequency",
        "dailyHour",
        "conflictPolicy",
        "syncAppointmentTypes",
        "massChangeGuardRatio",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dailyHour", 24),
        ("dailyHour", -1),
        ("syncFrequency", "weekly"),
        ("conflictPolicy", "newest_wins"),
        ("autoSyncAppointments", "yes"),
        ("syncAppointmentTypes", []),
        ("syncAppointmentTypes", ["A", "A"]),
        ("massChangeGuardRatio", 0),
        ("massChangeGuardRatio", 1.5),
        ("officeKey", "999999"),
    ],
)
def test_invalid_settings_are_rejected(field, value):
    with pytest.raises(ValidationError):
        Settings.model_validate({field: value})


def test_type_allow_list():
    everything = Settings()
    assert everything.syncs_type("THERAPY_50")
    only_intake = Settings.model_validate({"syncAppointmentTypes": ["INTAKE"]})
    assert only_intake.syncs_type("INTAKE")
    assert not only_intake.syncs_type("THERAPY_50")
    assert only_intake.model_dump(mode="json")["syncAppointmentTypes"] == ["INTAKE"]


def test_provider_mapping_needs_a_column_and_strips_prefixes():
    mapping = Mapping.model_validate(
        {"kind": "providers", "ehrId": "DR-7", "amdId": "prof101", "amdColumnId": "col147"}
    )
    assert (mapping.amd_id, mapping.amd_column_id, mapping.confirmed) == ("101", "147", False)
    with pytest.raises(ValidationError) as info:
        Mapping.model_validate({"kind": "providers", "ehrId": "DR-7", "amdId": "101"})
    # A missing field validated from its default is located by its Python name (pydantic).
    assert info.value.errors()[0]["loc"][0] in {"amdColumnId", "amd_column_id"}


def test_column_is_refused_for_other_kinds_and_kinds_are_closed():
    with pytest.raises(ValidationError):
        Mapping.model_validate(
            {"kind": "facilities", "ehrId": "MAIN", "amdId": "41", "amdColumnId": "1"}
        )
    with pytest.raises(ValidationError):
        Mapping.model_validate({"kind": "rooms", "ehrId": "R1", "amdId": "1"})
    reason = Mapping.model_validate(
        {"kind": "reasons", "ehrId": "PATIENT_REQUEST", "amdId": "23", "confirmed": True}
    )
    assert reason.model_dump(mode="json")["kind"] == "reasons"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (MappingKind.PROVIDERS, SyncErrorCode.PROVIDER_NOT_MAPPED),
        (MappingKind.FACILITIES, SyncErrorCode.FACILITY_NOT_MAPPED),
        (MappingKind.APPOINTMENT_TYPES, SyncErrorCode.TYPE_NOT_MAPPED),
        (MappingKind.REASONS, SyncErrorCode.REASON_NOT_MAPPED),
    ],
)
def test_each_mapping_kind_has_its_not_mapped_code(kind, code):
    assert kind.not_mapped_code is code
    assert MappingKind(kind.value) is kind

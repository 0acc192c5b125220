"""SPEC §9.2 input rules in the models: printable names, plausible dates, bounded versions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from amdsync.domain.appointments import DesiredAppointment, StatusChange, start_in_window
from amdsync.domain.patients import PatientDemographics

SENTINEL_NAME = "Quillfeather"

PATIENT: dict[str, Any] = {
    "firstName": "Ada",
    "lastName": SENTINEL_NAME,
    "dateOfBirth": "1980-04-02",
    "sex": "F",
    "phone": "5555550100",
    "address": {"line1": "1 Main St", "city": "Ogden", "state": "UT", "zip": "84401"},
    "ehrVersion": 1,
}


def _appointment(**changes: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0, tzinfo=None)
    return {
        "patientId": "P-1",
        "providerId": "DR-1",
        "facilityId": "MAIN",
        "appointmentType": "THERAPY_50",
        "start": start.isoformat(),
        "timeZone": "America/New_York",
        "durationMinutes": 50,
        "status": "SCHEDULED",
        "ehrVersion": 1,
        **changes,
    }


def assert_rejected(model: Any, data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    names = {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
    assert any(field in n for n in names), names
    assert SENTINEL_NAME not in str(caught.value)


@pytest.mark.parametrize(
    "name",
    [
        f"{SENTINEL_NAME}\x00",
        f"{SENTINEL_NAME}\x07",
        f"\u202e{SENTINEL_NAME}",
        f"{SENTINEL_NAME}\u2066x",
        f"{SENTINEL_NAME}\u200b",
        "A\u2028B",
    ],
    ids=["nul", "bell", "rlo", "lri", "zero-width", "line-sep"],
)
def test_names_must_be_printable(name: str) -> None:
    assert_rejected(PatientDemographics, {**PATIENT, "firstName": name}, "firstName")


def test_names_up_to_100_characters_and_formula_like_text_are_kept_verbatim() -> None:
    ok = PatientDemographics.model_validate(
        {**PATIENT, "firstName": "=cmd|' /C calc'!A0", "lastName": "x" * 100}
    )
    assert ok.first_name == "=cmd|' /C calc'!A0"
    assert_rejected(PatientDemographics, {**PATIENT, "lastName": "x" * 101}, "lastName")


@pytest.mark.parametrize("dob", ["2999-01-01", "1899-12-31"])
def test_date_of_birth_in_the_future_or_before_1900_is_refused(dob: str) -> None:
    assert_rejected(PatientDemographics, {**PATIENT, "dateOfBirth": dob}, "dateOfBirth")


def test_a_date_of_birth_today_is_fine() -> None:
    today = datetime.now(UTC).date().isoformat()
    assert PatientDemographics.model_validate({**PATIENT, "dateOfBirth": today})


@pytest.mark.parametrize("version", [0, -1, 2**53, 10**41])
def test_ehr_version_is_1_to_2_53_minus_1(version: int) -> None:
    assert_rejected(PatientDemographics, {**PATIENT, "ehrVersion": version}, "ehrVersion")
    assert_rejected(DesiredAppointment, _appointment(ehrVersion=version), "ehrVersion")
    assert_rejected(StatusChange, {"status": "CONFIRMED", "ehrVersion": version}, "ehrVersion")
    assert DesiredAppointment.model_validate(_appointment(ehrVersion=2**53 - 1))


@pytest.mark.parametrize(
    ("start", "zone"),
    [
        ("9999-12-31T23:00:00", "Pacific/Kiritimati"),
        ("0001-01-01T00:30:00", "America/New_York"),
        ("1999-01-01T10:00:00", "America/Denver"),
    ],
)
def test_a_start_far_from_today_is_422_not_an_overflow(start: str, zone: str) -> None:
    assert_rejected(DesiredAppointment, _appointment(start=start, timeZone=zone), "start")


def test_the_start_window_is_two_years_back_and_three_ahead_on_the_calendar() -> None:
    today = date(2026, 12, 5)
    assert start_in_window(date(2024, 12, 5), today)
    assert not start_in_window(date(2024, 12, 4), today)
    assert start_in_window(date(2029, 12, 5), today)
    assert not start_in_window(date(2029, 12, 6), today)
    leap_day = date(2028, 2, 29)  # two years back has no 29 February: the 28th counts
    assert start_in_window(date(2026, 2, 28), leap_day)
    assert not start_in_window(date(2026, 2, 27), leap_day)

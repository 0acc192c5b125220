"""The patient port over the AMD client: `updatepatient` carries every demographic SPEC §3 keeps
(name, DOB, sex, phone, address), changed fields only, each with the `o_` value AMD returned
from `getdemographic` (PROTOCOL §3.5, §3.7)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from amdsync.amd.errors import ConcurrentEdit
from amdsync.domain.patients import PatientDemographics
from amdsync.sync.amd_patient_adapter import AdvancedMDPatients

from .fake_amd import FakeAmd, envelope, make_amd

# What AMD answers for the patient registered with `demographics()` (upper-cased, padded).
STORED: dict[str, Any] = {
    "@id": "pat1001",
    "@name": "SAMPLE,ADA",
    "@dob": "04/02/1980",
    "@sex": "F",
    "@chart": "1001    ",
    "address": {
        "@zip": "84101     ",
        "@city": "SALT LAKE CITY",
        "@state": "UT",
        "@address1": "",
        "@address2": "1 MAIN ST",
    },
    "contactinfo": {"@homephone": "(555) 555-0100", "@email": "ada@example.invalid"},
}


def demographics(**overrides: Any) -> PatientDemographics:
    values: dict[str, Any] = {
        "firstName": "Ada",
        "lastName": "Sample",
        "dateOfBirth": "1980-04-02",
        "sex": "F",
        "phone": "5555550100",
        "address": {"line1": "1 Main St", "city": "Salt Lake City", "state": "UT", "zip": "84101"},
        "ehrVersion": 2,
        **overrides,
    }
    return PatientDemographics.model_validate(values)


@pytest.fixture
def fake() -> FakeAmd:
    f = FakeAmd()
    f.xmlrpc["getdemographic"] = lambda msg: envelope(
        {"patientlist": {"patient": copy.deepcopy(STORED)}}
    )
    f.xmlrpc["updatepatient"] = lambda msg: envelope(
        {"patientlist": {"patient": {"@id": "pat1001"}}}
    )
    return f


def _update(fake: FakeAmd, wanted: PatientDemographics) -> None:
    AdvancedMDPatients(make_amd(fake)).update_patient("1001", wanted)


def _updates(fake: FakeAmd) -> list[dict[str, Any]]:
    return [
        msg["patientlist"]["patient"] for name, msg, _ in fake.messages if name == "updatepatient"
    ]


def test_a_phone_and_address_change_is_sent_with_the_old_values(fake: FakeAmd) -> None:
    moved = {"line1": "9 Oak Ave", "city": "Ogden", "state": "UT", "zip": "84401"}
    _update(fake, demographics(phone="8015550199", address=moved))
    (patient,) = _updates(fake)
    assert patient["contactinfo"] == {
        "@o_homephone": "(555) 555-0100",
        "@homephone": "(801) 555-0199",
    }
    assert patient["address"] == {
        "@o_address2": "1 MAIN ST",
        "@address2": "9 Oak Ave",
        "@o_city": "SALT LAKE CITY",
        "@city": "Ogden",
        "@o_zip": "84101",
        "@zip": "84401",
    }
    # Unchanged fields are not sent at all (§3.7: changed fields only).
    assert set(patient) == {"@id", "contactinfo", "address"}


def test_case_padding_and_phone_format_are_no_change(fake: FakeAmd) -> None:
    _update(fake, demographics())
    assert _updates(fake) == []
    assert "getdemographic" in fake.calls


def test_name_sex_and_dob_changes_are_sent_without_touching_contact_or_address(
    fake: FakeAmd,
) -> None:
    _update(fake, demographics(lastName="Lovelace", sex="U", dateOfBirth="1980-04-03"))
    (patient,) = _updates(fake)
    assert patient == {
        "@id": "1001",
        "@o_name": "SAMPLE,ADA",
        "@name": "Lovelace,Ada",  # as entered: AMD upper-cases what it stores
        "@o_sex": "F",
        "@sex": "U",
        "@o_dob": "04/02/1980",
        "@dob": "04/03/1980",
    }


def test_a_concurrent_amd_edit_is_reread_and_retried_once(fake: FakeAmd) -> None:
    answers = [envelope(None, "-2147217398"), envelope({"patientlist": {"patient": {"@id": "1"}}})]
    fake.xmlrpc["updatepatient"] = lambda msg: answers.pop(0)
    _update(fake, demographics(phone="8015550199"))
    assert fake.calls.count("getdemographic") == 2 and fake.calls.count("updatepatient") == 2

    answers[:] = [envelope(None, "-2147217398")] * 2
    with pytest.raises(ConcurrentEdit):
        _update(fake, demographics(phone="8015550199"))

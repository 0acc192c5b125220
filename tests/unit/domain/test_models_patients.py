"""Patient demographics (PHI: never in repr, str or validation messages) and the patient record."""

import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from amdsync.domain.models import Address, PatientDemographics, PatientSyncRecord
from amdsync.domain.patients import PatientCreateIntent

SPEC_BODY = {
    "firstName": "Ada",
    "lastName": "Sample",
    "dateOfBirth": "1980-04-02",
    "sex": "F",
    "phone": "5555550100",
    "address": {"line1": "1 Main St", "city": "Salt Lake City", "state": "UT", "zip": "84101"},
    "ehrVersion": 3,
}
KEY = b"test-phi-hash-key"
PHI_VALUES = ["Ada", "Sample", "1980", "5555550100", "Main St", "Salt Lake", "84101"]


def demographics(**changes):
    return PatientDemographics.model_validate({**SPEC_BODY, **changes})


def test_spec_example_round_trips_with_spec_names():
    model = demographics()
    assert model.model_dump(mode="json", by_alias=True) == SPEC_BODY
    assert PatientDemographics.model_validate_json(model.model_dump_json()) == model


def test_repr_and_str_carry_no_phi():
    model = demographics()
    for text in (repr(model), str(model), repr(model.address), str(model.address), f"{model}"):
        for value in PHI_VALUES:
            assert value not in text, text
    assert "ehr_version=3" in repr(model)


def test_a_create_intent_keeps_the_identity_only_and_shows_no_phi():
    intent = PatientCreateIntent.of(demographics())
    assert intent.model_dump(mode="json", by_alias=True) == {
        "firstName": "Ada",
        "lastName": "Sample",
        "dateOfBirth": "1980-04-02",
        "ehrVersion": 3,
    }
    for text in (repr(intent), str(intent), f"{intent}"):
        assert not any(value in text for value in PHI_VALUES), text


# Upper-case names: a run of 4+ capitals cannot occur in the repr's own words
# ("PatientDemographics(ehr_version=…)"), so a hit can only be a leak.
@given(
    first=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=20),
    last=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=20),
)
def test_repr_never_contains_the_names_whatever_they_are(first, last):
    model = demographics(firstName=first, lastName=last)
    assert first not in repr(model)
    assert last not in repr(model)
    assert first not in str([model])  # containers use repr too


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dateOfBirth", "1980-02-30"),
        ("dateOfBirth", "04/02/1980"),
        ("dateOfBirth", "1980-4-2"),
        ("dateOfBirth", "1980-04-02T00:00:00"),
        ("dateOfBirth", 323481600),
        ("dateOfBirth", "1899-12-31"),
        ("sex", "X"),
        ("sex", "f"),
        ("phone", "555-555-0100"),
        ("phone", "555555010"),
        ("firstName", "   "),
        ("lastName", "x" * 101),
        ("ehrVersion", -1),
    ],
)
def test_invalid_demographics_are_rejected_and_named(field, value):
    with pytest.raises(ValidationError) as info:
        demographics(**{field: value})
    assert {err["loc"][0] for err in info.value.errors()} == {field}


def test_validation_errors_do_not_echo_phi():
    bad = {**SPEC_BODY, "dateOfBirth": "1980-02-30", "phone": "555-555-0100x"}
    bad["address"] = {**SPEC_BODY["address"], "state": "Utah", "zip": "8410"}
    with pytest.raises(ValidationError) as info:
        PatientDemographics.model_validate(bad)
    message = str(info.value)
    for value in ("1980-02-30", "555-555-0100x", "Utah", "8410"):
        assert value not in message
    assert "address.state" in message  # the field is still named


def test_address_rejects_extra_fields_and_bad_state_or_zip():
    with pytest.raises(ValidationError):
        Address.model_validate({**SPEC_BODY["address"], "line2": "Apt 4"})
    assert Address.model_validate({**SPEC_BODY["address"], "zip": "84101-1234"})
    with pytest.raises(ValidationError):
        Address.model_validate({**SPEC_BODY["address"], "state": "ut"})


def test_extra_top_level_fields_are_rejected():
    with pytest.raises(ValidationError) as info:
        demographics(ssn="000-00-0000")
    assert info.value.errors()[0]["type"] == "extra_forbidden"
    assert "000-00-0000" not in str(info.value)


def test_names_are_trimmed():
    model = demographics(firstName="  Ada ")
    assert model.first_name == "Ada"


def test_fingerprint_ignores_version_but_tracks_every_value():
    base = demographics()
    assert base.fingerprint(KEY) == demographics(ehrVersion=9).fingerprint(KEY)
    assert len(base.fingerprint(KEY)) == 64
    assert base.fingerprint(KEY) != demographics(phone="5555550101").fingerprint(KEY)
    moved = {**SPEC_BODY["address"], "zip": "84102"}
    assert base.fingerprint(KEY) != demographics(address=moved).fingerprint(KEY)


def test_fingerprint_is_an_hmac_that_cannot_be_recomputed_without_the_key():
    """A plain hash of name, DOB, phone and address is guessable (issue 16): the digest is an
    HMAC-SHA256 of the canonical JSON under a secret key."""
    base = demographics()
    canonical = json.dumps(
        base.model_dump(mode="json", exclude={"ehr_version"}), sort_keys=True, separators=(",", ":")
    ).encode("utf-8")
    assert base.fingerprint(KEY) != base.fingerprint(b"another-key")
    assert base.fingerprint(KEY) != hashlib.sha256(canonical).hexdigest()
    assert base.fingerprint(KEY) == hmac.new(KEY, canonical, hashlib.sha256).hexdigest()


def test_patient_sync_record_holds_ids_and_digest_only():
    record = PatientSyncRecord.model_validate(
        {
            "patientId": "P-100",
            "advancedMDPatientId": "pat1001",
            "ehrVersion": 3,
            "demographicsHash": demographics().fingerprint(KEY),
            "amdSyncStatus": "synced",
        }
    )
    assert record.advanced_md_patient_id == "1001"
    assert record.is_synced
    assert "advancedMDPatientId" in record.model_dump(by_alias=True)
    assert "firstName" not in PatientSyncRecord.model_fields
    with pytest.raises(ValidationError):
        PatientSyncRecord.model_validate({"patientId": "P-1", "demographicsHash": "abc"})

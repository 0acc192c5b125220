"""The patients repository against moto: the DEMOGRAPHICS item (PHI) is written only by a newer
registration (or a replay of the same one), forgotten only up to the version a sync sent, and
always carries a TTL as a backstop; so does the CREATE_INTENT item (whom we ask AMD to create)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from amdsync.domain.concurrency import StaleWriteError
from amdsync.domain.patients import PatientCreateIntent, PatientDemographics
from amdsync.store.patients import DynamoPatients
from tests.fakes import PHI_HASH_KEY
from tests.moto_tables import pk_sk_table

PATIENT = "P-100"
DAY = 24 * 3600


def demographics(version: int, **overrides: Any) -> PatientDemographics:
    values: dict[str, Any] = {
        "firstName": "Ada",
        "lastName": "Sample",
        "dateOfBirth": "1980-04-02",
        "sex": "F",
        "phone": "5555550100",
        "address": {"line1": "1 Main St", "city": "Salt Lake City", "state": "UT", "zip": "84101"},
        "ehrVersion": version,
        **overrides,
    }
    return PatientDemographics.model_validate(values)


def put(patients: DynamoPatients, held: PatientDemographics) -> None:
    """Hold `held` with its fingerprint, as the intake computes it (the store is given it)."""
    patients.put_demographics(PATIENT, held, held.fingerprint(PHI_HASH_KEY))


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from pk_sk_table(monkeypatch, "sync-state")


def _held_version(patients: DynamoPatients) -> int | None:
    held = patients.get_demographics(PATIENT)
    return None if held is None else held.ehr_version


def test_an_older_version_is_refused_and_the_newer_kept(table: Any) -> None:
    patients = DynamoPatients(table, "999999")
    put(patients, demographics(2, lastName="Lovelace"))
    with pytest.raises(StaleWriteError):
        put(patients, demographics(1))
    held = patients.get_demographics(PATIENT)
    assert held is not None and (held.ehr_version, held.last_name) == (2, "Lovelace")
    put(patients, demographics(3))
    assert _held_version(patients) == 3


def test_the_same_version_is_accepted_only_with_the_same_content(table: Any) -> None:
    patients = DynamoPatients(table, "999999")
    put(patients, demographics(2))
    put(patients, demographics(2))  # a replay
    with pytest.raises(StaleWriteError):
        put(patients, demographics(2, phone="8015550199"))
    held = patients.get_demographics(PATIENT)
    assert held is not None and held.phone == "5555550100"


def test_forgetting_keeps_a_newer_registration(table: Any) -> None:
    patients = DynamoPatients(table, "999999")
    put(patients, demographics(2))
    patients.forget_demographics(PATIENT, 1)  # a sync of version 1 finishing late
    assert _held_version(patients) == 2
    patients.forget_demographics(PATIENT, 2)
    assert patients.get_demographics(PATIENT) is None
    patients.forget_demographics(PATIENT, 2)  # nothing held: still fine


def test_demographics_expire_after_a_few_days_as_a_backstop(table: Any) -> None:
    put(DynamoPatients(table, "999999"), demographics(1))
    (item,) = table.scan()["Items"]
    expires = int(item["expiresAt"])
    assert time.time() + 6 * DAY < expires <= time.time() + 8 * DAY


def test_the_item_carries_the_callers_keyed_fingerprint(table: Any) -> None:
    """The store is given the fingerprint (an HMAC under a key it never sees, issue 16)."""
    held = demographics(1)
    DynamoPatients(table, "999999").put_demographics(PATIENT, held, "ab" * 32)
    (item,) = table.scan()["Items"]
    assert item["fingerprint"] == "ab" * 32


def test_a_create_intent_is_kept_until_cleared_and_expires_as_a_backstop(table: Any) -> None:
    patients = DynamoPatients(table, "999999")
    assert patients.get_create_intent(PATIENT) is None
    patients.mark_create_intent(PATIENT, PatientCreateIntent.of(demographics(3)))
    intent = patients.get_create_intent(PATIENT)
    assert intent is not None
    assert (intent.last_name, intent.date_of_birth.isoformat(), intent.ehr_version) == (
        "Sample",
        "1980-04-02",
        3,
    )
    (item,) = table.scan()["Items"]
    assert time.time() + 6 * DAY < int(item["expiresAt"]) <= time.time() + 8 * DAY
    assert patients.get(PATIENT) is None  # its own item, not the record
    patients.clear_create_intent(PATIENT)
    assert patients.get_create_intent(PATIENT) is None
    assert table.scan()["Items"] == []

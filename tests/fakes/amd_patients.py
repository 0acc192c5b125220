"""The `AmdPatients` half of the fake AdvancedMD: find by name + DOB, add with duplicate
detection (returning the existing id, as the adapter does on AMD's duplicate fault), update of
every demographic the product keeps (name, DOB, sex, phone, address)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar, cast

from amdsync.amd.errors import NotFound
from amdsync.domain.patients import PatientDemographics
from amdsync.sync.ports import PatientSearch
from tests.fakes.failures import FaultPlan

F = TypeVar("F", bound=Callable[..., Any])


def amd_call(method: F) -> F:
    """Count the call, then raise an injected fault before or after the call takes effect."""
    name = method.__name__

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(name)
        self.faults.before(name)
        result = method(self, *args, **kwargs)
        self.faults.after(name)
        return result

    return cast(F, wrapper)


@dataclasses.dataclass
class StoredPatient:
    amd_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    profile_id: str
    ehr_patient_id: str | None
    updates: int = 0
    sex: str = "U"
    phone: str = ""
    # line1, city, state, zip as AMD stores them (upper-cased)
    address: tuple[str, str, str, str] = ("", "", "", "")


class FakeAmdPatients:
    calls: list[str]
    faults: FaultPlan

    def init_patients(self) -> None:
        self.patients: dict[str, StoredPatient] = {}
        self.duplicates_detected = 0
        self._next_patient = 7001

    @amd_call
    def find_patient(self, search: PatientSearch) -> str | None:
        found = self._match(search.last_name, search.first_name, search.date_of_birth)
        return found.amd_id if found else None

    @amd_call
    def add_patient(
        self, demographics: PatientDemographics, profile_id: str, ehr_patient_id: str
    ) -> str:
        existing = self._match(
            demographics.last_name, demographics.first_name, demographics.date_of_birth
        )
        if existing is not None:  # AMD's duplicate fault, resolved by the adapter
            self.duplicates_detected += 1
            return existing.amd_id
        amd_id = str(self._next_patient)
        self._next_patient += 1
        patient = StoredPatient(
            amd_id, "", "", demographics.date_of_birth, profile_id, ehr_patient_id
        )
        _apply(patient, demographics)
        self.patients[amd_id] = patient
        return amd_id

    @amd_call
    def update_patient(self, amd_patient_id: str, demographics: PatientDemographics) -> None:
        patient = self.patients.get(amd_patient_id)
        if patient is None:
            raise NotFound(amd_code=4130)
        _apply(patient, demographics)
        patient.updates += 1

    def person_adds_patient(self, first: str, last: str, dob: date) -> str:
        amd_id = str(self._next_patient)
        self._next_patient += 1
        self.patients[amd_id] = StoredPatient(amd_id, first.upper(), last.upper(), dob, "21", None)
        return amd_id

    def _match(self, last: str, first: str, dob: date) -> StoredPatient | None:
        for patient in self.patients.values():
            if (patient.last_name, patient.first_name, patient.date_of_birth) == (
                last.upper(),
                first.upper(),
                dob,
            ):
                return patient
        return None


def _apply(patient: StoredPatient, demographics: PatientDemographics) -> None:
    """Store the demographics as AMD would: text upper-cased."""
    address = demographics.address
    patient.first_name = demographics.first_name.upper()
    patient.last_name = demographics.last_name.upper()
    patient.date_of_birth = demographics.date_of_birth
    patient.sex = demographics.sex
    patient.phone = demographics.phone
    patient.address = (address.line1.upper(), address.city.upper(), address.state, address.zip)

"""The `AmdPatients` sync port over the AdvancedMD client (PROTOCOL §3.4-§3.7).

One shape, `amd_demographics`, says what AMD should hold for the EHR's demographics (every
field SPEC §3 keeps: name, DOB, sex, phone, address), so a created patient and an updated one
carry the same fields. Values are sent as the EHR typed them (AMD upper-cases what it stores,
and certification wants fields "arriving exactly as entered"); comparisons ignore case, padding
and phone punctuation, which AMD changes on its own.

These values are PHI: they go to AMD and nowhere else (no logs, no exception messages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from amdsync.amd.errors import ConcurrentEdit, DuplicatePatient, NotFound
from amdsync.amd.models import Patient
from amdsync.amd.service import AdvancedMD
from amdsync.domain.patients import PatientDemographics
from amdsync.domain.timefmt import format_amd_date, parse_amd_date
from amdsync.sync.ports import PatientSearch

Changes = dict[str, tuple[str, str]]  # field -> (old as AMD holds it, new)


@dataclass(frozen=True)
class AmdDemographics:
    """What AMD should hold, per `updatepatient` element (patient, address, contactinfo)."""

    patient: dict[str, str]
    address: dict[str, str]
    contact: dict[str, str]


def amd_demographics(demographics: PatientDemographics) -> AmdDemographics:
    address = demographics.address
    return AmdDemographics(
        patient={
            "name": f"{demographics.last_name},{demographics.first_name}",
            "sex": demographics.sex,
            "dob": format_amd_date(demographics.date_of_birth),
        },
        # AMD's street line is address2; address1 is its optional extra line, which the EHR
        # does not have (PROTOCOL §3.4 sample).
        address={
            "address1": "",
            "address2": address.line1,
            "city": address.city,
            "state": address.state,
            "zip": address.zip,
        },
        contact={"homephone": _phone(demographics.phone)},
    )


class AdvancedMDPatients:
    def __init__(self, amd: AdvancedMD) -> None:
        self._amd = amd

    def find_patient(self, search: PatientSearch) -> str | None:
        name = f"{search.last_name},{search.first_name}".upper()
        for patient in self._amd.patients.lookup("name", name):
            if patient.dob and parse_amd_date(patient.dob) == search.date_of_birth:
                return patient.id
        return None

    def add_patient(
        self, demographics: PatientDemographics, profile_id: str, ehr_patient_id: str
    ) -> str:
        wanted = amd_demographics(demographics)
        patient = {
            **wanted.patient,
            "relationship": "1",
            "hipaarelationship": "18",
            "profile": profile_id,
            "finclass": "",
            "insorder": "",
            "additionalmrn": ehr_patient_id,
        }
        try:
            added = self._amd.patients.add(patient, address=wanted.address, contact=wanted.contact)
            return added.id
        except DuplicatePatient:
            # Name + DOB (or chart/SSN) already in AMD: link that patient, never force a copy.
            search = PatientSearch(
                demographics.last_name, demographics.first_name, demographics.date_of_birth
            )
            found = self.find_patient(search)
            if found is None:
                raise
            return found

    def update_patient(self, amd_patient_id: str, demographics: PatientDemographics) -> None:
        """Send the EHR's demographics (the EHR owns them). 4106 means someone edited the
        patient in AMD between our read and our write: read again and retry once; a second
        4106 propagates (a business error on the patient record)."""
        for attempt in range(2):
            try:
                self._update_patient_once(amd_patient_id, demographics)
                return
            except ConcurrentEdit:
                if attempt:
                    raise

    def _update_patient_once(self, amd_patient_id: str, demographics: PatientDemographics) -> None:
        current = self._amd.patients.demographic(amd_patient_id)
        if current is None:
            raise NotFound(amd_code=4130)
        wanted = amd_demographics(demographics)
        patient = _changes(_patient_fields(current), wanted.patient)
        address = _changes(current.address, wanted.address)
        contact = _changes(current.contact, wanted.contact)
        if patient or address or contact:
            self._amd.patients.update(
                amd_patient_id, patient, address_changes=address, contact_changes=contact
            )


def _patient_fields(current: Patient) -> dict[str, str]:
    return {"name": current.name or "", "sex": current.sex or "", "dob": current.dob or ""}


def _changes(present: dict[str, str], wanted: dict[str, str]) -> Changes:
    """The fields AMD holds differently, each with the old value AMD checks (`o_`, §3.7)."""
    changes: Changes = {}
    for field, new in wanted.items():
        old = present.get(field, "")
        if not _same(field, old, new):
            changes[field] = (old, new)
    return changes


def _same(field: str, stored: str, wanted: str) -> bool:
    if field in ("homephone", "zip"):  # AMD formats phone numbers: "(801) 555-0199"
        return _digits(stored) == _digits(wanted)
    if field == "dob":
        try:
            return parse_amd_date(stored) == parse_amd_date(wanted)
        except ValueError:
            return False
    return " ".join(stored.split()).upper() == " ".join(wanted.split()).upper()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phone(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"

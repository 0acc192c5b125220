"""Patients: lookup (paged), demographics, add, update with optimistic concurrency (§3.4-§3.7)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amdsync.amd.client import AmdClient
from amdsync.amd.envelope import element
from amdsync.amd.errors import ServerError
from amdsync.amd.models import Patient, PatientPage, PatientSummary, SavedPatient
from amdsync.amd.readers import read_patient, read_patient_page, read_saved_patient

LOOKUP_CRITERIA = frozenset({"name", "chart", "ssn", "phone", "dob", "visit"})
MAX_PAGES = 20  # 1,000 namesakes: beyond that the criteria are too loose to be useful


class PatientsApi:
    def __init__(self, client: AmdClient) -> None:
        self._client = client

    def lookup_page(
        self, criterion: str, value: str, page: int = 1, exact: bool = False
    ) -> PatientPage:
        if criterion not in LOOKUP_CRITERIA:
            raise ValueError(f"unknown patient lookup criterion {criterion!r}")
        attrs: dict[str, object] = {"exactmatch": "1" if exact else "-1", criterion: value}
        if page > 1:
            attrs["page"] = page  # honoured for lookuppatient only (§6, §7.23)
        return read_patient_page(self._client.xmlrpc("lookuppatient", "api", attrs))

    def lookup(self, criterion: str, value: str, exact: bool = False) -> list[PatientSummary]:
        """All pages (50 rows each) of one criterion."""
        first = self.lookup_page(criterion, value, 1, exact)
        found = list(first.patients)
        for page in range(2, min(first.page_count, MAX_PAGES) + 1):
            found.extend(self.lookup_page(criterion, value, page, exact).patients)
        return found

    def demographic(self, patient_id: str) -> Patient | None:
        reply = self._client.xmlrpc("getdemographic", "api", {"patientid": patient_id})
        return read_patient(reply)

    def add(
        self,
        patient: Mapping[str, Any],
        *,
        address: Mapping[str, Any] | None = None,
        contact: Mapping[str, Any] | None = None,
        force: bool = False,
    ) -> SavedPatient:
        """`addpatient`. Never retried blindly: a duplicate must be looked up, not re-sent.

        Minimum fields (§3.6): chart (`AUTO`), relationship, hipaarelationship, profile.
        """
        row: dict[str, Any] = element(**{"respparty": "SELF", "chart": "AUTO", **patient})
        if address:
            row["address"] = element(**address)
        if contact:
            row["contactinfo"] = element(**contact)
        children = {
            "patientlist": {"patient": row},
            "resppartylist": {"respparty": element(name="self", accttype="4")},
        }
        attrs = {"force": "1"} if force else None
        reply = self._client.xmlrpc("addpatient", "api", attrs, children, idempotent=False)
        return _saved(reply)

    def update(
        self,
        patient_id: str,
        changes: Mapping[str, tuple[str, str]],
        *,
        address_changes: Mapping[str, tuple[str, str]] | None = None,
        contact_changes: Mapping[str, tuple[str, str]] | None = None,
        force: bool = False,
    ) -> SavedPatient:
        """`updatepatient` with `{field: (old, new)}`; a stale `old` raises ConcurrentEdit (4106).

        Address and contact fields go in their own child elements, with their own `o_`
        values. `force=True` drops the `o_` values and overwrites (§3.7).
        """
        row: dict[str, Any] = element(id=patient_id, **_pairs(changes, force))
        if address_changes:
            row["address"] = element(**_pairs(address_changes, force))
        if contact_changes:
            row["contactinfo"] = element(**_pairs(contact_changes, force))
        attrs = {"force": "1"} if force else None
        children = {"patientlist": {"patient": row}}
        return _saved(self._client.xmlrpc("updatepatient", "api", attrs, children))


def _pairs(changes: Mapping[str, tuple[str, str]], force: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (old, new) in changes.items():
        if not force:
            out[f"o_{name}"] = old
        out[name] = new
    return out


def _saved(reply: Any) -> SavedPatient:
    saved = read_saved_patient(reply)
    if saved is None:
        raise ServerError("AdvancedMD saved the patient but returned no id")
    return saved

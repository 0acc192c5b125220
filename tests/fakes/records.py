"""In-memory sync-record repositories with the DynamoDB adapters' optimistic concurrency:
`save(record, expected_version)` succeeds only if the stored version is still the expected one
(None = the item must not exist yet) and returns the new version; otherwise StaleWriteError.

Every repository carries a `faults` plan (e.g. `faults.fail("save", RuntimeError("crash"))`)
to simulate a crash mid-operation, and `before_next_save(fn)` to run a concurrent writer
between a use case's read and its write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Generic, TypeVar

from amdsync.domain.aggregates import record_keys
from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.patients import PatientCreateIntent, PatientDemographics, PatientSyncRecord
from amdsync.domain.review import BookingInFlight, UnlinkedAmdAppointment
from tests.fakes.failures import FaultPlan

T = TypeVar("T")


class VersionedStore(Generic[T]):
    def __init__(self) -> None:
        self.items: dict[str, Versioned[T]] = {}
        self.faults = FaultPlan()
        self.writes = 0
        self._interleaved: list[Callable[[], None]] = []

    def before_next_save(self, action: Callable[[], None]) -> None:
        self._interleaved.append(action)

    def _get(self, key: str) -> Versioned[T] | None:
        self.faults.before("get")
        return self.items.get(key)

    def _save(self, key: str, value: T, expected_version: int | None) -> int:
        if self._interleaved:
            self._interleaved.pop(0)()
        self.faults.before("save")
        current = self.items.get(key)
        stored_version = None if current is None else current.version
        if stored_version != expected_version:  # None expected = must not exist yet
            raise StaleWriteError(key)
        version = (expected_version or 0) + 1
        self.items[key] = Versioned(value, version)
        self.writes += 1
        return version


class FakeAppointments(VersionedStore[AppointmentSyncRecord]):
    def __init__(self) -> None:
        super().__init__()
        self.visit_owners: dict[str, str] = {}
        self.unlinked: dict[str, UnlinkedAmdAppointment] = {}
        self.in_flight: dict[str, BookingInFlight] = {}

    def get(self, appointment_id: str) -> Versioned[AppointmentSyncRecord] | None:
        return self._get(appointment_id)

    def save(self, record: AppointmentSyncRecord, expected_version: int | None) -> int:
        return self._save(record.appointment_id, record, expected_version)

    def get_many(self, appointment_ids: list[str]) -> dict[str, Versioned[AppointmentSyncRecord]]:
        found = {a: self.get(a) for a in appointment_ids}
        return {a: v for a, v in found.items() if v is not None}

    def save_each(
        self, saves: list[tuple[AppointmentSyncRecord, int]]
    ) -> tuple[dict[str, int], list[str]]:
        versions: dict[str, int] = {}
        stale: list[str] = []
        for record, expected in saves:
            try:
                versions[record.appointment_id] = self.save(record, expected)
            except StaleWriteError:
                stale.append(record.appointment_id)
        return versions, stale

    def list_between(self, start_from: str, start_to: str) -> list[AppointmentSyncRecord]:
        return [r for r in self._records() if start_from <= r.start < start_to]

    def page_between(
        self, start_from: str, start_to: str, limit: int, cursor: str | None = None
    ) -> tuple[list[AppointmentSyncRecord], str | None]:
        """Like the index query: (start, id) order, the cursor is the last key returned."""
        after = tuple(cursor.split("#", 1)) if cursor else ("", "")
        rows = [
            r
            for r in self.list_between(start_from, start_to)
            if (r.start, r.appointment_id) > after
        ][: limit + 1]
        page = rows[:limit]
        more = len(rows) > limit
        return page, f"{page[-1].start}#{page[-1].appointment_id}" if more else None

    def list_all(self) -> list[AppointmentSyncRecord]:
        return self._records()

    def _records(self) -> list[AppointmentSyncRecord]:
        records = [v.value for v in self.items.values()]
        return sorted(records, key=lambda r: (r.start, r.appointment_id))

    def waiting_on_patient(self, patient_id: str) -> list[AppointmentSyncRecord]:
        return [
            r
            for r in self._records()
            if r.patient_id == patient_id
            and r.amd_sync_error_code is SyncErrorCode.PATIENT_NOT_SYNCED
        ]

    def counts(self) -> tuple[dict[str, int], str | None]:
        """A recount (the DynamoDB store keeps counters; the fake counts what it holds)."""
        records = self._records()
        cards = [record_keys(r.amd_sync_status, r.status, r.charges_posted) for r in records]
        return _totals(cards), _latest(r.last_synced_to_amd for r in records)

    def unlinked_among(self, visit_ids: list[str]) -> set[str]:
        return {v for v in visit_ids if v in self.unlinked}

    def claim_visit(self, visit_id: str, appointment_id: str) -> str:
        """Create-only: the first claimant owns the visit id for good."""
        self.faults.before("claim_visit")
        owner = self.visit_owners.setdefault(visit_id, appointment_id)
        if owner == appointment_id:
            self.unlinked.pop(visit_id, None)  # claimed: no longer for review
        return owner

    def owner_of_visit(self, visit_id: str) -> str | None:
        return self.visit_owners.get(visit_id)

    def owners_of_visits(self, visit_ids: list[str]) -> dict[str, str]:
        return {v: self.visit_owners[v] for v in visit_ids if v in self.visit_owners}

    def record_new_unlinked(self, unlinked: list[UnlinkedAmdAppointment]) -> None:
        for visit in unlinked:
            self.record_unlinked(visit)

    def record_unlinked(self, unlinked: UnlinkedAmdAppointment) -> None:
        self.faults.before("record_unlinked")
        known = self.unlinked.get(unlinked.advanced_md_visit_id)
        if known is not None:  # keep when we first saw it
            unlinked = unlinked.model_copy(update={"first_seen": known.first_seen})
        self.unlinked[unlinked.advanced_md_visit_id] = unlinked

    def list_unlinked(self) -> list[UnlinkedAmdAppointment]:
        return list(self.unlinked.values())

    def mark_in_flight(self, booking: BookingInFlight) -> None:
        self.in_flight[booking.appointment_id] = booking

    def clear_in_flight(self, appointment_id: str) -> None:
        self.in_flight.pop(appointment_id, None)

    def list_in_flight(self) -> list[BookingInFlight]:
        return list(self.in_flight.values())

    def record(self, appointment_id: str) -> AppointmentSyncRecord:
        """Test helper: the stored record (KeyError if there is none)."""
        return self.items[appointment_id].value


class FakePatients(VersionedStore[PatientSyncRecord]):
    def __init__(self) -> None:
        super().__init__()
        self.demographics: dict[str, PatientDemographics] = {}
        self.fingerprints: dict[str, str] = {}  # the caller's digest of the held demographics
        self.create_intents: dict[str, PatientCreateIntent] = {}
        self._before: dict[str, list[Callable[[], None]]] = {}

    def before_next(self, method: str, action: Callable[[], None]) -> None:
        """Run `action` (a concurrent writer) just before the next call of `method`
        (`put_demographics` or `forget_demographics`)."""
        self._before.setdefault(method, []).append(action)

    def _interleave(self, method: str) -> None:
        actions = self._before.get(method)
        if actions:
            actions.pop(0)()

    def get(self, patient_id: str) -> Versioned[PatientSyncRecord] | None:
        return self._get(patient_id)

    def save(self, record: PatientSyncRecord, expected_version: int | None) -> int:
        return self._save(record.patient_id, record, expected_version)

    def page(
        self, limit: int, cursor: str | None = None
    ) -> tuple[list[PatientSyncRecord], str | None]:
        records = sorted(self._records(), key=lambda r: r.patient_id)
        start = int(cursor or 0)
        more = start + limit < len(records)
        return records[start : start + limit], str(start + limit) if more else None

    def counts(self) -> tuple[dict[str, int], str | None]:
        records = self._records()
        cards = [record_keys(r.amd_sync_status) for r in records]
        return _totals(cards), _latest(r.last_synced_to_amd for r in records)

    def list_all(self) -> list[PatientSyncRecord]:
        return self._records()

    def _records(self) -> list[PatientSyncRecord]:
        return [v.value for v in self.items.values()]

    def put_demographics(
        self, patient_id: str, demographics: PatientDemographics, fingerprint: str
    ) -> None:
        """Conditional like DynamoPatients: only a newer version, or a replay of the same
        (same version, same fingerprint)."""
        self._interleave("put_demographics")
        held = self.demographics.get(patient_id)
        replay = (
            held is not None
            and held.ehr_version == demographics.ehr_version
            and self.fingerprints.get(patient_id) == fingerprint
        )
        if held is not None and held.ehr_version >= demographics.ehr_version and not replay:
            raise StaleWriteError(patient_id)
        self.demographics[patient_id] = demographics
        self.fingerprints[patient_id] = fingerprint

    def get_demographics(self, patient_id: str) -> PatientDemographics | None:
        return self.demographics.get(patient_id)

    def forget_demographics(self, patient_id: str, ehr_version: int) -> None:
        """Only what a sync sent (that version or older): a newer registration stays."""
        self._interleave("forget_demographics")
        held = self.demographics.get(patient_id)
        if held is not None and held.ehr_version <= ehr_version:
            del self.demographics[patient_id]
            self.fingerprints.pop(patient_id, None)

    def mark_create_intent(self, patient_id: str, intent: PatientCreateIntent) -> None:
        self.faults.before("mark_create_intent")
        self.create_intents[patient_id] = intent

    def get_create_intent(self, patient_id: str) -> PatientCreateIntent | None:
        return self.create_intents.get(patient_id)

    def clear_create_intent(self, patient_id: str) -> None:
        self.create_intents.pop(patient_id, None)

    def record(self, patient_id: str) -> PatientSyncRecord:
        return self.items[patient_id].value


def _totals(cards: list[set[str]]) -> dict[str, int]:
    return dict(Counter(name for card in cards for name in card))


def _latest(times: Iterable[datetime | None]) -> str | None:
    latest = max((t for t in times if t is not None), default=None)
    return None if latest is None else latest.isoformat()

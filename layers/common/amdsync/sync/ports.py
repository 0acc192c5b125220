"""What the use cases need from the outside world, as small protocols.

The use cases import only these (plus the pure domain); DynamoDB repositories (amdsync.store)
and the AdvancedMD adapter (amdsync.sync.amd_adapter over amdsync.amd) implement them, and
in-memory fakes implement them in unit tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from amdsync.amd.lanes import Lane
from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.bulk import BulkJob
from amdsync.domain.concurrency import Versioned
from amdsync.domain.feed import ChangeFeedEntry, PublishedChange
from amdsync.domain.journal import AuditEntry, SyncLogEntry
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.patients import PatientCreateIntent, PatientDemographics, PatientSyncRecord
from amdsync.domain.pulls import CompletedPull, PullCheckpoint, PullRequest
from amdsync.domain.review import BookingInFlight, ConflictRecord, UnlinkedAmdAppointment
from amdsync.domain.settings import Settings
from amdsync.jobs import SyncJob

# ---------------------------------------------------------------- AdvancedMD, in our words


@dataclass(frozen=True)
class AmdAppointment:
    """An AMD scheduler appointment as the sync sees it: AMD ids, local wall time, status code."""

    visit_id: str
    patient_id: str | None
    profile_id: str | None
    column_id: str | None
    facility_id: str | None
    type_id: str | None
    start: str | None  # naive practice-local ISO, YYYY-MM-DDTHH:MM:SS
    duration_minutes: int | None
    status_code: int | None
    confirmed: bool = False
    charges_posted: bool = False
    # Lookups that could not be read for this visit (their fields are None, not compared).
    unresolved: tuple[str, ...] = ()
    reason_id: str | None = None  # cancel/no-show reason (REST reads only)


@dataclass(frozen=True)
class Booking:
    patient_id: str
    profile_id: str
    column_id: str
    facility_id: str | None
    type_id: str
    start: str
    duration_minutes: int
    reference_id: str


@dataclass(frozen=True)
class PatientSearch:
    """Name and DOB, only ever passed to AMD, never logged."""

    last_name: str
    first_name: str
    date_of_birth: date


@dataclass(frozen=True)
class DayVisits:
    servertime: str | None
    visits: tuple[AmdAppointment, ...]


@dataclass(frozen=True)
class VisitChanges:
    """One GETUPDATEDVISITS reply: the window's visits, or (more than 1,000 changed, PROTOCOL
    §3.14) only their ids in `overflow_ids`, to be resubmitted in chunks of ≤ 500."""

    servertime: str | None  # AMD's own clock, verbatim: the next watermark
    visits: tuple[AmdAppointment, ...]
    update_flags: dict[str, str]  # visit id -> N / C / D
    calls: int
    overflow_ids: tuple[str, ...] = ()


class AmdScheduler(Protocol):
    def find_visit_by_reference(self, reference_id: str) -> str | None: ...
    def find_visit(self, booking: Booking) -> str | None:
        """Fallback search by patient, provider and start (when reference ids are not kept)."""
        ...

    def get_appointment(self, visit_id: str) -> AmdAppointment | None: ...
    def book(self, booking: Booking) -> AmdAppointment: ...
    def edit(self, current: AmdAppointment, changes: Booking) -> AmdAppointment: ...
    def move(self, visit_id: str, column_id: str, start: str) -> AmdAppointment: ...
    def confirm(self, visit_id: str) -> None: ...
    def check_in(self, visit_id: str) -> None: ...
    def check_out(self, visit_id: str) -> None: ...
    def no_show(self, visit_id: str, reason_id: str | None) -> None: ...
    def cancel(self, visit_id: str, reason_id: str | None) -> None: ...
    def uncancel(self, visit_id: str) -> None: ...
    def updated_visits(
        self, since: str | None, visit_ids: Sequence[str] | None = None
    ) -> VisitChanges:
        """One feed call (each a minute of AMD's feed budget): the window since `since`, or
        with `visit_ids` (≤ 500 of an overflow reply's ids) those visits of it."""
        ...

    def feed_wait(self) -> float:
        """Seconds until `updated_visits` may call AMD's change feed (0 = now): its own rule,
        once per 60 s + margin per office key, whoever calls (SPEC §9.3). Calls nothing."""
        ...

    def visits_on(self, day: date) -> DayVisits: ...
    def visits_by_id(self, visit_ids: list[str]) -> list[AmdAppointment]: ...


class CallCounter(Protocol):
    def calls_made(self) -> int:
        """AMD calls made so far by this process (for the sync log's `amdCalls`)."""
        ...


class AmdPatients(Protocol):
    def find_patient(self, search: PatientSearch) -> str | None: ...
    def add_patient(
        self, demographics: PatientDemographics, profile_id: str, ehr_patient_id: str
    ) -> str:
        """Create the patient; on a duplicate fault, return the existing patient's id."""
        ...

    def update_patient(self, amd_patient_id: str, demographics: PatientDemographics) -> None: ...


# ---------------------------------------------------------------- our state


class Appointments(Protocol):
    def get(self, appointment_id: str) -> Versioned[AppointmentSyncRecord] | None: ...
    def save(self, record: AppointmentSyncRecord, expected_version: int | None) -> int: ...
    def get_many(
        self, appointment_ids: list[str]
    ) -> dict[str, Versioned[AppointmentSyncRecord]]: ...
    def save_each(
        self, saves: list[tuple[AppointmentSyncRecord, int]]
    ) -> tuple[dict[str, int], list[str]]: ...
    def list_between(self, start_from: str, start_to: str) -> list[AppointmentSyncRecord]: ...
    def page_between(
        self, start_from: str, start_to: str, limit: int, cursor: str | None = None
    ) -> tuple[list[AppointmentSyncRecord], str | None]:
        """One page (at most `limit`) of records whose local start is in [from, to), in start
        order, from `cursor` (None = the first page); returns the next page's cursor or None."""
        ...

    def list_all(self) -> list[AppointmentSyncRecord]:
        """Every record: tools and tests only. Request paths and pulls read a start range."""
        ...

    def waiting_on_patient(self, patient_id: str) -> list[AppointmentSyncRecord]: ...
    def counts(self) -> tuple[dict[str, int], str | None]:
        """Dashboard counters (domain/aggregates.py) and the newest sync time (ISO)."""
        ...

    def claim_visit(self, visit_id: str, appointment_id: str) -> str: ...
    def owner_of_visit(self, visit_id: str) -> str | None: ...
    def owners_of_visits(self, visit_ids: list[str]) -> dict[str, str]: ...
    def record_unlinked(self, unlinked: UnlinkedAmdAppointment) -> None: ...
    def record_new_unlinked(self, unlinked: list[UnlinkedAmdAppointment]) -> None: ...
    def unlinked_among(self, visit_ids: list[str]) -> set[str]: ...
    def list_unlinked(self) -> list[UnlinkedAmdAppointment]: ...
    def mark_in_flight(self, booking: BookingInFlight) -> None: ...
    def clear_in_flight(self, appointment_id: str) -> None: ...
    def list_in_flight(self) -> list[BookingInFlight]: ...


# The keyed digest of demographics (HMAC-SHA256 under the PHI hash key): what the patient
# record and the held DEMOGRAPHICS item store and compare, never the values.
Fingerprint = Callable[[PatientDemographics], str]


class Patients(Protocol):
    def get(self, patient_id: str) -> Versioned[PatientSyncRecord] | None: ...
    def save(self, record: PatientSyncRecord, expected_version: int | None) -> int: ...
    def list_all(self) -> list[PatientSyncRecord]:
        """Every record: tools and tests only. Request paths page through `page`."""
        ...

    def page(
        self, limit: int, cursor: str | None = None
    ) -> tuple[list[PatientSyncRecord], str | None]: ...
    def counts(self) -> tuple[dict[str, int], str | None]: ...
    def put_demographics(
        self, patient_id: str, demographics: PatientDemographics, fingerprint: str
    ) -> None:
        """Hold them with their `fingerprint` (the caller's `Fingerprint`): StaleWriteError when
        a newer version is held, or the same one with another fingerprint."""
        ...

    def get_demographics(self, patient_id: str) -> PatientDemographics | None: ...
    def forget_demographics(self, patient_id: str, ehr_version: int) -> None:
        """Delete them if they are `ehr_version` or older; a newer registration stays."""
        ...

    def mark_create_intent(self, patient_id: str, intent: PatientCreateIntent) -> None:
        """Store whom we are about to ask AMD to create (before `addpatient`)."""
        ...

    def get_create_intent(self, patient_id: str) -> PatientCreateIntent | None: ...
    def clear_create_intent(self, patient_id: str) -> None: ...


class SettingsStore(Protocol):
    def get(self) -> Versioned[Settings]: ...
    def save(self, settings: Settings, expected_version: int) -> int: ...


class MappingStore(Protocol):
    def get(self, kind: MappingKind, ehr_id: str) -> Mapping | None: ...
    def put(self, mapping: Mapping) -> None: ...
    def list(self, kind: MappingKind) -> list[Mapping]: ...


class ConflictStore(Protocol):
    def get(self, conflict_id: str) -> ConflictRecord | None: ...
    def put(self, conflict: ConflictRecord) -> None: ...
    def page(
        self, state: str | None, position: dict[str, Any] | None, limit: int
    ) -> tuple[list[ConflictRecord], dict[str, Any] | None]: ...
    def open_count(self) -> int: ...
    def list(self, state: str | None = "open") -> list[ConflictRecord]:
        """Every conflict in `state`: tools and tests only. Request paths use `page`."""
        ...


class ChangeFeed(Protocol):
    def append(self, entries: list[ChangeFeedEntry]) -> list[PublishedChange]: ...
    def append_once(
        self, scope: str, sources: dict[str, list[ChangeFeedEntry]]
    ) -> list[PublishedChange]: ...
    def read(self, after: int, limit: int) -> list[PublishedChange]: ...
    def head(self) -> int: ...


class SyncLogs(Protocol):
    def append(self, entry: SyncLogEntry) -> None: ...
    def between(self, start: datetime, end: datetime) -> list[SyncLogEntry]: ...
    def for_entity(self, entity_type: str, entity_id: str) -> list[SyncLogEntry]: ...
    def counts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """Summed stats counters (domain/aggregates.py) of the UTC hours in [start, end)."""
        ...

    def page(
        self,
        days: tuple[date, date],
        filters: dict[str, str],
        position: dict[str, Any] | None,
        limit: int,
    ) -> tuple[list[SyncLogEntry], dict[str, Any] | None]:
        """Newest first; `position` is what the previous page returned (opaque to callers)."""
        ...


class AuditTrail(Protocol):
    def append(self, entry: AuditEntry) -> None: ...


class Watermark(Protocol):
    def get(self) -> Versioned[str | None]: ...
    def succeeded_at(self) -> datetime | None: ...
    def last_completed(self) -> CompletedPull | None: ...
    def advance(
        self,
        servertime: str,
        succeeded_at: datetime,
        expected_version: int,
        completed: CompletedPull | None = None,
    ) -> int: ...


class PullWindows(Protocol):
    """The change window a pull is applying, kept between invocations (AMD's feed may be read
    once a minute, so a resumed pull must not read it again)."""

    def checkpoint(self) -> PullCheckpoint | None: ...
    def store_window(self, checkpoint: PullCheckpoint, chunks: list[list[dict[str, Any]]]) -> None:
        """The pieces first, then the checkpoint: a checkpoint always has all its pieces."""
        ...

    def chunk(self, window_id: str, index: int) -> list[dict[str, Any]]: ...
    def store_ids(self, checkpoint: PullCheckpoint, chunks: list[list[str]]) -> None:
        """An overflow reply's ids in resubmission chunks, then the checkpoint (reading them)."""
        ...

    def ids(self, window_id: str, index: int) -> list[str]: ...
    def store_read(self, window_id: str, index: int, visits: list[dict[str, Any]]) -> None:
        """The visits one resubmission of ids `index` returned (before the checkpoint moves)."""
        ...

    def read(self, window_id: str, index: int) -> list[dict[str, Any]]: ...
    def save_checkpoint(self, checkpoint: PullCheckpoint) -> None: ...
    def clear(self, checkpoint: PullCheckpoint) -> None: ...


class PullRequests(Protocol):
    def create(self, request: PullRequest) -> None: ...
    def get(self, pull_id: str) -> PullRequest | None: ...
    def save(self, request: PullRequest) -> None: ...


class Leases(Protocol):
    def acquire(self, name: str, owner: str, now: datetime, until: datetime) -> bool: ...
    def release(self, name: str, owner: str) -> None: ...


class BulkJobs(Protocol):
    def create(self, job: BulkJob) -> None: ...
    def get(self, job_id: str) -> Versioned[BulkJob] | None: ...
    def save(self, job: BulkJob, expected_version: int) -> int: ...
    def count(self, job_id: str, entity_id: str, *, done: int = 0, failed: int = 0) -> None:
        """Once per entity of the job, whatever the number of deliveries."""
        ...

    def progress(self, job_id: str) -> tuple[int, int]: ...
    def plan(self, job_id: str, entity_ids: list[str]) -> list[str]:
        """Mark entities as planned for the job (create-only); returns those still to enqueue:
        new ones and ones planned by an earlier run that never confirmed them queued."""
        ...

    def confirm_queued(self, job_id: str, entity_ids: list[str]) -> None:
        """Their jobs are on the queue: a re-run of the page leaves them alone."""
        ...

    def planned_count(self, job_id: str) -> int:
        """How many distinct entities the job has planned (its total once planning ends)."""
        ...


class JobQueue(Protocol):
    def enqueue(self, jobs: list[SyncJob], bulk_job_id: str | None = None) -> None: ...
    def depth(self, lane: Lane | None = None) -> int:
        """Jobs waiting or in flight in one lane, or in both (None)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime: ...

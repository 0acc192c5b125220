"""What the EHR and people ask for through the API: register, change status, request a sync.

Each request is stored first (conditional on the record's version), then a level-triggered job
is queued, so a crash between the two loses nothing a later request or bulk sync won't redo.
Stale `ehrVersion`s are ignored, not applied; illegal status changes are refused before any
AMD call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from amdsync.amd.lanes import INTERACTIVE, Lane
from amdsync.domain.appointments import AppointmentSyncRecord, DesiredAppointment, StatusChange
from amdsync.domain.concurrency import StaleWriteError, VersionReusedError
from amdsync.domain.patients import PatientDemographics, PatientSyncRecord
from amdsync.domain.transitions import TransitionOutcome, check_transition
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.estimate import WaitEstimate, estimate_wait
from amdsync.sync.journal import new_id
from amdsync.sync.ports import Fingerprint

MAX_STALE_RETRIES = 5


class NotRegistered(Exception):
    """The EHR never registered this entity."""


R = TypeVar("R", AppointmentSyncRecord, PatientSyncRecord)


@dataclass(frozen=True)
class Accepted(Generic[R]):
    record: R
    applied: bool  # False when the request was stale or changed nothing
    queued: WaitEstimate | None
    # True when the request's ehrVersion is older than the stored one (SPEC §9.1: answered
    # with `AmdSync-Stale: true`, nothing changed).
    stale: bool = False


class Intake:
    """`lane`: where the jobs this intake queues go (SPEC §9.3). EHR and staff writes are
    interactive; a backfill (an EHR's initial import, sync-all) is background, so it never
    delays the next real booking."""

    def __init__(self, ctx: SyncContext, lane: Lane = INTERACTIVE) -> None:
        self._ctx = ctx
        self._lane = lane

    def register_patient(
        self, patient_id: str, demographics: PatientDemographics
    ) -> Accepted[PatientSyncRecord]:
        for _ in range(MAX_STALE_RETRIES):
            stored = self._ctx.patients.get(patient_id)
            record = stored.value if stored else PatientSyncRecord(patient_id=patient_id)
            expected = stored.version if stored else None
            known = _known_version(patient_id, record, demographics, self._ctx.fingerprint)
            if known is not None:
                return known
            try:
                return self._register_newer(record, expected, demographics)
            except StaleWriteError:
                continue
        raise StaleWriteError(patient_id)

    def _register_newer(
        self, record: PatientSyncRecord, expected: int | None, demographics: PatientDemographics
    ) -> Accepted[PatientSyncRecord]:
        """Store a newer version; StaleWriteError when another write came first (decide again)."""
        fingerprint = self._ctx.fingerprint(demographics)
        # Kept from registration on, so an older PUT arriving before the sync is recognised as
        # stale, and this version with other content as reused.
        registered = record.model_copy(
            update={"ehr_version": demographics.ehr_version, "registered_hash": fingerprint}
        )
        if record.is_synced and fingerprint == record.demographics_hash:
            # AMD already holds these demographics: no PHI to keep, no job.
            self._ctx.patients.save(registered, expected)
            return Accepted(registered, applied=False, queued=None)
        if not self._hold_demographics(record.patient_id, demographics, fingerprint):
            return Accepted(record, applied=False, queued=None, stale=True)
        pending = registered.model_copy(
            update={
                "amd_sync_status": "pending",
                "amd_sync_error": None,
                "amd_sync_error_code": None,
            }
        )
        self._ctx.patients.save(pending, expected)
        queued = self._enqueue("patient", record.patient_id, demographics.ehr_version)
        return Accepted(pending, applied=True, queued=queued)

    def _hold_demographics(
        self, patient_id: str, demographics: PatientDemographics, fingerprint: str
    ) -> bool:
        """Store the demographics for the sync; False when a newer registration holds its own.

        The write is conditional on the held version, because between reading the record and
        this write another PUT may have stored newer demographics (its record comes after).
        """
        try:
            self._ctx.patients.put_demographics(patient_id, demographics, fingerprint)
            return True
        except StaleWriteError:
            held = self._ctx.patients.get_demographics(patient_id)
            if held is None or held.ehr_version < demographics.ehr_version:
                raise  # gone or replaced since the refusal: decide again from the record
            if held.ehr_version == demographics.ehr_version:
                raise VersionReusedError(patient_id) from None
            return False

    def register_appointment(
        self, appointment_id: str, desired: DesiredAppointment
    ) -> Accepted[AppointmentSyncRecord]:
        digest = desired.digest()
        for _ in range(MAX_STALE_RETRIES):
            stored = self._ctx.appointments.get(appointment_id)
            if stored is not None:
                same = stored.value.with_desired(desired) == stored.value
                seen = _seen_version(stored.value, desired.ehr_version, digest, same)
                if seen is not None:
                    return seen
            if stored is None:
                record = AppointmentSyncRecord.from_desired(appointment_id, desired)
            else:
                check_transition(stored.value.status, desired.status)  # raises -> 409
                record = stored.value.with_desired(desired)
            record = record.model_copy(update={"amd_sync_status": "pending", "ehr_digest": digest})
            try:
                self._ctx.appointments.save(record, stored.version if stored else None)
            except StaleWriteError:
                continue
            return Accepted(record, True, self._auto_enqueue(appointment_id, record.ehr_version))
        raise StaleWriteError(appointment_id)

    def change_status(
        self, appointment_id: str, change: StatusChange
    ) -> Accepted[AppointmentSyncRecord]:
        """By the EHR (with `ehrVersion`) or by staff (without). Staff never touch the EHR's
        version (SPEC §9.1): their job gets its own queue identity instead of a made-up
        version, so the EHR's next real version is still applied."""
        digest = change.digest()
        for _ in range(MAX_STALE_RETRIES):
            stored = self._ctx.appointments.get(appointment_id)
            if stored is None:
                raise NotRegistered(appointment_id)
            current = stored.value
            if change.ehr_version is not None:
                same = (current.status, current.cancel_reason) == (change.status, change.reason)
                seen = _seen_version(current, change.ehr_version, digest, same)
                if seen is not None:
                    return seen
            outcome = check_transition(current.status, change.status)  # raises -> 409
            if outcome is TransitionOutcome.NO_OP and change.reason == current.cancel_reason:
                return Accepted(current, applied=False, queued=None)
            update: dict[str, object] = {
                "status": change.status,
                "cancel_reason": change.reason,
                "amd_sync_status": "pending",
            }
            if change.ehr_version is not None:
                update |= {"ehr_version": change.ehr_version, "ehr_digest": digest}
            record = current.model_copy(update=update)
            try:
                self._ctx.appointments.save(record, stored.version)
            except StaleWriteError:
                continue
            by_staff = change.ehr_version is None
            queued = self._auto_enqueue(appointment_id, record.ehr_version, manual=by_staff)
            return Accepted(record, True, queued)
        raise StaleWriteError(appointment_id)

    def request_patient_sync(self, patient_id: str) -> Accepted[PatientSyncRecord]:
        """A manual sync: always queued, with a fresh dedup identity."""
        stored = self._ctx.patients.get(patient_id)
        if stored is None:
            raise NotRegistered(patient_id)
        version = stored.value.ehr_version or 0
        return Accepted(
            stored.value,
            True,
            self._enqueue("patient", patient_id, version, manual=True),
        )

    def request_appointment_sync(self, appointment_id: str) -> Accepted[AppointmentSyncRecord]:
        """A manual (re)sync: queued whatever `autoSyncAppointments` says."""
        stored = self._ctx.appointments.get(appointment_id)
        if stored is None:
            raise NotRegistered(appointment_id)
        version = stored.value.ehr_version
        queued = self._enqueue("appointment", appointment_id, version, manual=True)
        return Accepted(stored.value, True, queued)

    def _auto_enqueue(
        self, appointment_id: str, version: int, *, manual: bool = False
    ) -> WaitEstimate | None:
        if not self._ctx.settings.get().value.auto_sync_appointments:
            return None
        return self._enqueue("appointment", appointment_id, version, manual=manual)

    def _enqueue(
        self, kind: str, entity_id: str, version: int, *, manual: bool = False
    ) -> WaitEstimate:
        job = SyncJob.model_validate(
            {
                "kind": kind,
                "entityId": entity_id,
                "version": version,
                "practice": self._ctx.practice,
                "trigger": new_id()[:16] if manual else None,
                "lane": self._lane,
            }
        )
        self._ctx.queue.enqueue([job])
        # Only the job's own lane is ahead of it (interactive never waits behind background).
        return estimate_wait(self._ctx.queue.depth(self._lane), self._ctx.clock.now())


def _seen_version(
    record: AppointmentSyncRecord, version: int, digest: str, changes_nothing: bool
) -> Accepted[AppointmentSyncRecord] | None:
    """The answer to an EHR request whose version is not new (None when it is new).

    Older: stale, ignored. Same version and the same request (or one asking for what the
    record already holds): a harmless repeat. Same version, a different request: refused, or
    its content would be silently dropped (SPEC §9.1).
    """
    if version < record.ehr_version:
        return Accepted(record, applied=False, queued=None, stale=True)
    if version > record.ehr_version:
        return None
    if record.ehr_digest not in (None, digest) and not changes_nothing:
        raise VersionReusedError(record.appointment_id)
    return Accepted(record, applied=False, queued=None)


def _known_version(
    patient_id: str,
    record: PatientSyncRecord,
    demographics: PatientDemographics,
    fingerprint: Fingerprint,
) -> Accepted[PatientSyncRecord] | None:
    """The answer when this `ehrVersion` is not new (SPEC §9.1), else None: an older one is
    stale, the same one is a replay, or a reuse when its content differs."""
    if record.ehr_version is None or demographics.ehr_version > record.ehr_version:
        return None
    if demographics.ehr_version < record.ehr_version:
        return Accepted(record, applied=False, queued=None, stale=True)
    registered = record.registered_fingerprint()
    if registered is not None and registered != fingerprint(demographics):
        raise VersionReusedError(patient_id)
    return Accepted(record, applied=False, queued=None)

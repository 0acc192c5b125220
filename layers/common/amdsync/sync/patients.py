"""Patient sync: find-or-create the AMD patient (never a duplicate), update on change.

Creation follows an intent protocol like appointments' (push.py): whom we ask AMD to create is
stored before `addpatient`, and a sync with no AMD id first looks AMD up by that identity. A
crash or lost reply after AMD created the patient, followed by an EHR rename, then links the
patient created earlier (and renames it) instead of creating a second one.

Names and dates of birth go to AMD and nowhere else: not to logs, metrics or sync log entries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from amdsync.domain.concurrency import StaleWriteError
from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.mappings import MappingKind
from amdsync.domain.patients import PatientCreateIntent, PatientDemographics, PatientSyncRecord
from amdsync.sync.context import SyncContext
from amdsync.sync.failures import SyncProblem, describe
from amdsync.sync.journal import Journal, Operation, new_id
from amdsync.sync.ports import PatientSearch

LEASE_SECONDS = 60
MAX_SAVE_ATTEMPTS = 5


class PatientBusy(Exception):
    """Another worker is syncing this patient right now; try again shortly."""


class PatientSync:
    def __init__(self, ctx: SyncContext) -> None:
        self._ctx = ctx
        self._journal = Journal(ctx.logs, ctx.metrics, ctx.clock)

    def ensure(self, patient_id: str, profile_id: str | None = None) -> str:
        """The patient's AMD id, syncing the patient first when demographics are registered."""
        stored = self._ctx.patients.get(patient_id)
        if stored and stored.value.advanced_md_patient_id:
            return stored.value.advanced_md_patient_id
        amd_id = self.run(patient_id, profile_id)
        if amd_id is None:
            raise SyncProblem(SyncErrorCode.PATIENT_NOT_SYNCED, f"patient {patient_id} not in AMD")
        return amd_id

    def run(self, patient_id: str, profile_id: str | None = None) -> str | None:
        """Sync one patient; returns the AMD id, or None when it could not be synced."""
        op = Operation("patient", patient_id, "sync", "to_amd")
        calls_before = self._ctx.amd_calls.calls_made()
        owner = new_id()
        now = self._ctx.clock.now()
        lease = f"patient#{patient_id}"
        if not self._ctx.leases.acquire(lease, owner, now, now + timedelta(seconds=LEASE_SECONDS)):
            raise PatientBusy(patient_id)
        try:
            return self._sync(op, patient_id, profile_id)
        except Exception as exc:
            failure = describe(exc)
            if failure.code is SyncErrorCode.RATE_LIMITED:
                raise  # our limiter asked to wait: not a failure worth recording
            self._record_failure(patient_id, failure.code, failure.message)
            op.amd_calls = self._ctx.amd_calls.calls_made() - calls_before
            self._journal.finish(op, "error", failure.code, failure.message)
            if failure.retry:
                raise
            return None
        finally:
            self._ctx.leases.release(lease, owner)

    def _sync(self, op: Operation, patient_id: str, profile_id: str | None) -> str | None:
        calls_before = self._ctx.amd_calls.calls_made()
        stored = self._ctx.patients.get(patient_id)
        record = stored.value if stored else PatientSyncRecord(patient_id=patient_id)
        demographics = self._ctx.patients.get_demographics(patient_id)
        amd_id = record.advanced_md_patient_id
        if demographics is None:
            if amd_id is None:
                raise SyncProblem(
                    SyncErrorCode.PATIENT_NOT_SYNCED,
                    f"patient {patient_id} has no registered demographics",
                )
            return amd_id
        if amd_id is None:
            amd_id = self._link_or_create(patient_id, demographics, profile_id)
            op.operation = "link_or_create"
        elif self._ctx.fingerprint(demographics) != record.demographics_hash:
            self._ctx.amd_patients.update_patient(amd_id, demographics)
            op.operation = "update"
        self._save_synced(patient_id, amd_id, demographics)
        self._ctx.patients.clear_create_intent(patient_id)  # the AMD id is stored now
        # Held only as long as needed to sync (SPEC §3); the digest kept detects later edits.
        # Only what was sent: a newer registration that arrived meanwhile waits for its job.
        self._ctx.patients.forget_demographics(patient_id, demographics.ehr_version)
        op.amd_calls = self._ctx.amd_calls.calls_made() - calls_before
        self._journal.finish(op, "success")
        return amd_id

    def _save_synced(self, patient_id: str, amd_id: str, demographics: PatientDemographics) -> None:
        """Record what AMD now holds. A registration may have landed since our read: merge
        into it (never lose the AMD id of a patient just created: a retry would find no match
        for new demographics and create a duplicate)."""
        for _ in range(MAX_SAVE_ATTEMPTS):
            stored = self._ctx.patients.get(patient_id)
            base = stored.value if stored else PatientSyncRecord(patient_id=patient_id)
            fingerprint = self._ctx.fingerprint(demographics)
            synced = _synced(base, amd_id, demographics, fingerprint, self._ctx.clock.now())
            try:
                self._ctx.patients.save(synced, stored.version if stored else None)
                return
            except StaleWriteError:
                continue
        raise StaleWriteError(patient_id)

    def _link_or_create(
        self, patient_id: str, demographics: PatientDemographics, profile_id: str | None
    ) -> str:
        created = self._created_earlier(patient_id, demographics)
        if created is not None:
            return created
        found = self._ctx.amd_patients.find_patient(_search(demographics))
        if found is not None:
            return found
        profile = profile_id or self._default_profile()
        self._ctx.patients.mark_create_intent(patient_id, PatientCreateIntent.of(demographics))
        return self._ctx.amd_patients.add_patient(demographics, profile, patient_id)

    def _created_earlier(self, patient_id: str, demographics: PatientDemographics) -> str | None:
        """The AMD patient an earlier attempt created (its id never stored), brought up to
        `demographics` when those are newer than what that attempt sent."""
        intent = self._ctx.patients.get_create_intent(patient_id)
        if intent is None:
            return None
        found = self._ctx.amd_patients.find_patient(_search(intent))
        if found is not None and intent.ehr_version != demographics.ehr_version:
            self._ctx.amd_patients.update_patient(found, demographics)
        return found

    def _default_profile(self) -> str:
        providers = [m for m in self._ctx.mappings.list(MappingKind.PROVIDERS) if m.confirmed]
        if not providers:
            raise SyncProblem(
                SyncErrorCode.PROVIDER_NOT_MAPPED, "a patient needs a provider profile in AMD"
            )
        return sorted(providers, key=lambda m: m.ehr_id)[0].amd_id

    def _record_failure(self, patient_id: str, code: SyncErrorCode, message: str) -> None:
        stored = self._ctx.patients.get(patient_id)
        base = stored.value if stored else PatientSyncRecord(patient_id=patient_id)
        failed = base.model_copy(
            update={
                "amd_sync_status": "error",
                "amd_sync_error_code": code,
                "amd_sync_error": message,
                "attempts": base.attempts + 1,
            }
        )
        self._ctx.patients.save(failed, stored.version if stored else None)


def _search(identity: PatientDemographics | PatientCreateIntent) -> PatientSearch:
    return PatientSearch(identity.last_name, identity.first_name, identity.date_of_birth)


def _synced(
    base: PatientSyncRecord,
    amd_id: str,
    sent: PatientDemographics,
    fingerprint: str,
    now: datetime,
) -> PatientSyncRecord:
    """`base` once AMD holds `sent` (whose digest is `fingerprint`); still pending when a newer
    version was registered since."""
    newer = base.ehr_version is not None and base.ehr_version > sent.ehr_version
    return base.model_copy(
        update={
            "advanced_md_patient_id": amd_id,
            "demographics_hash": fingerprint,
            "ehr_version": base.ehr_version if newer else sent.ehr_version,
            "registered_hash": base.registered_hash if newer else fingerprint,
            "amd_sync_status": "pending" if newer else "synced",
            "amd_sync_error": None,
            "amd_sync_error_code": None,
            "attempts": 0,
            "last_synced_to_amd": now,
        }
    )

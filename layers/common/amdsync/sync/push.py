"""Push: make AdvancedMD match the EHR's desired state for one appointment (level-triggered).

A job names an appointment; the latest desired state is loaded here, so stale and repeated
jobs are harmless. Creation follows the intent protocol (ARCHITECTURE §3): an intent is stored
before AMD is asked to book, and a record with an intent but no visit id searches AMD by
reference id (then by patient/provider/time) before booking again, so a crash or lost reply
between AMD's create and our write never books twice.

For an existing visit AMD's current state is read first, then a three-way merge per field
(base vs EHR vs AMD) decides what goes to AMD, what comes back to the EHR (change feed) and
what is a conflict for a person. That read costs one call but is what keeps an AMD-side edit
from being silently overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from amdsync.domain.appointments import AppointmentSyncRecord, SnapshotValue
from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.review import BookingInFlight
from amdsync.domain.status import EhrStatus, parse_ehr_status
from amdsync.sync.amd_view import amd_snapshot, apply_status
from amdsync.sync.context import SyncContext
from amdsync.sync.failures import SyncProblem, describe
from amdsync.sync.journal import Journal, Operation
from amdsync.sync.merge import MergeOutcome, merge_with_amd, with_values
from amdsync.sync.patients import PatientBusy, PatientSync
from amdsync.sync.ports import AmdAppointment, Booking
from amdsync.sync.resolve import AmdTargets, ReverseMappings, resolve_reason, resolve_targets

MAX_STALE_RETRIES = 5
_UNBOOKED_FINAL = frozenset({EhrStatus.CANCELLED})


class PushOutcome(StrEnum):
    SYNCED = "synced"
    NOOP = "noop"
    SKIPPED = "skipped"
    ERROR = "error"
    CONFLICT = "conflict"
    MISSING = "missing"


@dataclass(frozen=True)
class PushResult:
    outcome: PushOutcome
    visit_id: str | None = None
    error_code: SyncErrorCode | None = None


class RetryLater(Exception):
    """A transient failure: the queue should deliver the job again (after backoff, or after
    `retry_after` seconds when the rate limiter said how long)."""

    def __init__(self, code: SyncErrorCode, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.retry_after = retry_after


class AppointmentPush:
    def __init__(self, ctx: SyncContext) -> None:
        self._ctx = ctx
        self._journal = Journal(ctx.logs, ctx.metrics, ctx.clock)
        self._patients = PatientSync(ctx)

    def run(self, appointment_id: str, actor: str = "system") -> PushResult:
        op = Operation("appointment", appointment_id, "push", "to_amd", actor=actor)
        calls_before = self._ctx.amd_calls.calls_made()
        try:
            result = self._run_with_retries(appointment_id, op)
        except PatientBusy:
            raise  # another worker is syncing the patient: the worker defers, no attempt used
        except Exception as exc:
            op.amd_calls = self._ctx.amd_calls.calls_made() - calls_before
            return self._fail(appointment_id, op, exc)
        op.amd_calls = self._ctx.amd_calls.calls_made() - calls_before
        outcome = {"conflict": "conflict", "noop": "skipped", "skipped": "skipped"}.get(
            result.outcome.value, "success"
        )
        if result.outcome is not PushOutcome.MISSING:
            self._journal.finish(op, outcome, result.error_code)  # type: ignore[arg-type]
        return result

    def _run_with_retries(self, appointment_id: str, op: Operation) -> PushResult:
        for _ in range(MAX_STALE_RETRIES):
            stored = self._ctx.appointments.get(appointment_id)
            if stored is None:
                return PushResult(PushOutcome.MISSING)
            try:
                return self._reconcile(stored, op)
            except StaleWriteError:
                continue  # the EHR or another worker wrote meanwhile: decide again on fresh state
        raise RetryLater(SyncErrorCode.INTERNAL, "record kept changing during sync")

    def _reconcile(self, stored: Versioned[AppointmentSyncRecord], op: Operation) -> PushResult:
        record = stored.value
        settings = self._ctx.settings.get().value
        if not settings.syncs_type(record.appointment_type):
            op.operation = "skip_type"
            skipped = record.model_copy(
                update={
                    "amd_sync_status": "error",
                    "amd_sync_error_code": SyncErrorCode.SKIPPED_BY_SETTINGS,
                    "amd_sync_error": "this appointment type is not synced (Settings)",
                }
            )
            if skipped != record:
                self._ctx.appointments.save(skipped, stored.version)
            return PushResult(PushOutcome.SKIPPED)
        if record.advanced_md_visit_id is None:
            return self._create(stored, op)
        return self._update(stored, op)

    def _booking(
        self, record: AppointmentSyncRecord, patient_amd_id: str, targets: AmdTargets | None = None
    ) -> Booking:
        """What AMD is asked to hold: AMD ids, and the start as practice-local wall time."""
        targets = targets or resolve_targets(self._ctx.mappings, record)
        return Booking(
            patient_id=patient_amd_id,
            profile_id=targets.profile_id,
            column_id=targets.column_id,
            facility_id=targets.facility_id,
            type_id=targets.type_id,
            start=self._ctx.practice_time.to_amd(record.start, record.time_zone),
            duration_minutes=record.duration_minutes,
            reference_id=self._ctx.reference_id(record.appointment_id),
        )

    # ------------------------------------------------------------------ create

    def _create(self, stored: Versioned[AppointmentSyncRecord], op: Operation) -> PushResult:
        record = stored.value
        op.operation = "create"
        if parse_ehr_status(record.status) in _UNBOOKED_FINAL and record.create_intent_at is None:
            # Cancelled before it ever reached AMD: nothing to bill, nothing to book.
            self._save_synced(stored, record, record.snapshot())
            return PushResult(PushOutcome.NOOP)
        targets = resolve_targets(self._ctx.mappings, record)
        patient_amd_id = self._patients.ensure(record.patient_id, targets.profile_id)
        booking = self._booking(record, patient_amd_id, targets)
        version = stored.version
        intent: AppointmentSyncRecord | None = None
        visit_id = self._find_existing(record, booking)
        if visit_id is None:
            intent = record.model_copy(update={"create_intent_at": self._ctx.clock.now()})
            version = self._ctx.appointments.save(intent, stored.version)
            self._ctx.appointments.mark_in_flight(
                BookingInFlight(
                    appointment_id=record.appointment_id,
                    advanced_md_patient_id=patient_amd_id,
                    start=booking.start,
                )
            )
            visit_id = self._ctx.scheduler.book(booking).visit_id
        owner = self._ctx.appointments.claim_visit(visit_id, record.appointment_id)
        if owner != record.appointment_id:
            raise SyncProblem(SyncErrorCode.AMD_REJECTED, f"visit {visit_id} belongs to {owner}")
        # What we last wrote (the intent) or read: the first try needs no read of its own.
        known = Versioned(intent, version) if intent is not None else stored
        booked = self._store_visit(known, visit_id, patient_amd_id, targets)
        self._ctx.appointments.clear_in_flight(record.appointment_id)
        self._ctx.metrics.count("AppointmentsCreated")
        if booked.value.snapshot() != booked.value.base_snapshot:
            return self._update(booked, op)  # e.g. registered as checked in, or edited meanwhile
        return PushResult(PushOutcome.SYNCED, visit_id)

    def _find_existing(self, record: AppointmentSyncRecord, booking: Booking) -> str | None:
        if record.create_intent_at is None:
            return None  # never asked AMD to book it: nothing to find, save the call
        visit_id = self._ctx.scheduler.find_visit_by_reference(booking.reference_id)
        return visit_id or self._ctx.scheduler.find_visit(booking)

    def _store_visit(
        self,
        known: Versioned[AppointmentSyncRecord],
        visit_id: str,
        patient_amd_id: str,
        targets: AmdTargets,
    ) -> Versioned[AppointmentSyncRecord]:
        """Save the AMD ids; retried on fresh state so a concurrent EHR edit cannot lose them.

        `known` is the record as this push last wrote or read it: the first save is
        conditional on its version, so no read is needed unless someone wrote since.
        The base snapshot is what AMD now holds: the state we booked, with AMD's initial
        status. A newer EHR edit stays as desired state and is pushed as a change.
        """
        booked = known.value
        base = {**booked.snapshot(), "status": EhrStatus.SCHEDULED.value}
        current: Versioned[AppointmentSyncRecord] | None = known
        for _ in range(MAX_STALE_RETRIES):
            if current is None:
                current = self._ctx.appointments.get(booked.appointment_id)
            assert current is not None
            record = current.value.model_copy(
                update={
                    "advanced_md_visit_id": visit_id,
                    "advanced_md_patient_id": patient_amd_id,
                    "advanced_md_provider_id": targets.profile_id,
                    "advanced_md_facility_id": targets.facility_id,
                    "amd_sync_status": "synced",
                    "amd_sync_error": None,
                    "amd_sync_error_code": None,
                    "attempts": 0,
                    "last_synced_to_amd": self._ctx.clock.now(),
                    "base_snapshot": base,
                }
            )
            try:
                new_version = self._ctx.appointments.save(record, current.version)
            except StaleWriteError:
                current = None  # written meanwhile: read it and put the ids on that
                continue
            return Versioned(record, new_version)
        raise RetryLater(SyncErrorCode.INTERNAL, "could not store the AMD visit id")

    # ------------------------------------------------------------------ update

    def _update(self, stored: Versioned[AppointmentSyncRecord], op: Operation) -> PushResult:
        record = stored.value
        visit_id = record.advanced_md_visit_id
        assert visit_id is not None
        if op.operation == "push":
            op.operation = "update"
        current = self._ctx.scheduler.get_appointment(visit_id)
        if current is None:
            raise SyncProblem(SyncErrorCode.AMD_NOT_FOUND, f"visit {visit_id} not in AMD")
        reverse = ReverseMappings(self._ctx.mappings)
        amd_values = amd_snapshot(current, reverse, self._ctx.practice_time, record)
        merged = merge_with_amd(self._ctx, record, amd_values)
        if merged.plan.to_amd:
            stored = self._intend_write(stored, merged)
            self._apply_to_amd(stored, merged, current)
        self._finish_update(stored, merged)
        if merged.plan.has_conflict:
            return PushResult(PushOutcome.CONFLICT, visit_id, SyncErrorCode.CONFLICT)
        if not merged.plan.to_amd and not merged.plan.to_ehr:
            return PushResult(PushOutcome.NOOP, visit_id)
        return PushResult(PushOutcome.SYNCED, visit_id)

    def _intend_write(
        self, stored: Versioned[AppointmentSyncRecord], merged: MergeOutcome
    ) -> Versioned[AppointmentSyncRecord]:
        """Store what we are about to write before AMD is asked (see `merge.own_writes`). A
        StaleWriteError (the EHR wrote since our read) decides again on fresh state."""
        sent = {**merged.plan.to_amd, "timeZone": stored.value.time_zone}
        intent = stored.value.model_copy(update={"amd_write_intent": sent})
        return Versioned(intent, self._ctx.appointments.save(intent, stored.version))

    def _apply_to_amd(
        self,
        stored: Versioned[AppointmentSyncRecord],
        merged: MergeOutcome,
        current: AmdAppointment,
    ) -> None:
        record = merged.record
        to_amd = merged.plan.to_amd
        if any(name != "status" for name in to_amd):
            assert current.patient_id is not None or record.advanced_md_patient_id is not None
            patient_amd_id = record.advanced_md_patient_id or str(current.patient_id)
            # The edit sends every slot field: a field in conflict keeps AMD's value until a
            # person decides, or this edit would overwrite the AMD-side change (SPEC §6).
            kept = {name: merged.amd_values[name] for name in merged.plan.conflicts}
            booking = self._booking(with_values(record, kept), patient_amd_id)
            self._ctx.scheduler.edit(current, booking)
        if "status" in to_amd:
            target = parse_ehr_status(str(to_amd["status"]))
            base_status = parse_ehr_status(str(merged.amd_values.get("status", "SCHEDULED")))
            reason = resolve_reason(self._ctx.mappings, record.cancel_reason)
            assert record.advanced_md_visit_id is not None
            apply_status(
                self._ctx.scheduler, record.advanced_md_visit_id, base_status, target, reason
            )
        elif "cancelReason" in to_amd:
            self._change_reason(stored, merged)

    def _change_reason(
        self, stored: Versioned[AppointmentSyncRecord], merged: MergeOutcome
    ) -> None:
        """AMD keeps a cancel/no-show reason until the appointment is put back on the schedule:
        uncancel, then cancel (or no-show) again with the new reason.

        The base first moves to the state AMD passes through (Made, no reason). A crash between
        the two calls then reads back as "the EHR wants it cancelled" and is finished by the
        retry, never as "AMD put it back on the schedule".
        """
        record = merged.record
        visit_id = record.advanced_md_visit_id
        assert visit_id is not None
        reason = resolve_reason(self._ctx.mappings, record.cancel_reason)  # before any AMD call
        interim = {**merged.base, "status": EhrStatus.SCHEDULED.value, "cancelReason": None}
        self._ctx.appointments.save(
            stored.value.model_copy(update={"base_snapshot": interim}), stored.version
        )
        self._ctx.scheduler.uncancel(visit_id)
        target = parse_ehr_status(record.status)
        apply_status(self._ctx.scheduler, visit_id, EhrStatus.SCHEDULED, target, reason)

    def _finish_update(
        self, stored: Versioned[AppointmentSyncRecord], merged: MergeOutcome
    ) -> None:
        """Store the new base: what AMD holds now. If the EHR wrote meanwhile, the base still
        goes onto its newer record (SPEC §9.1), or our own write would come back later as an
        AMD-side change; that newer version is pushed by its own job."""
        merged.publish()  # before the save: at least once, never lost (see pull)
        current = stored
        for _ in range(MAX_STALE_RETRIES):
            try:
                self._ctx.appointments.save(self._settled(current.value, merged), current.version)
                return
            except StaleWriteError:
                fresh = self._ctx.appointments.get(stored.value.appointment_id)
                if fresh is None:
                    return
                current = fresh
        raise RetryLater(SyncErrorCode.INTERNAL, "could not store what AMD now holds")

    def _settled(
        self, current: AppointmentSyncRecord, merged: MergeOutcome
    ) -> AppointmentSyncRecord:
        """`current` with the push's outcome: the new base and the AMD-side changes the push
        read, except on fields the EHR has changed again since the push began."""
        before, now = merged.ehr_values, current.snapshot()
        from_amd = {k: v for k, v in merged.plan.to_ehr.items() if now.get(k) == before.get(k)}
        record = with_values(current, from_amd)
        conflict = merged.plan.has_conflict
        in_step = record.snapshot() == merged.new_base
        return record.model_copy(
            update={
                "amd_sync_status": "conflict" if conflict else "synced" if in_step else "pending",
                "amd_sync_error_code": SyncErrorCode.CONFLICT if conflict else None,
                "amd_sync_error": "changed in both systems; resolve in Conflicts"
                if conflict
                else None,
                "attempts": 0,
                "last_synced_to_amd": self._ctx.clock.now(),
                "base_snapshot": merged.new_base,
                "amd_write_intent": None,  # settled: the base holds what we wrote
            }
        )

    def _save_synced(
        self,
        stored: Versioned[AppointmentSyncRecord],
        record: AppointmentSyncRecord,
        base: dict[str, SnapshotValue],
    ) -> None:
        synced = record.model_copy(
            update={
                "amd_sync_status": "synced",
                "amd_sync_error": None,
                "amd_sync_error_code": None,
                "last_synced_to_amd": self._ctx.clock.now(),
                "base_snapshot": base,
            }
        )
        self._ctx.appointments.save(synced, stored.version)

    # ------------------------------------------------------------------ failure

    def _fail(self, appointment_id: str, op: Operation, exc: Exception) -> PushResult:
        failure = describe(exc)
        if failure.code is SyncErrorCode.RATE_LIMITED:
            # Not a failure of the sync: our own limiter asked to wait. Nothing to record.
            op.operation = "defer"
            self._journal.finish(op, "deferred", failure.code)
            raise RetryLater(failure.code, failure.message, failure.retry_after) from exc
        self._mark_error(appointment_id, failure.code, failure.message, pending=failure.retry)
        self._journal.finish(op, "error", failure.code, failure.message)
        if failure.retry:
            raise RetryLater(failure.code, failure.message, failure.retry_after) from exc
        return PushResult(PushOutcome.ERROR, error_code=failure.code)

    def _mark_error(
        self, appointment_id: str, code: SyncErrorCode, message: str, *, pending: bool
    ) -> None:
        for _ in range(MAX_STALE_RETRIES):
            stored = self._ctx.appointments.get(appointment_id)
            if stored is None:
                return
            update: dict[str, object] = {
                "amd_sync_error_code": code,
                "amd_sync_error": message,
                "attempts": stored.value.attempts + 1,
            }
            # A transient failure stays pending (the queue retries); anything else is an error.
            update["amd_sync_status"] = "pending" if pending else "error"
            try:
                self._ctx.appointments.save(stored.value.model_copy(update=update), stored.version)
            except StaleWriteError:
                continue
            return

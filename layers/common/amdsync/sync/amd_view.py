"""AMD appointment state in EHR vocabulary, and EHR field changes as AMD operations."""

from __future__ import annotations

from amdsync.amd.errors import AlreadyCheckedOut
from amdsync.domain.appointments import AppointmentFields, SnapshotValue
from amdsync.domain.errors import IllegalTransitionError
from amdsync.domain.mappings import MappingKind
from amdsync.domain.practice_time import PracticeTime, rezone
from amdsync.domain.status import (
    TERMINAL_STATUSES,
    AmdAction,
    EhrStatus,
    amd_action_for,
    amd_code_for,
    ehr_status_from_amd,
)
from amdsync.sync.ports import AmdAppointment, AmdScheduler
from amdsync.sync.resolve import ReverseMappings

# Fields AMD reports about an appointment, in EHR (JSON) names.
AMD_FIELDS = (
    "providerId",
    "facilityId",
    "appointmentType",
    "start",
    "durationMinutes",
    "status",
    "cancelReason",
)


def amd_snapshot(
    appt: AmdAppointment,
    reverse: ReverseMappings,
    practice: PracticeTime,
    record: AppointmentFields,
) -> dict[str, SnapshotValue]:
    """What AMD holds, in EHR terms; fields AMD did not report are left out (not compared).

    AMD's practice-local start is re-expressed in the appointment's own zone (SPEC §9.2), so
    it compares with the EHR's `start` instant for instant.
    """
    start = (
        practice.from_amd(appt.start, record.time_zone, expected=record.start)
        if appt.start
        else None
    )
    status = (
        None if appt.status_code is None else ehr_status_from_amd(appt.status_code, appt.confirmed)
    )
    values: dict[str, SnapshotValue] = {
        "providerId": reverse.provider(appt),
        "facilityId": reverse.ehr_id(MappingKind.FACILITIES, appt.facility_id),
        "appointmentType": reverse.ehr_id(MappingKind.APPOINTMENT_TYPES, appt.type_id),
        "start": start,
        "durationMinutes": appt.duration_minutes,
        "status": None if status is None else status.value,
        # Only REST reads carry the reason; compared only while AMD shows it cancelled/no-show.
        "cancelReason": reverse.ehr_id(MappingKind.REASONS, appt.reason_id)
        if status in TERMINAL_STATUSES
        else None,
    }
    return {name: value for name, value in values.items() if value is not None}


def base_in_zone(base: dict[str, SnapshotValue], time_zone: str) -> dict[str, SnapshotValue]:
    """The base snapshot with its `start` as wall time in `time_zone` (the record's zone now).

    The base was agreed in the zone the EHR used then; after the EHR changes `timeZone`,
    comparing its old wall time with the new one would see a move that never happened.
    """
    start, zone = base.get("start"), base.get("timeZone")
    if not isinstance(start, str) or not isinstance(zone, str) or zone == time_zone:
        return base
    return {**base, "start": rezone(start, zone, time_zone), "timeZone": time_zone}


def apply_status(
    scheduler: AmdScheduler,
    visit_id: str,
    current: EhrStatus,
    target: EhrStatus,
    reason_id: str | None,
) -> None:
    """Make AMD show `target` (one AMD call, SPEC §5)."""
    action = amd_action_for(target)
    if action is AmdAction.CONFIRM:
        scheduler.confirm(visit_id)
    elif action is AmdAction.CHECKIN:
        scheduler.check_in(visit_id)
    elif action is AmdAction.CHECKOUT:
        try:
            scheduler.check_out(visit_id)
        except AlreadyCheckedOut:
            return  # 4110: already at Seen or beyond, which is what we wanted
    elif action is AmdAction.NOSHOW:
        scheduler.no_show(visit_id, reason_id)
    elif action is AmdAction.CANCEL:
        scheduler.cancel(visit_id, reason_id)
    elif action is AmdAction.MOVE and amd_code_for(current) is amd_code_for(target):
        # RESCHEDULED from a status AMD also shows as Made (e.g. CONFIRMED): the new time or
        # column went with the edit and a move keeps the status, so there is nothing to call.
        return
    else:
        # BOOK / MOVE as a *status* means going back to "scheduled": AMD has no such action
        # from a later state, so this cannot be mirrored.
        raise IllegalTransitionError(current.value, target.value)

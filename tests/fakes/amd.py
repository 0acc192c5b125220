"""A fake AdvancedMD at the level of the sync ports (`AmdScheduler`, `AmdPatients`,
`CallCounter`): appointments by visit id with AMD status codes and reference ids, patients with
duplicate detection, a GETUPDATEDVISITS-like change log keyed by a fake `servertime`, call
counting and failure injection.

    amd.faults.fail("book", ServerError())              # next book raises, nothing stored
    amd.faults.fail("get_appointment", RateLimited(30.0), times=3)
    amd.faults.fail_after_commit("book", TimeoutError_(maybe_committed=True))  # lost reply
    amd.person_edits("5001", status_code=1)             # a front-desk edit in AMD
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from amdsync.amd.errors import AlreadyCheckedOut, AppointmentConflict, BusinessError, NotFound
from amdsync.sync.ports import (
    AmdAppointment,
    Booking,
    DayVisits,
    VisitChanges,
)
from tests.fakes.amd_patients import FakeAmdPatients, amd_call
from tests.fakes.failures import FaultPlan

MADE, ARRIVED, OTHER, SEEN, MOVED, CANCELLED, DELETED, NO_SHOW = 0, 1, 2, 3, 5, 10, 11, 12
_OCCUPYING = {MADE, ARRIVED, OTHER, SEEN}  # statuses that hold their slot on the column
_HIDDEN_FROM_LISTS = {MOVED, DELETED}  # the REST day list leaves these out (PROTOCOL §3.16)
_SERVER_EPOCH = datetime(2026, 11, 25, 10, 0, 0)


class FakeAmd(FakeAmdPatients):
    def __init__(self, *, enforce_overlap: bool = True, first_visit_id: int = 5001) -> None:
        self.appointments: dict[str, AmdAppointment] = {}
        self.references: dict[str, str] = {}  # reference id -> visit id
        self.reasons: dict[str, str | None] = {}  # visit id -> cancel/no-show reason id
        self.faults = FaultPlan()
        self.init_patients()
        self.calls: list[str] = []
        self.enforce_overlap = enforce_overlap
        self._next_visit = first_visit_id
        self._tick = 0
        self._log: list[tuple[int, str, str]] = []  # (tick, visit id, N/C/D)
        # What the shared limiter says about the change feed's own rule (SPEC 9.3).
        self.feed_wait_seconds = 0.0
        # More changed visits than this: the feed answers ids only (AMD's is 1,000, §3.14).
        self.overflow_at = 1000

    # ------------------------------------------------------------ CallCounter

    def calls_made(self) -> int:
        return len(self.calls)

    def count(self, method: str) -> int:
        return self.calls.count(method)

    # ------------------------------------------------------------ AmdScheduler: reads

    @amd_call
    def find_visit_by_reference(self, reference_id: str) -> str | None:
        return self.references.get(reference_id)

    @amd_call
    def find_visit(self, booking: Booking) -> str | None:
        for appt in self.appointments.values():
            if (appt.patient_id, appt.profile_id, appt.start) == (
                booking.patient_id,
                booking.profile_id,
                booking.start,
            ) and appt.status_code not in (DELETED, MOVED):
                return appt.visit_id
        return None

    @amd_call
    def get_appointment(self, visit_id: str) -> AmdAppointment | None:
        return self.appointments.get(visit_id)

    @amd_call
    def updated_visits(
        self, since: str | None, visit_ids: Sequence[str] | None = None
    ) -> VisitChanges:
        after = -1 if since is None else self._tick_of(since)
        flags: dict[str, str] = {}
        for tick, visit_id, flag in self._log:
            if tick > after and (visit_ids is None or visit_id in visit_ids):
                flags[visit_id] = "N" if flags.get(visit_id) == "N" else flag
        if visit_ids is None and len(flags) > self.overflow_at:
            return VisitChanges(self.servertime(), (), {}, 1, overflow_ids=tuple(sorted(flags)))
        visits = tuple(_as_visit_row(self.appointments[v]) for v in sorted(flags))
        return VisitChanges(self.servertime(), visits, flags, calls=1)

    def feed_wait(self) -> float:  # asks the limiter, not AMD: not an AMD call
        return self.feed_wait_seconds

    @amd_call
    def visits_on(self, day: date) -> DayVisits:
        visits = tuple(
            _as_visit_row(a)
            for a in self.appointments.values()
            if a.start is not None
            and a.start[:10] == day.isoformat()
            and a.status_code not in _HIDDEN_FROM_LISTS
        )
        return DayVisits(self.servertime(), visits)

    @amd_call
    def visits_by_id(self, visit_ids: list[str]) -> list[AmdAppointment]:
        return [_as_visit_row(self.appointments[v]) for v in visit_ids if v in self.appointments]

    # ------------------------------------------------------------ AmdScheduler: writes

    @amd_call
    def book(self, booking: Booking) -> AmdAppointment:
        appt = AmdAppointment(
            visit_id=str(self._next_visit),
            patient_id=booking.patient_id,
            profile_id=booking.profile_id,
            column_id=booking.column_id,
            facility_id=booking.facility_id,
            type_id=booking.type_id,
            start=booking.start,
            duration_minutes=booking.duration_minutes,
            status_code=MADE,
        )
        self._check_overlap(appt)
        self._next_visit += 1
        self.appointments[appt.visit_id] = appt
        self.references[booking.reference_id] = appt.visit_id
        self._changed(appt.visit_id, "N")
        return appt

    @amd_call
    def edit(self, current: AmdAppointment, changes: Booking) -> AmdAppointment:
        stored = self._existing(current.visit_id)
        updated = dataclasses.replace(
            stored,
            profile_id=changes.profile_id,
            column_id=changes.column_id,
            facility_id=changes.facility_id,
            type_id=changes.type_id,
            start=changes.start,
            duration_minutes=changes.duration_minutes,
        )
        self._check_overlap(updated)
        return self._put(updated)

    @amd_call
    def move(self, visit_id: str, column_id: str, start: str) -> AmdAppointment:
        updated = dataclasses.replace(self._existing(visit_id), column_id=column_id, start=start)
        self._check_overlap(updated)
        return self._put(updated)  # moves keep the record and its status (PROTOCOL §3.16)

    @amd_call
    def confirm(self, visit_id: str) -> None:
        self._put(dataclasses.replace(self._existing(visit_id), confirmed=True))

    @amd_call
    def check_in(self, visit_id: str) -> None:
        appt = self._existing(visit_id)
        if appt.status_code not in (MADE, ARRIVED):
            raise BusinessError(f"cannot check in from status {appt.status_code}")
        self._put(dataclasses.replace(appt, status_code=ARRIVED))

    @amd_call
    def check_out(self, visit_id: str) -> None:
        appt = self._existing(visit_id)
        if appt.status_code is not None and appt.status_code >= SEEN:
            raise AlreadyCheckedOut(amd_code=4110)
        self._put(dataclasses.replace(appt, status_code=SEEN))

    @amd_call
    def no_show(self, visit_id: str, reason_id: str | None) -> None:
        self._terminal(visit_id, NO_SHOW, reason_id)

    @amd_call
    def cancel(self, visit_id: str, reason_id: str | None) -> None:
        self._terminal(visit_id, CANCELLED, reason_id)

    @amd_call
    def uncancel(self, visit_id: str) -> None:
        appt = self._existing(visit_id)
        if appt.status_code not in (CANCELLED, NO_SHOW):
            raise BusinessError(f"cannot uncancel from status {appt.status_code}")
        self.reasons[visit_id] = None
        self._put(dataclasses.replace(appt, status_code=MADE, reason_id=None))

    # ------------------------------------------------------------ what people do in AMD

    def person_edits(self, visit_id: str, **fields: Any) -> AmdAppointment:
        """Change an appointment as someone at the front desk would (no API call counted)."""
        return self._put(dataclasses.replace(self._existing(visit_id), **fields))

    def person_books(self, **fields: Any) -> AmdAppointment:
        """An appointment made directly in AMD (no reference id: no EHR record knows it)."""
        values: dict[str, Any] = {
            "patient_id": "7999",
            "profile_id": "21",
            "column_id": "31",
            "facility_id": "41",
            "type_id": "61",
            "start": "2026-12-02T09:00:00",
            "duration_minutes": 30,
            "status_code": MADE,
            **fields,
        }
        appt = AmdAppointment(visit_id=str(self._next_visit), **values)
        self._next_visit += 1
        self.appointments[appt.visit_id] = appt
        self._changed(appt.visit_id, "N")
        return appt

    # ------------------------------------------------------------ inspection

    def servertime(self) -> str:
        """AMD's clock as it would answer now: verbatim text, strictly increasing per change."""
        moment = _SERVER_EPOCH + timedelta(seconds=self._tick)
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".000"

    def appointment(self, visit_id: str) -> AmdAppointment:
        return self.appointments[visit_id]

    def by_reference(self, reference_id: str) -> AmdAppointment | None:
        visit_id = self.references.get(reference_id)
        return None if visit_id is None else self.appointments[visit_id]

    # ------------------------------------------------------------ internals

    def _tick_of(self, servertime: str) -> int:
        moment = datetime.fromisoformat(servertime[:19])
        return int((moment - _SERVER_EPOCH).total_seconds())

    def _changed(self, visit_id: str, flag: str) -> None:
        self._tick += 1
        self._log.append((self._tick, visit_id, flag))

    def _existing(self, visit_id: str) -> AmdAppointment:
        appt = self.appointments.get(visit_id)
        if appt is None:
            raise NotFound(amd_code=4130)
        return appt

    def _put(self, appt: AmdAppointment) -> AmdAppointment:
        self.appointments[appt.visit_id] = appt
        self._changed(appt.visit_id, "D" if appt.status_code == DELETED else "C")
        return appt

    def _terminal(self, visit_id: str, code: int, reason_id: str | None) -> None:
        appt = self._existing(visit_id)
        if appt.status_code in (ARRIVED, OTHER, SEEN, CANCELLED, NO_SHOW):
            raise BusinessError(f"cannot set status {code} from status {appt.status_code}")
        self.reasons[visit_id] = reason_id
        self._put(dataclasses.replace(appt, status_code=code, reason_id=reason_id))

    def _check_overlap(self, appt: AmdAppointment) -> None:
        if not self.enforce_overlap or appt.start is None or appt.column_id is None:
            return
        start = datetime.fromisoformat(appt.start)
        end = start + timedelta(minutes=appt.duration_minutes or 0)
        for other in self.appointments.values():
            if (
                other.visit_id == appt.visit_id
                or other.column_id != appt.column_id
                or other.status_code not in _OCCUPYING
                or other.start is None
            ):
                continue
            other_start = datetime.fromisoformat(other.start)
            other_end = other_start + timedelta(minutes=other.duration_minutes or 0)
            if start < other_end and other_start < end:
                raise AppointmentConflict(amd_code=4101, http_status=409)


def _as_visit_row(appt: AmdAppointment) -> AmdAppointment:
    """What the XMLRPC visit reads show: no cancel reason (only REST reads carry it)."""
    return dataclasses.replace(appt, reason_id=None)

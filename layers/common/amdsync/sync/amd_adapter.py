"""The sync ports AmdScheduler and CallCounter over the AdvancedMD client (AmdPatients is
`amd_patient_adapter`).

Translates between AMD's shapes (REST appointments, XMLRPC visit rows with names and codes)
and the sync's `AmdAppointment` in AMD ids and local wall time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from amdsync.amd.errors import NotFound
from amdsync.amd.models import (
    Appointment,
    BookingRequest,
    Visit,
)
from amdsync.amd.service import AdvancedMD
from amdsync.amd.tiers import budgets_for_action
from amdsync.sync.amd_visit_reader import VisitReader, local_iso
from amdsync.sync.ports import (
    AmdAppointment,
    Booking,
    DayVisits,
    VisitChanges,
)


def from_rest(appt: Appointment) -> AmdAppointment:
    return AmdAppointment(
        visit_id=appt.id,
        patient_id=appt.patientid,
        profile_id=appt.profileid,
        column_id=appt.columnid,
        facility_id=appt.facilityid,
        type_id=appt.appointmenttypeids[0] if appt.appointmenttypeids else None,
        start=local_iso(appt.startdatetime),
        duration_minutes=appt.duration,
        status_code=appt.status,
        confirmed=appt.confirmdate is not None,
        reason_id=appt.reason_id,
    )


class CountingMetrics:
    """The client's metrics sink: counts AMD calls for sync logs, forwards everything."""

    def __init__(self, forward: object | None = None) -> None:
        self.amd_calls = 0
        self._forward = forward

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        if name == "AmdCalls":
            self.amd_calls += value
        count = getattr(self._forward, "count", None)
        if callable(count):
            count(name, value, **dimensions)


class AdvancedMDAdapter:
    def __init__(self, amd: AdvancedMD, counter: CountingMetrics, confirm_method: str) -> None:
        self._amd = amd
        self._counter = counter
        self._confirm_method = confirm_method

    def calls_made(self) -> int:
        return self._counter.amd_calls

    # ------------------------------------------------------------------ scheduler

    def find_visit_by_reference(self, reference_id: str) -> str | None:
        matches = self._amd.visits.visit_ids_by_reference([reference_id])
        return next((m.visit_id for m in matches if m.visit_id), None)

    def find_visit(self, booking: Booking) -> str | None:
        day = datetime.fromisoformat(booking.start).date()
        for visit in self.visits_on(day).visits:
            if (
                visit.patient_id == booking.patient_id
                and visit.start == booking.start
                and visit.profile_id in (None, booking.profile_id)
                and (visit.status_code or 0) < 10
            ):
                return visit.visit_id
        return None

    def get_appointment(self, visit_id: str) -> AmdAppointment | None:
        try:
            return from_rest(self._amd.scheduler.get(visit_id))
        except NotFound:
            return None

    def book(self, booking: Booking) -> AmdAppointment:
        request = BookingRequest(
            patient_id=int(booking.patient_id),
            column_id=int(booking.column_id),
            profile_id=int(booking.profile_id),
            start=datetime.fromisoformat(booking.start),
            duration_minutes=booking.duration_minutes,
            type_ids=(int(booking.type_id),),
            facility_id=int(booking.facility_id) if booking.facility_id else None,
            reference_id=booking.reference_id,
        )
        return from_rest(self._amd.scheduler.book(request, check_reference=False))

    def edit(self, current: AmdAppointment, changes: Booking) -> AmdAppointment:
        body = {
            "patientid": int(changes.patient_id),
            "columnid": int(changes.column_id),
            "profileid": int(changes.profile_id),
            "startdatetime": changes.start,
            "duration": changes.duration_minutes,
            "type": [{"id": int(changes.type_id)}],
        }
        if changes.facility_id:
            body["facilityid"] = int(changes.facility_id)
        return from_rest(self._amd.scheduler.edit(current.visit_id, body))

    def move(self, visit_id: str, column_id: str, start: str) -> AmdAppointment:
        moved = self._amd.scheduler.move(visit_id, int(column_id), datetime.fromisoformat(start))
        return from_rest(moved)

    def confirm(self, visit_id: str) -> None:
        self._amd.scheduler.confirm(visit_id, self._confirm_method)

    def check_in(self, visit_id: str) -> None:
        self._amd.scheduler.checkin(visit_id)

    def check_out(self, visit_id: str) -> None:
        self._amd.scheduler.checkout(visit_id)

    def no_show(self, visit_id: str, reason_id: str | None) -> None:
        self._amd.scheduler.noshow(visit_id, reason_id)

    def cancel(self, visit_id: str, reason_id: str | None) -> None:
        self._amd.scheduler.cancel(visit_id, reason_id)

    def uncancel(self, visit_id: str) -> None:
        self._amd.scheduler.uncancel(visit_id)

    def updated_visits(
        self, since: str | None, visit_ids: Sequence[str] | None = None
    ) -> VisitChanges:
        assert since is not None, "the first pull bootstraps from visits_on"
        # One call: an overflow reply's ids are the caller's to resubmit, one feed turn each.
        reply = self._amd.visits.updated(since, visit_ids)
        visits = self._convert(reply.visits)
        flags = {v.id: v.update_status or "" for v in reply.visits}
        servertime = str(reply.servertime) if reply.servertime else None
        return VisitChanges(servertime, visits, flags, 1, tuple(reply.overflow_ids))

    def feed_wait(self) -> float:
        return self._amd.client.limiter.next_allowed_in(budgets_for_action("getupdatedvisits"))

    def visits_on(self, day: date) -> DayVisits:
        reply = self._amd.visits.on_date(day)
        servertime = str(reply.servertime) if reply.servertime else None
        return DayVisits(servertime, self._convert(reply.visits))

    def visits_by_id(self, visit_ids: list[str]) -> list[AmdAppointment]:
        return list(self._convert(self._amd.visits.by_ids(visit_ids)))

    def _convert(self, visits: Sequence[Visit]) -> tuple[AmdAppointment, ...]:
        return VisitReader(self._amd.lookups, self._counter.count).convert(visits)

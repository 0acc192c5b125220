"""Scheduler appointments: REST booking and state changes, XMLRPC confirm (PROTOCOL §3.16).

Appointments are booked with REST, never `addvisit` (§7.5). Times go out as practice-local wall
time without `Z` (§7.22). Creates are made idempotent with the reference id (§3.13).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from amdsync.amd.client import AmdClient
from amdsync.amd.envelope import element
from amdsync.amd.errors import AlreadyCheckedOut, ServerError
from amdsync.amd.models import Appointment, BookingRequest
from amdsync.amd.transport import RestReply
from amdsync.amd.visits import VisitsApi
from amdsync.domain.timefmt import to_rest_local

_BASE = "/scheduler/Appointments"


def _local(value: datetime) -> str:
    # Naive practice-local wall time (the caller's value), seconds included, never an offset.
    return value.replace(tzinfo=None, microsecond=0).isoformat()


def _appointment(reply: RestReply) -> Appointment:
    body: Any = reply.body
    if isinstance(body, list):
        body = body[0] if body else None
    if not isinstance(body, dict) or body.get("id") in (None, ""):
        raise ServerError("AdvancedMD answered without an appointment id")
    return Appointment.model_validate(body)


class SchedulerApi:
    def __init__(self, client: AmdClient, visits: VisitsApi) -> None:
        self._client = client
        self._visits = visits

    def book(self, request: BookingRequest, *, check_reference: bool = True) -> Appointment:
        """Book once: adopt an appointment already made under the same reference id.

        `check_reference=False` skips the look-up before the POST (for a caller that has just
        done it); the look-up after a timeout/5xx always happens, so a retry never duplicates.
        """
        ref = request.reference_id
        if ref and check_reference:
            existing = self._find_by_reference(ref)
            if existing is not None:
                return existing

        def already_done() -> RestReply | None:
            # After a timeout/5xx the POST may have landed: look before booking again.
            found = self._find_by_reference(ref) if ref else None
            return RestReply(200, found.model_dump(mode="json"), None) if found else None

        reply = self._client.rest(
            "POST",
            _BASE,
            json=self._booking_body(request),
            idempotent=False,
            already_done=already_done if ref else None,
        )
        return _appointment(reply)

    def _booking_body(self, request: BookingRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "patientid": request.patient_id,
            "columnid": request.column_id,
            "profileid": request.profile_id,
            "startdatetime": _local(request.start),
            "clientdatetime": self._client_now(),
            "duration": request.duration_minutes,
            "type": [{"id": t} for t in request.type_ids],
        }
        optional = {
            "facilityid": request.facility_id,
            "episodeid": request.episode_id,
            "color": request.color,
            "referenceid": request.reference_id,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body

    def _find_by_reference(self, ref: str) -> Appointment | None:
        matches = self._visits.visit_ids_by_reference([ref])
        visit_id = next((m.visit_id for m in matches if m.visit_id), None)
        return self.get(visit_id) if visit_id else None

    def _client_now(self) -> str:
        return to_rest_local(self._client.now(), self._client.timezone)

    def get(self, appointment_id: str) -> Appointment:
        reply = self._client.rest(
            "GET",
            f"{_BASE}/{appointment_id}",
            params={"getRecurException": "true", "includeDetail": "true"},
        )
        return _appointment(reply)

    def list_day(
        self, day: datetime, column_ids: list[str], view: str = "day"
    ) -> list[Appointment]:
        """REST list for columns (it hides statuses 5 and 11, §7.27)."""
        reply = self._client.rest(
            "GET",
            _BASE,
            params={
                "forView": view,
                "columnId": "-".join(column_ids),
                "startDate": day.strftime("%Y-%m-%d"),
            },
        )
        rows = reply.body if isinstance(reply.body, list) else []
        return [Appointment.model_validate(r) for r in rows if isinstance(r, dict)]

    def edit(self, appointment_id: str, changes: dict[str, Any]) -> Appointment:
        body = {"id": int(appointment_id), **_localise(changes)}
        return _appointment(self._client.rest("PUT", f"{_BASE}/{appointment_id}", json=body))

    def move(self, appointment_id: str, column_id: int, start: datetime) -> Appointment:
        """Returns the moved appointment; its `id` is the one to keep (may differ, §7.22)."""
        return self._action(
            appointment_id, "move", {"columnid": column_id, "startdatetime": _local(start)}
        )

    def checkin(self, appointment_id: str) -> Appointment:
        return self._action(appointment_id, "checkin", {})

    def checkout(self, appointment_id: str) -> Appointment:
        try:
            return self._action(appointment_id, "checkout", {})
        except AlreadyCheckedOut:
            return self.get(appointment_id)  # 4110: already out -> treat as done (SPEC §5)

    def cancel(self, appointment_id: str, reason_id: str | None = None) -> Appointment | None:
        extra = {"noshowreasonid": reason_id} if reason_id else {}
        # A bad reason id answers 500 (§3.16): never resend that identical body.
        reply = self._action_reply(
            appointment_id, "cancel", extra, with_time=False, idempotent=not reason_id
        )
        body = reply.body
        # The 200 body may carry an empty id (§3.16): success is the status code.
        if isinstance(body, dict) and body.get("id") not in (None, ""):
            return Appointment.model_validate(body)
        return None

    def noshow(self, appointment_id: str, reason_id: str | None = None) -> Appointment:
        extra = {"noshowreasonid": int(reason_id)} if reason_id else {}
        return self._action(appointment_id, "noshow", extra)

    def uncancel(self, appointment_id: str) -> Appointment:
        """Back on the schedule (Made); the way to change a cancelled appointment's reason."""
        return self._action(appointment_id, "uncancel", {})

    def delete(self, appointment_id: str) -> None:
        self._client.rest(
            "DELETE", f"{_BASE}/{appointment_id}", params={"recurringApptId": "", "scope": ""}
        )

    def confirm(self, appointment_id: str, method_id: str) -> None:
        """XMLRPC scheduler confirm (PM: Confirmation)."""
        appt = element(id=appointment_id, confmeth=method_id)
        appt["@xmlns:ppmd"] = "www.perfectpractice.md"
        self._client.xmlrpc(
            "update", "scheduler", {"view": "checkin", "mode": "confirm"}, {"ppmd:appt": appt}
        )

    def _action(self, appointment_id: str, action: str, extra: dict[str, Any]) -> Appointment:
        return _appointment(self._action_reply(appointment_id, action, extra))

    def _action_reply(
        self,
        appointment_id: str,
        action: str,
        extra: dict[str, Any],
        *,
        with_time: bool = True,
        idempotent: bool = True,
    ) -> RestReply:
        body: dict[str, Any] = {"id": int(appointment_id), **extra}
        if with_time:
            body["clientdatetime"] = self._client_now()
        path = f"{_BASE}/{appointment_id}/{action}"
        return self._client.rest("PUT", path, json=body, idempotent=idempotent)


def _localise(changes: dict[str, Any]) -> dict[str, Any]:
    return {k: _local(v) if isinstance(v, datetime) else v for k, v in changes.items()}

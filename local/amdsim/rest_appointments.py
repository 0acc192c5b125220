"""Scheduler REST appointment handlers: book, list, read, edit, state changes, delete."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import scheduling
from .model import EV_CHANGE, HIDDEN_FROM_REST_LIST, Visit
from .rest_render import appointment_json, conflict_body, error_body
from .timefmt import parse_rest_datetime, to_local
from .wire import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from .app import Simulator

Thunk = Callable[[], Response]
REQUIRED_INTS = ("patientid", "columnid", "duration", "profileid")


class Handlers:
    def __init__(self, sim: Simulator, req: Request, base: str, who: str) -> None:
        self.sim = sim
        self.state = sim.state
        self.req = req
        self.base = base
        self.who = who

    # ------------------------------------------------------------ helpers

    def bad(self, detail: str, *, violation: bool = True) -> HttpError:
        if violation:
            action = f"{self.req.method} {self.req.path.split('/api/', 1)[-1]}"
            self.sim.metrics.violation(f"REST 400: {detail}", action, self.sim.amd_clock.now())
        return HttpError(400, detail)

    def body(self) -> dict[str, Any]:
        try:
            data = self.req.json()
        except ValueError as exc:
            raise self.bad("The request body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise self.bad("The request body must be a JSON object.")
        return data

    def int_field(self, data: dict[str, Any], key: str, *, required: bool) -> int | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.bad(f"The {key} field is required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.bad(f"The {key} field must be an integer.")
        return value

    def when(self, data: dict[str, Any], key: str, *, required: bool) -> datetime | None:
        value = data.get(key)
        if value is None:
            if required:
                raise self.bad(f"The {key} field is required.")
            return None
        try:
            return parse_rest_datetime(value)
        except ValueError as exc:
            raise self.bad(f"{key}: {exc}") from exc

    def types(self, data: dict[str, Any], *, required: bool) -> list[int] | None:
        raw = data.get("type")
        if raw is None and not required:
            return None
        if not isinstance(raw, list) or not raw:
            raise self.bad("The type field must be a non-empty array of {id}.")
        ids = []
        for item in raw:
            tid = item.get("id") if isinstance(item, dict) else None
            if (
                isinstance(tid, bool)
                or not isinstance(tid, int)
                or tid not in self.state.appt_types
            ):
                raise self.bad(f"Unknown appointment type {item!r}.")
            ids.append(tid)
        return ids

    def appt(self, appt_id: int) -> Visit:
        visit = self.state.appointment(appt_id)
        if visit is None:
            raise HttpError(404, f"Appointment {appt_id} was not found.")
        return visit

    def ok(self, visit: Visit, status: int = 200) -> Response:
        return json_response(status, appointment_json(self.state, visit))

    def local_now(self) -> datetime:
        return to_local(self.sim.amd_clock.now(), self.sim.tz)

    # ------------------------------------------------------------ create

    def create(self) -> Response:
        data = self.body()
        values = {k: self.int_field(data, k, required=True) for k in REQUIRED_INTS}
        start = self.when(data, "startdatetime", required=True)
        self.when(data, "clientdatetime", required=False)
        type_ids = self.types(data, required=True) or []
        assert start is not None
        duration = values["duration"] or 0
        if not 0 < duration <= 24 * 60:
            raise self.bad("duration must be between 1 and 1440 minutes.")
        col = self.state.columns.get(values["columnid"] or -1)
        for key, table in (("patientid", self.state.patients), ("profileid", self.state.profiles)):
            if values[key] not in table:
                raise self.bad(f"Unknown {key} {values[key]}.")
        if col is None:
            raise self.bad(f"Unknown columnid {values['columnid']}.")
        ref = str(data.get("referenceid") or "").strip()
        visit = Visit(
            id=0,
            patient_id=values["patientid"] or 0,
            profile_id=values["profileid"] or 0,
            start=start,
            duration=duration,
            column_id=col.id,
            facility_id=self.int_field(data, "facilityid", required=False) or col.facility_id,
            type_ids=type_ids,
            color=str(data.get("color") or self.state.appt_types[type_ids[0]].color).upper(),
            comments=str(data.get("comments") or "").upper(),
            referenceid=ref if self.sim.config.rest_honours_referenceid else "",
            episode_id=self.int_field(data, "episodeid", required=False) or 1,
        )
        forced = bool(data.get("force")) and self.sim.config.rest_post_honours_force
        try:
            if not forced:
                scheduling.check_slot(self.state, col, start, duration)
        except scheduling.Conflict as exc:
            return json_response(409, conflict_body(exc.code, exc.description))
        scheduling.book(self.state, visit, self.sim.amd_clock.stamp(), self.who, check=False)
        location = f"{self.base}/scheduler/Appointments/{visit.id}"
        return json_response(201, appointment_json(self.state, visit), [("Location", location)])

    # ------------------------------------------------------------ read

    def get(self, appt_id: int) -> Response:
        return self.ok(self.appt(appt_id))

    def waitlist(self) -> Response:
        return json_response(200, [])

    def current(self) -> Response:
        today = self.local_now().date()
        return self._listing(lambda v: v.start.date() == today)

    def _listing(self, keep: Callable[[Visit], bool]) -> Response:
        rows = sorted(
            (
                v
                for v in self.state.visits.values()
                if v.is_appt and v.status not in HIDDEN_FROM_REST_LIST and keep(v)
            ),
            key=lambda v: (v.start, v.id),
        )
        return json_response(200, [appointment_json(self.state, v) for v in rows])

    def _ids(self, name: str) -> set[int]:
        raw = self.req.param(name)
        if not raw:
            raise self.bad(f"The {name} parameter is required for this view.")
        try:
            return {int(x) for x in raw.replace(",", "-").split("-") if x}
        except ValueError as exc:
            raise self.bad(f"{name} must be ids joined by '-'.") from exc

    def _start_date(self, required: bool) -> date:
        raw = self.req.param("startDate")
        if not raw:
            if required:
                raise self.bad("The startDate parameter is required for this view.")
            return self.local_now().date()
        try:
            return date.fromisoformat(raw[:10])
        except ValueError as exc:
            raise self.bad("startDate must be YYYY-MM-DD.") from exc

    def _profiles(self, ids: set[int]) -> set[int]:
        by_provider = {p.provider_id: p.id for p in self.state.profiles.values()}
        return {by_provider.get(i, i) for i in ids}

    def list(self) -> Response:
        view = (self.req.param("forView") or "day").lower()
        if view == "apptbyid":
            appt_id = next(iter(self._ids("appointmentId")))
            return json_response(200, [appointment_json(self.state, self.appt(appt_id))])
        if view == "patient":
            pids = self._ids("patientId")
            return self._listing(lambda v: v.patient_id in pids)
        if view in {"provider", "provider-week", "provider-list"}:
            profs = self._profiles(
                self._ids("providerIds" if view == "provider-list" else "providerId")
            )
            first = self._start_date(required=True)
            last = first + timedelta(days=7 if view == "provider-week" else 1)
            resp = self._listing(lambda v: v.profile_id in profs and first <= v.start.date() < last)
            if view == "provider":
                resp.body = b'{"providerids": %s, "appointments": %s}' % (
                    str(sorted(profs)).encode(),
                    resp.body,
                )
            return resp
        cols = self._ids("columnId")
        first = self._start_date(required=False)
        if view == "week":
            last = first + timedelta(days=7)
        elif view == "month":
            first = first.replace(day=1)
            last = first + timedelta(days=calendar.monthrange(first.year, first.month)[1])
        else:
            last = first + timedelta(days=1)
        return self._listing(lambda v: v.column_id in cols and first <= v.start.date() < last)

    # ------------------------------------------------------------ change

    def _check_id(self, data: dict[str, Any], appt_id: int, *, required: bool) -> None:
        given = data.get("id")
        if given is None and required:
            raise self.bad("The id field is required.")
        if given is not None and str(given) != str(appt_id):
            raise self.bad("The id in the body does not match the path.")

    def edit(self, appt_id: int) -> Response:
        data = self.body()
        self._check_id(data, appt_id, required=False)
        visit = self.appt(appt_id)
        start = self.when(data, "startdatetime", required=False) or visit.start
        duration = self.int_field(data, "duration", required=False) or visit.duration
        col_id = self.int_field(data, "columnid", required=False) or visit.column_id
        type_ids = self.types(data, required=False)
        col = self.state.columns.get(col_id) if col_id is not None else None
        if col is None:
            raise self.bad(f"Unknown columnid {col_id}.")
        patient = self.int_field(data, "patientid", required=False) or visit.patient_id
        profile = self.int_field(data, "profileid", required=False) or visit.profile_id
        if patient not in self.state.patients or profile not in self.state.profiles:
            raise self.bad("Unknown patientid or profileid.")
        moved = (start, duration, col.id) != (visit.start, visit.duration, visit.column_id)
        if moved and visit.active:
            try:
                scheduling.check_slot(self.state, col, start, duration, visit.id)
            except scheduling.Conflict as exc:
                return json_response(409, conflict_body(exc.code, exc.description))
        visit.start, visit.duration, visit.column_id = start, duration, col.id
        visit.patient_id, visit.profile_id = patient, profile
        visit.type_ids = type_ids if type_ids is not None else visit.type_ids
        visit.color = str(data.get("color") or visit.color).upper()
        visit.comments = str(data.get("comments", visit.comments) or "").upper()
        visit.record(self.sim.amd_clock.stamp(), EV_CHANGE, self.who)
        return self.ok(visit)

    def delete(self, appt_id: int) -> Response:
        visit = self.appt(appt_id)
        when = self.local_now()
        scheduling.transition(
            self.state, visit, "delete", when=when, instant=self.sim.amd_clock.stamp(), who=self.who
        )
        return self.ok(visit)

    def update_action(self, appt_id: int, action: str) -> Response:
        data = self.body()
        self._check_id(data, appt_id, required=action == "cancel")
        visit = self.appt(appt_id)
        when = self.when(data, "clientdatetime", required=False) or self.local_now()
        instant = self.sim.amd_clock.stamp()
        try:
            if action == "move":
                col_id = self.int_field(data, "columnid", required=True)
                start = self.when(data, "startdatetime", required=True)
                if col_id not in self.state.columns or start is None:
                    raise self.bad(f"Unknown columnid {col_id}.")
                new_record = self.sim.config.move_creates_new_id
                visit = scheduling.move(
                    self.state, visit, col_id, start, instant=instant, who=self.who,
                    new_record=new_record,
                )  # fmt: skip
            else:
                reason = data.get("noshowreasonid")
                scheduling.transition(
                    self.state, visit, action, when=when, instant=instant, who=self.who,
                    reason_id=reason,
                )  # fmt: skip
        except scheduling.Conflict as exc:
            return json_response(409, conflict_body(exc.code, exc.description))
        except scheduling.BadTransition as exc:
            raise self.bad(str(exc), violation=False) from exc
        except scheduling.UnknownReason as exc:
            self.sim.metrics.violation(
                f"unknown cancel/no-show reason id {exc}", f"appointments.{action}", instant
            )
            return json_response(
                500, error_body(500, "Internal Server Error", "An error occurred.")
            )
        return self.ok(visit)

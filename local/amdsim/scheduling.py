"""Scheduler rules shared by the REST API and the admin API: slot conflicts (41xx) and the
appointment state machine (PROTOCOL §3.16, §4.1, §8)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, time, timedelta

from .model import (
    EV_CHANGE,
    EV_CREATE,
    EV_DELETE,
    STATUS_ARRIVED,
    STATUS_CANCELLED,
    STATUS_DELETED,
    STATUS_MADE,
    STATUS_MOVED,
    STATUS_NOSHOW,
    STATUS_OTHER,
    STATUS_SEEN,
    Column,
    Visit,
)
from .state import State

CONFLICT_TEXT = {
    4101: "Can't add appointment: Overlaps existing appointment.",
    4117: "Appointment falls outside of the column.",
    4126: "Provider is inactive.",
    4155: "Appointment is outside of scheduled work hours.",
    4186: "Exceeds the maximum number of appointments allowed per slot.",
    4110: "Cannot check out: the appointment is already checked out.",
}


class Conflict(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(CONFLICT_TEXT.get(code, "Conflict"))
        self.code = code
        self.description = CONFLICT_TEXT.get(code, "Conflict")


class BadTransition(Exception):
    """HTTP 400: the action does not apply to the appointment's status."""


class UnknownReason(Exception):
    """HTTP 500, as observed live for a reason id not in the office's list."""


def _hhmm(text: str) -> time:
    hour, minute = map(int, text.split(":"))
    return time(hour, minute)


def check_slot(
    state: State, col: Column, start: datetime, duration: int, exclude: int | None = None
) -> None:
    """Raise Conflict (4155, 4117, 4186, 4101, 4126) if the booking does not fit."""
    profile = state.profiles.get(col.profile_id)
    if profile is not None and not profile.active:
        raise Conflict(4126)
    works = col.workweek[(start.weekday() + 1) % 7] == "1"
    opens, closes = _hhmm(col.start), _hhmm(col.end)
    if not works or not opens <= start.time() < closes:
        raise Conflict(4155)
    end = start + timedelta(minutes=duration)
    if end > datetime.combine(start.date(), closes):
        raise Conflict(4117)
    same_start = 0
    for other in state.column_day(col.id, start.date(), exclude):
        if other.start == start:
            same_start += 1
        elif other.start < end and start < other.end:
            raise Conflict(4101)
    if same_start >= col.max_per_slot:
        raise Conflict(4186)


def book(state: State, visit: Visit, instant: datetime, who: str, *, check: bool = True) -> Visit:
    col = state.columns[visit.column_id] if visit.column_id is not None else None
    if check and col is not None:
        check_slot(state, col, visit.start, visit.duration)
    visit.id = state.new_visit_id()
    visit.record(instant, EV_CREATE, who)
    state.visits[visit.id] = visit
    return visit


def _require(visit: Visit, allowed: set[int], action: str) -> None:
    if visit.status not in allowed:
        raise BadTransition(f"Cannot {action} an appointment with status {visit.status}.")


def _reason(state: State, reason_id: object) -> int | None:
    if reason_id in (None, ""):
        return None
    try:
        rid = int(str(reason_id))
    except ValueError as exc:
        raise UnknownReason(str(reason_id)) from exc
    if rid not in state.reasons:
        raise UnknownReason(str(reason_id))
    return rid


ON_SCHEDULE = {STATUS_MADE, STATUS_ARRIVED, STATUS_OTHER}


def _checkin(state: State, visit: Visit, when: datetime, reason: object) -> str:
    _require(visit, ON_SCHEDULE, "checkin")
    if visit.status != STATUS_ARRIVED:
        visit.status, visit.arrive_time = STATUS_ARRIVED, when
    return EV_CHANGE


def _checkout(state: State, visit: Visit, when: datetime, reason: object) -> str:
    if visit.status == STATUS_SEEN or visit.status >= STATUS_CANCELLED:
        raise Conflict(4110)
    visit.arrive_time = visit.arrive_time or when
    visit.status, visit.seen_time = STATUS_SEEN, when
    return EV_CHANGE


def _cancel(state: State, visit: Visit, when: datetime, reason: object) -> str:
    _require(visit, ON_SCHEDULE, "cancel")
    visit.reason_id = _reason(state, reason)
    visit.status = STATUS_CANCELLED
    return EV_CHANGE


def _noshow(state: State, visit: Visit, when: datetime, reason: object) -> str:
    _require(visit, ON_SCHEDULE, "noshow")
    visit.reason_id = _reason(state, reason)
    visit.status = STATUS_NOSHOW
    return EV_CHANGE


def _uncheckin(state: State, visit: Visit, when: datetime, reason: object) -> str:
    _require(visit, {STATUS_ARRIVED}, "uncheckin")
    visit.status, visit.arrive_time = STATUS_MADE, None
    return EV_CHANGE


def _uncheckout(state: State, visit: Visit, when: datetime, reason: object) -> str:
    _require(visit, {STATUS_SEEN}, "uncheckout")
    visit.status, visit.seen_time = STATUS_ARRIVED, None
    return EV_CHANGE


def _uncancel(state: State, visit: Visit, when: datetime, reason: object) -> str:
    _require(visit, {STATUS_CANCELLED, STATUS_NOSHOW}, "uncancel")
    if visit.column_id is not None:
        check_slot(state, state.columns[visit.column_id], visit.start, visit.duration, visit.id)
    visit.status, visit.reason_id = STATUS_MADE, None
    return EV_CHANGE


def _delete(state: State, visit: Visit, when: datetime, reason: object) -> str:
    visit.status = STATUS_DELETED
    return EV_DELETE


TRANSITIONS: dict[str, Callable[[State, Visit, datetime, object], str]] = {
    "checkin": _checkin,
    "checkout": _checkout,
    "cancel": _cancel,
    "noshow": _noshow,
    "uncheckin": _uncheckin,
    "uncheckout": _uncheckout,
    "uncancel": _uncancel,
    "delete": _delete,
}


def transition(
    state: State,
    visit: Visit,
    action: str,
    *,
    when: datetime,
    instant: datetime,
    who: str,
    reason_id: object = None,
) -> Visit:
    """Apply a scheduler state change. `when` is the practice-local time of the event."""
    step = TRANSITIONS.get(action)
    if step is None:
        raise BadTransition(f"Unknown update action {action!r}.")
    if action == "delete" and visit.status == STATUS_DELETED:
        return visit
    kind = step(state, visit, when, reason_id)
    visit.record(instant, kind, who)
    return visit


def move(
    state: State,
    visit: Visit,
    column_id: int,
    start: datetime,
    *,
    instant: datetime,
    who: str,
    new_record: bool,
) -> Visit:
    _require(visit, {STATUS_MADE, STATUS_ARRIVED, STATUS_OTHER}, "move")
    col = state.columns[column_id]
    check_slot(state, col, start, visit.duration, visit.id)
    if new_record:
        fresh = copy.deepcopy(visit)
        fresh.events = []
        fresh.column_id, fresh.start = col.id, start
        fresh.profile_id, fresh.facility_id = col.profile_id, col.facility_id
        visit.status = STATUS_MOVED
        visit.record(instant, EV_CHANGE, who)
        return book(state, fresh, instant, who, check=False)
    visit.column_id, visit.start = col.id, start
    visit.profile_id, visit.facility_id = col.profile_id, col.facility_id
    visit.record(instant, EV_CHANGE, who)
    return visit

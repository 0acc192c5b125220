"""Changes made "as a person in AdvancedMD would": they bypass the API (no rate limits, no
token) but leave the same change records, so the change feed reports them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import scheduling
from .model import (
    EV_CHANGE,
    EV_CHARGE,
    EV_DELETE,
    STATUS_DELETED,
    VALID_STATUSES,
    Charge,
    Patient,
    Visit,
)
from .timefmt import fmt_mdy, parse_date, parse_rest_datetime, to_local
from .wire import HttpError

if TYPE_CHECKING:
    from .app import Simulator

WHO = "FRONTDESK"


def _visit(sim: Simulator, vid: int) -> Visit:
    visit = sim.state.visits.get(vid)
    if visit is None:
        raise HttpError(404, f"no visit {vid}")
    return visit


def create_appointment(sim: Simulator, data: dict[str, Any]) -> Visit:
    col = sim.state.columns[int(data["columnid"])]
    start = parse_rest_datetime(data["start"])
    duration = int(data.get("duration", 50))
    type_ids = [int(t) for t in data.get("typeids", [11])]
    patient_id = int(data["patientid"])
    if patient_id not in sim.state.patients:
        raise HttpError(400, "unknown patient")
    visit = Visit(
        id=0,
        patient_id=patient_id,
        profile_id=col.profile_id,
        start=start,
        duration=duration,
        column_id=col.id,
        facility_id=col.facility_id,
        type_ids=type_ids,
        status=int(data.get("status", 0)),
        referenceid=str(data.get("referenceid", "")),
    )
    try:
        scheduling.book(
            sim.state, visit, sim.amd_clock.stamp(), WHO, check=not data.get("force", False)
        )
    except scheduling.Conflict as exc:
        raise HttpError(409, f"{exc.code} {exc.description}") from exc
    return visit


def _set_status(visit: Visit, status: int, when: datetime) -> str:
    if status not in VALID_STATUSES:
        raise HttpError(400, f"invalid status {status}")
    visit.status = status
    if status == 1:
        visit.arrive_time = visit.arrive_time or when
    elif status == 2:
        visit.other_time = when
    elif status == 3:
        visit.arrive_time = visit.arrive_time or when
        visit.seen_time = when
    return EV_DELETE if status == STATUS_DELETED else EV_CHANGE


def edit_appointment(sim: Simulator, vid: int, data: dict[str, Any]) -> Visit:
    visit = _visit(sim, vid)
    kind = EV_CHANGE
    if "start" in data:
        visit.start = parse_rest_datetime(data["start"])
    if "columnid" in data:
        col = sim.state.columns[int(data["columnid"])]
        visit.column_id, visit.profile_id, visit.facility_id = (
            col.id,
            col.profile_id,
            col.facility_id,
        )
    if "duration" in data:
        visit.duration = int(data["duration"])
    if "typeids" in data:
        visit.type_ids = [int(t) for t in data["typeids"]]
    for key in ("comments", "color"):
        if key in data:
            setattr(visit, key, str(data[key]).upper())
    instant = sim.amd_clock.stamp()
    if "status" in data:
        kind = _set_status(visit, int(data["status"]), to_local(instant, sim.tz))
    visit.record(instant, kind, WHO)
    return visit


def post_charges(sim: Simulator, vid: int, data: dict[str, Any]) -> Visit:
    visit = _visit(sim, vid)
    instant = sim.amd_clock.stamp()
    charges = data.get("charges") or [{"proccode": "90834", "fee": "150.00"}]
    for item in charges:
        visit.charges.append(
            Charge(
                str(item.get("proccode", "")),
                str(item.get("fee", "0")),
                str(item.get("units", "1")),
                instant,
            )
        )
    visit.record(instant, EV_CHARGE, WHO)
    return visit


def patient_view(p: Patient) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "dob": fmt_mdy(p.dob),
        "sex": p.sex,
        "chart": p.chart,
        "ssn": p.ssn,
        "additionalmrn": p.additionalmrn,
        "profileid": p.profile_id,
        "address": dict(p.address),
        "contactinfo": dict(p.contactinfo),
        "extra": dict(p.extra),
        "created_at": p.created_at.isoformat() if p.created_at else None,
        "changed_at": p.changed_at.isoformat() if p.changed_at else None,
    }


def edit_patient(sim: Simulator, patient: Patient, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key == "dob":
            patient.dob = parse_date(str(value))
        elif key in {"name", "sex", "chart", "ssn", "additionalmrn"}:
            setattr(patient, key, str(value).upper())
        elif key in {"address1", "address2", "city", "state", "zip"}:
            patient.address[key] = str(value).upper()
        elif key in {"homephone", "email", "cellphone"}:
            patient.contactinfo[key] = str(value)
        else:
            raise HttpError(400, f"unsupported patient field {key}")
    instant = sim.amd_clock.stamp()
    patient.changed_at = instant
    patient.events.append((instant, EV_CHANGE))

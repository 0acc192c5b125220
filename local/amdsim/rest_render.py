"""JSON bodies of the scheduler REST API (PROTOCOL §3.16): naive practice-local datetimes."""

from __future__ import annotations

from typing import Any

from .model import Column, Visit
from .state import State
from .timefmt import SENTINEL_REST, fmt_iso, to_local

PATIENT_TZ = {
    "id": 5,
    "displayname": "(UTC-07:00) Mountain Time (US & Canada)",
    "abbreviation": "MST",
    "isdefault": True,
}


def _local_or_none(state: State, visit_time: Any) -> str | None:
    return fmt_iso(visit_time) if visit_time is not None else None


def appointment_json(state: State, v: Visit) -> dict[str, Any]:
    col = state.columns.get(v.column_id) if v.column_id is not None else None
    prof = state.profiles.get(v.profile_id)
    fac = state.facilities.get(v.facility_id) if v.facility_id is not None else None
    last, first, chart = state.patient_display(v.patient_id)
    reason = state.reasons.get(v.reason_id) if v.reason_id is not None else None
    types = [state.appt_types[t] for t in v.type_ids if t in state.appt_types]
    return {
        "id": v.id,
        "startdatetime": fmt_iso(v.start),
        "status": v.status,
        "confirmdate": _local_or_none(state, v.confirmed_at),
        "columnid": v.column_id,
        "heading": col.name if col else "",
        "profileid": v.profile_id,
        "provider": prof.name if prof else "",
        "providercode": prof.code.ljust(6) if prof else "",
        "facilityid": v.facility_id,
        "facility": fac.name if fac else "",
        "episodeid": v.episode_id,
        "episode": "STANDARD",
        "patientid": v.patient_id,
        "firstname": first,
        "lastname": last,
        "chartnumber": chart,
        "duration": v.duration,
        "color": v.color,
        "comments": v.comments,
        "appointmenttypeids": [t.id for t in types],
        "appointmenttype": [{"id": t.id, "name": t.name, "billable": t.billable} for t in types],
        "recurringappointmentid": None,
        "visitposted": bool(v.charges),
        "chargesposted": bool(v.charges),
        "arrivetime": _local_or_none(state, v.arrive_time),
        "othertime": _local_or_none(state, v.other_time),
        "seentime": _local_or_none(state, v.seen_time),
        "cancelnoshowreason": {"id": reason.id, "name": reason.name} if reason else None,
        "patienttimezone": dict(PATIENT_TZ),
        "referenceid": v.referenceid or None,
        "creationdate": fmt_iso(to_local(v.created_at, state.tz))
        if v.created_at
        else SENTINEL_REST,
        "modifieddate": (
            fmt_iso(to_local(v.modified_at, state.tz)) if v.modified_at else SENTINEL_REST
        ),
    }


def column_json(col: Column) -> dict[str, Any]:
    return {
        "id": col.id,
        "name": col.name,
        "profileid": col.profile_id,
        "facilityid": col.facility_id,
        "starttime": col.start,
        "endtime": col.end,
        "interval": col.interval,
        "workweek": col.workweek,
        "maxapptsperslot": col.max_per_slot,
    }


def error_body(status: int, title: str, detail: str) -> dict[str, Any]:
    return {
        "exceptionMessage": detail,
        "exceptionType": title.replace(" ", "") + "Exception",
        "identifier": f"sim-{status}",
        "title": title,
        "detail": detail,
    }


def conflict_body(code: int, description: str) -> dict[str, Any]:
    """ConflictResponse field names are undocumented: the code is nested, clients must scan."""
    return {
        "title": "Conflict",
        "status": 409,
        "conflicts": [{"code": code, "description": description, "canoverride": code == 4101}],
    }

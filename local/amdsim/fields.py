"""Field templates (`visit`/`patient` children whose attributes are alias="FieldName"),
PROTOCOL §3.8 and §3.14. Unknown field names are rejected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import codes
from .codes import PPMDFault
from .envelope import El
from .model import Patient, Visit
from .state import State
from .timefmt import SENTINEL_XMLRPC, fmt_clock_12h, fmt_iso, fmt_mdy, fmt_servertime, to_local

VisitField = Callable[[State, Visit], str]
PatientField = Callable[[Patient], str]


def pad(value: str, width: int) -> str:
    return value.ljust(width)


def _ms(state: State, instant: datetime | None) -> str:
    if instant is None:
        return SENTINEL_XMLRPC + ".000"
    return fmt_servertime(to_local(instant, state.tz))


def _col(state: State, v: Visit) -> str:
    col = state.columns.get(v.column_id) if v.column_id else None
    return col.name if col else ""


def _types(state: State, v: Visit, attr: str) -> str:
    return ",".join(
        str(getattr(state.appt_types[t], attr)) for t in v.type_ids if t in state.appt_types
    )


def _prof(state: State, v: Visit, attr: str) -> str:
    prof = state.profiles.get(v.profile_id)
    if prof is None:
        return ""
    return pad(prof.code, 6) if attr == "code" else str(getattr(prof, attr))


def _fac(state: State, v: Visit, attr: str) -> str:
    fac = state.facilities.get(v.facility_id) if v.facility_id else None
    return str(getattr(fac, attr)) if fac else ""


def _confirm(state: State, v: Visit) -> str:
    return v.confirm_method


VISIT_FIELDS: dict[str, VisitField] = {
    "LicenseKey": lambda s, v: s.office_key,
    "Visit_UID": lambda s, v: str(v.id),
    "PatientID": lambda s, v: str(v.patient_id),
    "ColumnHeading": _col,
    "AppointmentType": lambda s, v: _types(s, v, "name"),
    "AppointmentTypeID": lambda s, v: _types(s, v, "id"),
    "VisitStartDateTime": lambda s, v: fmt_iso(v.start),
    "VisitDate": lambda s, v: fmt_mdy(v.start.date()),
    "VisitStartTime": lambda s, v: fmt_clock_12h(v.start),
    "Duration": lambda s, v: str(v.duration),
    "Color": lambda s, v: pad(v.color, 13),
    "ProfileCode": lambda s, v: _prof(s, v, "code"),
    "ProfileUID": lambda s, v: str(v.profile_id),
    "ProviderName": lambda s, v: _prof(s, v, "name"),
    "Comments": lambda s, v: v.comments,
    "ApptStatus": lambda s, v: str(v.status),
    "ArriveTime": lambda s, v: fmt_iso(v.arrive_time),
    "OtherTime": lambda s, v: fmt_iso(v.other_time),
    "SeenTime": lambda s, v: fmt_iso(v.seen_time),
    "ChargesPosted": lambda s, v: "1" if v.charges else "0",
    "InsuranceBillingOrder": lambda s, v: "1",
    "AcceptAssignment": lambda s, v: "1",
    "ForcePaperClaim": lambda s, v: "0",
    "ConfirmMethod": _confirm,
    "ConfirmedAt": lambda s, v: fmt_iso(v.confirmed_at),
    "ConfirmedBy": lambda s, v: "DEMO" if v.confirmed_at else "",
    "Episode": lambda s, v: str(v.episode_id),
    "FacilityCode": lambda s, v: _fac(s, v, "code"),
    "FacilityName": lambda s, v: _fac(s, v, "name"),
    "VisitNote": lambda s, v: "",
    "CreatedAt": lambda s, v: _ms(s, v.created_at),
    "CreatedBy": lambda s, v: v.created_by,
    "ModifiedAt": lambda s, v: _ms(s, v.modified_at),
    "ModifiedBy": lambda s, v: v.modified_by,
}

PATIENT_FIELDS: dict[str, PatientField] = {
    "Name": lambda p: p.name,
    "LastName": lambda p: p.last_first[0],
    "FirstName": lambda p: p.last_first[1].split(" ")[0],
    "DOB": lambda p: p.dob.strftime("%Y-%m-%dT00:00:00"),
    "Sex": lambda p: p.sex,
    "Chart": lambda p: pad(p.chart, 8),
    "SSN": lambda p: pad(p.ssn, 9),
    "HomePhone": lambda p: p.contactinfo.get("homephone", ""),
    "Email": lambda p: p.contactinfo.get("email", ""),
    "Address1": lambda p: p.address.get("address1", ""),
    "Address2": lambda p: p.address.get("address2", ""),
    "City": lambda p: p.address.get("city", ""),
    "State": lambda p: p.address.get("state", ""),
    "Zip": lambda p: pad(p.address.get("zip", ""), 10),
    "ZipCode": lambda p: pad(p.address.get("zip", ""), 10),
    "AdditionalMRN": lambda p: p.additionalmrn,
    "RespParty": lambda p: p.respparty,
    "ProfileID": lambda p: str(p.profile_id),
    "Relationship": lambda p: p.relationship,
    "HipaaRelationship": lambda p: p.hipaarelationship,
}
PATIENT_TIME_FIELDS = {"ChangedAt": "changed_at", "CreatedAt": "created_at"}
VISIT_LOOKUP = {k.lower(): v for k, v in VISIT_FIELDS.items()}
PATIENT_LOOKUP = {k.lower(): v for k, v in PATIENT_FIELDS.items()}
PATIENT_TIME_LOOKUP = {k.lower(): v for k, v in PATIENT_TIME_FIELDS.items()}


def _unknown(kind: str, name: str) -> PPMDFault:
    return PPMDFault(
        codes.INVALID_ATTRIBUTE,
        f"Unknown {kind} field '{name}' in the field template.",
        violation=f"unknown {kind} template field {name!r}",
    )


def check_templates(msg: El) -> None:
    for tmpl in msg.children_named("visit"):
        for name in tmpl.attrs.values():
            if name.lower() not in VISIT_LOOKUP:
                raise _unknown("visit", name)
    for tmpl in msg.children_named("patient"):
        for name in tmpl.attrs.values():
            low = name.lower()
            if low not in PATIENT_LOOKUP and low not in PATIENT_TIME_LOOKUP:
                raise _unknown("patient", name)


def fill_visit(state: State, template: El | None, visit: Visit, target: El) -> None:
    for alias, name in template.attrs.items() if template else []:
        target.attrs[alias] = VISIT_LOOKUP[name.lower()](state, visit)


def fill_patient(state: State, template: El | None, patient: Patient, target: El) -> None:
    for alias, name in template.attrs.items() if template else []:
        low = name.lower()
        if low in PATIENT_TIME_LOOKUP:
            target.attrs[alias] = _ms(state, getattr(patient, PATIENT_TIME_LOOKUP[low]))
        else:
            target.attrs[alias] = PATIENT_LOOKUP[low](patient)

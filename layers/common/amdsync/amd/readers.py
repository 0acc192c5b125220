"""Wire replies -> typed results. Every reader tolerates single/array/null lists (§7.13)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from amdsync.amd.envelope import Reply, Wire, as_list, attr, child, strip_id, text
from amdsync.amd.errors import OVERFLOW
from amdsync.amd.models import (
    AppointmentType,
    Column,
    DateVisits,
    Facility,
    Patient,
    PatientPage,
    PatientSummary,
    Profile,
    Provider,
    Reason,
    RefIdMatch,
    SavedPatient,
    SchedulerAppt,
    SchedulerPage,
    SchedulerSetup,
    UpdatedVisits,
    Visit,
)
from amdsync.domain.timefmt import ServerTime, parse_servertime

# The field template we always request (alias -> AMD field, §3.14). Asking for VisitDate alone
# would drop the time (§7.8), so the composite start and the duration are always included.
VISIT_TEMPLATE: dict[str, str] = {
    "start": "VisitStartDateTime",
    "duration": "Duration",
    "status": "ApptStatus",
    "column": "ColumnHeading",
    "profile": "ProfileCode",
    "type": "AppointmentType",
    "facility": "FacilityCode",
    "patientid": "PatientID",
    "modified": "ModifiedAt",
    # Confirmation is invisible in ApptStatus (0 either way): without it a pull would read a
    # confirmed appointment as merely scheduled and report a change that never happened.
    "confirmed": "ConfirmedAt",
    # Billing: whether charges are posted (dashboard, `/changes` kind "charges"), and the type's
    # id, which beats matching its name. AppointmentTypeID is missing from the vendor's template
    # list but requested by a production client (PROTOCOL §3.14); without it the name is used.
    "charges": "ChargesPosted",
    "typeid": "AppointmentTypeID",
}


def local_datetime(raw: str | None) -> datetime | None:
    """AMD's naive local times: ISO (hour maybe unpadded) or VB long (§4.3); unset -> None."""
    if not raw:
        return None
    try:
        value = parse_servertime(raw)  # the domain's lenient naive reader of both forms
    except ValueError:
        return None
    return None if value.year in (1, 1900) else value


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _id(node: Wire, name: str = "id") -> str | None:
    return strip_id(node.get(f"@{name}"))


# --- lookups ----------------------------------------------------------------------------------
def read_profiles(reply: Reply) -> list[Profile]:
    rows = as_list(child(reply.results, "profilelist", "profile"))
    return [_profile(r) for r in rows if _id(r)]


def _profile(row: Wire) -> Profile:
    return Profile(
        id=_id(row) or "",
        code=attr(row, "code"),
        name=attr(row, "name"),
        status=attr(row, "status"),
        inactive=(attr(row, "fullinactive") or "").lower() in ("yes", "1", "true"),
    )


def read_providers(reply: Reply) -> list[Provider]:
    rows = as_list(child(reply.results, "providerlist", "provider"))
    return [Provider(id=_id(r) or "", code=attr(r, "code"), name=attr(r, "name")) for r in rows]


def read_facilities(reply: Reply) -> list[Facility]:
    """`class=lookup` answers `Results.facilitylist.facility`; `class=api` `record[]` (§3.2)."""
    rows = as_list(child(reply.results, "facilitylist", "facility"))
    if rows:
        return [_facility(r, "id", "name") for r in rows if _id(r)]
    records = as_list(reply.root.get("record")) or as_list(reply.results.get("record"))
    return [_facility(r, "uid", "facilityname") for r in records if _id(r, "uid")]


def _facility(row: Wire, id_attr: str, name_attr: str) -> Facility:
    return Facility(
        id=_id(row, id_attr) or "",
        code=attr(row, "code") or attr(row, "facilitycode"),
        name=attr(row, name_attr) or attr(row, "name"),
    )


def read_appointment_types(reply: Reply) -> list[AppointmentType]:
    out = []
    for row in as_list(child(reply.results, "appttypelist", "appttype")):
        name = attr(row, "name") or ""
        settings = as_list(row.get("appttypesettings"))
        default = next((s for s in settings if not attr(s, "profile")), None)
        out.append(
            AppointmentType(
                id=_id(row) or "",
                name=name.removesuffix("[DELETED]").strip() or None,
                deleted=name.upper().endswith("[DELETED]"),
                default_duration=_int(attr(default, "duration")) if default else None,
            )
        )
    return [t for t in out if t.id]


def read_reasons(reply: Reply) -> list[Reason]:
    """Reason list shapes are undocumented: take the first `*list` of elements with an id."""
    for key, value in reply.results.items():
        if key.startswith("@") or not isinstance(value, dict):
            continue
        for inner_key, inner in value.items():
            rows = [] if inner_key.startswith("@") else as_list(inner)
            if rows and any(_id(r) for r in rows):
                return [
                    Reason(id=_id(r) or "", name=attr(r, "name") or attr(r, "description"))
                    for r in rows
                    if _id(r)
                ]
    return []


def read_scheduler_setup(reply: Reply) -> SchedulerSetup:
    res = reply.results
    return SchedulerSetup(
        pages=tuple(_page(p) for p in as_list(child(res, "pagelist", "page"))),
        columns=tuple(_column(c) for c in as_list(child(res, "columnlist", "column"))),
        profiles=tuple(_profile(p) for p in as_list(child(res, "profilelist", "profile"))),
        facilities=tuple(
            _facility(f, "id", "name") for f in as_list(child(res, "facilitylist", "facility"))
        ),
    )


def _page(row: Wire) -> SchedulerPage:
    ids = (attr(row, "columns") or "").split()
    return SchedulerPage(
        id=_id(row) or "",
        name=attr(row, "name"),
        column_ids=tuple(i for i in (strip_id(x) for x in ids) if i),
    )


def _column(row: Wire) -> Column:
    setting = next(iter(as_list(row.get("columnsetting"))), {})
    return Column(
        id=_id(row) or "",
        name=attr(row, "name"),
        profile_id=_id(row, "profile"),
        facility_id=_id(row, "facility"),
        start=attr(setting, "start"),
        end=attr(setting, "end"),
        interval=_int(attr(setting, "interval")),
        workweek=attr(setting, "workweek"),
        max_per_slot=_int(attr(setting, "maxapptsperslot")),
    )


# --- patients ---------------------------------------------------------------------------------
def read_patient_page(reply: Reply) -> PatientPage:
    plist = child(reply.results, "patientlist")
    rows = as_list(child(plist, "patient"))
    return PatientPage(
        patients=tuple(
            PatientSummary(
                id=_id(r) or "", name=attr(r, "name"), chart=attr(r, "chart"), dob=attr(r, "dob")
            )
            for r in rows
            if _id(r)
        ),
        page=_int(attr(plist, "page")) or 1,
        page_count=_int(attr(plist, "pagecount")) or 1,
        item_count=_int(attr(plist, "itemcount")) or len(rows),
    )


def _attributes(node: Any) -> dict[str, str]:
    """An element's non-empty attributes, names without the `@`; {} for a missing element."""
    if not isinstance(node, dict):
        return {}
    return {k[1:]: v for k, v in ((k, text(v)) for k, v in node.items()) if k[0] == "@" and v}


def read_patient(reply: Reply) -> Patient | None:
    row = next(iter(as_list(child(reply.results, "patientlist", "patient"))), None)
    if row is None or not _id(row):
        return None
    attrs = _attributes(row)
    return Patient(
        id=_id(row) or "",
        name=attrs.get("name"),
        dob=attrs.get("dob"),
        sex=attrs.get("sex"),
        chart=attrs.get("chart"),
        respparty_id=strip_id(attrs.get("respparty")),
        profile_id=strip_id(attrs.get("profile")),
        additional_mrn=attrs.get("additionalmrn"),
        attributes=attrs,
        address=_attributes(row.get("address")),
        contact=_attributes(row.get("contactinfo")),
    )


def read_saved_patient(reply: Reply) -> SavedPatient | None:
    row = next(iter(as_list(child(reply.results, "patientlist", "patient"))), None)
    if row is None or not _id(row):
        return None
    return SavedPatient(id=_id(row) or "", chart=attr(row, "chart"))


# --- visits -----------------------------------------------------------------------------------
def read_visit(row: Wire) -> Visit:
    patient = next(iter(as_list(child(row, "patientlist", "patient"))), None) or child(
        row, "patient"
    )
    fields = {k[1:]: v for k, v in ((k, text(v)) for k, v in row.items()) if k[0] == "@" and v}
    return Visit(
        id=_id(row) or "",
        update_status=(attr(row, "updatestatus") or "").upper() or None,
        start=local_datetime(attr(row, "start")),
        duration=_int(attr(row, "duration")),
        status=_int(attr(row, "status")),
        column=attr(row, "column"),
        profile=attr(row, "profile"),
        appointment_type=attr(row, "type"),
        facility=attr(row, "facility"),
        patient_id=_id(patient) if isinstance(patient, dict) else strip_id(attr(row, "patientid")),
        modified=attr(row, "modified"),
        fields=fields,
    )


def _visits(reply: Reply) -> tuple[Visit, ...]:
    rows = as_list(child(reply.results, "visitlist", "visit"))
    return tuple(read_visit(r) for r in rows if _id(r))


def _servertime(reply: Reply) -> ServerTime | None:
    raw = reply.results.get("@servertime")
    # Verbatim: only surrounding blanks go; the text itself is echoed back later (§7.7).
    return ServerTime(str(raw).strip()) if raw and str(raw).strip() else None


def read_date_visits(reply: Reply) -> DateVisits:
    return DateVisits(servertime=_servertime(reply), visits=_visits(reply))


def read_updated_visits(reply: Reply) -> UpdatedVisits:
    servertime = _servertime(reply)
    if reply.fault is not None and reply.fault.code == OVERFLOW:
        rows = as_list(child(reply.results, "visitlist", "visit"))
        ids = tuple(i for i in (_id(r) for r in rows) if i)
        return UpdatedVisits(servertime=servertime, overflow_ids=ids)
    return UpdatedVisits(servertime=servertime, visits=_visits(reply))


def read_refid_matches(reply: Reply) -> list[RefIdMatch]:
    rows = as_list(child(reply.results, "visitlist", "visit"))
    return [
        RefIdMatch(reference_id=attr(r, "referenceid") or "", visit_id=_id(r))
        for r in rows
        if attr(r, "referenceid")
    ]


def read_scheduler_appts(reply: Reply) -> list[SchedulerAppt]:
    holder: Any = child(reply.results, "apptlist") or child(reply.root, "apptlist")
    rows = as_list(child(holder, "appt"))
    return [
        SchedulerAppt(
            id=_id(r) or "",
            date=attr(r, "date"),
            time=attr(r, "time"),
            column_id=_id(r, "column"),
            patient_id=_id(r, "patient"),
            profile_id=_id(r, "profile"),
            facility_id=_id(r, "facility"),
            status=_int(attr(r, "status")),
        )
        for r in rows
        if _id(r)
    ]

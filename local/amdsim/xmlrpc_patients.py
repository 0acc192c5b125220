"""Patients: lookuppatient, getdemographic, addpatient, updatepatient (PROTOCOL §3.4-§3.7)."""

from __future__ import annotations

import copy
import re
from datetime import date

from . import codes
from .codes import PPMDFault
from .context import Ctx, Reply, results
from .envelope import El
from .model import EV_CHANGE, EV_CREATE, Patient
from .state import strip_prefix
from .timefmt import fmt_mdy, parse_date
from .xmlrpc_lookups import criterion, exact, paged, text_matches

PATIENT_ATTRS = {
    "name", "dob", "deceased", "sex", "title", "ssn", "respparty", "profile", "insorder",
    "relationship", "hipaarelationship", "chart", "maritalstatus", "employer", "employerid",
    "finclass", "additionalmrn",
}  # fmt: skip
ADDRESS_ATTRS = {"zip", "city", "state", "address1", "address2", "countrycode"}
CONTACT_ATTRS = {"homephone", "officephone", "officeext", "otherphone", "othertype", "email",
                 "preferredcommunicationfid", "cellphone"}  # fmt: skip
MODEL_ATTRS = {"name", "sex", "ssn", "respparty", "relationship", "hipaarelationship", "chart",
               "finclass", "additionalmrn"}  # fmt: skip


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def patient_el(p: Patient, *, full: bool) -> El:
    el = El(
        "patient",
        {
            "id": f"pat{p.id}",
            "name": p.name,
            "chart": p.chart.ljust(8),
            "ssn": p.ssn.ljust(9),
            "hipaarelationship": p.hipaarelationship,
            "dob": fmt_mdy(p.dob),
        },
    )
    if full:
        el.attrs.update(
            {
                "sex": p.sex,
                "respparty": "SELF" if p.respparty == "SELF" else f"resp{p.respparty}",
                "profile": f"prof{p.profile_id}",
                "finclasscode": p.finclass or "SP",
                "relationship": p.relationship,
                "additionalmrn": p.additionalmrn,
            }
        )
    addr = dict(p.address)
    addr["zip"] = addr.get("zip", "").ljust(10)
    el.add("address", addr)
    el.add("contactinfo", dict(p.contactinfo))
    return el


def lookup_patient(ctx: Ctx) -> Reply:
    field, wanted = criterion(ctx, ("name", "chart", "ssn", "phone", "dob", "visit"))
    found = [p for p in ctx.state.patients.values() if _match(ctx, p, field, wanted)]
    found.sort(key=lambda p: (p.name, p.id))
    res = results()
    items = [patient_el(p, full=False) for p in found]
    res.children.append(paged("patientlist", items, ctx.msg.attr("page"), honour_page=True))
    return Reply(results=res)


def _match(ctx: Ctx, p: Patient, field: str, wanted: str) -> bool:
    if field in {"", "name"}:
        return text_matches(p.name, wanted, exact(ctx))
    if field == "chart":
        return text_matches(p.chart, wanted, exact(ctx))
    if field == "ssn":
        return bool(p.ssn) and digits(p.ssn) == digits(wanted)
    if field == "phone":
        phones = [digits(v) for k, v in p.contactinfo.items() if k.endswith("phone")]
        return digits(wanted) in phones
    if field == "dob":
        try:
            return p.dob == parse_date(wanted)
        except ValueError as exc:
            raise codes.invalid("dob", wanted, "not a date") from exc
    vid = strip_prefix(wanted)
    visit = ctx.state.visits.get(vid) if vid is not None else None
    return visit is not None and visit.patient_id == p.id


def _patient_by_id(ctx: Ctx, raw: str | None, attr: str) -> Patient:
    pid = strip_prefix(raw)
    patient = ctx.state.patients.get(pid) if pid is not None else None
    if patient is None:
        if not raw:
            raise codes.missing(attr)
        raise PPMDFault(codes.INVALID_ATTRIBUTE, f"Patient {raw} was not found.")
    return patient


def get_demographic(ctx: Ctx) -> Reply:
    patient = _patient_by_id(ctx, ctx.msg.attr("patientid"), "patientid")
    res = results()
    res.add("patientlist").children.append(patient_el(patient, full=True))
    return Reply(results=res)


def _required_patient(ctx: Ctx) -> El:
    plist = ctx.msg.child("patientlist")
    patient = plist.child("patient") if plist else None
    if patient is None:
        raise PPMDFault(
            codes.MISSING_ELEMENT,
            "Missing required element patientlist/patient.",
            violation="missing patientlist/patient",
        )
    return patient


def _parse_dob(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise codes.invalid("dob", text, "not a date") from exc


def _check_new_patient(ctx: Ctx, el: El) -> tuple[str, date, int]:
    for attr in ("chart", "relationship", "hipaarelationship", "profile", "name"):
        if not (el.attr(attr) or "").strip():
            raise codes.missing(attr, "patient")
    name = (el.attr("name") or "").strip().upper()
    if "," not in name:
        raise codes.invalid("name", name, "expected LAST,FIRST")
    dob = _parse_dob(el.attr("dob") or "")
    if (el.attr("sex") or "U").strip().upper() not in {"M", "F", "U"}:
        raise codes.invalid("sex", el.attr("sex") or "", "expected M, F or U")
    if (el.attr("insorder") or "").strip():
        raise codes.invalid(
            "insorder", el.attr("insorder") or "", "must be empty for a new patient"
        )
    profile = strip_prefix(el.attr("profile"))
    if profile is None or profile not in ctx.state.profiles:
        raise codes.invalid("profile", el.attr("profile") or "", "unknown profile")
    return name, dob, profile


def _duplicates(ctx: Ctx, name: str, dob: date, ssn: str, chart: str) -> None:
    for other in ctx.state.patients.values():
        if other.name == name and other.dob == dob:
            raise PPMDFault(codes.DUP_NAME_DOB, "Duplicate patient: name and date of birth match.")
        if ssn and digits(other.ssn) == digits(ssn):
            raise PPMDFault(codes.DUP_SSN, "Duplicate patient: SSN matches an existing patient.")
        if chart != "AUTO" and other.chart.upper() == chart:
            raise PPMDFault(codes.DUP_CHART, "Duplicate patient: chart number already in use.")


def add_patient(ctx: Ctx) -> Reply:
    el = _required_patient(ctx)
    name, dob, profile = _check_new_patient(ctx, el)
    ssn = digits(el.attr("ssn") or "")
    chart = (el.attr("chart") or "").strip().upper()
    if (ctx.msg.attr("force") or "0").strip() != "1":
        _duplicates(ctx, name, dob, ssn, chart)
    state = ctx.state
    pid = state.new_patient_id()
    if chart == "AUTO":
        taken = {p.chart for p in state.patients.values()}
        chart = str(pid)
        while chart in taken:
            chart += "A"
    patient = Patient(
        id=pid,
        name=name,
        dob=dob,
        sex=(el.attr("sex") or "U").strip().upper(),
        chart=chart,
        ssn=ssn,
        relationship=(el.attr("relationship") or "1").strip(),
        hipaarelationship=(el.attr("hipaarelationship") or "18").strip(),
        profile_id=profile,
        finclass=(el.attr("finclass") or "").strip().upper(),
        additionalmrn=(el.attr("additionalmrn") or "").strip().upper(),
    )
    patient.address = _sub_attrs(el.child("address"), ADDRESS_ATTRS)
    patient.contactinfo = _sub_attrs(el.child("contactinfo"), CONTACT_ATTRS)
    instant = ctx.stamp()
    patient.created_at = patient.changed_at = instant
    patient.events.append((instant, EV_CREATE))
    state.patients[pid] = patient
    res = results()
    res.add("patientlist").children.append(patient_el(patient, full=True))
    res.add("resppartylist").add(
        "respparty", {"id": f"resp{pid}", "name": patient.name, "accttype": "4"}
    )
    return Reply(results=res)


def _sub_attrs(el: El | None, allowed: set[str]) -> dict[str, str]:
    if el is None:
        return {}
    out = {}
    for key, value in el.attrs.items():
        low = key.lower()
        if low in allowed:
            out[low] = value.strip() if low == "email" else value.strip().upper()
    return out


def _current(p: Patient, scope: str, attr: str) -> str:
    if scope == "address":
        return p.address.get(attr, "")
    if scope == "contactinfo":
        return p.contactinfo.get(attr, "")
    if attr == "dob":
        return fmt_mdy(p.dob)
    if attr == "profile":
        return str(p.profile_id)
    if attr in MODEL_ATTRS:
        return str(getattr(p, attr))
    return p.extra.get(attr, "")


def _same(attr: str, stored: str, old: str) -> bool:
    if attr == "dob":
        try:
            return parse_date(stored) == parse_date(old)
        except ValueError:
            return False
    if attr in {"profile", "respparty"}:
        return str(strip_prefix(stored) or stored) == str(strip_prefix(old) or old.upper())
    return stored.strip().upper() == old.strip().upper()


def _changes(el: El) -> list[tuple[str, str, str, str | None]]:
    """(scope, attr, new, old) for every changed field in the request."""
    out: list[tuple[str, str, str, str | None]] = []
    scopes = [("patient", el, PATIENT_ATTRS)]
    scopes += [(n, c, a) for n, a in (("address", ADDRESS_ATTRS), ("contactinfo", CONTACT_ATTRS))
               if (c := el.child(n)) is not None]  # fmt: skip
    for scope, node, allowed in scopes:
        lowered = {k.lower(): v for k, v in node.attrs.items()}
        for key, value in lowered.items():
            if key == "id" or key.startswith("o_"):
                continue
            if key not in allowed:
                raise codes.invalid(key, value, "not an updatable field")
            out.append((scope, key, value, lowered.get(f"o_{key}")))
    return out


def update_patient(ctx: Ctx) -> Reply:
    el = _required_patient(ctx)
    patient = _patient_by_id(ctx, el.attr("id"), "id")
    force = (ctx.msg.attr("force") or "0").strip() == "1"
    changes = _changes(el)
    for scope, attr, _new, old in changes:
        if old is None and not force:
            raise codes.missing(f"o_{attr}", scope)
        if old is not None and not _same(attr, _current(patient, scope, attr), old):
            raise PPMDFault(codes.RECORD_CHANGED, "The record was changed by another user.")
    trial = copy.deepcopy(patient)  # validate every value before touching the record
    for scope, attr, new, _old in changes:
        _apply(ctx, trial, scope, attr, new)
    for scope, attr, new, _old in changes:
        _apply(ctx, patient, scope, attr, new)
    if changes:
        instant = ctx.stamp()
        patient.changed_at = instant
        patient.events.append((instant, EV_CHANGE))
    res = results()
    res.add("patientlist").children.append(patient_el(patient, full=True))
    return Reply(results=res)


def _apply(ctx: Ctx, p: Patient, scope: str, attr: str, new: str) -> None:
    value = new.strip() if attr == "email" else new.strip().upper()
    if scope == "address":
        p.address[attr] = value
    elif scope == "contactinfo":
        p.contactinfo[attr] = value
    elif attr == "dob":
        p.dob = _parse_dob(value)
    elif attr == "profile":
        prof = strip_prefix(value)
        if prof is None or prof not in ctx.state.profiles:
            raise codes.invalid("profile", value, "unknown profile")
        p.profile_id = prof
    elif attr == "name" and "," not in value:
        raise codes.invalid("name", value, "expected LAST,FIRST")
    elif attr in MODEL_ATTRS:
        setattr(p, attr, digits(value) if attr == "ssn" else value)
    else:
        p.extra[attr] = value

"""Visits: getdatevisits, getpatientvisits, addvisit, updvisitwithnewcharges,
getvisitidbyrefid (PROTOCOL §3.8, §3.10-§3.13)."""

from __future__ import annotations

from datetime import datetime, time

from . import codes
from .codes import PPMDFault
from .context import Ctx, Reply, results
from .envelope import El
from .fields import check_templates, fill_patient, fill_visit
from .model import EV_CHARGE, EV_CREATE, STATUS_CANCELLED, Charge, Visit
from .state import strip_prefix
from .timefmt import fmt_mdy, parse_date
from .xmlrpc_patients import _patient_by_id


def visit_rows(ctx: Ctx, visits: list[Visit], *, nested_patient: bool, parent: El) -> None:
    """Append `visit` rows filled from the request's templates to `parent`."""
    vt = ctx.msg.child("visit")
    pt = ctx.msg.child("patient")
    for v in visits:
        row = parent.add("visit", {"id": str(v.id)})
        fill_visit(ctx.state, vt, v, row)
        patient = ctx.state.patients.get(v.patient_id)
        holder = row if nested_patient else row.add("patientlist")
        pel = holder.add("patient", {"id": str(v.patient_id)})
        if patient is not None:
            fill_patient(ctx.state, pt, patient, pel)


def get_date_visits(ctx: Ctx) -> Reply:
    raw = (ctx.msg.attr("visitdate") or "").strip()
    if not raw:
        raise codes.missing("visitdate")
    if any(sep in raw for sep in (",", ";", " - ", " to ")):
        raise codes.invalid("visitdate", raw, "exactly one date is accepted")
    try:
        day = parse_date(raw)
    except ValueError as exc:
        raise codes.invalid("visitdate", raw, "not a date") from exc
    check_templates(ctx.msg)
    visits = sorted(
        (v for v in ctx.state.visits.values() if v.is_appt and v.start.date() == day),
        key=lambda v: (v.start, v.id),
    )
    servertime, _ = ctx.servertime()
    res = results(success=None)
    res.attrs = {"servertime": servertime, "visitcount": str(len(visits))}
    visit_rows(ctx, visits, nested_patient=True, parent=res.add("visitlist"))
    return Reply(results=res)


def get_patient_visits(ctx: Ctx) -> Reply:
    patient = _patient_by_id(ctx, ctx.msg.attr("patientid"), "patientid")
    check_templates(ctx.msg)
    type_filter = strip_prefix(ctx.msg.attr("appttypeid"))
    status_raw = (ctx.msg.attr("apptstatusid") or "").strip()
    visits = [
        v
        for v in ctx.state.visits.values()
        if v.patient_id == patient.id
        and v.is_appt
        and v.status < STATUS_CANCELLED
        and (type_filter is None or type_filter in v.type_ids)
        and (not status_raw or str(v.status) == status_raw)
    ]
    visits.sort(key=lambda v: (v.start, v.id))
    servertime, _ = ctx.servertime()
    res = results()
    res.attrs.update({"servertime": servertime, "visitcount": str(len(visits))})
    visit_rows(ctx, visits, nested_patient=False, parent=res.add("visitlist"))
    return Reply(results=res)


def add_visit(ctx: Ctx) -> Reply:
    appt = ctx.msg.child("appt")
    if appt is None:
        raise PPMDFault(
            codes.MISSING_ELEMENT, "Missing required element appt.", violation="missing appt"
        )
    patient = _patient_by_id(ctx, appt.attr("patient"), "patient")
    profile = strip_prefix(appt.attr("profile"))
    if profile is None or profile not in ctx.state.profiles:
        raise codes.invalid("profile", appt.attr("profile") or "", "unknown profile")
    raw_date = (appt.attr("date") or "").strip()
    try:
        day = parse_date(raw_date) if raw_date else ctx.local_now().date()
    except ValueError as exc:
        raise codes.invalid("date", raw_date, "not a date") from exc
    visit = Visit(
        id=ctx.state.new_visit_id(),
        patient_id=patient.id,
        profile_id=profile,
        start=datetime.combine(day, time()),
        duration=0,
        is_appt=False,
    )
    visit.record(ctx.stamp(), EV_CREATE, ctx.username)
    ctx.state.visits[visit.id] = visit
    res = results()
    vel = res.add(
        "visit",
        {
            "id": f"vst{visit.id}",
            "date": fmt_mdy(day),
            "isappt": "0",
            "profile": f"prof{profile}",
            "episode": f"eps{visit.episode_id}",
            "insorder": "",
            "note": "",
            "forcepaper": "0",
        },
    )
    vel.add("chargelist")
    vel.add("extins")
    res.add("notelist")
    return Reply(results=res)


def _charges(visit_el: El) -> list[El]:
    clist = visit_el.child("chargelist")
    charges = clist.children_named("charge") if clist is not None else []
    if not charges:
        raise PPMDFault(
            codes.MISSING_ELEMENT,
            "Missing required element visit/chargelist/charge.",
            violation="missing chargelist/charge",
        )
    return charges


def update_visit_with_charges(ctx: Ctx) -> Reply:
    visit_el = ctx.msg.child("visit")
    if visit_el is None:
        raise PPMDFault(
            codes.MISSING_ELEMENT, "Missing required element visit.", violation="missing visit"
        )
    vid = strip_prefix(visit_el.attr("id"))
    visit = ctx.state.visits.get(vid) if vid is not None else None
    if visit is None:
        raise PPMDFault(codes.INVALID_VISIT, "Invalid visit id.")
    patient_raw = ctx.msg.attr("patientid")
    if patient_raw and strip_prefix(patient_raw) != visit.patient_id:
        raise codes.invalid("patientid", patient_raw, "does not match the visit")
    charges = _charges(visit_el)
    force = (visit_el.attr("force") or "0").strip() == "1"
    if visit.charges and not force:
        raise PPMDFault(codes.INVALID_ELEMENT, "Charges already exist on this visit.")
    instant = ctx.stamp()
    new = [
        Charge(
            proccode=(c.attr("proccode") or "").strip(),
            fee=(c.attr("fee") or "0").strip(),
            units=(c.attr("units") or "1").strip(),
            posted_at=instant,
        )
        for c in charges
    ]
    visit.charges = new if force else visit.charges + new
    ref = (visit_el.attr("referenceid") or "").strip()
    if ref:
        visit.referenceid = ref
    visit.record(instant, EV_CHARGE, ctx.username)
    return Reply(results=results())


def get_visit_id_by_refid(ctx: Ctx) -> Reply:
    vlist = ctx.msg.child("visitlist")
    refs = [
        (v.attr("referenceid") or "").strip()
        for v in (vlist.children_named("visit") if vlist is not None else [])
    ]
    if not any(refs):
        raise PPMDFault(
            codes.MISSING_ELEMENT,
            "At least one visit with a non-empty referenceid is required.",
            violation="getvisitidbyrefid without a referenceid",
        )
    index: dict[str, int] = {}
    for visit in sorted(ctx.state.visits.values(), key=lambda v: v.id):
        if visit.referenceid:
            index.setdefault(visit.referenceid.upper(), visit.id)
    res = results()
    out = res.add("visitlist")
    for ref in refs:
        row = out.add("visit", {"referenceid": ref})
        if ref.upper() in index:
            row.attrs["id"] = str(index[ref.upper()])
    return Reply(results=res)

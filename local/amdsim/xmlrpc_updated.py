"""Change feeds: getupdatedvisits (with overflow and chunk mode), getvisitsbyid,
getupdatedvisitstemplate, getupdatedpatients (PROTOCOL §3.14-§3.15)."""

from __future__ import annotations

from datetime import datetime

from . import codes
from .codes import PPMDFault
from .context import Ctx, Reply, results
from .envelope import El
from .fields import PATIENT_FIELDS, PATIENT_TIME_FIELDS, VISIT_FIELDS, check_templates, fill_patient
from .model import EV_CHARGE, EV_CREATE, EV_DELETE, Visit
from .state import strip_prefix
from .timefmt import end_of_second, parse_datechanged, to_utc
from .xmlrpc_visits import visit_rows


def _window(ctx: Ctx, *, required: bool = True) -> tuple[datetime, datetime] | None:
    raw = (ctx.msg.attr("datechanged") or "").strip()
    if not raw:
        if required:
            raise codes.missing("datechanged")
        return None
    cfg = ctx.config
    try:
        local = parse_datechanged(raw, strict=cfg.datechanged_strict_format)
    except ValueError as exc:
        raise codes.invalid("datechanged", raw, "not a servertime value") from exc
    if cfg.datechanged_must_be_issued and raw not in ctx.state.issued_servertimes[ctx.office_key]:
        raise codes.invalid("datechanged", raw, "not a servertime this server issued")
    low = to_utc(local, ctx.tz)
    if cfg.window_end == "servertime" or ctx.msgtime is None:
        return low, ctx.now.replace(year=9999)
    return low, to_utc(end_of_second(ctx.msgtime), ctx.tz)


def update_flag(events: list[tuple[datetime, str]], low: datetime, high: datetime) -> str | None:
    kinds = {kind for instant, kind in events if low < instant <= high}
    if not kinds:
        return None
    if EV_CREATE in kinds:
        return None if EV_DELETE in kinds else "N"
    if EV_DELETE in kinds or EV_CHARGE in kinds:
        return "D"
    return "C"


def _chunk_ids(ctx: Ctx, *, required: bool, list_name: str = "visitlist") -> list[int] | None:
    vlist = ctx.msg.child(list_name)
    if vlist is None and not required:
        return None
    ids = [strip_prefix(v.attr("id")) for v in (vlist.children if vlist is not None else [])]
    clean = [i for i in ids if i is not None]
    if not clean:
        raise PPMDFault(
            codes.BAD_REQUEST,
            "The request body is invalid.",
            extrainfo="The visitlist element must contain at least one visit id.",
            violation="empty visitlist",
        )
    if len(clean) > ctx.config.chunk_limit:
        raise PPMDFault(
            codes.BAD_REQUEST,
            f"At most {ctx.config.chunk_limit} ids may be sent per request.",
            violation=f"chunk of {len(clean)} ids exceeds {ctx.config.chunk_limit}",
        )
    return clean


def _gap_warning(ctx: Ctx, high: datetime, served: datetime) -> None:
    if (served - high).total_seconds() > 1:
        ctx.sim.metrics.add("window_gap_warnings")


def get_updated_visits(ctx: Ctx) -> Reply:
    check_templates(ctx.msg)
    single = strip_prefix(ctx.msg.attr("visitid"))
    window = _window(ctx, required=single is None)
    chunk = _chunk_ids(ctx, required=False)
    typed_only = (ctx.msg.attr("ignoreappttypes") or "0").strip() != "1"
    if single is not None:
        pool = [v for v in [ctx.state.visits.get(single)] if v is not None]
    elif chunk is not None:
        pool = [v for i in chunk if (v := ctx.state.visits.get(i)) is not None]
    else:
        pool = list(ctx.state.visits.values())
    matched: list[tuple[Visit, str]] = []
    for visit in sorted(pool, key=lambda v: v.id):
        if typed_only and not visit.type_ids:
            continue
        flag = update_flag(visit.events, *window) if window else "C"
        if flag is not None:
            matched.append((visit, flag))
    if chunk is None and single is None and len(matched) > ctx.config.overflow_threshold:
        return _overflow(ctx, matched)
    servertime, served = ctx.servertime()
    if window:
        _gap_warning(ctx, window[1], served)
    res = results(success=None)
    res.attrs = {"servertime": servertime, "visitcount": str(len(matched))}
    vlist = res.add("visitlist")
    visit_rows(ctx, [v for v, _ in matched], nested_patient=False, parent=vlist)
    for row, (_, flag) in zip(vlist.children, matched, strict=True):
        row.attrs = {"id": row.attrs["id"], "updatestatus": flag, **row.attrs}
    return Reply(results=res)


def _overflow(ctx: Ctx, matched: list[tuple[Visit, str]]) -> Reply:
    res = results(success=None)
    if ctx.config.overflow_includes_servertime:
        res.attrs = {"servertime": ctx.servertime()[0], "visitcount": str(len(matched))}
    vlist = res.add("visitlist")
    for visit, _ in matched:
        vlist.add("visit", {"id": str(visit.id)})
    fault = PPMDFault(
        codes.OVER_1000,
        f"More than {ctx.config.overflow_threshold} results; only visit ids are returned. "
        f"Resubmit them in chunks of at most {ctx.config.chunk_limit}.",
    ).fault
    return Reply(results=res, fault=fault)


def get_visits_by_id(ctx: Ctx) -> Reply:
    check_templates(ctx.msg)
    ids = _chunk_ids(ctx, required=True) or []
    window = _window(ctx, required=False)
    visits = [v for i in ids if (v := ctx.state.visits.get(i)) is not None]
    servertime, _ = ctx.servertime()
    res = results(success=None)
    res.attrs = {"servertime": servertime, "visitcount": str(len(visits))}
    vlist = res.add("visitlist")
    visit_rows(ctx, visits, nested_patient=False, parent=vlist)
    for row, visit in zip(vlist.children, visits, strict=True):
        flag = (update_flag(visit.events, *window) if window else None) or "C"
        tele = any(
            t in ctx.state.appt_types and ctx.state.appt_types[t].telemedicine
            for t in visit.type_ids
        )
        row.attrs = {
            "id": row.attrs["id"],
            "updatestatus": flag,
            "istelemedicine": "1" if tele else "0",
            **row.attrs,
        }
    return Reply(results=res)


def updated_visits_template(ctx: Ctx) -> Reply:
    res = results()
    res.add("visit", {name: name for name in VISIT_FIELDS})
    res.add("patient", {name: name for name in [*PATIENT_FIELDS, *PATIENT_TIME_FIELDS]})
    return Reply(results=res)


def get_updated_patients(ctx: Ctx) -> Reply:
    check_templates(ctx.msg)
    single = strip_prefix(ctx.msg.attr("patientid"))
    window = _window(ctx, required=single is None)
    chunk = _chunk_ids(ctx, required=False, list_name="patientlist")
    if single is not None:
        pool = [p for p in [ctx.state.patients.get(single)] if p is not None]
    elif chunk is not None:
        pool = [p for i in chunk if (p := ctx.state.patients.get(i)) is not None]
    else:
        pool = list(ctx.state.patients.values())
    rows: list[El] = []
    for patient in sorted(pool, key=lambda p: p.id):
        flag = update_flag(patient.events, *window) if window else "C"
        if flag is None:
            continue
        row = El("patient", {"id": str(patient.id), "updatestatus": flag})
        fill_patient(ctx.state, ctx.msg.child("patient"), patient, row)
        rows.append(row)
    if chunk is None and single is None and len(rows) > ctx.config.overflow_threshold:
        res = results(success=None)
        res.add("patientlist").children = [El("patient", {"id": r.attrs["id"]}) for r in rows]
        fault = PPMDFault(codes.OVER_1000, "More than 1000 results; only ids are returned.")
        return Reply(results=res, fault=fault.fault)
    servertime, _ = ctx.servertime()
    res = results(success=None)
    res.attrs = {"servertime": servertime, "patientcount": str(len(rows))}
    res.add("patientlist").children = rows
    return Reply(results=res)

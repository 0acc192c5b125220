"""XMLRPC scheduler class: getAppts day view and `update` in confirm mode (PROTOCOL §3.9, §3.16)."""

from __future__ import annotations

from . import codes
from .codes import PPMDFault
from .context import Ctx, Reply, results
from .envelope import PPMD_NS, El
from .model import EV_CHANGE, STATUS_DELETED, Visit
from .state import strip_prefix
from .timefmt import fmt_mdy, parse_date, to_local


def appt_el(ctx: Ctx, v: Visit) -> El:
    types = [ctx.state.appt_types[t].name for t in v.type_ids if t in ctx.state.appt_types]
    return El(
        "ppmd:appt",
        {
            "id": f"appt{v.id}",
            "date": fmt_mdy(v.start.date()),
            "time": v.start.strftime("%H:%M"),
            "duration": str(v.duration),
            "column": f"col{v.column_id}",
            "patient": f"pat{v.patient_id}",
            "profile": f"prof{v.profile_id}",
            "facility": f"fac{v.facility_id}",
            "status": str(v.status),
            "checkintime": v.arrive_time.strftime("%H:%M") if v.arrive_time else "",
            "checkouttime": v.seen_time.strftime("%H:%M") if v.seen_time else "",
            "typestext": ", ".join(types),
            "confmeth": v.confirm_method and f"cm{_cm_id(ctx, v.confirm_method)}",
        },
    )


def _cm_id(ctx: Ctx, name: str) -> int:
    return next((k for k, v in ctx.state.confirm_methods.items() if v == name), 0)


def _apptlist(ctx: Ctx, visits: list[Visit]) -> El:
    lst = El("ppmd:apptlist", {"xmlns:ppmd": PPMD_NS})
    lst.children = [appt_el(ctx, v) for v in visits]
    return lst


def get_appts(ctx: Ctx) -> Reply:
    raw = (ctx.msg.attr("date") or "").strip()
    if not raw:
        raise codes.missing("date")
    try:
        day = parse_date(raw)
    except ValueError as exc:
        raise codes.invalid("date", raw, "not a date") from exc
    cols_raw = (ctx.msg.attr("columns") or "").replace(",", " ").split()
    if not cols_raw:
        raise codes.missing("columns")
    cols = {strip_prefix(c) for c in cols_raw}
    unknown = [c for c in cols if c not in ctx.state.columns]
    if unknown:
        raise codes.invalid("columns", " ".join(cols_raw), "unknown column")
    visits = sorted(
        (
            v
            for v in ctx.state.visits.values()
            if v.is_appt
            and v.column_id in cols
            and v.start.date() == day
            and v.status != STATUS_DELETED
        ),
        key=lambda v: (v.start, v.id),
    )
    res = results()
    res.children.append(_apptlist(ctx, visits))
    return Reply(results=res)


def scheduler_update(ctx: Ctx) -> Reply:
    if (ctx.msg.attr("mode") or "").strip().lower() != "confirm":
        raise codes.invalid("mode", ctx.msg.attr("mode") or "", "only mode='confirm' is supported")
    appt = ctx.msg.child("appt")
    if appt is None:
        raise PPMDFault(
            codes.MISSING_ELEMENT, "Missing required element ppmd:appt.", violation="missing appt"
        )
    visit = ctx.state.appointment(strip_prefix(appt.attr("id")))
    if visit is None:
        raise PPMDFault(codes.INVALID_VISIT, "Invalid appointment id.")
    method = strip_prefix(appt.attr("confmeth"))
    if method is None or method not in ctx.state.confirm_methods:
        raise codes.invalid("confmeth", appt.attr("confmeth") or "", "unknown confirmation method")
    instant = ctx.stamp()
    visit.confirm_method = ctx.state.confirm_methods[method]
    visit.confirmed_at = to_local(instant, ctx.tz)
    visit.record(instant, EV_CHANGE, ctx.username)
    res = results()
    res.children.append(_apptlist(ctx, [visit]))
    return Reply(results=res)

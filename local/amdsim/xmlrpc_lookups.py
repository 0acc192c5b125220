"""Lookups and master files: providers/profiles, facilities, scheduler setup, appointment
types, cancel/no-show reasons, confirmation methods (PROTOCOL §3.1-§3.3)."""

from __future__ import annotations

import math

from . import codes
from .codes import PPMDFault
from .context import Ctx, Reply, results
from .envelope import El
from .model import Facility
from .state import strip_prefix

PAGE_SIZE = 50


def criterion(ctx: Ctx, names: tuple[str, ...]) -> tuple[str, str]:
    """The one non-empty criterion of a lookup (name, value); ('', '') for none."""
    given = [(n, (ctx.msg.attr(n) or "").strip()) for n in names]
    given = [(n, v) for n, v in given if v]
    if len(given) > 1:
        raise PPMDFault(
            codes.INVALID_ATTRIBUTE,
            "Only one lookup criterion may be given per call.",
            violation="more than one lookup criterion",
        )
    return given[0] if given else ("", "")


def text_matches(value: str, wanted: str, exact: bool) -> bool:
    want = wanted.strip().upper()
    have = value.strip().upper()
    if not want:
        return True
    if exact:
        return have == want.lstrip("%")
    if want.startswith("%"):
        return want[1:] in have
    return have.startswith(want)


def exact(ctx: Ctx) -> bool:
    return (ctx.msg.attr("exactmatch") or "-1").strip() == "1"


def paged(list_name: str, items: list[El], page_attr: str | None, honour_page: bool) -> El:
    total = len(items)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = 1
    if honour_page and page_attr and page_attr.strip().isdigit():
        page = min(max(1, int(page_attr.strip())), pages)
    chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    first = (page - 1) * PAGE_SIZE + 1 if chunk else 0
    out = El(list_name)
    out.attrs = {
        "itemcount": str(total),
        "page": str(page),
        "pagecount": str(pages),
        "itemsfrom": str(first),
        "itemsto": str(first + len(chunk) - 1 if chunk else 0),
    }
    out.children = chunk
    return out


def lookup_profile(ctx: Ctx) -> Reply:
    field, wanted = criterion(ctx, ("name", "code"))
    items = []
    for prof in sorted(ctx.state.profiles.values(), key=lambda p: p.name):
        value = prof.code if field == "code" else prof.name
        if not text_matches(value, wanted, exact(ctx)):
            continue
        items.append(
            El(
                "profile",
                {
                    "id": f"prof{prof.id}",
                    "code": prof.code.ljust(6),
                    "name": prof.name,
                    "chargefeesched": "feesch1",
                    "fullinactive": "No" if prof.active else "Yes",
                    "status": "ACTIVE" if prof.active else "INACTIVE",
                    "codesetpreference": "10",
                    "email": prof.email,
                    "isinstitutional": "0",
                },
            )
        )
    res = results()
    res.children.append(paged("profilelist", items, None, honour_page=False))
    return Reply(results=res)


def lookup_provider(ctx: Ctx) -> Reply:
    field, wanted = criterion(ctx, ("name", "code"))
    items = []
    for prof in sorted(ctx.state.profiles.values(), key=lambda p: p.name):
        value = prof.code if field == "code" else prof.name
        if text_matches(value, wanted, exact(ctx)):
            items.append(
                El(
                    "provider",
                    {
                        "id": f"mprov{prof.provider_id}",
                        "code": prof.code.ljust(6),
                        "name": prof.name,
                    },
                )
            )
    res = results()
    res.children.append(paged("providerlist", items, None, honour_page=False))
    return Reply(results=res)


def _facility_record(fac: Facility) -> El:
    return El(
        "record",
        {
            "uid": str(fac.id),
            "code": fac.code,
            "facilitycode": fac.code,
            "facilityname": fac.name,
            "facilitytype": "11",
            "facilitynpi": fac.npi,
            "address1": fac.address1,
            "address2": "",
            "city": fac.city,
            "state": fac.state,
            "zipcode": fac.zipcode.ljust(10),
            "officephone": fac.phone,
            "display": f"{fac.code} - {fac.name}",
            "changedat": "2024-01-02T08:00:00.000",
            "pos": "11",
        },
    )


def lookup_facility(ctx: Ctx) -> Reply:
    field, wanted = criterion(ctx, ("code", "name"))
    facilities = [
        f
        for f in sorted(ctx.state.facilities.values(), key=lambda f: f.id)
        if text_matches(f.name if field == "name" else f.code, wanted, exact(ctx))
    ]
    if (ctx.msg.attr("class") or "").lower() == "api":
        return Reply(omit_results=True, top_level=[_facility_record(f) for f in facilities])
    items = [
        El("facility", {"id": f"fac{f.id}", "code": f.code, "name": f.name, "npi": f.npi})
        for f in facilities
    ]
    res = results()
    res.children.append(paged("facilitylist", items, None, honour_page=False))
    return Reply(results=res)


def select_facility(ctx: Ctx) -> Reply:
    fid = strip_prefix(ctx.msg.attr("id") or ctx.msg.attr("facilityid"))
    fac = ctx.state.facilities.get(fid) if fid is not None else None
    if fac is None:
        raise codes.invalid("id", ctx.msg.attr("id") or "", "unknown facility")
    res = results()
    res.add("facility", {"id": f"fac{fac.id}", "code": fac.code, "name": fac.name, "npi": fac.npi})
    return Reply(results=res)


def scheduler_setup(ctx: Ctx) -> Reply:
    state = ctx.state
    res = results()
    pages = res.add("pagelist")
    for page in state.pages.values():
        cols = " ".join(f"col{c}" for c in page.column_ids)
        pages.add("page", {"id": f"pg{page.id}", "name": page.name, "columns": cols})
    cols_el = res.add("columnlist")
    for col in state.columns.values():
        el = cols_el.add(
            "column",
            {
                "id": f"col{col.id}",
                "name": col.name,
                "profile": f"prof{col.profile_id}",
                "facility": f"fac{col.facility_id}",
            },
        )
        el.add(
            "columnsetting",
            {
                "start": col.start,
                "end": col.end,
                "interval": str(col.interval),
                "workweek": col.workweek,
                "maxapptsperslot": str(col.max_per_slot),
            },
        )
    profs = res.add("profilelist")
    for prof in state.profiles.values():
        profs.add(
            "profile", {"id": f"prof{prof.id}", "code": prof.code.ljust(6), "name": prof.name}
        )
    facs = res.add("facilitylist")
    for fac in state.facilities.values():
        facs.add("facility", {"id": f"fac{fac.id}", "code": fac.code, "name": fac.name})
    return Reply(results=res)


def appt_types(ctx: Ctx) -> Reply:
    res = results()
    lst = res.add("appttypelist")
    for t in ctx.state.appt_types.values():
        el = lst.add(
            "appttype",
            {
                "id": f"ap_type{t.id}",
                "name": t.name,
                "default": "0",
                "billable": "1" if t.billable else "0",
                "istelemedicine": "1" if t.telemedicine else "0",
                "isgroupappt": "1" if t.group else "0",
                "requireauthorization": "0",
                "hide": "1" if t.hide else "0",
            },
        )
        el.add(
            "appttypesettings",
            {
                "id": f"ats{t.id}",
                "profile": "",
                "duration": str(t.duration),
                "color": t.color.ljust(13),
            },
        )
    return Reply(results=res)


def cancel_reasons(ctx: Ctx) -> Reply:
    res = results()
    lst = res.add("cancelreasonlist")
    for r in ctx.state.reasons.values():
        lst.add(
            "cancelreason",
            {"id": str(r.id), "code": f"R{r.id}", "description": r.name, "type": r.kind},
        )
    return Reply(results=res)


def confirm_methods(ctx: Ctx) -> Reply:
    res = results()
    lst = res.add("confmethodlist")
    for cid, name in ctx.state.confirm_methods.items():
        lst.add("confmethod", {"id": f"cm{cid}", "name": name})
    return Reply(results=res)

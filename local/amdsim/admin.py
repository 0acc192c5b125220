"""The simulator's own admin API under `/_sim/` (never part of AdvancedMD's surface)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from . import admin_edits
from .rest_render import appointment_json
from .state import strip_prefix
from .wire import HttpError, Request, Response, json_response

if TYPE_CHECKING:
    from .app import Simulator


def handle_admin(sim: Simulator, req: Request) -> Response:
    parts = [p for p in req.path.split("/") if p][1:]
    try:
        data = req.json() if req.method in {"POST", "PUT"} else None
    except ValueError:
        return json_response(400, {"error": "body must be JSON"})
    data = data if isinstance(data, dict) else {}
    try:
        return json_response(200, _route(sim, req, parts, data))
    except HttpError as err:
        return json_response(err.status, {"error": err.detail})
    except (ValueError, TypeError, KeyError) as err:
        return json_response(400, {"error": str(err)})


def _route(sim: Simulator, req: Request, parts: list[str], data: dict[str, Any]) -> Any:
    head = parts[0] if parts else ""
    method = req.method
    simple: dict[tuple[str, str], Callable[[], Any]] = {
        ("GET", "report"): sim.report,
        ("GET", "health"): lambda: {"ok": True},
        ("POST", "reset"): lambda: _reset(sim, data),
        ("POST", "seed"): lambda: sim.reseed(**_seed_args(data)),
        ("GET", "clock"): lambda: _clock_view(sim),
        ("POST", "clock"): lambda: _clock(sim, data),
        ("GET", "faults"): lambda: {"pending": sim.faults.describe()},
        ("POST", "faults"): lambda: _faults(sim, data),
        ("DELETE", "faults"): lambda: _faults(sim, {"clear": True}),
        ("POST", "latency"): lambda: _latency(sim, data),
        ("GET", "config"): sim.config.as_dict,
        ("POST", "config"): lambda: _config(sim, data),
        ("POST", "tokens"): lambda: _tokens(sim, parts),
    }
    fn = simple.get((method, head))
    if fn is not None and (len(parts) == 1 or head == "tokens"):
        return fn()
    if head == "appointments":
        return _appointments(sim, req, parts[1:], data)
    if head == "patients":
        return _patients(sim, req, parts[1:], data)
    raise HttpError(404, f"unknown admin route {method} {req.path}")


def _seed_args(data: dict[str, Any]) -> dict[str, int]:
    return {k: int(data[k]) for k in ("seed", "patients", "appointments") if k in data}


def _reset(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    instant = _instant(data["clock"]) if data.get("clock") else None
    switches = data.get("config") or {}
    if not isinstance(switches, dict):
        raise ValueError("reset: config must be an object of switches")
    return sim.reset(
        clock=instant,
        frozen=bool(data.get("frozen", False)),
        config=switches,
        **_seed_args(data),
    )


def _instant(text: object) -> datetime:
    instant = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _clock_view(sim: Simulator) -> dict[str, Any]:
    """`now`/`local`: the simulated (product-side) clock; `amd`: AMD's clock (offset applied)."""
    view = sim.clock.describe()
    view["local"] = sim.clock.now().astimezone(sim.tz).isoformat()
    amd = sim.amd_clock.describe()
    amd["local"] = sim.amd_clock.now().astimezone(sim.tz).isoformat()
    view["amd"] = amd
    return view


def _clock(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("real"):
        sim.clock.follow_real_time()
    if "set" in data:
        sim.clock.set(_instant(data["set"]), frozen=bool(data.get("frozen", True)))
    elif data.get("freeze"):
        sim.clock.freeze()
    if "advance_seconds" in data:
        sim.clock.advance(float(data["advance_seconds"]))
    return _clock_view(sim)


def _faults(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("clear"):
        sim.faults.clear()
    else:
        sim.faults.add(data)
    return {"pending": sim.faults.describe()}


def _latency(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    sim.config.latency_ms = max(0, int(data.get("ms", 0)))
    return {"latency_ms": sim.config.latency_ms}


def _config(sim: Simulator, data: dict[str, Any]) -> dict[str, Any]:
    sim.config.update(data)
    return sim.config.as_dict()


def _tokens(sim: Simulator, parts: list[str]) -> dict[str, Any]:
    if parts[1:] != ["expire"]:
        raise HttpError(404, "use POST /_sim/tokens/expire")
    now = sim.amd_clock.now()
    with sim.state.lock:
        for token in sim.state.tokens.values():
            token.ended_early = token.ended_early or token.expires_at > now
            token.expires_at = min(token.expires_at, now)
        return {"expired": len(sim.state.tokens)}


def visit_view(sim: Simulator, vid: int) -> dict[str, Any]:
    visit = sim.state.visits.get(vid)
    if visit is None:
        raise HttpError(404, f"no visit {vid}")
    data = appointment_json(sim.state, visit)
    data["isappt"] = visit.is_appt
    data["charges"] = [{"proccode": c.proccode, "fee": c.fee} for c in visit.charges]
    data["events"] = [{"at": t.isoformat(), "kind": k} for t, k in visit.events]
    return data


def _appointments(sim: Simulator, req: Request, rest: list[str], data: dict[str, Any]) -> Any:
    with sim.state.lock:
        if not rest and req.method == "GET":
            return _list_visits(sim, req)
        if not rest and req.method == "POST":
            return visit_view(sim, admin_edits.create_appointment(sim, data).id)
        vid = strip_prefix(rest[0]) if rest else None
        if vid is None:
            raise HttpError(404, "appointment id required")
        if len(rest) == 1 and req.method == "GET":
            return visit_view(sim, vid)
        if len(rest) == 1 and req.method == "POST":
            admin_edits.edit_appointment(sim, vid, data)
            return visit_view(sim, vid)
        if rest[1:] == ["charges"] and req.method == "POST":
            admin_edits.post_charges(sim, vid, data)
            return visit_view(sim, vid)
    raise HttpError(404, "unknown appointments route")


def _list_visits(sim: Simulator, req: Request) -> list[dict[str, Any]]:
    day = req.param("date")
    patient = strip_prefix(req.param("patientid"))
    include_visits = req.param("all") == "1"
    rows = []
    for visit in sorted(sim.state.visits.values(), key=lambda v: v.id):
        if not visit.is_appt and not include_visits:
            continue
        if day and visit.start.date() != date.fromisoformat(day):
            continue
        if patient is not None and visit.patient_id != patient:
            continue
        rows.append(visit_view(sim, visit.id))
    return rows


def _patients(sim: Simulator, req: Request, rest: list[str], data: dict[str, Any]) -> Any:
    with sim.state.lock:
        if not rest and req.method == "GET":
            name = (req.param("name") or "").upper()
            return [
                admin_edits.patient_view(p)
                for p in sorted(sim.state.patients.values(), key=lambda p: p.id)
                if name in p.name
            ]
        pid = strip_prefix(rest[0]) if rest else None
        patient = sim.state.patients.get(pid) if pid is not None else None
        if patient is None:
            raise HttpError(404, "no such patient")
        if req.method == "POST":
            admin_edits.edit_patient(sim, patient, data)
        return admin_edits.patient_view(patient)

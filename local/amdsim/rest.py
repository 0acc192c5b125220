"""Scheduler REST under `/api/<api-host>/<APP>/...`: routing, Bearer auth, rate limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import auth, codes, rest_appointments
from .codes import PPMDFault
from .context import Reply
from .faults import FaultRule
from .model import Token
from .rest_render import column_json, error_body
from .state import strip_prefix
from .wire import HttpError, Request, Response, json_response
from .xmlrpc import render_reply

if TYPE_CHECKING:
    from .app import Simulator

APPT_ACTIONS = {
    "checkin", "checkout", "move", "cancel", "noshow", "uncheckin", "uncheckout", "uncancel",
}  # fmt: skip


def action_name(method: str, parts: list[str]) -> str:
    """A stable name for fault matching and the report, e.g. `appointments.checkin`."""
    low = [p.lower() for p in parts]
    if low[:2] == ["scheduler", "appointments"]:
        if len(low) == 2:
            return "appointments.create" if method == "POST" else "appointments.list"
        if len(low) == 3:
            if low[2] in {"current", "waitlist"}:
                return f"appointments.{low[2]}"
            return {"GET": "appointments.get", "PUT": "appointments.edit"}.get(
                method, "appointments.delete"
            )
        return f"appointments.{low[3]}"
    return "rest." + ".".join(low[:2]) if low else "rest"


def handle_rest(sim: Simulator, req: Request, host: str, app: str, parts: list[str]) -> Response:
    action = action_name(req.method, parts)
    rule = sim.faults.take(action, req.path)
    if rule is not None:
        early = sim.pre_fault(rule, as_json=True)
        if early is not None:
            return early
    now = sim.amd_clock.now()
    try:
        resp = _serve(sim, req, host=host, app=app, parts=parts, action=action, rule=rule)
    except HttpError as err:
        title = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
        body = err.body or error_body(err.status, title.get(err.status, "Error"), err.detail)
        resp = json_response(err.status, body)
    except PPMDFault as fault:
        if fault.violation:
            sim.metrics.violation(fault.violation, action, now)
        sim.metrics.add("http_429")
        resp = render_reply(sim, Reply(fault=fault.fault), as_json=True, status=429)
    return sim.post_fault(rule, resp)


def _bearer(sim: Simulator, req: Request, app: str, action: str) -> Token:
    header = req.header("authorization")
    scheme, _, value = header.partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise auth.TokenProblem("missing")
        with sim.state.lock:
            return auth.validate_token(sim, value.strip(), app)
    except auth.TokenProblem as problem:
        stale = problem.kind in auth.STALE_KINDS
        auth.count_stale_use(sim, problem.kind)
        # AMD ending a session early is learnt only from this answer: not a client violation.
        if problem.kind not in auth.EARLY_KINDS:
            reason = f"stale token ({problem.kind})" if stale else f"{problem.kind} bearer token"
            sim.metrics.violation(reason, action, sim.amd_clock.now())
        raise HttpError(401, "Authorization has been denied for this request.") from problem


def _serve(
    sim: Simulator,
    req: Request,
    *,
    host: str,
    app: str,
    parts: list[str],
    action: str,
    rule: FaultRule | None,
) -> Response:
    sim.check_location(host, app, action)
    tier = sim.config.rest_tier
    sim.metrics.call(action, tier)
    token = _bearer(sim, req, app, action)
    try:
        sim.token_faults(rule, token, action)
    except PPMDFault as fault:
        status = 403 if fault.fault.code == codes.PERMISSION_DENIED else 401
        raise HttpError(status, fault.fault.description) from fault
    wait = sim.limiter.acquire(token.office_key, action, tier, sim.amd_clock.now(), sim.config)
    if wait is not None:
        sim.metrics.rate_limited(action, str(tier))
        raise codes.too_many_requests(wait)
    base = f"{sim.base_url}/api/{host}/{app}"
    with sim.state.lock:
        return _route(sim, req, parts, rest_appointments.Handlers(sim, req, base, token.username))


def _route(
    sim: Simulator, req: Request, parts: list[str], handlers: rest_appointments.Handlers
) -> Response:
    method = req.method
    low = [p.lower() for p in parts]
    if low[:2] == ["scheduler", "appointments"]:
        return _route_appointments(req, low, parts, handlers)
    if low[:2] == ["scheduler", "columns"] and method == "GET":
        return _columns(sim, req, parts)
    if low[:2] == ["scheduler", "pages"] and method == "GET":
        pages = [
            {"id": p.id, "name": p.name, "columnids": p.column_ids}
            for p in sim.state.pages.values()
        ]
        return json_response(200, pages)
    raise HttpError(404, f"No route for {method} {req.path}")


def _route_appointments(
    req: Request, low: list[str], parts: list[str], handlers: rest_appointments.Handlers
) -> Response:
    method = req.method
    if len(low) == 2:
        return handlers.create() if method == "POST" else _only_get(method, handlers.list)
    if len(low) == 3 and low[2] in {"current", "waitlist"}:
        return _only_get(method, handlers.current if low[2] == "current" else handlers.waitlist)
    appt_id = _id(parts[2])
    single = {"GET": handlers.get, "PUT": handlers.edit, "DELETE": handlers.delete}
    if len(low) == 3 and method in single:
        return single[method](appt_id)
    if len(low) == 4 and method == "PUT" and low[3] in APPT_ACTIONS:
        return handlers.update_action(appt_id, low[3])
    raise HttpError(404 if len(low) == 4 else 405, f"No route for {method} {req.path}")


def _only_get(method: str, fn: rest_appointments.Thunk) -> Response:
    if method != "GET":
        raise HttpError(405, "Method not allowed.")
    return fn()


def _id(text: str) -> int:
    value = strip_prefix(text)
    if value is None:
        raise HttpError(400, f"Invalid id {text!r}.")
    return value


def _columns(sim: Simulator, req: Request, parts: list[str]) -> Response:
    if len(parts) == 3:
        col = sim.state.columns.get(_id(parts[2]))
        if col is None:
            raise HttpError(404, "Column not found.")
        return json_response(200, column_json(col))
    page = req.param("pageId")
    cols = list(sim.state.columns.values())
    if page:
        page_obj = sim.state.pages.get(_id(page))
        cols = [c for c in cols if page_obj and c.id in page_obj.column_ids]
    return json_response(200, [column_json(c) for c in cols])

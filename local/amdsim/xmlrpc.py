"""XMLRPC endpoints: the partner-login URL and the redirected
`/processrequest/<api-host>/<APP>/xmlrpc/processrequest.aspx` URL."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from . import auth, codes
from .actions import ACTIONS
from .codes import PPMDFault
from .context import Ctx, Reply
from .envelope import El, EnvelopeError, parse_request, render, results_envelope
from .faults import FaultRule
from .model import Token
from .ratelimit import tier_of
from .timefmt import fmt_vb_long, parse_vb_datetime, to_local
from .wire import HttpError, Request, Response

if TYPE_CHECKING:
    from .app import Simulator


def render_reply(sim: Simulator, reply: Reply, *, as_json: bool, status: int = 200) -> Response:
    lst = fmt_vb_long(to_local(sim.amd_clock.now(), sim.tz))
    root = results_envelope(
        reply.results,
        reply.fault,
        server=sim.config.server_name,
        lst=lst,
        top_level=reply.top_level,
        omit_results=reply.omit_results,
    )
    body, ctype = render(root, as_json=as_json)
    return Response(status, body, ctype)


def handle_xmlrpc(
    sim: Simulator, req: Request, *, partner: bool, url_host: str = "", url_app: str = ""
) -> Response:
    as_json = "application/json" in req.header("accept").lower()
    is_xml = req.body.lstrip().startswith(b"<")
    now = sim.amd_clock.now()
    try:
        msg = parse_request(req.body)
    except EnvelopeError as exc:
        sim.metrics.call("(unparsed)", 3)
        sim.metrics.violation(f"malformed envelope: {exc}", "(unparsed)", now)
        fault = PPMDFault(codes.PARSE_ERROR, f"Unable to parse the request: {exc}")
        return render_reply(sim, Reply(fault=fault.fault), as_json=as_json)
    action = (msg.attr("action") or "").strip().lower()
    rule = sim.faults.take(action or "(none)", req.path)
    if rule is not None:
        early = sim.pre_fault(rule, as_json=as_json)
        if early is not None:
            return early
    if action == "login" and sim.config.login_always_xml:
        as_json = False
    status = 200
    try:
        reply = _process(
            sim,
            req,
            msg,
            action,
            partner=partner,
            url_host=url_host,
            url_app=url_app,
            rule=rule,
            is_xml=is_xml,
        )
    except PPMDFault as fault:
        if fault.violation:
            sim.metrics.violation(fault.violation, action or "(none)", now)
        if fault.http_status == 429:
            sim.metrics.add("http_429")
        reply, status = Reply(results=fault.results, fault=fault.fault), fault.http_status
    except HttpError as err:
        return Response(err.status, err.detail.encode("utf-8"))
    resp = render_reply(sim, reply, as_json=as_json, status=status)
    return sim.post_fault(rule, resp)


def _msgtime(sim: Simulator, msg: El, now: datetime) -> datetime | None:
    raw = (msg.attr("msgtime") or "").strip()
    if not raw:
        if sim.config.require_msgtime:
            raise codes.missing("msgtime")
        return None
    try:
        local = parse_vb_datetime(raw)
    except ValueError as exc:
        raise codes.invalid("msgtime", raw, "expected M/D/YYYY h:mm:ss AM/PM") from exc
    skew = sim.config.msgtime_max_skew_minutes
    if skew is not None and abs((local - to_local(now, sim.tz)).total_seconds()) > skew * 60:
        if sim.config.msgtime_skew_rejects:
            raise codes.invalid("msgtime", raw, "too far from the server's practice-local time")
        sim.metrics.add("msgtime_skew_warnings")
    return local


def _login(
    sim: Simulator, msg: El, *, partner: bool, url_host: str, url_app: str, now: datetime
) -> Reply:
    if (msg.attr("class") or "").strip().lower() != "login":
        raise PPMDFault(
            codes.ACTION_NOT_FOUND, "Action login not found.", violation="login with class != login"
        )
    tier = 3 if sim.config.login_counts_tier3 else 0
    sim.metrics.call("login", tier)
    office = (msg.attr("officecode") or "").strip()
    if tier and (wait := sim.limiter.acquire(office, "login", 3, now, sim.config)) is not None:
        sim.metrics.rate_limited("login", "3")
        raise codes.too_many_requests(wait)
    _msgtime(sim, msg, now)
    with sim.state.lock:
        if partner:
            return auth.partner_login(sim, msg)
        return auth.redirected_login(sim, msg, url_host, url_app)


def _token(sim: Simulator, req: Request, msg: El, is_xml: bool, url_app: str) -> Token:
    try:
        value = auth.xmlrpc_token_value(
            msg,
            req.header("cookie"),
            is_xml=is_xml,
            first_rule=sim.config.usercontext_must_be_first,
        )
        with sim.state.lock:
            return auth.validate_token(sim, value, url_app)
    except auth.TokenProblem as problem:
        if problem.kind == "malformed" and is_xml:
            sim.metrics.violation(
                "improperly formatted token", msg.attr("action") or "", sim.amd_clock.now()
            )
            raise HttpError(400, "Improperly Formatted Token") from problem
        raise auth.problem_fault(sim, problem) from problem


def _process(
    sim: Simulator,
    req: Request,
    msg: El,
    action: str,
    *,
    partner: bool,
    url_host: str,
    url_app: str,
    rule: FaultRule | None,
    is_xml: bool,
) -> Reply:
    now = sim.amd_clock.now()
    if not action:
        raise codes.missing("action")
    if action == "login":
        return _login(sim, msg, partner=partner, url_host=url_host, url_app=url_app, now=now)
    if partner:
        raise PPMDFault(
            codes.INVALID_ELEMENT,
            "Only login is accepted by the partner login server.",
            violation=f"{action} sent to the partner login URL",
        )
    sim.check_location(url_host, url_app, action)
    tier = tier_of(action)
    sim.metrics.call(action, tier)
    token = _token(sim, req, msg, is_xml, url_app)
    spec = ACTIONS.get(action)
    cls = (msg.attr("class") or "").strip().lower()
    if spec is None or cls not in spec.classes:
        raise PPMDFault(
            codes.ACTION_NOT_FOUND,
            f"Action {msg.attr('action')} not found.",
            faultcode="Server",
            violation=f"unknown class/action {cls}/{action}",
        )
    sim.token_faults(rule, token, action)
    wait = sim.limiter.acquire(token.office_key, action, tier, now, sim.config)
    if wait is not None:
        sim.metrics.rate_limited(action, str(tier))
        raise codes.too_many_requests(wait)
    msgtime = _msgtime(sim, msg, now)
    ctx = Ctx(sim, msg, action, token.office_key, token.username, now, msgtime)
    with sim.state.lock:
        return spec.handler(ctx)

"""Two-step login (PROTOCOL §2) and token checks for XMLRPC and REST (§1.5, §2.5)."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from . import codes
from .codes import PPMDFault
from .context import Reply, results
from .envelope import El
from .model import Token
from .timefmt import to_local, to_utc

if TYPE_CHECKING:
    from .app import Simulator


class TokenProblem(Exception):
    """kind: missing, unknown, expired, superseded, malformed."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _credentials_ok(sim: Simulator, msg: El) -> tuple[str, str, str]:
    for attr in ("username", "psw", "officecode", "appname"):
        if not (msg.attr(attr) or "").strip():
            raise codes.missing(attr)
    cfg = sim.config
    office = (msg.attr("officecode") or "").strip()
    user = (msg.attr("username") or "").strip()
    app = (msg.attr("appname") or "").strip()
    good = (
        office == cfg.office_key
        and user.upper() == cfg.username.upper()
        and msg.attr("psw") == cfg.password
    )
    if good and app.upper() not in {a.upper() for a in cfg.appnames}:
        good = False
    if not good:
        sim.metrics.add("login_failures")
        raise PPMDFault(
            codes.BAD_CREDENTIALS,
            "Invalid username, password, office key or application name.",
            extrainfo=None,
        )
    return office, user.upper(), app.upper()


def webserver_for(sim: Simulator, app: str) -> str:
    return f"{sim.base_url}/processrequest/{sim.config.api_host}/{app}"


def partner_login(sim: Simulator, msg: El) -> Reply:
    _office, user, app = _credentials_ok(sim, msg)
    sim.metrics.add("login_redirects")
    res = results(success=False)
    res.add(
        "usercontext",
        {
            "webserver": webserver_for(sim, app),
            "reportingServerURL": f"{sim.base_url}/reporting/rs/reportrequest.aspx",
            "helpurl": f"{sim.base_url}/help/",
            "username": user,
        },
    )
    fault = PPMDFault(
        codes.LOGIN_REDIRECT, "The office key must be redirected to the webserver given."
    ).fault
    fault.cls = "Login"
    fault.method = "Login"
    return Reply(results=res, fault=fault)


def _expiry(sim: Simulator, issued: datetime) -> datetime:
    expires = issued + timedelta(seconds=sim.config.token_lifetime_seconds)
    if sim.config.token_midnight_expiry:
        local = to_local(issued, sim.tz)
        midnight = datetime.combine(local.date() + timedelta(days=1), time())
        expires = min(expires, to_utc(midnight, sim.tz))
    return expires


def redirected_login(sim: Simulator, msg: El, url_host: str, url_app: str) -> Reply:
    office, user, app = _credentials_ok(sim, msg)
    now = sim.amd_clock.now()
    if url_host != sim.config.api_host or url_app.upper() != app:
        raise PPMDFault(
            codes.REDIRECT_TWICE,
            "Cannot redirect login twice.",
            violation=f"login sent to a stale or hard-coded webserver ({url_host}/{url_app})",
        )
    state = sim.state
    key = (office, user)
    last = state.last_login.get(key)
    has_valid = any(
        t.office_key == office and t.username == user and not t.revoked and t.expires_at > now
        for t in state.tokens.values()
    )
    window = timedelta(seconds=sim.config.login_min_interval_seconds)
    if has_valid and last is not None and now - last < window:
        sim.metrics.violation(
            "login again within a minute while a valid token exists", "login", now
        )
        raise codes.too_many_requests(max(1, int((last + window - now).total_seconds())))
    if sim.config.login_invalidates_old_tokens:
        for token in state.tokens.values():
            if token.office_key == office and token.username == user:
                token.revoked = True
    value = office + secrets.token_hex(32).upper()
    state.tokens[value] = Token(value, office, user, app, now, _expiry(sim, now))
    state.last_login[key] = now
    sim.metrics.add("logins")
    res = results(success=True)
    res.attrs["api"] = "0"
    res.add("usercontext", {"webserver": webserver_for(sim, app)}, text=value)
    return Reply(results=res)


def validate_token(sim: Simulator, value: str | None, app: str | None = None) -> Token:
    if not value:
        raise TokenProblem("missing")
    token = sim.state.tokens.get(value.strip())
    if token is None:
        raise TokenProblem("unknown")
    if app is not None and token.appname != app.upper():
        raise TokenProblem("unknown")
    early = " early" if token.ended_early else ""
    if token.revoked:
        raise TokenProblem("superseded" + early)
    if token.expires_at <= sim.amd_clock.now():
        raise TokenProblem("expired" + early)
    return token


STALE_KINDS = {"expired", "superseded"}
EARLY_KINDS = {"expired early", "superseded early"}


def count_stale_use(sim: Simulator, kind: str) -> None:
    """A token AMD no longer honours was presented: expired, or superseded by a newer login
    (`login_invalidates_old_tokens`); both answer as an expired session."""
    if kind in STALE_KINDS | EARLY_KINDS:
        sim.metrics.add("expired_token_uses")
    if kind.startswith("superseded"):
        sim.metrics.add("superseded_token_uses")


def expiry_fault(sim: Simulator, *, lapse: bool | None = None) -> PPMDFault:
    use_lapse = sim.config.expiry_fault == "lapse" if lapse is None else lapse
    if use_lapse:
        return PPMDFault(codes.MISSING_ATTRIBUTE, codes.LAPSE_DESCRIPTION, faultcode="Server")
    return PPMDFault(
        codes.SESSION_TIMEOUT, "Session has timed out. Please log in again.", faultcode="Server"
    )


def problem_fault(sim: Simulator, problem: TokenProblem) -> PPMDFault:
    """The XMLRPC fault for a token problem, with the violation it stands for."""
    if problem.kind in STALE_KINDS | EARLY_KINDS:
        fault = expiry_fault(sim)
        if problem.kind in STALE_KINDS:
            fault.violation = f"stale token ({problem.kind})"
        count_stale_use(sim, problem.kind)
        return fault
    return PPMDFault(
        codes.MISSING_ATTRIBUTE,
        "Invalid user context." if problem.kind == "unknown" else "Missing user context.",
        violation=f"{problem.kind} token",
    )


def xmlrpc_token_value(msg: El, cookie_header: str, *, is_xml: bool, first_rule: bool) -> str:
    """Option A: `Cookie: token=`; option B: `@nocookie="1"` + first child `usercontext`."""
    if (msg.attr("nocookie") or "0").strip() == "1":
        ctx = msg.child("usercontext")
        if ctx is None or not (ctx.text or "").strip():
            raise TokenProblem("malformed" if is_xml else "missing")
        if first_rule and msg.children and msg.children[0] is not ctx:
            raise TokenProblem("malformed")
        return (ctx.text or "").strip()
    for part in cookie_header.split(";"):
        name, _, val = part.strip().partition("=")
        if name.strip().lower() == "token" and val.strip():
            return val.strip()
    raise TokenProblem("missing")

"""The simulator object: owns state, clock, counters, faults; routes requests to handlers."""

from __future__ import annotations

import copy
import logging
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from . import auth, codes
from .admin import handle_admin
from .clock import AmdClock, SimClock
from .codes import PPMDFault
from .config import SimConfig
from .context import Reply
from .faults import FaultQueue, FaultRule
from .metrics import Metrics
from .model import Token
from .ratelimit import RateLimiter, tier_of
from .rest import handle_rest
from .seed import seed_all
from .state import State
from .timefmt import to_local
from .wire import HttpError, Request, Response, json_response, text_response
from .xmlrpc import handle_xmlrpc, render_reply

log = logging.getLogger("amdsim")

PARTNER_PATH = "/practicemanager/xmlrpc/processrequest.aspx"
MALFORMED_BODY = b'{"PPMDResults": {"@s": "AMDSIM01", "Results": {"@success": "1", "visitl'


class Simulator:
    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        seed: int = 1,
        patients: int = 200,
        appointments: int = 300,
    ) -> None:
        self._initial_config = copy.deepcopy(config or SimConfig())
        self.config = copy.deepcopy(self._initial_config)
        self.tz = ZoneInfo(self.config.practice_tz)
        self.clock = SimClock()  # the product's side: what tests set, freeze and advance
        self.amd_clock = AmdClock(self.clock, lambda: self.config.clock_offset_seconds)
        self.state = State(self.tz, self.config.office_key)
        self.metrics = Metrics()
        self.limiter = RateLimiter()
        self.faults = FaultQueue()
        self.base_url = "http://127.0.0.1"
        self._seed_args = {"seed": seed, "patients": patients, "appointments": appointments}
        self.reseed()

    # ---------------------------------------------------------------- admin operations

    def reseed(self, **kwargs: int) -> dict[str, Any]:
        """(Re)seed demo data; tokens and counters survive."""
        self._seed_args.update(kwargs)
        with self.state.lock:
            tokens, last = self.state.tokens, self.state.last_login
            now = self.amd_clock.now()
            today = to_local(now, self.tz).date()
            made = seed_all(self.state, today=today, instant=now, **self._seed_args)
            self.state.tokens, self.state.last_login = tokens, last
        return made

    def reset(
        self,
        *,
        clock: datetime | None = None,
        frozen: bool = False,
        config: dict[str, Any] | None = None,
        **kwargs: int,
    ) -> dict[str, Any]:
        """Back to a fresh start: config (initial switches, then `config` on top), clock (real
        time unless `clock` is given), counters, faults, tokens, data (seeded relative to AMD's
        date)."""
        fresh = copy.deepcopy(self._initial_config)
        fresh.update(config or {})  # invalid switches fail before anything is reset
        with self.state.lock:
            self.config = fresh
            if clock is None:
                self.clock.follow_real_time()
            else:
                self.clock.set(clock, frozen=frozen)
            self.metrics.reset()
            self.limiter.reset()
            self.faults.clear()
            self.state.tokens = {}
            self.state.last_login = {}
            return self.reseed(**kwargs)

    def report(self) -> dict[str, Any]:
        data = self.metrics.snapshot()
        with self.state.lock:
            data.update(self.state.summary())
        data["clock"] = self.clock.describe()
        data["clock"]["amd"] = self.amd_clock.describe()
        data["rate_mode"] = self.rate_mode()
        data["rate_usage"] = self.limiter.usage(
            self.config.office_key, self.amd_clock.now(), self.config
        )
        return data

    def rate_mode(self) -> dict[str, Any]:
        """The switches a rate-limit figure depends on (name them next to any result)."""
        cfg = self.config
        return {
            "rate_limits_enabled": cfg.rate_limits_enabled,
            "rate_window": cfg.rate_window,
            "clock_offset_seconds": self.amd_clock.offset().total_seconds(),
            "peak_limits": {str(t): cfg.tier_limit(t, True) for t in (1, 2, 3)},
            "offpeak_limits": {str(t): cfg.tier_limit(t, False) for t in (1, 2, 3)},
            "updated_cap_per_minute": cfg.updated_cap_per_minute,
            "login_invalidates_old_tokens": cfg.login_invalidates_old_tokens,
        }

    # ---------------------------------------------------------------- request plumbing

    def handle(self, req: Request) -> Response:
        try:
            if req.path == "/_sim" or req.path.startswith("/_sim/"):
                return handle_admin(self, req)
            if self.config.latency_ms > 0:
                time.sleep(self.config.latency_ms / 1000)
            return self._route(req)
        except HttpError as err:
            return text_response(err.status, err.detail)
        except Exception:
            log.exception("unhandled error for %s %s", req.method, req.path.split("?")[0])
            return text_response(500, "Internal Server Error")

    def _route(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        low = [p.lower() for p in parts]
        if req.path.lower() == PARTNER_PATH:
            self._post_only(req)
            return handle_xmlrpc(self, req, partner=True)
        if (
            len(low) == 5
            and low[0] == "processrequest"
            and low[3:] == ["xmlrpc", "processrequest.aspx"]
        ):
            self._post_only(req)
            return handle_xmlrpc(self, req, partner=False, url_host=parts[1], url_app=parts[2])
        if len(low) >= 4 and low[0] == "api":
            return handle_rest(self, req, parts[1], parts[2], parts[3:])
        if len(low) == 3 and low[0] == "apicost":
            return json_response(
                200, {"class": parts[1], "action": parts[2], "tier": tier_of(parts[2])}
            )
        raise HttpError(404, "Not Found")

    @staticmethod
    def _post_only(req: Request) -> None:
        if req.method != "POST":
            raise HttpError(405, "XMLRPC requests must be POSTed.")

    def check_location(self, url_host: str, url_app: str, action: str) -> None:
        """Calls must use the api host segment and app name handed out by login."""
        apps = {a.upper() for a in self.config.appnames}
        if url_host != self.config.api_host or url_app.upper() not in apps:
            self.metrics.violation(
                f"wrong api host segment or app name in URL ({url_host}/{url_app})",
                action,
                self.amd_clock.now(),
            )
            raise HttpError(404, "Not Found")

    def pre_fault(self, rule: FaultRule, *, as_json: bool) -> Response | None:
        """Faults answered before any processing; None means: carry on."""
        if rule.kind in {"drop", "expired", "lapse", "privilege"}:
            return None
        self.metrics.fault_injected(rule.kind)
        if rule.kind in {"timeout", "delay"}:
            time.sleep(rule.delay_ms / 1000)
            return Response(0, drop=True) if rule.kind == "timeout" else None
        if rule.kind == "http500":
            return Response(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        if rule.kind == "malformed":
            return Response(200, MALFORMED_BODY, "application/json; charset=utf-8")
        self.metrics.add("http_429")
        fault = codes.too_many_requests(60 - self.amd_clock.now().second)
        return render_reply(self, Reply(fault=fault.fault), as_json=as_json, status=429)

    def post_fault(self, rule: FaultRule | None, resp: Response) -> Response:
        """Faults applied once the request is processed: `drop` sends nothing back (counted)."""
        if rule is not None and rule.kind == "drop":
            self.metrics.fault_injected(rule.kind)
            resp.drop = True
        return resp

    def token_faults(self, rule: FaultRule | None, token: Token, action: str) -> None:
        """Injected expiry/privilege faults and the privilege switch (after token checks)."""
        if rule is not None and rule.kind in {"expired", "lapse"}:
            self.metrics.fault_injected(rule.kind)
            with self.state.lock:
                token.expires_at = min(token.expires_at, self.amd_clock.now())
            raise auth.expiry_fault(self, lapse=rule.kind == "lapse")
        denied = {a.lower() for a in self.config.privilege_denied_actions}
        if (rule is not None and rule.kind == "privilege") or action.lower() in denied:
            if rule is not None:
                self.metrics.fault_injected(rule.kind)
            raise codes.privilege_fault(action, token.username, token.office_key)


__all__ = ["PPMDFault", "Simulator"]

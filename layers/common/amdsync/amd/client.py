"""The call pipeline every AMD request goes through: budget -> session -> send -> classify.

Order matters: the rate budget is taken before each attempt (AMD counts every attempt), the
session comes from the shared token cache, a session-expired answer costs exactly one
re-login and one resend, a cached webserver that refuses connections costs at most one fresh
login per call (AMD may have moved the office key), AMD's own 429 closes the window for every
process, and only transient failures are retried (with jittered backoff).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from amdsync.amd.auth import TokenManager
from amdsync.amd.budget import Deadline, worst_case_seconds
from amdsync.amd.config import DEFAULT_TIMEZONE
from amdsync.amd.envelope import Reply, build_request
from amdsync.amd.errors import RateLimited, ServerUnreachable, SessionExpired
from amdsync.amd.lanes import INTERACTIVE, current_lane
from amdsync.amd.models import Session
from amdsync.amd.ports import Clock, MetricsSink, NullMetrics
from amdsync.amd.ratelimit import Permit, RateLimiter
from amdsync.amd.retry import RetryPolicy, run_with_retry
from amdsync.amd.tiers import REST_BUDGETS, Budget, budgets_for_action, tier_of
from amdsync.amd.transport import RestReply, Timeouts, Transport
from amdsync.domain.timefmt import format_msgtime

T = TypeVar("T")
log = logging.getLogger(__name__)


# Pacing spreads calls: a call usually waits one emission interval at most (5.2 s for Tier 2
# at peak, ratelimit.emission_interval). A wait this short is slept even by a caller that
# defers longer waits, or a job needing two calls of one budget would defer forever (its first
# call spends the slot the second one then waits for, every time it runs).
DEFAULT_PACE_WAIT = 6.0
# XMLRPC actions that only read (PROTOCOL §3): anything else is treated as a write.
_READ_ACTIONS = ("get", "select", "lookup", "login")


@dataclass(frozen=True)
class ClientOptions:
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    # 0 = never sleep for budget beyond pacing (`pace_wait`): raise RateLimited(retry_after)
    # so a worker can defer the message. The CLI and the pull set a bound and wait instead.
    max_rate_wait: float = 0.0
    pace_wait: float = DEFAULT_PACE_WAIT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    server_429_retries: int = 1
    # Time left in this invocation (amd/budget.py): a write whose worst case (`write_needs`
    # seconds) no longer fits is not started. No deadline: never checked (CLI, tests).
    deadline: Deadline | None = None
    write_needs: float = field(
        default_factory=lambda: worst_case_seconds(Timeouts(), RetryPolicy())
    )


@dataclass
class _CallState:
    """Recovery already spent by one call, across all its retries."""

    relocated: bool = False  # a fresh login was spent on an unreachable webserver


class RateGate:
    """Turns the limiter's Permit/Wait into "go" or a bounded sleep or `RateLimited`."""

    def __init__(
        self,
        limiter: RateLimiter,
        clock: Clock,
        max_wait: float,
        metrics: MetricsSink,
        pace_wait: float = DEFAULT_PACE_WAIT,
    ) -> None:
        self.limiter = limiter
        self._clock = clock
        self._max_wait = max(max_wait, pace_wait)
        self._metrics = metrics

    def spend(self, budgets: Sequence[Budget], max_wait: float | None = None) -> None:
        bound = self._max_wait if max_wait is None else max_wait
        waited = 0.0
        lane = current_lane()
        while True:
            outcome = self.limiter.acquire(budgets, lane)
            if isinstance(outcome, Permit):
                return
            if waited + outcome.seconds > bound:
                self._metrics.count("RateLimitDeferrals")
                raise RateLimited(outcome.seconds, budget=outcome.budget.value)
            if lane == INTERACTIVE:
                self.limiter.claim(budgets, outcome.seconds)
            self._metrics.count("RateLimitWaits")
            self._clock.sleep(outcome.seconds)
            waited += outcome.seconds


class AmdClient:
    def __init__(
        self,
        *,
        tokens: TokenManager,
        transport: Transport,
        gate: RateGate,
        clock: Clock,
        options: ClientOptions | None = None,
        metrics: MetricsSink | None = None,
    ) -> None:
        self._tokens = tokens
        self._transport = transport
        self._gate = gate
        self._clock = clock
        self._opts = options or ClientOptions()
        self._metrics = metrics or NullMetrics()

    @property
    def timezone(self) -> ZoneInfo:
        return self._opts.timezone

    @property
    def limiter(self) -> RateLimiter:
        return self._gate.limiter

    def now(self) -> datetime:
        return self._clock.now()

    def msgtime(self) -> str:
        return format_msgtime(self._clock.now(), self._opts.timezone)

    def session(self) -> Session:
        return self._tokens.session()

    def xmlrpc(
        self,
        action: str,
        cls: str,
        attrs: Mapping[str, object] | None = None,
        children: Mapping[str, Any] | None = None,
        *,
        idempotent: bool = True,
        already_done: Callable[[], Reply | None] | None = None,
    ) -> Reply:
        def send(session: Session) -> Reply:
            # msgtime is built per attempt: it bounds getupdatedvisits' window (§7.25).
            body = build_request(action, cls, self.msgtime(), attrs, children)
            # The reply's @lst/@servertime teach the limiter AMD's clock (amdclock).
            return self.limiter.amd_clock.watch(
                self._clock,
                lambda: self._transport.post_xmlrpc(session.xmlrpc_url, body, session.token),
            )

        if not idempotent or not action.lower().startswith(_READ_ACTIONS):
            self._before_write()
        return self._call(budgets_for_action(action), send, idempotent, already_done)

    def rest(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool = True,
        already_done: Callable[[], RestReply | None] | None = None,
    ) -> RestReply:
        def send(session: Session) -> RestReply:
            url = session.rest_base + path
            return self._transport.rest(method, url, session.token, json=json, params=params)

        if not idempotent or method.upper() != "GET":
            self._before_write()
        return self._call(REST_BUDGETS, send, idempotent, already_done)

    def _before_write(self) -> None:
        """A write starts only if its worst case fits what is left of the invocation."""
        if self._opts.deadline is not None:
            self._opts.deadline.check_write(self._opts.write_needs)

    def _call(
        self,
        budgets: Sequence[Budget],
        send: Callable[[Session], T],
        idempotent: bool,
        already_done: Callable[[], T | None] | None,
    ) -> T:
        state = _CallState()
        return run_with_retry(
            lambda: self._attempt(budgets, send, state),
            policy=self._opts.retry,
            sleep=self._clock.sleep,
            idempotent=idempotent,
            already_done=already_done,
            on_retry=lambda _exc: self._metrics.count("AmdRetries"),
        )

    def _attempt(
        self, budgets: Sequence[Budget], send: Callable[[Session], T], state: _CallState
    ) -> T:
        rounds = 1 + self._opts.server_429_retries
        for round_no in range(rounds):
            # Log in (which may wait a minute for the login budget) before taking this call's
            # budget: otherwise the call is counted in one window and lands in a later one,
            # where another caller may already have spent that window's budget (a real 429).
            self._tokens.session()
            self._gate.spend(budgets)
            try:
                return self._send_once(budgets, send, state)
            except RateLimited as exc:
                if not exc.from_server:
                    raise
                self._metrics.count("RateLimitHits")
                wait = self.limiter.note_server_limit(budgets)
                log.warning("AdvancedMD answered 429", extra={"wait_seconds": round(wait, 1)})
                if round_no == rounds - 1 or wait > self._opts.max_rate_wait:
                    raise RateLimited(wait, amd_code=exc.amd_code, from_server=True) from None
                self._clock.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(
        self, budgets: Sequence[Budget], send: Callable[[Session], T], state: _CallState
    ) -> T:
        self._metrics.count("AmdCalls", tier=tier_of(budgets))
        session = self._tokens.session()
        try:
            return send(session)
        except SessionExpired:
            # Exactly one re-login (shared by every process) and one resend; a second expiry
            # right after a fresh login is not an expiry problem, so it propagates.
            self._metrics.count("SessionExpired")
            # Forget the refused token first: if the re-login fails (a timeout, say) and the
            # call is retried, no caller in any process presents that token again.
            self._tokens.invalidate(session.token)
            fresh = self._tokens.refresh(stale_token=session.token)
        except ServerUnreachable:
            relocated = self._relocate(session, state)
            if relocated is None:
                raise
            fresh = relocated
        return self._resend(budgets, send, fresh)

    def _relocate(self, session: Session, state: _CallState) -> Session | None:
        """At most one fresh login per call for an unreachable webserver (nothing was sent,
        so the resend is safe even for a create); later retries just fail over to backoff."""
        if state.relocated:
            return None
        state.relocated = True
        self._metrics.count("WebserverUnreachable")
        log.warning("AdvancedMD webserver unreachable; logging in again to find the current one")
        return self._tokens.relocate(session)

    def _resend(self, budgets: Sequence[Budget], send: Callable[[Session], T], fresh: Session) -> T:
        self._gate.spend(budgets)
        self._metrics.count("AmdCalls", tier=tier_of(budgets))
        try:
            return send(fresh)
        except SessionExpired:
            # AMD rejected the new token as well: forget it, so the next call (in any
            # process) logs in again instead of presenting a token AMD called expired.
            self._tokens.invalidate(fresh.token)
            raise

"""Two-step login (PROTOCOL §2) and the shared, single-flight token (ARCHITECTURE §3).

One token per owner (login URL + office key + username) lives in the `TokenCache`; a
conditional-write lease lets exactly one caller log in while every other process waits for the
result. An expired session is replaced
at most once per stale token: whoever finds a different, valid token in the cache uses it.
The token is never logged; only the masked office key is.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from amdsync.amd.config import AmdCredentials, TokenPolicy
from amdsync.amd.endpoints import check_endpoint
from amdsync.amd.envelope import Reply, attr, build_request, child, text
from amdsync.amd.errors import LOGIN_REDIRECT, ClientBug, ServerError, TransientError
from amdsync.amd.models import Session
from amdsync.amd.ports import Clock, MetricsSink, NullMetrics, TokenCache
from amdsync.amd.transport import Transport
from amdsync.domain.timefmt import next_midnight
from amdsync.domain.token_keys import TokenOwner

log = logging.getLogger(__name__)

XMLRPC_SUFFIX = "/xmlrpc/processrequest.aspx"


class Authenticator:
    """Performs the login itself; knows nothing about caching."""

    def __init__(
        self,
        transport: Transport,
        credentials: AmdCredentials,
        msgtime: Callable[[], str],
        before_call: Callable[[int], None] = lambda step: None,
        observe: Callable[[Callable[[], Reply]], Reply] = lambda send: send(),
    ) -> None:
        self._transport = transport
        self._creds = credentials
        self._msgtime = msgtime
        # Spends budget before each step (1 = partner host, 2 = redirected host): both steps
        # are broker calls (Tier 3 by default, §6); the one-login-per-minute guard is step 1's.
        self._before_call = before_call
        # Wraps each step's send: the replies' @lst teach the client AMD's clock (amdclock).
        self._observe = observe

    def login(self) -> tuple[str, str]:
        """Both steps; returns (token, webserver). Bad credentials raise AuthenticationFailed."""
        body = build_request(
            "login",
            "login",
            self._msgtime(),
            {
                "username": self._creds.username,
                "psw": self._creds.password.get_secret_value(),
                "officecode": self._creds.office_key,
                "appname": self._creds.app_name,
            },
        )
        hosts = self._creds.credential_hosts
        partner = check_endpoint(self._creds.partner_login_url, hosts)  # before the password
        self._before_call(1)
        first = self._observe(lambda: self._transport.post_xmlrpc(partner, body))
        found = _token_and_server(first)
        if found is not None:
            return found  # a partner host that answers directly: accept it
        # Step 2 posts the password again, to whatever host step 1 named: only an AdvancedMD
        # host over https will do (a tampered reply must not collect the credentials).
        webserver = check_endpoint(_redirect_target(first), hosts)
        # Step 2 re-sends the identical body to the named server (§2.2, §7.2).
        self._before_call(2)
        second = self._observe(
            lambda: self._transport.post_xmlrpc(webserver.rstrip("/") + XMLRPC_SUFFIX, body)
        )
        found = _token_and_server(second)
        if found is None:
            raise ClientBug("login step 2 returned no token")
        return found[0], found[1] or webserver


def _redirect_target(reply: Reply) -> str:
    if reply.fault is None or reply.fault.code != LOGIN_REDIRECT:
        raise ServerError("login step 1 returned neither a token nor a redirect")
    webserver = attr(child(reply.results, "usercontext"), "webserver")
    if not webserver:
        raise ServerError("login redirect named no webserver")
    return webserver


def _token_and_server(reply: Reply) -> tuple[str, str] | None:
    context = child(reply.results, "usercontext")
    token = text(context)
    webserver = attr(context, "webserver")
    if reply.success is False or not token or not webserver:
        return None
    return token, webserver


# How long a process trusts its own copy of the shared token before re-reading the cache.
MEMO_RECHECK_SECONDS = 30.0
# After a login spent on an unreachable webserver, the same server failing again this soon is
# an outage, not a move: logging in on every call would not help (and AMD forbids it, §2.5).
RELOCATE_COOLDOWN_SECONDS = 300.0
# AMD answers 429 to a login within about 60 s of the last one while a valid token exists (§6).
# `issued_at` is taken before the login's two steps, so the spacing has a margin for them.
LOGIN_SPACING = timedelta(seconds=65)


class TokenManager:
    def __init__(
        self,
        owner: TokenOwner,
        authenticator: Authenticator,
        cache: TokenCache,
        clock: Clock,
        *,
        policy: TokenPolicy | None = None,
        metrics: MetricsSink | None = None,
        poll_seconds: float = 0.05,
    ) -> None:
        self._owner = owner  # whose token: never office key alone (see domain.token_keys)
        self._auth = authenticator
        self._cache = cache
        self._clock = clock  # AMD's notion of time (tokens expire on it)
        self._policy = policy or TokenPolicy()
        self._metrics = metrics or NullMetrics()
        self._poll = poll_seconds
        self._holder = uuid.uuid4().hex  # this manager, as the login lease's holder
        self._lock = threading.Lock()  # one refresher per process; others reuse its result
        self._memo: Session | None = None
        self._memo_checked = 0.0  # monotonic time the memo was last compared with the cache
        self._relocations: dict[str, float] = {}  # webserver -> monotonic time of that login

    def session(self) -> Session:
        memo = self._memo
        if memo is not None and self._fresh(memo.expires_at):
            if time.monotonic() - self._memo_checked < MEMO_RECHECK_SECONDS:
                return memo
            # Another process may have logged in again (AMD may void older tokens): a cheap
            # cache read now saves a call on a dead token later.
            record = self._cache.load(self._owner)
            self._memo_checked = time.monotonic()
            if record is None or record.token == memo.token or not self._fresh(record.expires_at):
                return memo
            self._memo = None
        return self.refresh(stale_token=None)

    def refresh(self, stale_token: str | None) -> Session:
        """A valid session whose token is not `stale_token`, logging in only if nobody has."""
        with self._lock:
            found = self._usable(stale_token)
            if found is not None:
                return found
            return self._login_under_lease(stale_token)

    def relocate(self, unreachable: Session) -> Session | None:
        """A session from a fresh login after `unreachable`'s webserver refused to connect.

        Login step 1 names the office key's current webserver (PROTOCOL §2), so a moved key
        costs one login (or none, if another process already fetched a newer token). None when
        this process already did that for the same server within the cooldown.
        """
        with self._lock:
            tried = self._relocations.get(unreachable.webserver)
            if tried is not None and time.monotonic() - tried < RELOCATE_COOLDOWN_SECONDS:
                return None
            self._relocations[unreachable.webserver] = time.monotonic()
        # Unlike an expired one, this token is still valid: AMD's login spacing applies.
        early = unreachable.issued_at + LOGIN_SPACING - self._clock.now()
        self._clock.sleep(max(0.0, early.total_seconds()))
        return self.refresh(stale_token=unreachable.token)

    def invalidate(self, token: str) -> None:
        self._memo = None
        self._cache.discard(self._owner, token)

    def _usable(self, stale_token: str | None) -> Session | None:
        memo = self._memo
        if memo is not None and memo.token != stale_token and self._fresh(memo.expires_at):
            return memo
        record = self._cache.load(self._owner)
        if record is None or record.token == stale_token or not self._fresh(record.expires_at):
            return None
        self._memo = Session(
            token=record.token,
            webserver=record.webserver,
            issued_at=record.issued_at,
            expires_at=record.expires_at,
        )
        self._memo_checked = time.monotonic()
        return self._memo

    def _login_under_lease(self, stale_token: str | None) -> Session:
        # Lease timing is wall-clock: it coordinates real processes, whatever AMD's clock says.
        deadline = time.monotonic() + 2 * self._policy.lease.total_seconds()
        while time.monotonic() < deadline:
            now = self._clock.now()
            if self._cache.try_lease(self._owner, self._holder, now, now + self._policy.lease):
                try:
                    # Someone may have finished between our miss and our lease.
                    return self._usable(stale_token) or self._login()
                finally:
                    self._cache.release_lease(self._owner, self._holder)
            time.sleep(self._poll)
            found = self._usable(stale_token)
            if found is not None:
                return found
        raise TransientError("timed out waiting for another process to log in to AdvancedMD")

    def _login(self) -> Session:
        issued = self._clock.now()
        token, webserver = self._auth.login()
        self._metrics.count("Logins")
        session = Session(
            token=token,
            webserver=webserver,
            issued_at=issued,
            expires_at=self._expiry(issued),
        )
        self._cache.save(
            self._owner,
            token=session.token,
            webserver=session.webserver,
            issued_at=session.issued_at,
            expires_at=session.expires_at,
        )
        self._memo = session
        self._memo_checked = time.monotonic()
        log.info("logged in to AdvancedMD", extra={"expires_at": session.expires_at.isoformat()})
        return session

    def _expiry(self, issued: datetime) -> datetime:
        expiry = issued + self._policy.max_age
        zone = self._policy.midnight_zone
        if zone is not None:
            midnight = next_midnight(issued, zone)
            if midnight - issued <= 2 * self._policy.margin:
                # A login just before midnight would be stale at once and loop; use the next one.
                midnight = next_midnight(midnight, zone)
            expiry = min(expiry, midnight)
        return expiry

    def _fresh(self, expires_at: datetime) -> bool:
        return self._clock.now() + self._policy.margin < expires_at

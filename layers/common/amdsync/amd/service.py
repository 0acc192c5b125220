"""The AdvancedMD facade and its assembly from ports (the one place that wires `amd` together).

Callers get one object: `amd.visits`, `amd.scheduler`, `amd.patients`, `amd.lookups`, plus the
connection check. Which adapters back the ports (DynamoDB, files, memory) is the caller's
choice; `amd` itself never imports `store`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from amdsync.amd.amdclock import AmdClock
from amdsync.amd.auth import Authenticator, TokenManager
from amdsync.amd.client import AmdClient, ClientOptions, RateGate
from amdsync.amd.config import AmdCredentials, TokenPolicy
from amdsync.amd.lookups import Lookups
from amdsync.amd.patients import PatientsApi
from amdsync.amd.ports import Clock, LookupCache, MetricsSink, NullMetrics, RateBuckets, TokenCache
from amdsync.amd.ratelimit import RateLimiter
from amdsync.amd.scheduler import SchedulerApi
from amdsync.amd.tiers import Budget, LimitTable, budgets_for_action
from amdsync.amd.transport import Transport
from amdsync.amd.visits import VisitsApi
from amdsync.domain.timefmt import format_msgtime

# Two logins inside a minute earn a 429 (§6); waiting that out (one 62 s LOGIN interval, see
# ratelimit) is always better than failing.
_LOGIN_MAX_WAIT = 65.0


@dataclass(frozen=True)
class ConnectionReport:
    ok: bool
    provider_count: int
    message: str


class AdvancedMD:
    def __init__(self, client: AmdClient, lookups: Lookups) -> None:
        self.client = client
        self.visits = VisitsApi(client)
        self.scheduler = SchedulerApi(client, self.visits)
        self.patients = PatientsApi(client)
        self.lookups = lookups

    def test_connection(self) -> ConnectionReport:
        """Log in (or reuse the token) and read the providers (profiles) list live: the cached
        list is dropped first, so the check really reaches AMD (and logs in again if the token
        is no longer accepted)."""
        self.client.session()
        self.lookups.invalidate("profiles")
        profiles = self.lookups.profiles()
        return ConnectionReport(
            ok=True,
            provider_count=len(profiles),
            message=f"Connected to AdvancedMD; {len(profiles)} providers found.",
        )


def build_advancedmd(
    credentials: AmdCredentials,
    *,
    scope: str,
    token_cache: TokenCache,
    rate_buckets: RateBuckets,
    lookup_cache: LookupCache,
    clock: Clock,
    transport: Transport | None = None,
    options: ClientOptions | None = None,
    token_policy: TokenPolicy | None = None,
    limits: LimitTable | None = None,
    metrics: MetricsSink | None = None,
    lookup_ttl: timedelta = timedelta(hours=1),
) -> AdvancedMD:
    opts = options or ClientOptions()
    sink = metrics or NullMetrics()
    wire = transport or Transport()
    # `scope` names the practice's pacing item and lookups: its opaque id, never the office key.
    # AMD's stamps carry no zone: read as practice-local (UNCERTAIN, see amdclock).
    amd_clock = AmdClock(opts.timezone, metrics=sink)
    limiter = RateLimiter(rate_buckets, scope, clock, limits, amd_clock=amd_clock)
    gate = RateGate(limiter, clock, opts.max_rate_wait, sink, opts.pace_wait)
    step_budgets: dict[int, tuple[Budget, ...]] = {
        1: budgets_for_action("login"),
        2: (Budget.TIER3,),
    }
    authenticator = Authenticator(
        wire,
        credentials,
        msgtime=lambda: format_msgtime(clock.now(), opts.timezone),
        before_call=lambda step: gate.spend(
            step_budgets[step], max(opts.max_rate_wait, _LOGIN_MAX_WAIT)
        ),
        observe=lambda send: amd_clock.watch(clock, send),
    )
    tokens = TokenManager(
        credentials.token_owner,
        authenticator,
        token_cache,
        clock,
        policy=token_policy,
        metrics=sink,
    )
    client = AmdClient(
        tokens=tokens, transport=wire, gate=gate, clock=clock, options=opts, metrics=sink
    )
    lookups = Lookups(client, lookup_cache, scope, clock, ttl=lookup_ttl, metrics=sink)
    return AdvancedMD(client, lookups)

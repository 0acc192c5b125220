"""Helpers for driving the AMD client against the simulator (not fixtures: plain functions)."""

from __future__ import annotations

import dataclasses
import math
import threading
from datetime import datetime, timedelta
from typing import Any

from amdsync.amd.client import ClientOptions
from amdsync.amd.config import AmdCredentials, TokenPolicy
from amdsync.amd.memory import (
    CountingMetrics,
    MemoryLookupCache,
    MemoryRateBuckets,
    MemoryTokenCache,
)
from amdsync.amd.retry import RetryPolicy
from amdsync.amd.service import AdvancedMD, build_advancedmd
from amdsync.amd.tiers import LimitTable


class AtomicTable:
    """moto does not serialise concurrent requests; DynamoDB makes each conditional write
    atomic. This proxy restores that guarantee so the test exercises our conditions."""

    _lock = threading.Lock()

    def __init__(self, table: Any) -> None:
        self._table = table

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._table, name)

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return locked


class SimTime:
    """The client's Clock on the simulator's clock: sleeping moves simulated time forward."""

    def __init__(self, sim: Any) -> None:
        self._clock = sim.sim.clock
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds > 0:
            self._clock.advance(seconds)


class VirtualTime:
    """Discrete-event time for several worker threads over a frozen simulator clock.

    A worker's `sleep` blocks until every live worker is asleep or finished; then the clock
    jumps to the earliest wake-up. Wall-clock speed never matters.
    """

    def __init__(self, sim: Any, workers: int) -> None:
        self._clock = sim.sim.clock
        self._cond = threading.Condition()
        self._active = workers
        self._wakeups: list[datetime] = []

    def now(self) -> datetime:
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        with self._cond:
            # The simulator's clock has millisecond resolution: wake on a whole millisecond.
            target = self._clock.now() + timedelta(milliseconds=max(1, math.ceil(seconds * 1000)))
            self._wakeups.append(target)
            self._active -= 1
            self._maybe_advance()
            while self._clock.now() < target:
                self._cond.wait(timeout=1)
            self._wakeups.remove(target)
            self._active += 1

    def finished(self) -> None:
        with self._cond:
            self._active -= 1
            self._maybe_advance()

    def _maybe_advance(self) -> None:
        if self._active == 0 and self._wakeups:
            earliest = min(self._wakeups)
            if earliest > self._clock.now():
                self._clock.set(earliest, frozen=True)
            self._cond.notify_all()


def credentials(
    sim: Any,
    password: str | None = None,
    *,
    username: str | None = None,
    partner_login_url: str | None = None,
) -> AmdCredentials:
    return AmdCredentials(
        office_key=sim.office_key,
        username=username or sim.username,
        password=password or sim.password,
        app_name=sim.appname,
        partner_login_url=partner_login_url or sim.partner_login_url,
    )


def make_client(
    sim: Any,
    *,
    clock: Any = None,
    token_cache: Any = None,
    buckets: Any = None,
    lookup_cache: Any = None,
    max_rate_wait: float = 600.0,
    metrics: CountingMetrics | None = None,
    password: str | None = None,
    transport: Any = None,
    username: str | None = None,
    partner_login_url: str | None = None,
    limits: LimitTable | None = None,
    pace_wait: float | None = None,
) -> AdvancedMD:
    options = ClientOptions(
        max_rate_wait=max_rate_wait, retry=RetryPolicy(base_seconds=0.01, cap_seconds=0.05)
    )
    if pace_wait is not None:
        options = dataclasses.replace(options, pace_wait=pace_wait)
    return build_advancedmd(
        credentials(sim, password, username=username, partner_login_url=partner_login_url),
        scope="main",
        token_cache=token_cache or MemoryTokenCache(),
        rate_buckets=buckets or MemoryRateBuckets(),
        lookup_cache=lookup_cache or MemoryLookupCache(),
        clock=clock or SimTime(sim),
        options=options,
        token_policy=TokenPolicy(midnight_zone=None),
        metrics=metrics,
        transport=transport,
        limits=limits,
    )

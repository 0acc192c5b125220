"""A pull of n changed visits across scheduled invocations, each with a 60 s deadline.

The pull runs as the PullFunction runs it (functions/pull/app.py): `PullRun.run` with the
function's options and rate wait, `remaining` from the Lambda context, a rate-limit deferral
ending the invocation. The context's clock is the simulated one plus the wall time spent
computing: the waits (AMD's feed once per 62 s) advance the frozen simulator clock, the work
itself takes real time, and Lambda's deadline counts both. The scheduler ticks every minute.
"""

from __future__ import annotations

import dataclasses
import math
import time
from datetime import date, datetime, timedelta
from typing import Any

from amdsync.amd.errors import RateLimited
from amdsync.config import PullSettings
from amdsync.sync.pull import PullOptions, PullRun
from local.amdsim import admin_edits
from local.amdsim.handle import SimHandle
from tests.reliability.world import ZONE, Product

DEADLINE_SECONDS = 60.0
TICK_SECONDS = 60.0
MAX_INVOCATIONS = 400
# The deployed composition may take this many invocations beyond one per feed call.
STUCK_AFTER = 10
# The CLI's rate wait (AMD_MAX_RATE_WAIT's default): long enough for every feed call's turn.
WAITING_MAX_RATE_WAIT = 3600.0
FEED_CHUNK = 500  # ids per GETUPDATEDVISITS resubmission (PROTOCOL §3.14)
OVERFLOW_AT = 1000  # a window of more changed visits answers ids only
# The PullFunction's rate wait (its setting's default; template.yaml sets none).
PULL_MAX_RATE_WAIT = float(PullSettings.model_fields["max_rate_wait_seconds"].default)


class InvocationContext:
    """The bits of a Lambda context the pull reads, on simulated + compute time."""

    def __init__(self, product: Product, deadline_seconds: float) -> None:
        self._clock = product.clock
        self._sim_start = product.clock.now()
        self._wall_start = time.perf_counter()
        self._deadline = deadline_seconds

    def elapsed(self) -> float:
        simulated = (self._clock.now() - self._sim_start).total_seconds()
        return simulated + time.perf_counter() - self._wall_start

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - self.elapsed()) * 1000)

    def remaining_seconds(self) -> float:
        """What the pull function passes: the context's remaining time, in seconds."""
        return self.get_remaining_time_in_millis() / 1000


def target_calls(visits: int) -> int:
    """One call answers up to 1,000 changed visits; beyond, an overflow reply of ids and one
    resubmission per 500 ids."""
    return 1 if visits <= OVERFLOW_AT else 1 + math.ceil(visits / FEED_CHUNK)


def book_changes(sim: SimHandle, product: Product, count: int) -> None:
    """Move the watermark to now, then book `count` visits AMD-side (the front desk): each is
    a change the next pull must publish once."""
    clock = product.clock
    clock.sleep(120)
    servertime = clock.now().astimezone(ZONE).strftime("%Y-%m-%dT%H:%M:%S.000")
    current = product.ctx.watermark.get()
    product.ctx.watermark.advance(servertime, clock.now(), current.version)
    clock.sleep(5)
    state = sim.sim.state
    with state.lock:
        patient = next(iter(state.patients))
        columns = sorted(state.columns)
        day = datetime.combine(date(2025, 6, 2), datetime.min.time())
        for made in range(count):
            slot = made // len(columns)
            start = day + timedelta(days=slot // 40, minutes=15 * (slot % 40))
            data = {"patientid": patient, "columnid": columns[made % len(columns)]}
            data.update(force=True, start=start.strftime("%Y-%m-%dT%H:%M:%S"))
            admin_edits.create_appointment(sim.sim, data)
    clock.sleep(61)


def pull_product(product: Product, max_rate_wait: float = PULL_MAX_RATE_WAIT) -> Product:
    """The pull function's composition (its rate wait by default), same store and clock."""
    services = dataclasses.replace(product.services, max_rate_wait=max_rate_wait)
    ctx = dataclasses.replace(services.context(), queue=product.queue)
    return dataclasses.replace(product, services=services, ctx=ctx)


def run_invocations(
    product: Product, deadline: float = DEADLINE_SECONDS, limit: int = MAX_INVOCATIONS
) -> dict[str, Any]:
    """Invoke the pull every minute until a run finishes the window (or `limit` runs)."""
    options = PullOptions(max_feed_wait=PULL_MAX_RATE_WAIT)
    outcomes: list[dict[str, Any]] = []
    visits = 0
    for _ in range(limit):
        context = InvocationContext(product, deadline)
        wall = time.perf_counter()
        try:
            summary = PullRun(product.ctx, options).run(remaining=context.remaining_seconds)
            status = summary.status
            visits = summary.visits
        except RateLimited:
            status = "rate_limited"
        outcomes.append(
            {
                "status": status,
                "seconds": round(context.elapsed(), 2),
                "wall_seconds": round(time.perf_counter() - wall, 2),
            }
        )
        if status in ("ok", "blocked"):
            break
        product.clock.sleep(max(TICK_SECONDS - context.elapsed(), 1.0))
    return {"invocations": outcomes, "visits": visits, "finished": status in ("ok", "blocked")}

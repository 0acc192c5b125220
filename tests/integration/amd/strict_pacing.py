"""Issue 14 acceptance run, shared by the quick test (tests/integration/amd) and the long one
(tests/reliability): Tier-2 calls from 10 concurrent workers across the 18:00 peak end,
against the simulator in its strict modes (sliding 60 s window, AMD's clock 17 s ahead of
ours): 0 x 429 and >= 90 % of the ceiling.

Each worker is a separate AMD client (own token manager, limiter and AMD-clock estimate), like
a Lambda container; they share only the DynamoDB token cache and pacing item (moto, made atomic
per request as DynamoDB is). Workers behave like the production worker: pacing waits up to
`pace_wait` are slept, a longer wait is a deferral (the job comes back after `retry_after`, as
an SQS visibility timeout would bring it back). Time is virtual: the simulator's frozen clock is
the product's clock, advanced only when every worker waits, so thousands of calls take seconds
of wall time and the algorithm is exactly production's.

`make test` runs 300 calls (test_pacing_strict_sim.py); `make reliability` runs 2,000
(tests/reliability/test_strict_pacing.py, about 2 1/2 minutes on 2 cores).
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from amdsync.amd.errors import RateLimited
from amdsync.domain.timefmt import is_peak
from amdsync.store.rate_buckets import DynamoRateBuckets
from amdsync.store.token_cache import DynamoTokenCache
from tests.integration.amd.simtools import AtomicTable, SimTime, VirtualTime, make_client

OFFSET = 17.0  # AMD's clock minus ours (the simulator's STRICT_RATE_SWITCHES)
WORKERS = 10
TIER2_LIMITS = (12, 120)  # PROTOCOL §6, per minute: peak, off-peak
DAY = date(2025, 3, 12)


@dataclass
class Run:
    calls: int
    amd_times: list[float] = field(default_factory=list)  # AMD's clock at each call, epoch s
    deferrals: int = 0
    errors: list[str] = field(default_factory=list)


def drive(sim: Any, table: Any, start: datetime, calls: int) -> Run:
    """`calls` Tier-2 calls (getdatevisits) from WORKERS workers, starting at our `start`."""
    sim.sim.clock.set(start, frozen=True)
    assert sim.admin.report()["rate_mode"]["rate_window"] == "sliding"
    assert sim.admin.report()["rate_mode"]["clock_offset_seconds"] == OFFSET
    shared = AtomicTable(table)
    # The day's login first (a worker's lease wait would otherwise poll in real time).
    first = make_client(
        sim,
        clock=SimTime(sim),
        token_cache=DynamoTokenCache(shared),
        buckets=DynamoRateBuckets(shared),
    )
    first.client.session()
    run = Run(calls)
    tickets = iter(range(calls))
    lock = threading.Lock()
    clock = VirtualTime(sim, workers=WORKERS)

    def worker() -> None:
        amd = make_client(
            sim,
            clock=clock,
            token_cache=DynamoTokenCache(shared),
            buckets=DynamoRateBuckets(shared),
            max_rate_wait=0,  # production worker: defer rather than wait long
        )
        try:
            while True:
                with lock:
                    ticket = next(tickets, None)
                if ticket is None:
                    return
                while True:
                    try:
                        amd.visits.on_date(DAY)
                        break
                    except RateLimited as exc:
                        assert not exc.from_server, "AMD answered 429"
                        with lock:
                            run.deferrals += 1
                        clock.sleep(exc.retry_after)  # the queue brings the job back
                at = clock.now() + timedelta(seconds=OFFSET)
                with lock:
                    run.amd_times.append(at.timestamp())
        except Exception as exc:  # pragma: no cover - asserted below
            run.errors.append(repr(exc))
        finally:
            clock.finished()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    run.amd_times.sort()
    return run


def ceiling(first: float, last: float) -> float:
    """Calls AMD allows from `first` to `last` (AMD's clock) at the Tier-2 rate of each instant,
    plus the first call."""
    total, t = 1.0, first
    while t < last:
        step = min(1.0, last - t)
        peak = is_peak(datetime.fromtimestamp(t, UTC))
        total += step * TIER2_LIMITS[0 if peak else 1] / 60
        t += step
    return total


def busiest_windows(amd_times: list[float]) -> tuple[int, int]:
    """The most calls in any closed 60 s span ending at peak, and ending off-peak."""
    worst = [0, 0]
    for index, start in enumerate(amd_times):
        end = start + 60
        count = bisect.bisect_right(amd_times, end) - index
        slot = 0 if is_peak(datetime.fromtimestamp(end, UTC)) else 1
        worst[slot] = max(worst[slot], count)
    return worst[0], worst[1]


def figures(sim: Any, run: Run) -> dict[str, Any]:
    """What the run achieved, judged on AMD's clock, with the simulator's mode named."""
    report = sim.admin.report()
    done = run.amd_times
    first, last = (done[0], done[-1]) if done else (0.0, 0.0)
    cap = ceiling(first, last) if done else 0.0
    worst_peak, worst_off = busiest_windows(done)
    return {
        "calls": len(done),
        "workers": WORKERS,
        "rate_window": report["rate_mode"]["rate_window"],
        "clock_offset_seconds": report["rate_mode"]["clock_offset_seconds"],
        "tier2_limits_per_minute": dict(zip(("peak", "off_peak"), TIER2_LIMITS, strict=True)),
        "amd_first_call": datetime.fromtimestamp(first, UTC).isoformat(),
        "amd_last_call": datetime.fromtimestamp(last, UTC).isoformat(),
        "peak_calls": sum(1 for t in done if is_peak(datetime.fromtimestamp(t, UTC))),
        "ceiling_calls": round(cap, 1),
        "throughput_pct_of_ceiling": round(100 * len(done) / cap, 1) if cap else 0.0,
        "busiest_60s_ending_peak": worst_peak,
        "busiest_60s_ending_off_peak": worst_off,
        "deferrals": run.deferrals,
        "errors": run.errors[:3],
        "http_429": report["http_429"],
        "rate_limited": report["rate_limited"]["total"],
        "violations": report["violations"]["count"],
        "logins": report["logins"],
        "amd_calls_getdatevisits": report["calls"]["by_action"].get("getdatevisits", 0),
    }


def assert_paced(sim: Any, run: Run) -> dict[str, Any]:
    found = figures(sim, run)
    print("strict pacing figures:", found)
    assert run.errors == []
    assert found["calls"] == run.calls == found["amd_calls_getdatevisits"]
    assert found["http_429"] == 0 and found["rate_limited"] == 0, found
    assert found["violations"] == 0, sim.admin.report()["violations"]["items"][:3]
    assert found["logins"] == 1
    assert 0 < found["peak_calls"] < run.calls  # crossed the 18:00 boundary
    assert found["busiest_60s_ending_peak"] <= TIER2_LIMITS[0]
    assert found["busiest_60s_ending_off_peak"] <= TIER2_LIMITS[1]
    assert found["throughput_pct_of_ceiling"] >= 90, found
    return found

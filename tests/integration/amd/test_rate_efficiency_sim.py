"""Rate-limit acceptance on the simulated clock: no 429 and >=90 % of the allowed rate."""

import threading
from collections import Counter, deque
from datetime import UTC, datetime, timedelta

from amdsync.amd.errors import RateLimited
from amdsync.amd.memory import MemoryRateBuckets, MemoryTokenCache
from amdsync.domain.timefmt import is_peak

from .simtools import SimTime, VirtualTime, make_client

pytest_plugins = ["local.amdsim.pytest_plugin"]

START = datetime(2025, 3, 12, 23, 57, 0, tzinfo=UTC)  # Wed 17:57 MDT: 3 peak minutes left
LIMITS = {2: (12, 120), 3: (24, 120)}


def _call(amd, tier):
    if tier == 2:
        amd.visits.on_date(START.date())
    else:
        amd.client.xmlrpc("lookupprofile", "api", {"exactmatch": "-1", "name": ""})


def test_300_mixed_calls_4_clients_across_peak_boundary(amd_sim):
    amd_sim.sim.clock.set(START, frozen=True)
    buckets, tokens = MemoryRateBuckets(), MemoryTokenCache()
    # The day's login first: its paced second step must not wait (virtually) for workers that
    # poll the login lease in real time.
    make_client(
        amd_sim, clock=SimTime(amd_sim), token_cache=tokens, buckets=buckets
    ).client.session()
    clock = VirtualTime(amd_sim, workers=4)
    queues = {2: deque(range(150)), 3: deque(range(150))}
    lock = threading.Lock()
    done: list[tuple[int, datetime]] = []
    errors: list[str] = []

    def take(tier):
        with lock:
            return queues[tier].popleft() if queues[tier] else None

    def worker():
        # Never sleep, not even for pacing: defer the call and do other work meanwhile.
        amd = make_client(
            amd_sim,
            clock=clock,
            token_cache=tokens,
            buckets=buckets,
            max_rate_wait=0,
            pace_wait=0,
        )
        not_before = {2: START, 3: START}
        try:
            while True:
                now = clock.now()
                with lock:
                    open_tiers = [t for t in (2, 3) if queues[t]]
                if not open_tiers:
                    return
                ready = [t for t in open_tiers if not_before[t] <= now]
                if not ready:
                    clock.sleep((min(not_before[t] for t in open_tiers) - now).total_seconds())
                    continue
                tier = ready[0]
                if take(tier) is None:
                    continue
                try:
                    _call(amd, tier)
                    with lock:
                        done.append((tier, clock.now().replace(second=0, microsecond=0)))
                except RateLimited as exc:  # defer: put it back, do other work meanwhile
                    with lock:
                        queues[tier].append(0)
                    not_before[tier] = now + timedelta(seconds=exc.retry_after)
        except Exception as exc:  # pragma: no cover - asserted below
            errors.append(repr(exc))
        finally:
            clock.finished()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(done) == 300

    data = amd_sim.admin.report()
    assert data["http_429"] == 0 and data["rate_limited"]["total"] == 0, (
        data["rate_limited"],
        data["violations"],
        sorted(Counter(done).items()),
    )
    assert data["violations"]["count"] == 0, data["violations"]["items"][:3]
    assert data["logins"] == 1

    per_minute = Counter(done)
    print(
        "calls per (tier, minute):",
        {(t, f"{m:%H:%M}"): n for (t, m), n in sorted(per_minute.items())},
    )
    for tier in (2, 3):
        minutes = sorted({m for t, m in done if t == tier})
        backlog = [
            START + timedelta(minutes=n)
            for n in range(int((minutes[-1] - START).total_seconds() // 60))
        ]
        assert backlog, "the run must have had minutes with backlog"
        for minute in backlog:
            limit = LIMITS[tier][0 if is_peak(minute) else 1]
            achieved = per_minute[(tier, minute)]
            login_share = 2 if tier == 3 and minute == START else 0  # both login steps are Tier 3
            assert achieved + login_share >= 0.9 * limit, (tier, minute, achieved, limit)
    assert {m for _, m in done} >= {START + timedelta(minutes=3)}  # reached off-peak

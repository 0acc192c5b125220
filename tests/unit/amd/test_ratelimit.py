"""The limiter is safe however AMD counts (issue 14 item 1): no 60 s span, on any alignment and
with AMD's clock up to 30 s off ours, ever holds more calls than the tier allows; calls are
spread, not burst; saturated, it still reaches >= 90 % of the ceiling; the change feed goes at
most once per 60 s + margin whoever asks (item 4)."""

from __future__ import annotations

import bisect
import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from amdsync.amd.memory import ManualClock, MemoryRateBuckets
from amdsync.amd.ratelimit import Permit, RateLimiter, Wait
from amdsync.amd.tiers import REST_BUDGETS, Budget, LimitTable, budgets_for_action
from amdsync.domain.timefmt import PEAK_ZONE, is_peak

# Friday 2025-03-14: 17:59:30 Denver (MDT, UTC-6) = 23:59:30 UTC.
PEAK_END_SOON = datetime(2025, 3, 14, 23, 59, 30, tzinfo=UTC)
MIDDAY_PEAK = datetime(2025, 3, 14, 18, 0, 10, tzinfo=UTC)  # 12:00:10 MDT
SATURDAY = datetime(2025, 3, 15, 18, 0, 0, tzinfo=UTC)
OFFSET_RANGE = 30.0  # AMD's clock may be this far from ours before we learn it
LIMITS = {Budget.TIER1: (1, 60), Budget.TIER2: (12, 120), Budget.TIER3: (24, 120)}


def limiter(start: datetime, buckets: MemoryRateBuckets | None = None):
    clock = ManualClock(start)
    lim = RateLimiter(buckets or MemoryRateBuckets(), "999999", clock, LimitTable.default())
    return lim, clock


def take_all(lim, budgets, n=500):
    permits = 0
    for _ in range(n):
        outcome = lim.acquire(budgets)
        if isinstance(outcome, Wait):
            return permits, outcome
        permits += 1
    return permits, None


def saturate(lim, clock, budgets, seconds: float) -> list[datetime]:
    """One greedy caller for `seconds`: a call whenever the limiter allows one."""
    end = clock.now() + timedelta(seconds=seconds)
    permitted = []
    while clock.now() < end:
        outcome = lim.acquire(budgets)
        if isinstance(outcome, Permit):
            permitted.append(clock.now())
        else:
            clock.advance(outcome.seconds)
    return permitted


def worst_spans(times: list[float], offset: float, limits: tuple[int, int]) -> list[str]:
    """Every way AMD might count, judged on its clock (ours + offset): sliding windows
    [e - 60, e] (closed, stricter than AMD's (e - 60, e]) with the limit of their end e, and
    calendar minutes with the limit of their start. Returns the violations found."""
    peak_limit, off_limit = limits
    amd = sorted(t + offset for t in times)
    problems = []

    def count(lo: float, hi: float, closed_hi: bool = True) -> int:
        right = bisect.bisect_right(amd, hi) if closed_hi else bisect.bisect_left(amd, hi)
        return right - bisect.bisect_left(amd, lo)

    def limit_at(instant: float) -> int:
        return peak_limit if is_peak(datetime.fromtimestamp(instant, UTC)) else off_limit

    ends = set(amd) | {t + 60 for t in amd}
    # The limit changes at peak edges: a window ending just before 18:00 is still peak.
    for t in amd:
        for edge in _peak_edges(t):
            ends.add(edge - 1e-6)
            ends.add(edge)
    for end in ends:
        n, cap = count(end - 60, end), limit_at(end)
        if n > cap:
            problems.append(f"sliding window ending {end}: {n} > {cap}")
    for t in amd:
        start = t - t % 60
        n, cap = count(start, start + 60, closed_hi=False), limit_at(start)
        if n > cap:
            problems.append(f"calendar minute {start}: {n} > {cap}")
    return problems


def _peak_edges(instant: float) -> list[float]:
    local = datetime.fromtimestamp(instant, UTC).astimezone(PEAK_ZONE)
    edges = []
    for hour in (6, 18):
        edge = local.replace(hour=hour, minute=0, second=0, microsecond=0)
        edges.append(edge.timestamp())
    return [e for e in edges if abs(e - instant) <= 120]


def test_tier_table_matches_protocol():
    assert budgets_for_action("getupdatedvisits") == (Budget.FEED, Budget.TIER1)
    assert budgets_for_action("GetUpdatedPatients") == (Budget.FEED, Budget.TIER1)
    for action in ("getdatevisits", "getAppts", "getdemographic", "updvisitwithnewcharges"):
        assert budgets_for_action(action) == (Budget.TIER2,)
    for action in ("lookupprofile", "addpatient", "getvisitidbyrefid", "getvisitsbyid"):
        assert budgets_for_action(action) == (Budget.TIER3,)
    assert REST_BUDGETS == (Budget.TIER2,)


def test_calls_are_spread_not_burst():
    lim, clock = limiter(MIDDAY_PEAK)
    permits, wait = take_all(lim, Budget.TIER2)
    assert permits == 1  # the next Tier-2 call waits its turn ...
    assert wait is not None and wait.budget is Budget.TIER2
    assert 60 / 12 < wait.seconds <= 62 / 12 + 0.01  # ... one emission interval: (60 s + 2) / 12
    clock.advance(wait.seconds)
    assert isinstance(lim.acquire(Budget.TIER2), Permit)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gaps=st.lists(st.one_of(st.floats(0, 0.5), st.floats(0, 9)), min_size=20, max_size=250),
    budget=st.sampled_from([Budget.TIER2, Budget.TIER3, Budget.TIER1]),
    day=st.integers(0, 365),
    near=st.sampled_from([(6, 0), (18, 0), (12, 0), (5, 58), (17, 58), (0, 0)]),
    jitter=st.floats(min_value=-240, max_value=240),
    offset=st.floats(min_value=-OFFSET_RANGE, max_value=OFFSET_RANGE),
)
@example(  # a caller trying every 0.5 s across a minute boundary at peak
    gaps=[0.5] * 60, budget=Budget.TIER2, day=72, near=(12, 0), jitter=50, offset=0
)
def test_no_60s_span_ever_holds_more_than_the_limit(gaps, budget, day, near, jitter, offset):
    """Random arrivals near the peak edges of random days (both DST changes included), AMD's
    clock anywhere within +/- 30 s of ours (not yet learned): no sliding 60 s window and no
    calendar minute of AMD's clock holds more calls than its limit."""
    local = datetime(2025, 1, 1, *near, tzinfo=PEAK_ZONE) + timedelta(days=day)
    start = local.astimezone(UTC) + timedelta(seconds=jitter)
    lim, clock = limiter(start)
    permitted = []
    for gap in gaps:
        clock.advance(gap)
        outcome = lim.acquire(budget)
        if isinstance(outcome, Permit):
            permitted.append(clock.now().timestamp())
    assert worst_spans(permitted, offset, LIMITS[budget]) == []


def test_several_callers_sharing_the_buckets_stay_within_the_limit():
    """Ten callers (own limiter objects, one shared store) hammer Tier 2 across 18:00."""
    buckets = MemoryRateBuckets()
    clock = ManualClock(PEAK_END_SOON - timedelta(minutes=3))
    callers = [RateLimiter(buckets, "999999", clock, LimitTable.default()) for _ in range(10)]
    permitted = []
    while clock.now() < PEAK_END_SOON + timedelta(minutes=3):
        waits = []
        for lim in callers:
            outcome = lim.acquire(Budget.TIER2)
            if isinstance(outcome, Permit):
                permitted.append(clock.now().timestamp())
            else:
                waits.append(outcome.seconds)
        clock.advance(min(waits, default=0.01))
    for offset in (-30, -17, 0, 17, 30):
        assert worst_spans(permitted, offset, LIMITS[Budget.TIER2]) == [], offset


def test_saturated_throughput_is_at_least_90_percent_of_the_ceiling():
    for start, budget, per_minute in (
        (MIDDAY_PEAK, Budget.TIER2, 12),
        (MIDDAY_PEAK, Budget.TIER3, 24),
        (SATURDAY, Budget.TIER2, 120),
        (SATURDAY, Budget.TIER1, 60),
    ):
        lim, clock = limiter(start)
        calls = saturate(lim, clock, budget, 30 * 60)
        ceiling = 30 * per_minute
        assert len(calls) >= 0.9 * ceiling, (budget, start, len(calls), ceiling)
        assert len(calls) <= ceiling


def test_feed_goes_at_most_once_per_60s_plus_margin_whoever_asks():
    """Schedule, pull button and CLI are three limiter objects over one store; they all try
    GETUPDATEDVISITS every 0.5 s for ten minutes, across a calendar minute boundary."""
    buckets = MemoryRateBuckets()
    clock = ManualClock(SATURDAY + timedelta(seconds=59))
    callers = [RateLimiter(buckets, "999999", clock, LimitTable.default()) for _ in range(3)]
    feed = budgets_for_action("getupdatedvisits")
    sent = []
    for step in range(1200):
        outcome = callers[step % 3].acquire(feed)
        if isinstance(outcome, Permit):
            sent.append(clock.now())
        else:
            assert outcome.budget is Budget.FEED
        clock.advance(0.5)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent)]
    assert gaps and min(gaps) >= 61.0
    assert len(sent) >= 9  # about one a minute, not one every two


def test_all_or_nothing_keeps_the_tier_slot_when_the_feed_refuses():
    lim, clock = limiter(SATURDAY)
    assert isinstance(lim.acquire(budgets_for_action("getupdatedvisits")), Permit)
    clock.advance(5)
    refused = lim.acquire(budgets_for_action("getupdatedvisits"))
    assert isinstance(refused, Wait) and refused.budget is Budget.FEED
    # The refused call did not take Tier 1's slot: another Tier-1 call may go at once.
    assert isinstance(lim.acquire(Budget.TIER1), Permit)


def test_server_429_holds_the_budget_for_everyone():
    buckets, clock = MemoryRateBuckets(), ManualClock(SATURDAY)
    lim = RateLimiter(buckets, "999999", clock, LimitTable.default())
    other = RateLimiter(buckets, "999999", clock, LimitTable.default())
    wait = lim.note_server_limit([Budget.TIER3])
    assert 60 <= wait <= 62.01
    outcome = other.acquire(Budget.TIER3)
    assert isinstance(outcome, Wait) and outcome.seconds > 59
    clock.advance(wait)
    assert isinstance(other.acquire(Budget.TIER3), Permit)


def test_limits_are_data():
    table = LimitTable.from_mapping({"T2": {"peak": 3, "off_peak": 5}}, is_peak)
    clock = ManualClock(MIDDAY_PEAK)
    lim = RateLimiter(MemoryRateBuckets(), "k", clock, table)
    assert len(saturate(lim, clock, Budget.TIER2, 600)) in range(27, 31)  # 3/min for 10 min
    assert table.limit(Budget.TIER3, MIDDAY_PEAK) == 24


def test_scopes_are_separate_office_keys():
    buckets = MemoryRateBuckets()
    clock = ManualClock(MIDDAY_PEAK)
    a = RateLimiter(buckets, "111111", clock, LimitTable.default())
    b = RateLimiter(buckets, "222222", clock, LimitTable.default())
    assert isinstance(a.acquire(Budget.TIER2), Permit)
    assert isinstance(b.acquire(Budget.TIER2), Permit)


def test_zero_limit_never_permits():
    table = LimitTable.from_mapping({"T2": {"peak": 0, "off_peak": 0}}, is_peak)
    lim = RateLimiter(MemoryRateBuckets(), "k", ManualClock(SATURDAY), table)
    outcome = lim.acquire(Budget.TIER2)
    assert isinstance(outcome, Wait) and outcome.seconds > 0


def test_snapshot_counts_this_minute_and_says_when_the_next_call_may_go():
    lim, clock = limiter(MIDDAY_PEAK)
    assert isinstance(lim.acquire(Budget.TIER2), Permit)
    clock.advance(6)
    assert isinstance(lim.acquire(Budget.TIER2), Permit)
    states = {s.budget: s for s in lim.snapshot()}
    assert states[Budget.TIER2].used == 2 and states[Budget.TIER2].limit == 12
    assert states[Budget.TIER2].peak is True
    assert 5 < states[Budget.TIER2].next_in <= 5.2
    assert states[Budget.TIER3].used == 0 and states[Budget.TIER3].next_in == 0
    assert lim.next_allowed_in(Budget.TIER2) == states[Budget.TIER2].next_in

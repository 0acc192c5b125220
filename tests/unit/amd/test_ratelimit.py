from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from amdsync.amd.memory import ManualClock, MemoryRateBuckets
from amdsync.amd.ratelimit import Permit, RateLimiter, Wait
from amdsync.amd.tiers import REST_BUDGETS, Budget, LimitTable, budgets_for_action
from amdsync.domain.timefmt import is_peak

# Friday 2025-03-14: 17:59:30 Denver (MDT, UTC-6) = 23:59:30 UTC.
PEAK_END_SOON = datetime(2025, 3, 14, 23, 59, 30, tzinfo=UTC)
MIDDAY_PEAK = datetime(2025, 3, 14, 18, 0, 10, tzinfo=UTC)  # 12:00:10 MDT
SATURDAY = datetime(2025, 3, 15, 18, 0, 0, tzinfo=UTC)


def limiter(start):
    clock = ManualClock(start)
    return RateLimiter(MemoryRateBuckets(), "999999", clock, LimitTable.default()), clock


def take_all(lim, budgets, n=500):
    permits = 0
    for _ in range(n):
        outcome = lim.acquire(budgets)
        if isinstance(outcome, Wait):
            return permits, outcome
        permits += 1
    return permits, None


def test_tier_table_matches_protocol():
    assert budgets_for_action("getupdatedvisits") == (Budget.FEED, Budget.TIER1)
    assert budgets_for_action("GetUpdatedPatients") == (Budget.FEED, Budget.TIER1)
    for action in ("getdatevisits", "getAppts", "getdemographic", "updvisitwithnewcharges"):
        assert budgets_for_action(action) == (Budget.TIER2,)
    for action in ("lookupprofile", "addpatient", "getvisitidbyrefid", "getvisitsbyid"):
        assert budgets_for_action(action) == (Budget.TIER3,)
    assert REST_BUDGETS == (Budget.TIER2,)


def test_peak_limits_then_wait_until_next_minute():
    lim, clock = limiter(MIDDAY_PEAK)
    permits, wait = take_all(lim, Budget.TIER2)
    assert permits == 12
    assert wait is not None and wait.budget is Budget.TIER2
    assert 49.9 < wait.seconds <= 50.01
    clock.sleep(wait.seconds)
    assert isinstance(lim.acquire(Budget.TIER2), Permit)


def test_tier3_peak_is_24_and_off_peak_120():
    lim, _ = limiter(MIDDAY_PEAK)
    assert take_all(lim, Budget.TIER3)[0] == 24
    lim, _ = limiter(SATURDAY)
    assert take_all(lim, Budget.TIER3)[0] == 120
    lim, _ = limiter(SATURDAY)
    assert take_all(lim, Budget.TIER1)[0] == 60


def test_feed_is_capped_at_one_per_minute_even_off_peak():
    lim, clock = limiter(SATURDAY)
    assert isinstance(lim.acquire(budgets_for_action("getupdatedvisits")), Permit)
    outcome = lim.acquire(budgets_for_action("getupdatedvisits"))
    assert isinstance(outcome, Wait) and outcome.budget is Budget.FEED
    clock.advance(60)
    assert isinstance(lim.acquire(budgets_for_action("getupdatedvisits")), Permit)


def test_all_or_nothing_gives_back_what_was_taken():
    lim, _ = limiter(SATURDAY)
    assert isinstance(lim.acquire(budgets_for_action("getupdatedvisits")), Permit)
    assert isinstance(lim.acquire(budgets_for_action("getupdatedvisits")), Wait)
    tier1 = {s.budget: s.used for s in lim.snapshot()}[Budget.TIER1]
    assert tier1 == 1  # the refused second call did not keep its Tier-1 unit


def test_window_limit_follows_peak_boundary():
    lim, clock = limiter(PEAK_END_SOON)  # 17:59:30 MDT: still peak
    assert take_all(lim, Budget.TIER2)[0] == 12
    clock.advance(30)  # 18:00:00: off-peak window
    assert take_all(lim, Budget.TIER2)[0] == 120


def test_server_429_closes_the_window_for_everyone():
    lim, _ = limiter(SATURDAY)
    wait = lim.note_server_limit([Budget.TIER3])
    assert 59.9 < wait <= 60.01
    assert isinstance(lim.acquire(Budget.TIER3), Wait)


def test_limits_are_data():
    table = LimitTable.from_mapping({"T2": {"peak": 3, "off_peak": 5}}, is_peak)
    clock = ManualClock(MIDDAY_PEAK)
    lim = RateLimiter(MemoryRateBuckets(), "k", clock, table)
    assert take_all(lim, Budget.TIER2)[0] == 3
    assert table.limit(Budget.TIER3, MIDDAY_PEAK) == 24


def test_scopes_are_separate_office_keys():
    buckets = MemoryRateBuckets()
    clock = ManualClock(MIDDAY_PEAK)
    a = RateLimiter(buckets, "111111", clock, LimitTable.default())
    b = RateLimiter(buckets, "222222", clock, LimitTable.default())
    assert take_all(a, Budget.TIER2)[0] == 12
    assert take_all(b, Budget.TIER2)[0] == 12


def test_cost_above_limit_waits_for_next_window():
    lim, _ = limiter(MIDDAY_PEAK)
    assert isinstance(lim.acquire(Budget.TIER1, cost=2), Wait)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(min_value=0, max_value=20), min_size=1, max_size=300),
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31)),
)
def test_never_more_permits_than_the_window_limit(steps, start):
    start = start.replace(tzinfo=UTC)
    lim, clock = limiter(start)
    per_window: dict[datetime, int] = {}
    for step in steps:
        clock.advance(step)
        outcome = lim.acquire(Budget.TIER2)
        if isinstance(outcome, Permit):
            per_window[outcome.window_start] = per_window.get(outcome.window_start, 0) + 1
        else:
            assert 0 < outcome.seconds <= 60.01
    for window, count in per_window.items():
        assert count <= (12 if is_peak(window) else 120)
        assert window.second == 0 and window + timedelta(minutes=1) > window

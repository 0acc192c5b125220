"""The wait estimate (SPEC §6) against what actually happens: the shared limiter's spacing for
Tier 2 (issue 18 item 7), or the workers' observed pace when that is slower."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from amdsync.amd.memory import ManualClock, MemoryRateBuckets
from amdsync.amd.ratelimit import Permit, RateLimiter
from amdsync.amd.tiers import REST_BUDGETS, LimitTable
from amdsync.domain.journal import SyncLogEntry
from amdsync.sync.estimate import PACE_SAMPLE, estimate_wait, recent_pace, seconds_per_job

MIDDAY_PEAK = datetime(2025, 3, 14, 18, 0, 10, tzinfo=UTC)  # Friday 12:00:10 Denver
SATURDAY = datetime(2025, 3, 15, 18, 0, 0, tzinfo=UTC)


def drain_seconds(start: datetime, jobs: int) -> float:
    """How long the limiter takes to let `jobs` REST calls (one per job) through, greedily."""
    clock = ManualClock(start)
    limiter = RateLimiter(MemoryRateBuckets(), "999999", clock, LimitTable.default())
    done = 0
    while done < jobs:
        outcome = limiter.acquire(REST_BUDGETS)
        if isinstance(outcome, Permit):
            done += 1
        else:
            clock.advance(outcome.seconds)
    return (clock.now() - start).total_seconds()


@pytest.mark.parametrize(("start", "per_call"), [(MIDDAY_PEAK, 62 / 12), (SATURDAY, 62 / 120)])
def test_a_job_costs_the_limiters_spacing_of_one_tier_2_call(start, per_call):
    assert seconds_per_job(start) == pytest.approx(per_call)


@pytest.mark.parametrize(("start", "jobs"), [(MIDDAY_PEAK, 60), (SATURDAY, 300)])
def test_the_estimate_matches_the_limiters_drain_time(start, jobs):
    estimate = estimate_wait(jobs, start).estimated_wait_seconds
    # The first call goes at once, the last one (jobs - 1) spacings later: within one spacing.
    assert abs(estimate - drain_seconds(start, jobs)) <= seconds_per_job(start) + 1


def entry(at: datetime, n: int, entity: str = "appointment", outcome: str = "success"):
    return SyncLogEntry(
        id=f"e{n}",
        at=at,
        entity_type=entity,
        entity_id=f"A-{n}",
        operation="create",
        direction="to_amd",
        outcome=outcome,
        duration_ms=100,
    )


def completions(now: datetime, every: float, count: int = PACE_SAMPLE, **kw):
    return [entry(now - timedelta(seconds=every * n), n, **kw) for n in range(count)]


def test_a_slower_observed_pace_sets_the_estimate():
    now = SATURDAY
    pace = recent_pace(completions(now, every=1.6), now)
    assert pace == pytest.approx(1.6)
    assert estimate_wait(300, now, pace=pace).estimated_wait_seconds == 480


def test_a_faster_pace_than_the_budget_never_shortens_it():
    now = MIDDAY_PEAK
    pace = recent_pace(completions(now, every=0.2), now)
    assert estimate_wait(12, now, pace=pace).estimated_wait_seconds == 62


def test_too_few_old_or_deferred_completions_give_no_pace():
    now = SATURDAY
    assert recent_pace(completions(now, 1.0, count=PACE_SAMPLE - 1), now) is None
    stale = completions(now - timedelta(minutes=3), 1.0)
    assert recent_pace(stale, now) is None
    assert recent_pace(completions(now, 1.0, outcome="deferred"), now) is None
    assert recent_pace(completions(now, 1.0, entity="pull"), now) is None

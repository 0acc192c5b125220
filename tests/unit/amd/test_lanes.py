"""Work lanes share AMD's budget (SPEC §9.3, issue 15 item 1): interactive work waits at most one
call slot of its tier however many background callers compete; background uses what
interactive leaves, and a claim nobody uses costs background one slot at most."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from amdsync.amd.client import RateGate
from amdsync.amd.errors import RateLimited
from amdsync.amd.lanes import BACKGROUND, current_lane, in_lane
from amdsync.amd.memory import CountingMetrics, ManualClock, MemoryRateBuckets
from amdsync.amd.ratelimit import CLAIM_GRACE, Permit, RateLimiter, Wait, emission_interval
from amdsync.amd.tiers import Budget, LimitTable

MIDDAY_PEAK = datetime(2025, 3, 14, 18, 0, 10, tzinfo=UTC)  # Friday 12:00:10 MDT
T2 = (Budget.TIER2,)
SLOT = emission_interval(12)  # Tier 2 at peak


def make(buckets: MemoryRateBuckets | None = None) -> tuple[RateLimiter, ManualClock]:
    clock = ManualClock(MIDDAY_PEAK)
    return RateLimiter(buckets or MemoryRateBuckets(), "P", clock, LimitTable.default()), clock


def test_an_interactive_claim_holds_background_off_until_just_after_its_slot() -> None:
    lim, clock = make()
    assert isinstance(lim.acquire(T2, BACKGROUND), Permit)
    wait = lim.acquire(T2)  # interactive: the slot is taken
    assert isinstance(wait, Wait)
    lim.claim(T2, wait.seconds)
    clock.advance(wait.seconds)
    held = lim.acquire(T2, BACKGROUND)  # the slot is free, but claimed
    assert isinstance(held, Wait)
    assert held.seconds <= CLAIM_GRACE + 0.01
    assert isinstance(lim.acquire(T2), Permit)  # the claimant takes it
    clock.advance(SLOT)
    assert isinstance(lim.acquire(T2, BACKGROUND), Permit)  # and background the next one


def test_an_unused_claim_costs_background_one_slot_at_most() -> None:
    lim, clock = make()
    assert isinstance(lim.acquire(T2, BACKGROUND), Permit)
    wait = lim.acquire(T2)
    assert isinstance(wait, Wait)
    lim.claim(T2, wait.seconds)  # ... and the claimant's process dies
    clock.advance(wait.seconds + CLAIM_GRACE + 0.01)
    assert isinstance(lim.acquire(T2, BACKGROUND), Permit)


def test_interactive_waits_one_slot_at_most_behind_ten_greedy_background_workers() -> None:
    """Ten background workers retry the moment they are allowed; an interactive job arrives at
    a random moment of their backlog and sleeps through the gate as the worker does."""
    buckets = MemoryRateBuckets()
    lim, clock = make(buckets)
    gate = RateGate(lim, clock, max_wait=0.0, metrics=CountingMetrics(), pace_wait=6.0)
    background_calls = 0
    original_sleep = clock.sleep

    def sleep_while_background_tries(seconds: float) -> None:
        nonlocal background_calls
        step = seconds / 8
        for _ in range(8):
            original_sleep(step)
            for _ in range(10):
                if isinstance(lim.acquire(T2, BACKGROUND), Permit):
                    background_calls += 1

    for arrival in (3.3, 17.9, 41.0):
        # The background backlog runs until the interactive job shows up.
        end = clock.now() + timedelta(seconds=arrival)
        while clock.now() < end:
            for _ in range(10):
                if isinstance(lim.acquire(T2, BACKGROUND), Permit):
                    background_calls += 1
            clock.advance(0.25)
        asked = clock.now()
        # While the gate sleeps, the ten workers keep trying: only the claim keeps them off.
        clock.sleep = sleep_while_background_tries  # type: ignore[method-assign]
        gate.spend(T2)
        clock.sleep = original_sleep  # type: ignore[method-assign]
        waited = (clock.now() - asked).total_seconds()
        assert waited <= SLOT + 0.01, f"interactive waited {waited:.2f} s > one slot {SLOT:.2f} s"
    assert background_calls > 5  # background really competed for the budget


def test_a_background_job_never_sleeps_for_a_slot_it_must_leave_to_interactive() -> None:
    lim, clock = make()
    gate = RateGate(lim, clock, max_wait=0.0, metrics=CountingMetrics(), pace_wait=6.0)
    assert isinstance(lim.acquire(T2), Permit)
    wait = lim.acquire(T2)
    assert isinstance(wait, Wait)
    lim.claim(T2, wait.seconds + 30)  # interactive work has the next slots
    with in_lane(BACKGROUND):
        assert current_lane() == BACKGROUND
        try:
            gate.spend(T2)
        except RateLimited as deferred:
            assert deferred.retry_after > 30
        else:
            raise AssertionError("background took a claimed slot")
    assert current_lane() == "interactive"

"""Overflowing windows (PROTOCOL §3.14, SPEC §9.3): AMD answers more changed visits than it
lists with ids only; each resubmission of a chunk of them is another feed call, one per turn of
the feed (about a minute). The ids go into the checkpoint at once; each run resubmits the next
chunk only if the feed's turn fits its rate wait and remaining time; the window is guarded and
applied only when whole; the watermark moves at the end. Sizes scaled down: AMD's 1,000 / 500
are 4 / 3 here."""

from __future__ import annotations

import pytest

from amdsync.domain.errors import SyncErrorCode
from amdsync.sync import pull_fetch
from amdsync.sync.manual_pull import ManualPulls
from amdsync.sync.pull import PullOptions, PullRun
from tests.fakes import World, build_world
from tests.lambda_support import DeadlineContext
from tests.unit.sync.spaced_feed import (
    CANCELLED,
    FEED_MAX_WAIT,
    FEED_TURN,
    SpacedFeed,
    changed_in_amd,
)

OPTIONS = PullOptions(max_feed_wait=FEED_MAX_WAIT, chunk_size=3, deadline_margin=10.0)


@pytest.fixture
def spaced(monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr(pull_fetch, "FEED_IDS", 3)
    world = build_world(amd=SpacedFeed())
    world.amd.overflow_at = 4
    return world


def _tick(world: World, seconds_left: float = 60.0) -> str:
    context = DeadlineContext(remaining_ms=int(seconds_left * 1000))
    return (
        PullRun(world.ctx, OPTIONS)
        .run(remaining=lambda: context.get_remaining_time_in_millis() / 1000)
        .status
    )


def _a_minute_passes(world: World) -> None:
    world.amd.feed_wait_seconds = max(0.0, world.amd.feed_wait_seconds - 60.0)


def test_an_overflow_is_read_one_feed_turn_per_run_and_applied_once_whole(spaced: World) -> None:
    world = spaced
    changed_in_amd(world, 10)  # ids only; resubmitted as 3, 3, 3, 1
    mark = world.watermark.get().value

    assert _tick(world) == "partial"  # the ids-only reply; the next turn is a minute away
    checkpoint = world.pull_windows.current
    assert checkpoint is not None and checkpoint.reading
    assert (checkpoint.id_chunks, checkpoint.next_id_chunk, checkpoint.chunks) == (4, 0, 0)
    assert world.amd.count("updated_visits") == 1

    statuses = []
    for _ in range(4):
        _a_minute_passes(world)
        statuses.append(_tick(world))
        assert world.amd.count("updated_visits") == 1 + len(statuses)  # one call per run
        if statuses[-1] != "ok":
            assert world.watermark.get().value == mark and world.feed.entries == []
    assert statuses == ["partial", "partial", "partial", "ok"]
    published = sorted(e.appointment_id for e in world.feed.entries)
    assert published == sorted(f"A-{i}" for i in range(10))  # each change once
    assert world.watermark.get().value != mark and world.pull_windows.current is None


def test_no_feed_call_whose_turn_would_not_fit_the_remaining_time(spaced: World) -> None:
    world = spaced
    changed_in_amd(world, 5)
    assert _tick(world) == "partial"
    world.amd.feed_wait_seconds = 30.0

    summary = PullRun(world.ctx, OPTIONS).run(remaining=lambda: 39.0)  # 30 s + 10 s margin
    assert (summary.status, summary.retry_after) == ("partial", 30.0)
    assert world.amd.count("updated_visits") == 1
    checkpoint = world.pull_windows.current
    assert checkpoint is not None and checkpoint.next_id_chunk == 0

    world.amd.feed_wait_seconds = 0.0
    assert _tick(world) == "partial"  # the first resubmission
    assert world.amd.count("updated_visits") == 2


def test_a_first_call_whose_turn_would_not_fit_is_not_made(spaced: World) -> None:
    world = spaced
    changed_in_amd(world, 5)
    world.amd.feed_wait_seconds = 45.0  # within the rate wait, not within 50 s left - margin
    assert _tick(world, seconds_left=50.0) == "too_soon"
    assert world.amd.count("updated_visits") == 0 and world.pull_windows.current is None


def test_a_mass_change_read_across_runs_is_blocked_and_forgotten(spaced: World) -> None:
    world = spaced
    changed_in_amd(world, 10, status_code=CANCELLED)
    mark = world.watermark.get().value
    summary = None
    for _ in range(5):
        summary = PullRun(world.ctx, OPTIONS).run(remaining=lambda: 60.0)
        _a_minute_passes(world)
    assert summary is not None and summary.status == "blocked"
    assert summary.error_code is SyncErrorCode.MASS_CHANGE_BLOCKED
    assert world.amd.count("updated_visits") == 1 + 4
    assert world.watermark.get().value == mark and world.feed.entries == []
    assert world.pull_windows.current is None and world.pull_windows.parts == {}


def test_a_manual_pull_reading_an_overflow_comes_back_at_the_feeds_next_turn(
    spaced: World,
) -> None:
    world = spaced
    changed_in_amd(world, 5)
    pulls = ManualPulls(world.ctx, PullOptions(chunk_size=3))  # the button's: no feed wait
    pull = pulls.request("someone@example.org")
    step = pulls.run(pull.pull_id)
    assert (step.finished, step.wait) == (False, FEED_TURN)  # not a busy loop of 1 s retries
    assert world.amd.count("updated_visits") == 1
    for _ in range(2):
        world.amd.feed_wait_seconds = 0.0
        step = pulls.run(pull.pull_id)
    assert step.finished and world.amd.count("updated_visits") == 3
    done = pulls.get(pull.pull_id)
    assert done is not None and done.state == "done"

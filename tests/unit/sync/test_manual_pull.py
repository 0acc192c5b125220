"""The pull button next to the schedule (SPEC §9.3). With `syncFrequency: realtime` the schedule
takes AMD's change feed every minute, the moment its turn comes; a manual pull waiting for the
same turn lost that race every minute and stayed `running` forever (seen on `make run`: three
`PullTooSoon` in three minutes). A pull that read AMD's changes after the button was pressed
did what the button asked: the manual pull finishes with that pull's summary."""

from __future__ import annotations

from datetime import timedelta

from amdsync.sync.manual_pull import ManualPulls
from amdsync.sync.pull import PullOptions, PullRun
from tests.fakes import World, build_world
from tests.unit.sync.spaced_feed import FEED_MAX_WAIT, FEED_TURN, SpacedFeed, changed_in_amd

BUTTON = PullOptions()  # the worker's: no wait for the feed inside a run
SCHEDULE = PullOptions(max_feed_wait=FEED_MAX_WAIT)  # the tick's: waits the few seconds of its turn


def _spaced() -> World:
    return build_world(amd=SpacedFeed())


def test_a_manual_pull_the_schedule_beats_to_the_feed_finishes_with_the_schedules_summary() -> None:
    world = _spaced()
    changed_in_amd(world, 2)  # watermark set by the bootstrap; two AMD-side changes since
    pulls = ManualPulls(world.ctx, BUTTON)
    pull = pulls.request("billing@example.org")
    world.clock.advance(timedelta(seconds=1))

    scheduled = PullRun(world.ctx, SCHEDULE).run()  # the tick wins the feed's turn
    assert scheduled.status == "ok" and scheduled.updated == 2
    step = pulls.run(pull.pull_id)

    assert step.finished
    done = pulls.get(pull.pull_id)
    assert done is not None and done.state == "done"
    assert done.summary is not None and done.summary["updated"] == 2
    assert world.amd.count("updated_visits") == 1  # the feed was read once, by the tick


def test_a_pull_that_finished_before_the_button_was_pressed_does_not_answer_it() -> None:
    world = _spaced()
    changed_in_amd(world, 2)
    assert PullRun(world.ctx, SCHEDULE).run().status == "ok"
    world.clock.advance(timedelta(seconds=1))
    pulls = ManualPulls(world.ctx, BUTTON)
    pull = pulls.request("billing@example.org")

    step = pulls.run(pull.pull_id)  # the feed's next turn is a minute away

    assert (step.finished, step.wait) == (False, FEED_TURN)
    waiting = pulls.get(pull.pull_id)
    assert waiting is not None and waiting.state == "running" and waiting.summary is None

"""A fake AMD whose change feed keeps AMD's once-a-minute turn, and a store with AMD-side
changes waiting for the feed: shared by the pull tests (overflow windows, the pull button)."""

from __future__ import annotations

from collections.abc import Sequence

from amdsync.sync.ports import VisitChanges
from amdsync.sync.pull import PullRun
from tests.fakes import FakeAmd, World
from tests.unit.sync.helpers import synced

FEED_TURN = 62.0  # AMD's change feed: once per 60 s + margin per office key
FEED_MAX_WAIT = 50.0  # the longest a scheduled run waits for the feed's turn (PullOptions)
CHECKED_IN, CANCELLED = 1, 10


class SpacedFeed(FakeAmd):
    """The limiter's view of the feed: after each call, its next turn is a minute away."""

    def updated_visits(
        self, since: str | None, visit_ids: Sequence[str] | None = None
    ) -> VisitChanges:
        assert self.feed_wait_seconds <= FEED_MAX_WAIT, "called off its turn"
        changes = super().updated_visits(since, visit_ids)
        self.feed_wait_seconds = FEED_TURN
        return changes


def changed_in_amd(world: World, count: int, status_code: int = CHECKED_IN) -> list[str]:
    """`count` synced appointments, the watermark set by a first pull, then each changed in
    AMD (waiting for the feed)."""
    visits = [
        synced(world, f"A-{i}", start=f"2026-12-{1 + i // 8:02d}T{8 + i % 8:02d}:00:00")
        for i in range(count)
    ]
    assert PullRun(world.ctx).run().status == "ok"  # the bootstrap: day lists, not the feed
    world.feed.entries.clear()
    for visit in visits:
        world.amd.person_edits(visit, status_code=status_code)
    return visits

"""Two pulls started at once (the schedule tick and a "pull now" click, or two Lambda
instances) never overlap: the DynamoDB lease (moto) lets exactly one run; the other answers
"busy" without calling AdvancedMD, and the lease is free again afterwards."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from amdsync.store.control import DynamoLeases
from amdsync.sync.ports import VisitChanges
from amdsync.sync.pull import LEASE_SLACK_SECONDS, PullOptions, PullRun, PullSummary
from tests.fakes import PRACTICE, World, build_world
from tests.moto_tables import pk_sk_table

TABLE = "amdsync-control-lease"


@pytest.fixture
def leases(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoLeases]:
    for table in pk_sk_table(monkeypatch, TABLE):
        yield DynamoLeases(table, PRACTICE)


class SlowUpdates:
    """Holds the first pull inside GETUPDATEDVISITS until the test lets it go."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.inside = threading.Event()
        self.release = threading.Event()
        self.concurrent = 0
        self.max_concurrent = 0
        self._lock = threading.Lock()
        self._original = world.amd.updated_visits

    def __call__(self, since: str | None) -> VisitChanges:
        with self._lock:
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)
        self.inside.set()
        assert self.release.wait(10)
        try:
            return self._original(since)
        finally:
            with self._lock:
                self.concurrent -= 1


def _start_watermark(world: World) -> None:
    # A stored watermark: the pull asks GETUPDATEDVISITS (no bootstrap day scan).
    summary = PullRun(world.ctx).run()
    assert summary.status == "ok", summary


def test_two_concurrent_pulls_never_overlap(leases: DynamoLeases) -> None:
    world = build_world(leases=leases)
    _start_watermark(world)
    slow = SlowUpdates(world)
    world.amd.updated_visits = slow  # type: ignore[method-assign]
    results: dict[str, PullSummary] = {}

    def run(name: str) -> None:
        results[name] = PullRun(world.ctx).run(actor=name)

    first = threading.Thread(target=run, args=("schedule",))
    first.start()
    assert slow.inside.wait(10)
    calls_before = world.amd.calls_made()
    second = threading.Thread(target=run, args=("button",))
    second.start()
    second.join(10)
    assert results["button"].status == "busy"
    assert world.amd.calls_made() == calls_before  # the refused run called nothing
    slow.release.set()
    first.join(10)
    assert results["schedule"].status == "ok"
    assert slow.max_concurrent == 1
    # Released: the next tick may pull again.
    assert PullRun(world.ctx).run().status == "ok"


def test_many_racing_pulls_admit_exactly_one(leases: DynamoLeases) -> None:
    world = build_world(leases=leases)
    _start_watermark(world)
    slow = SlowUpdates(world)
    world.amd.updated_visits = slow  # type: ignore[method-assign]
    barrier = threading.Barrier(8)
    statuses: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait(10)
        summary = PullRun(world.ctx).run()
        with lock:
            statuses.append(summary.status)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert slow.inside.wait(10)
    # Everyone but the holder has given up by now; then let the holder finish.
    for _ in range(100):
        with lock:
            if len(statuses) == 7:
                break
        threading.Event().wait(0.05)
    slow.release.set()
    for thread in threads:
        thread.join(10)
    assert sorted(statuses) == ["busy"] * 7 + ["ok"]
    assert slow.max_concurrent == 1


def test_a_crashed_holder_does_not_block_forever(leases: DynamoLeases) -> None:
    """A holder killed with its function holds the lease only as long as its invocation could
    have lasted (the pull function's 120 s timeout here), not a fixed 300 s."""
    world = build_world(leases=leases)
    now = world.clock.now()
    remaining = 120.0  # what the crashed invocation had left when it took the lease
    until = now + timedelta(seconds=remaining + LEASE_SLACK_SECONDS)
    assert leases.acquire("pull", "crashed-instance", now, until)
    assert PullRun(world.ctx).run(remaining=lambda: remaining).status == "busy"
    world.clock.advance(seconds=remaining + LEASE_SLACK_SECONDS + 1)
    assert PullRun(world.ctx).run(remaining=lambda: remaining).status == "ok"
    assert PullOptions().lease_seconds == remaining  # no deadline known: the function timeout

"""Checkpointed pulls (SPEC §9.3): a window is read from AMD once, stored in pieces and applied
piece by piece; a run stops before its deadline and the next resumes at the checkpoint without
reading the feed again or repeating stored pieces; the watermark moves only at the end; the
lease lasts as long as the run can (its remaining time), not a fixed 300 s."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from amdsync.sync.pull import LEASE, LEASE_SLACK_SECONDS, PullOptions, PullRun
from tests.fakes import FakeLeases, World, build_world
from tests.lambda_support import DeadlineContext
from tests.unit.sync.helpers import synced

OPTIONS = PullOptions(chunk_size=3, deadline_margin=10.0)


def _changed(world: World, count: int) -> list[str]:
    """`count` synced appointments, bootstrapped, then each checked in at AMD's front desk."""
    visits = [
        synced(world, f"A-{i}", start=f"2026-12-{1 + i // 8:02d}T{8 + i % 8:02d}:00:00")
        for i in range(count)
    ]
    assert PullRun(world.ctx).run().status == "ok"
    world.feed.entries.clear()
    for visit in visits:
        world.amd.person_edits(visit, status_code=1)
    return visits


def _remaining(context: DeadlineContext) -> float:
    return context.get_remaining_time_in_millis() / 1000


def test_a_run_stops_before_its_deadline_and_the_next_resumes(world: World) -> None:
    _changed(world, 10)  # 4 pieces of 3, 3, 3, 1
    mark = world.watermark.get().value
    # Checks: lease 50, fetch 40, pieces 0-2 at 30, 20, 10 s; piece 3 would start with 0 s.
    short = DeadlineContext(remaining_ms=50_000, step_ms=10_000)
    cut = PullRun(world.ctx, OPTIONS).run(remaining=lambda: _remaining(short))
    assert cut.status == "partial" and cut.updated == 9
    assert world.amd.count("updated_visits") == 1
    assert world.watermark.get().value == mark
    assert world.pull_windows.current is not None
    assert (world.pull_windows.current.next_chunk, world.pull_windows.current.chunks) == (3, 4)
    assert LEASE not in world.leases.held  # released: the next tick may resume

    reads_before = world.pull_windows.reads
    done = PullRun(world.ctx, OPTIONS).run(remaining=lambda: _remaining(DeadlineContext()))
    assert done.status == "ok" and (done.updated, done.visits) == (10, 10)
    assert world.amd.count("updated_visits") == 1  # the feed was not read again
    assert world.pull_windows.reads - reads_before == 1  # only the piece not yet applied
    assert sorted(e.appointment_id for e in world.feed.entries) == sorted(
        f"A-{i}" for i in range(10)
    )
    assert world.watermark.get().value != mark and world.pull_windows.current is None


def test_a_crash_mid_piece_repeats_only_that_piece(world: World) -> None:
    _changed(world, 7)
    mark = world.watermark.get().value
    world.appointments.faults.fail("save", RuntimeError("Lambda killed"), skip=4)
    with pytest.raises(RuntimeError):
        PullRun(world.ctx, OPTIONS).run()
    checkpoint = world.pull_windows.current
    assert checkpoint is not None and checkpoint.next_chunk == 1  # piece 1 was mid-way
    assert world.watermark.get().value == mark
    done = PullRun(world.ctx, OPTIONS).run()
    assert done.status == "ok" and world.amd.count("updated_visits") == 1
    per_appointment = [e.appointment_id for e in world.feed.entries]
    assert sorted(set(per_appointment)) == sorted(f"A-{i}" for i in range(7))
    assert len(per_appointment) <= 7 + 1  # at most the one change published before the crash


def test_no_time_to_fetch_reads_nothing(world: World) -> None:
    _changed(world, 2)
    calls = world.amd.calls_made()
    nearly_out = DeadlineContext(remaining_ms=9_000)
    assert PullRun(world.ctx, OPTIONS).run(remaining=lambda: _remaining(nearly_out)).status == (
        "partial"
    )
    assert world.amd.calls_made() == calls and world.pull_windows.current is None


class RecordingLeases(FakeLeases):
    def __init__(self) -> None:
        super().__init__()
        self.untils: list[datetime] = []

    def acquire(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        self.untils.append(until)
        return super().acquire(name, owner, now, until)


def test_the_lease_lasts_as_long_as_the_invocation_can() -> None:
    world = build_world(leases=RecordingLeases())
    leases = world.leases
    assert isinstance(leases, RecordingLeases)
    now = world.clock.now()
    PullRun(world.ctx).run(remaining=lambda: _remaining(DeadlineContext(remaining_ms=118_000)))
    PullRun(world.ctx, PullOptions(lease_seconds=120)).run()  # no deadline known (the CLI)
    assert [u - now for u in leases.untils] == [
        timedelta(seconds=118 + LEASE_SLACK_SECONDS),
        timedelta(seconds=120 + LEASE_SLACK_SECONDS),
    ]

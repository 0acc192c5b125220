"""Pulls, the worker, stats and the dashboard never read a whole collection (SPEC §9.3, issue 15
item 4): the whole-collection reads of the fakes are made to fail, and each path still works.
(The DynamoDB side of the same rule is tests/integration/store/test_bounded_reads.py.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from amdsync.domain.errors import SyncErrorCode
from amdsync.sync.pull import PullRun
from amdsync.sync.reports import dashboard, stats_for, sync_stats
from amdsync.sync.worker import JobProcessor
from tests.fakes import World
from tests.unit.sync.helpers import APPT, drain, register, register_patient, synced

FULL_READS = [
    ("appointments", "list_all"),
    ("appointments", "list_unlinked"),
    ("patients", "list_all"),
    ("conflicts", "list"),
    ("logs", "between"),
]


@pytest.fixture
def bounded(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("a full read on a bounded path")

    for store, method in FULL_READS:
        monkeypatch.setattr(getattr(world, store), method, refuse)
    return world


def test_the_mass_change_guard_blocks_without_reading_every_appointment(world: World) -> None:
    visits = [synced(world, f"A-{i}", start=f"2026-12-{1 + i // 8:02d}T{8 + i % 8:02d}:00:00")
              for i in range(10)]  # fmt: skip
    assert PullRun(world.ctx).run().status == "ok"
    with pytest.MonkeyPatch.context() as patch:
        for store, method in FULL_READS:
            patch.setattr(getattr(world, store), method, _refuse)
        for visit in visits[:8]:
            world.amd.person_edits(visit, status_code=10)
        summary = PullRun(world.ctx).run()
    assert (summary.status, summary.error_code) == ("blocked", SyncErrorCode.MASS_CHANGE_BLOCKED)


def test_a_window_with_too_few_cancels_to_trip_the_guard_reads_no_upcoming_range(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most pulls (an idle tick, a few edits) cannot trip the guard: they skip its range read."""
    visits = [synced(world, f"A-{i}", start=f"2026-12-{1 + i:02d}T09:00:00") for i in range(8)]
    assert PullRun(world.ctx).run().status == "ok"
    ranges: list[tuple[str, str]] = []
    real = world.appointments.list_between

    def counted(start: str, end: str) -> Any:
        ranges.append((start, end))
        return real(start, end)

    monkeypatch.setattr(world.appointments, "list_between", counted)
    assert PullRun(world.ctx).run().status == "ok"  # nothing changed
    for visit in visits[:5]:  # mass_change_min cancels: never "more than" the minimum
        world.amd.person_edits(visit, status_code=10)
    world.amd.person_edits(visits[5], status_code=2)
    assert PullRun(world.ctx).run().status == "ok"
    assert ranges == []
    for visit in visits[6:8]:
        world.amd.person_edits(visit, status_code=10)
    assert PullRun(world.ctx).run().status == "ok"  # 2 cancels in this window: still no read
    assert ranges == []


def _refuse(*_: Any, **__: Any) -> Any:
    raise AssertionError("a full read on a bounded path")


def test_a_synced_patient_releases_its_waiting_appointments_by_query(bounded: World) -> None:
    register(bounded)  # no patient yet: PATIENT_NOT_SYNCED
    from tests.unit.sync.helpers import job  # noqa: PLC0415

    assert JobProcessor(bounded.ctx).process(job()).kind == "done"
    assert bounded.appointments.record(APPT).amd_sync_error_code is (
        SyncErrorCode.PATIENT_NOT_SYNCED
    )
    register_patient(bounded)
    drain(bounded)
    assert bounded.appointments.record(APPT).amd_sync_status == "synced"


def test_stats_and_dashboard_come_from_counters(bounded: World) -> None:
    synced(bounded)
    board = dashboard(bounded.ctx)
    assert (board.appointments.total, board.appointments.synced) == (1, 1)
    assert board.open_conflicts == 0
    stats = stats_for(bounded.ctx, "24h")
    end = bounded.ctx.clock.now()
    recount = sync_stats(
        [e for e in bounded.logs.entries if end - timedelta(hours=24) <= e.at <= end], "24h"
    )
    assert stats == recount and stats.succeeded >= 1

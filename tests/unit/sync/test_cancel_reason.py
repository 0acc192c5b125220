"""A change of `cancelReason` alone reaches AMD (issue 13 item 9): AMD keeps a reason until
the appointment is back on the schedule, so the push uncancels and cancels again with it."""

from __future__ import annotations

import pytest

from amdsync.sync.pull import PullRun
from amdsync.sync.push import RetryLater
from tests.fakes import World
from tests.fakes.context import REASONS
from tests.unit.sync.helpers import APPT, drain, push, register, synced


def test_a_new_cancel_reason_alone_reaches_amd(world: World) -> None:
    visit = synced(world)
    register(world, version=2, status="CANCELLED", cancelReason="PATIENT_REQUEST")
    drain(world)
    first = world.amd.appointment(visit).reason_id
    register(world, version=3, status="CANCELLED", cancelReason="ILLNESS")
    push(world)

    amd = world.amd.appointment(visit)
    assert amd.status_code == 10 and amd.reason_id != first
    assert amd.reason_id == REASONS["ILLNESS"]
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.cancel_reason) == ("synced", "ILLNESS")
    assert world.feed.entries == []  # our own change, not news from AMD
    PullRun(world.ctx).run()
    PullRun(world.ctx).run()
    assert world.appointments.record(APPT).amd_sync_status == "synced"
    assert world.conflicts.list() == []


def test_a_crash_between_uncancel_and_cancel_is_finished_not_reported(world: World) -> None:
    visit = synced(world)
    register(world, version=2, status="CANCELLED", cancelReason="PATIENT_REQUEST")
    drain(world)
    register(world, version=3, status="CANCELLED", cancelReason="ILLNESS")
    world.amd.faults.fail("cancel", RuntimeError("the worker died here"))
    with pytest.raises(RetryLater):
        push(world)  # uncancelled; the cancel never happened
    assert world.amd.appointment(visit).status_code == 0
    world.amd.faults.clear()
    push(world)  # the redelivered job
    amd = world.amd.appointment(visit)
    assert (amd.status_code, amd.reason_id) == (10, REASONS["ILLNESS"])
    assert world.appointments.record(APPT).status == "CANCELLED"
    assert world.feed.entries == []

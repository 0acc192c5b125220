"""Pull: AMD-side changes come back through the watermark, feed and records."""

from __future__ import annotations

from datetime import timedelta

import pytest

from amdsync.domain.errors import SyncErrorCode
from amdsync.sync.pull import LEASE, PullOptions, PullRun
from tests.fakes import World
from tests.unit.sync.helpers import APPT, change_status, drain, push, register, synced


def pull(world: World) -> object:
    return PullRun(world.ctx).run()


def _bootstrapped(world: World, count: int = 1) -> list[str]:
    visits = [
        synced(world, f"A-{i}", start=f"2026-12-{1 + i // 8:02d}T{8 + i % 8:02d}:00:00")
        for i in range(count)
    ]
    summary = PullRun(world.ctx).run()
    assert summary.status == "ok"
    world.feed.entries.clear()
    return visits


def test_first_pull_bootstraps_from_day_lists_and_stores_amds_servertime(world: World) -> None:
    synced(world)
    servertime = world.amd.servertime()
    summary = PullRun(world.ctx).run()
    assert world.amd.count("visits_on") == 16  # yesterday .. two weeks ahead
    assert world.amd.count("updated_visits") == 0
    assert (summary.status, summary.visits) == ("ok", 1)
    assert world.watermark.get().value == servertime  # AMD's clock, verbatim
    assert world.feed.entries == []  # our own booking is not news
    assert world.appointments.record(APPT).amd_sync_status == "synced"


def test_later_pulls_read_changes_since_the_watermark(world: World) -> None:
    _bootstrapped(world)
    first = world.watermark.get().value
    summary = PullRun(world.ctx).run()
    assert world.amd.count("updated_visits") == 1
    assert summary.visits == 0 and world.watermark.get().value == first


def test_an_amd_status_change_reaches_the_feed_and_the_record(world: World) -> None:
    [visit] = _bootstrapped(world)
    world.amd.person_edits(visit, status_code=1)
    summary = PullRun(world.ctx).run()
    assert summary.updated == 1
    [entry] = world.feed.entries
    assert (entry.appointment_id, entry.advanced_md_visit_id, entry.kind, entry.fields) == (
        "A-0",
        visit,
        "status",
        {"status": "CHECKED_IN"},
    )
    record = world.appointments.record("A-0")
    assert record.status == "CHECKED_IN" and record.base_snapshot["status"] == "CHECKED_IN"
    assert world.watermark.get().value == world.amd.servertime()
    PullRun(world.ctx).run()
    assert len(world.feed.entries) == 1  # applied once


@pytest.mark.parametrize("code", [10, 11])
def test_cancel_or_delete_in_amd_is_applied_as_cancelled(world: World, code: int) -> None:
    [visit] = _bootstrapped(world)
    world.amd.person_edits(visit, status_code=code)
    summary = PullRun(world.ctx).run()
    assert summary.cancelled == 1
    assert [(e.kind, e.fields) for e in world.feed.entries] == [
        ("cancelled", {"status": "CANCELLED"})
    ]
    assert world.appointments.record("A-0").status == "CANCELLED"  # kept, not deleted


def test_an_unlinked_amd_appointment_is_recorded_and_published_once(world: World) -> None:
    _bootstrapped(world)
    stranger = world.amd.person_books(start="2026-12-03T09:00:00")
    summary = PullRun(world.ctx).run()
    assert (summary.unlinked, summary.created) == (1, 1)
    world.amd.person_edits(stranger.visit_id, duration_minutes=45)
    assert PullRun(world.ctx).run().unlinked == 0
    [entry] = world.feed.entries
    assert (entry.kind, entry.advanced_md_visit_id, entry.appointment_id) == (
        "unlinked",
        stranger.visit_id,
        None,
    )
    [unlinked] = world.appointments.list_unlinked()
    assert unlinked.advanced_md_visit_id == stranger.visit_id
    assert world.appointments.owner_of_visit(stranger.visit_id) is None


def test_a_crash_mid_apply_keeps_the_watermark_and_the_next_pull_catches_up(
    world: World,
) -> None:
    first, second = _bootstrapped(world, 2)
    mark = world.watermark.get()
    world.amd.person_edits(first, status_code=1)
    world.amd.person_edits(second, duration_minutes=20)
    world.appointments.faults.fail("save", RuntimeError("lambda died"), skip=1)
    with pytest.raises(RuntimeError):
        PullRun(world.ctx).run()
    assert world.watermark.get() == mark
    assert world.appointments.record("A-0").status == "CHECKED_IN"  # stored before the crash
    assert world.appointments.record("A-1").duration_minutes == 50  # not yet
    assert world.logs.entries[-1].outcome == "error"
    assert world.leases.held == {}  # released even on a crash

    summary = PullRun(world.ctx).run()
    assert summary.status == "ok"
    assert world.appointments.record("A-1").duration_minutes == 20
    assert world.watermark.get().value == world.amd.servertime()
    kinds = {(e.appointment_id, e.kind) for e in world.feed.entries}
    assert kinds == {("A-0", "status"), ("A-1", "duration")}  # nothing lost


def test_a_crash_advancing_the_watermark_repeats_work_but_skips_nothing(world: World) -> None:
    [visit] = _bootstrapped(world)
    mark = world.watermark.get()
    world.amd.person_edits(visit, start="2026-12-01T13:00:00")
    world.watermark.faults.fail("advance", RuntimeError("lambda died"))
    with pytest.raises(RuntimeError):
        PullRun(world.ctx).run()
    assert world.watermark.get() == mark
    PullRun(world.ctx).run()
    assert world.appointments.record("A-0").start == "2026-12-01T13:00:00"
    assert world.watermark.get().version == mark.version + 1


def test_a_pending_ehr_change_is_queued_for_push_and_not_agreed(world: World) -> None:
    [visit] = _bootstrapped(world)
    world.settings.update(auto_sync_appointments=False)  # nothing else will push it
    register(world, "A-0", version=2, start="2026-12-01T08:00:00", durationMinutes=30)
    world.amd.person_edits(visit, status_code=1)
    summary = PullRun(world.ctx).run()
    assert summary.pushes == ["A-0"]
    assert [(j.entity_id, j.version) for j in world.queue.sent] == [("A-0", 2)]
    record = world.appointments.record("A-0")
    assert (record.status, record.duration_minutes) == ("CHECKED_IN", 30)
    assert record.base_snapshot["durationMinutes"] == 50  # still a change to push
    drain(world)
    assert world.amd.appointment(visit).duration_minutes == 30


def test_both_sides_changing_the_same_field_is_a_conflict_at_pull(world: World) -> None:
    [visit] = _bootstrapped(world)
    register(world, "A-0", version=2, start="2026-12-01T11:00:00")
    world.amd.person_edits(visit, start="2026-12-01T15:00:00")
    summary = PullRun(world.ctx).run()
    assert summary.conflicts == 1
    record = world.appointments.record("A-0")
    assert (record.amd_sync_status, record.start) == ("conflict", "2026-12-01T11:00:00")
    assert record.base_snapshot["start"] == "2026-12-01T08:00:00"
    assert world.conflicts.get("A-0") is not None


def test_mass_cancellation_in_amd_is_blocked_and_the_watermark_stays(world: World) -> None:
    visits = _bootstrapped(world, 10)
    mark = world.watermark.get()
    for visit in visits[:8]:
        world.amd.person_edits(visit, status_code=10)
    summary = PullRun(world.ctx).run()
    assert (summary.status, summary.error_code) == ("blocked", SyncErrorCode.MASS_CHANGE_BLOCKED)
    assert world.watermark.get() == mark
    assert all(r.status == "SCHEDULED" for r in world.appointments.list_all())
    assert world.feed.entries == []
    assert world.metrics.total("MassChangeBlocked") == 1
    assert world.logs.entries[-1].error_code is SyncErrorCode.MASS_CHANGE_BLOCKED


def test_a_few_cancellations_pass_the_guard(world: World) -> None:
    visits = _bootstrapped(world, 10)
    for visit in visits[:3]:
        world.amd.person_edits(visit, status_code=10)
    summary = PullRun(world.ctx).run()
    assert (summary.status, summary.cancelled) == ("ok", 3)


def test_cancellations_the_ehr_made_do_not_trip_the_guard(world: World) -> None:
    """Our own pushed cancels come back in GETUPDATEDVISITS; they are not AMD-side changes."""
    _bootstrapped(world, 10)
    for i in range(8):
        change_status(world, "CANCELLED", reason="PATIENT_REQUEST", appointment_id=f"A-{i}")
        push(world, f"A-{i}")
    summary = PullRun(world.ctx).run()
    assert summary.status == "ok"
    assert world.watermark.get().value == world.amd.servertime()


def test_a_held_lease_keeps_a_second_run_out(world: World) -> None:
    _bootstrapped(world)
    now = world.clock.now()
    assert world.leases.acquire(LEASE, "other-run", now, now + timedelta(minutes=5))
    calls = world.amd.calls_made()
    assert PullRun(world.ctx).run().status == "busy"
    assert world.amd.calls_made() == calls
    world.clock.advance(minutes=6)  # the other run died; its lease expired
    assert PullRun(world.ctx).run().status == "ok"


def test_pull_log_entry_counts_amd_calls(world: World) -> None:
    _bootstrapped(world)
    summary = PullRun(world.ctx).run()
    entry = world.logs.for_entity("pull", world.ctx.practice)[-1]
    assert (entry.outcome, entry.amd_calls, summary.amd_calls) == ("success", 1, 1)


def test_a_pull_too_soon_for_amds_feed_says_when_and_calls_nothing(world: World) -> None:
    """GETUPDATEDVISITS goes at most once per 60 s + margin per office key, whoever asks
    (SPEC 9.3): the shared limiter says when; the pull button is answered, not queued."""
    _bootstrapped(world)
    world.amd.feed_wait_seconds = 41.3
    calls = world.amd.calls_made()
    summary = PullRun(world.ctx).run()
    assert (summary.status, summary.retry_after) == ("too_soon", 41.3)
    assert world.amd.calls_made() == calls
    assert world.leases.acquire(LEASE, "next", world.clock.now(), world.clock.now())  # untaken
    # The scheduled pull may wait that long inside its run (PULL_MAX_RATE_WAIT): it pulls.
    world.leases.release(LEASE, "next")
    assert PullRun(world.ctx, PullOptions(max_feed_wait=50)).run().status == "ok"


def test_the_first_pull_reads_days_so_the_feed_rule_does_not_hold_it(world: World) -> None:
    synced(world)
    world.amd.feed_wait_seconds = 41.3
    assert PullRun(world.ctx).run().status == "ok"

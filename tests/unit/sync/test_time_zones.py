"""`timeZone` is honoured both ways (SPEC §9.2): the instant the EHR sent is the instant AMD
shows in the practice's zone (America/Denver in the fakes), and AMD's times come back in the
appointment's zone. Includes both DST edges."""

from __future__ import annotations

from amdsync.sync.pull import PullRun
from tests.fakes import World
from tests.unit.sync.helpers import APPT, drain, push, register, synced

NEW_YORK = "America/New_York"


def _pull_quietly(world: World) -> None:
    summary = PullRun(world.ctx).run()
    assert summary.status == "ok", summary


def test_new_york_one_pm_is_booked_at_eleven_denver(world: World) -> None:
    visit = synced(world, start="2026-12-01T13:00:00", timeZone=NEW_YORK)
    assert world.amd.appointment(visit).start == "2026-12-01T11:00:00"
    record = world.appointments.record(APPT)
    assert (record.start, record.time_zone) == ("2026-12-01T13:00:00", NEW_YORK)


def test_our_own_booking_in_another_zone_is_not_news_to_the_pull(world: World) -> None:
    synced(world, start="2026-12-01T13:00:00", timeZone=NEW_YORK)
    _pull_quietly(world)  # bootstrap
    _pull_quietly(world)
    assert world.feed.entries == []
    assert world.appointments.record(APPT).amd_sync_status == "synced"


def test_an_amd_move_comes_back_in_the_appointments_zone(world: World) -> None:
    visit = synced(world, start="2026-12-01T13:00:00", timeZone=NEW_YORK)
    _pull_quietly(world)
    world.amd.person_edits(visit, start="2026-12-01T12:00:00")  # noon in Denver
    _pull_quietly(world)
    [entry] = world.feed.entries
    assert (entry.kind, entry.fields) == ("time", {"start": "2026-12-01T14:00:00"})
    assert world.appointments.record(APPT).start == "2026-12-01T14:00:00"


def test_a_zone_change_alone_moves_the_amd_appointment(world: World) -> None:
    visit = synced(world, start="2026-12-01T13:00:00")  # Denver
    register(world, version=2, start="2026-12-01T13:00:00", timeZone=NEW_YORK)
    push(world)
    assert world.amd.appointment(visit).start == "2026-12-01T11:00:00"
    record = world.appointments.record(APPT)
    assert record.amd_sync_status == "synced"
    assert record.base_snapshot == record.snapshot()


def test_a_zone_change_keeping_the_instant_changes_nothing_in_amd(world: World) -> None:
    visit = synced(world, start="2026-12-01T11:00:00")  # Denver
    edits = world.amd.count("edit")
    register(world, version=2, start="2026-12-01T13:00:00", timeZone=NEW_YORK)
    drain(world)
    _pull_quietly(world)
    _pull_quietly(world)
    assert world.amd.appointment(visit).start == "2026-12-01T11:00:00"
    assert world.amd.count("edit") - edits <= 1  # at most a harmless same-time edit
    assert world.feed.entries == []
    assert world.appointments.record(APPT).amd_sync_status == "synced"


def test_the_repeated_hour_round_trips_as_the_occurrence_we_booked(world: World) -> None:
    # 03:30 EST on 2026-11-01 is 08:30 UTC: the second 01:30 of Denver's fall-back night.
    visit = synced(world, start="2026-11-01T03:30:00", timeZone=NEW_YORK)
    assert world.amd.appointment(visit).start == "2026-11-01T01:30:00"
    _pull_quietly(world)
    world.amd.person_edits(visit, duration_minutes=45)  # a change elsewhere: the visit returns
    _pull_quietly(world)
    [entry] = world.feed.entries
    assert entry.fields == {"durationMinutes": 45}  # no phantom hour-long move
    assert world.appointments.record(APPT).start == "2026-11-01T03:30:00"


def test_the_skipped_hour_edge_books_the_right_instant(world: World) -> None:
    # 05:30 EDT on 2026-03-08 is 09:30 UTC, just after Denver's clocks jumped 02:00 -> 03:00.
    visit = synced(world, start="2026-03-08T05:30:00", timeZone=NEW_YORK)
    assert world.amd.appointment(visit).start == "2026-03-08T03:30:00"
    _pull_quietly(world)
    _pull_quietly(world)
    assert world.feed.entries == []

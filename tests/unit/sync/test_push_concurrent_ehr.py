"""Our own AMD write is never mistaken for an AMD-side change (SPEC §9.1): when the EHR writes
while a push runs, the base still becomes what AMD holds after the push."""

from __future__ import annotations

from tests.fakes import World
from tests.unit.sync.helpers import APPT, drain, push, register, synced


def test_an_ehr_write_during_the_push_does_not_turn_our_write_into_a_conflict(
    world: World,
) -> None:
    visit = synced(world, start="2026-12-01T10:00:00")
    register(world, version=2, start="2026-12-01T11:00:00")
    # The push writes v2's time to AMD; before it saves the new base, v3 lands.
    world.appointments.before_next_save(
        lambda: register(world, version=3, start="2026-12-01T12:00:00")
    )
    push(world)
    drain(world)
    record = world.appointments.record(APPT)
    assert (record.amd_sync_status, record.amd_sync_error_code) == ("synced", None)
    assert world.amd.appointment(visit).start == "2026-12-01T12:00:00"
    assert record.base_snapshot == record.snapshot()
    assert world.conflicts.list() == []
    assert world.feed.entries == []  # nothing came *from* AMD


def test_a_burst_of_five_puts_ends_with_amd_holding_the_last(world: World) -> None:
    visit = synced(world, start="2026-12-01T08:00:00")
    for version in range(2, 7):
        # Each push is overtaken by the next PUT between its AMD write and its save.
        register(world, version=version, start=f"2026-12-01T{7 + version:02d}:00:00")
        if version < 6:
            nxt = version + 1
            world.appointments.before_next_save(
                lambda v=nxt: register(world, version=v, start=f"2026-12-01T{7 + v:02d}:00:00")
            )
        push(world)
    drain(world)
    record = world.appointments.record(APPT)
    assert (record.ehr_version, record.amd_sync_status) == (6, "synced")
    assert world.amd.appointment(visit).start == "2026-12-01T13:00:00"
    assert world.conflicts.list() == []


def test_an_amd_change_read_during_an_overtaken_push_is_kept(world: World) -> None:
    """The push read an AMD-side status change (to the EHR) and wrote the EHR's new time;
    the EHR's overtaking write did not touch the status, so the AMD change survives."""
    visit = synced(world, start="2026-12-01T10:00:00")
    world.amd.person_edits(visit, status_code=1)  # front desk: checked in
    register(world, version=2, start="2026-12-01T11:00:00")
    world.appointments.before_next_save(
        lambda: register(world, version=3, start="2026-12-01T11:00:00", durationMinutes=30)
    )
    push(world)
    drain(world)
    record = world.appointments.record(APPT)
    assert (record.status, record.duration_minutes, record.amd_sync_status) == (
        "CHECKED_IN",
        30,
        "synced",
    )
    amd = world.amd.appointment(visit)
    assert (amd.start, amd.duration_minutes, amd.status_code) == ("2026-12-01T11:00:00", 30, 1)
    assert world.conflicts.list() == []


def test_a_field_in_conflict_keeps_amds_value_when_another_slot_field_is_pushed(
    world: World,
) -> None:
    """The edit carries every slot field; a conflicted one must go out as AMD holds it."""
    visit = synced(world, start="2026-12-01T10:00:00", durationMinutes=50)
    world.amd.person_edits(visit, start="2026-12-01T14:00:00")  # front desk moves it
    # The EHR moves it too (elsewhere) and changes the duration: start is a true conflict,
    # duration goes to AMD.
    register(world, version=2, start="2026-12-01T11:00:00", durationMinutes=30)
    push(world)
    amd = world.amd.appointment(visit)
    assert (amd.start, amd.duration_minutes) == ("2026-12-01T14:00:00", 30)
    record = world.appointments.record(APPT)
    assert record.amd_sync_status == "conflict"
    assert [c.fields.keys() for c in world.conflicts.list()] == [{"start": None}.keys()]

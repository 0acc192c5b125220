"""`timeZone` honoured against the simulator (SPEC §9.2): the simulated practice runs on
America/Denver, an EHR in New York books 13:00 and AMD shows 11:00; AMD-side moves come back
as New York wall time."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.integration.sync.conftest import World, work_day
from tests.integration.sync.invariants import assert_sim_clean

NEW_YORK = "America/New_York"


def test_a_new_york_appointment_is_booked_at_the_same_instant_in_denver(world: World) -> None:
    patient, appt = world.id("P"), world.id("A-ny")
    world.register_patient(patient)
    denver = work_day(2, 11)
    new_york = denver + timedelta(hours=2)  # no DST edge on a working day ahead of us
    world.register(appt, patient, new_york, zone=NEW_YORK)
    world.drain()

    record = world.record(appt)
    assert record.amd_sync_status == "synced", record
    amd = world.sim.admin.appointment(int(record.advanced_md_visit_id or 0))
    assert datetime.fromisoformat(amd["startdatetime"]).replace(tzinfo=None) == denver

    assert world.pull().status == "ok"  # bootstrap: our own booking is not news
    assert world.feed() == []

    world.sim.admin.edit_appointment(
        int(amd["id"]), start=(denver + timedelta(hours=1)).isoformat()
    )
    summary = world.pull()
    assert summary.updated == 1 and summary.conflicts == 0
    moved = (new_york + timedelta(hours=1)).isoformat(timespec="seconds")
    [entry] = world.feed()
    assert (entry.kind, entry.fields) == ("time", {"start": moved})
    assert (world.record(appt).start, world.record(appt).time_zone) == (moved, NEW_YORK)
    assert world.record(appt).amd_sync_status == "synced"
    assert_sim_clean(world.report())

"""A change of the cancel reason alone reaches AMD (simulator): uncancel, cancel again with the
new reason; the pull then reports nothing."""

from __future__ import annotations

from tests.integration.sync.conftest import World, work_day
from tests.integration.sync.invariants import assert_sim_clean, calls


def test_a_new_cancel_reason_alone_reaches_amd(world: World) -> None:
    patient, appt = world.id("P"), world.id("A-cancelled")
    world.register_patient(patient)
    start = work_day(2, 15)
    world.register(appt, patient, start)
    world.drain()
    world.change_status(appt, "CANCELLED", "PATIENT_REQUEST")
    world.drain()
    visit = int(world.record(appt).advanced_md_visit_id or 0)
    assert world.sim.admin.appointment(visit)["cancelnoshowreason"]["name"] == "PATIENT CANCELLED"
    assert world.pull().status == "ok"  # bootstrap

    world.change_status(appt, "CANCELLED", "WEATHER")
    world.drain()

    amd = world.sim.admin.appointment(visit)
    assert (amd["status"], amd["cancelnoshowreason"]["name"]) == (10, "WEATHER")
    record = world.record(appt)
    assert (record.cancel_reason, record.amd_sync_status) == ("WEATHER", "synced")
    assert calls(world.report(), "appointments.uncancel") == 1
    summary = world.pull()
    assert (summary.updated, summary.conflicts) == (0, 0) and world.feed() == []
    assert_sim_clean(world.report())

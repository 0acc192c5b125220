"""An appointment AMD moves to a new record (old visit status 5) is followed: the record is
re-linked to the new visit, the EHR hears RESCHEDULED with the new time, and the new visit is
not reported as unlinked (simulator with `move_creates_new_id`)."""

from __future__ import annotations

from tests.integration.sync.conftest import World, work_day
from tests.integration.sync.invariants import assert_sim_clean


def test_a_move_to_a_new_record_is_followed(world: World) -> None:
    world.sim.admin.config(move_creates_new_id=True)
    patient, appt = world.id("P"), world.id("A-moved")
    world.register_patient(patient)
    world.register(appt, patient, work_day(2, 9))
    world.drain()
    old_visit = world.record(appt).advanced_md_visit_id
    assert old_visit and world.pull().status == "ok"  # bootstrap

    new_start = work_day(3, 14)
    moved = world.services.amd.scheduler.move(old_visit, 202, new_start)  # as the front desk
    assert moved.id != old_visit
    summary = world.pull()

    record = world.record(appt)
    assert record.advanced_md_visit_id == moved.id
    assert record.start == new_start.isoformat(timespec="seconds")
    assert record.status == "RESCHEDULED" and record.amd_sync_status == "synced"
    kinds = {e.kind: e for e in world.feed()}
    assert kinds["status"].fields == {"status": "RESCHEDULED", "movedFrom": old_visit}
    assert kinds["time"].fields == {"start": new_start.isoformat(timespec="seconds")}
    assert "unlinked" not in kinds and summary.unlinked == 0
    assert world.ctx.appointments.owner_of_visit(moved.id) == appt
    again = world.pull()
    assert (again.updated, again.created) == (0, 0)
    assert_sim_clean(world.report())

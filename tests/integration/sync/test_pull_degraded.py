"""A lookup AMD will not answer degrades the pull instead of blocking it (issue 13 item 8):
the watermark still moves and AMD-side changes still come back."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.sync.conftest import World, work_day
from tests.integration.sync.invariants import assert_sim_clean


def test_a_failing_lookup_never_blocks_the_pull(world: World) -> None:
    patient, appt = world.id("P"), world.id("A")
    world.register_patient(patient)
    start = work_day(2, 9)
    world.register(appt, patient, start)
    world.drain()
    visit = world.record(appt).advanced_md_visit_id
    assert visit
    lookups = world.services.amd.lookups
    for kind in ("facilities", "appointment_types", "profiles"):
        lookups.invalidate(kind)  # a cold cache: the pull must ask AMD
    world.sim.admin.faults("privilege", count=50, action="lookupfacility")

    first = world.pull()  # bootstrap: every visit names its facility by code
    assert first.status == "ok" and first.degraded >= 1
    assert world.ctx.watermark.get().value == first.servertime

    moved = start + timedelta(hours=1)
    world.sim.admin.edit_appointment(int(visit), start=moved.isoformat())
    second = world.pull()

    assert second.status == "ok" and second.updated == 1 and second.conflicts == 0
    assert world.record(appt).start == moved.isoformat(timespec="seconds")
    assert [e.kind for e in world.feed()] == ["time"]  # no phantom facility change
    assert world.metrics.total("LookupUnavailable") >= 2
    world.sim.admin.clear_faults()
    assert_sim_clean(world.report())

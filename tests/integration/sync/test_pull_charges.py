"""Charges posted in AMD reach the record, the change feed and the dashboard (simulator)."""

from __future__ import annotations

from amdsync.sync.reports import charges_card
from tests.integration.sync.conftest import World, work_day
from tests.integration.sync.invariants import assert_sim_clean


def test_charges_posted_in_amd_are_pulled_published_and_counted(world: World) -> None:
    patient, appt = world.id("P"), world.id("A-billed")
    world.register_patient(patient)
    world.register(appt, patient, work_day(2, 9))
    world.drain()
    world.change_status(appt, "CHECKED_IN")
    world.drain()
    world.change_status(appt, "CHECKED_OUT")
    world.drain()
    visit = world.record(appt).advanced_md_visit_id
    assert visit and world.pull().status == "ok"  # bootstrap
    before = len(world.feed())

    world.sim.admin.post_charges(
        int(visit), charges=[{"proccode": "90834", "fee": 120, "units": 1}]
    )
    summary = world.pull()

    assert summary.charges == 1
    entries = world.feed()[before:]
    assert [(e.kind, e.fields) for e in entries] == [("charges", {"chargesPosted": True})]
    record = world.record(appt)
    assert record.charges_posted is True and record.amd_sync_status == "synced"
    card = charges_card(world.ctx.appointments.counts()[0])  # the dashboard's counters
    assert (card.seen, card.with_charges) == (1, 1)
    assert_sim_clean(world.report())

"""Charges posted in AMD are seen (SPEC §9.3 summary `charges`): stored as `chargesPosted` and
published as a `charges` change."""

from __future__ import annotations

from amdsync.sync.pull import PullRun
from amdsync.sync.reports import charges_card
from tests.fakes import World
from tests.unit.sync.helpers import APPT, change_status, drain, synced


def test_posted_charges_are_stored_published_and_counted(world: World) -> None:
    visit = synced(world)
    change_status(world, "CHECKED_IN")
    change_status(world, "CHECKED_OUT")
    drain(world)
    assert PullRun(world.ctx).run().status == "ok"  # bootstrap
    world.feed.entries.clear()

    world.amd.person_edits(visit, charges_posted=True)
    summary = PullRun(world.ctx).run()

    assert summary.charges == 1
    [entry] = world.feed.entries
    assert (entry.appointment_id, entry.kind, entry.fields) == (
        APPT,
        "charges",
        {"chargesPosted": True},
    )
    record = world.appointments.record(APPT)
    assert record.charges_posted is True
    card = charges_card(world.appointments.counts()[0])
    assert (card.seen, card.with_charges, card.without_charges) == (1, 1, 0)
    again = PullRun(world.ctx).run()
    assert again.charges == 0 and len(world.feed.entries) == 1

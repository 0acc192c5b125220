"""Crash window and growth (issue 13 item 10): our own booking is never reported as unlinked
while its visit id is unclaimed, claimed visits leave the review list, and a bulk job counts
each appointment once however often its message is delivered."""

from __future__ import annotations

import pytest

from amdsync.domain.bulk import BulkJob
from amdsync.sync.pull import PullRun
from amdsync.sync.push import AppointmentPush
from amdsync.sync.worker import JobProcessor
from tests.fakes import World
from tests.unit.sync.helpers import APPT, job, register, synced


class Crash(BaseException):
    """The worker process dies (not an error the use case may catch and record)."""


def test_a_pull_between_booking_and_claim_does_not_report_our_visit_as_unlinked(
    world: World,
) -> None:
    synced(world, "A-other")  # something booked already, so the pull has a watermark
    assert PullRun(world.ctx).run().status == "ok"
    world.feed.entries.clear()
    register(world, start="2026-12-01T14:00:00")
    world.appointments.faults.fail("claim_visit", Crash())  # the worker dies after AMD booked
    with pytest.raises(Crash):
        AppointmentPush(world.ctx).run(APPT)
    assert len(world.amd.appointments) == 2

    summary = PullRun(world.ctx).run()

    assert summary.unlinked == 0 and summary.created == 0
    assert world.feed.entries == [] and world.appointments.list_unlinked() == []
    AppointmentPush(world.ctx).run(APPT)  # the redelivered job links it (found by reference)
    assert len(world.amd.appointments) == 2
    assert world.appointments.list_in_flight() == []
    assert world.appointments.record(APPT).amd_sync_status == "synced"


def test_a_claimed_visit_leaves_the_unlinked_list(world: World) -> None:
    visit = world.amd.person_books(patient_id="900", start="2026-12-01T09:00:00")
    assert PullRun(world.ctx).run().status == "ok"
    assert [u.advanced_md_visit_id for u in world.appointments.list_unlinked()] == [visit.visit_id]
    assert world.appointments.claim_visit(visit.visit_id, APPT) == APPT
    assert world.appointments.list_unlinked() == []


def test_a_redelivered_bulk_job_is_counted_once(world: World) -> None:
    synced(world)
    world.bulk_jobs.create(
        BulkJob.model_validate(
            {
                "jobId": "B-1",
                "from": "2026-12-01",
                "to": "2026-12-01",
                "total": 1,
                "createdAt": world.clock.now().isoformat(),
                "actor": "billing-1",
            }
        )
    )
    bulk_job = job(version=1, bulk="B-1")
    processor = JobProcessor(world.ctx)
    for _ in range(3):  # SQS at-least-once: the same message three times
        assert processor.process(bulk_job).kind == "done"
    assert world.bulk_jobs.progress("B-1") == (1, 0)

"""Issue 15's done-when against the stack `make run` starts, right after its seed (SPEC §9.3):
with the demo import's 300 syncs still queued (a backfill: background lane), a new booking by the
EHR is synced first, and a bulk sync of 366 days answers 202 with a job id at once.

The figures asked for are 5 s and 3 s on an idle machine; this suite runs on a busy 2-core one,
so the test waits on what proves the lanes work (the booking is synced while most of the backlog
is still queued) and bounds the times generously; the measured times are printed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from local.runner.seed import SeedResult, api_for, seed_demo_data
from local.runner.stack import LocalStack
from tests.integration.runner.conftest import quiet_config

BUSY_MACHINE_CEILING = 30.0  # seconds; idle figures are 5 s (sync) and 3 s (bulk start)


# The seed registers 350 records through the API (minutes on 2 cores): `make reliability`.
pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[LocalStack, SeedResult]]:
    config = quiet_config(
        start_simulator=True, run_http=True, run_pollers=True, run_scheduler=False
    )
    stack = LocalStack(config).start()
    try:
        yield stack, seed_demo_data(stack, say=lambda line: None)
    finally:
        stack.stop()


def _new_booking(stack: LocalStack, seed: SeedResult) -> str:
    api = api_for(stack)
    api.put(
        "ehr",
        "/patients/LIVE-P-1",
        {
            "firstName": "Livebooking", "lastName": "Testperson", "dateOfBirth": "1980-04-02",
            "sex": "F", "phone": "5555550100", "ehrVersion": 1,
            "address": {
                "line1": "1 Example St", "city": "Testville", "state": "UT", "zip": "84101",
            },
        },
    )  # fmt: skip
    assert seed.last_day is not None
    slot = seed.providers[0]
    day = seed.last_day + timedelta(days=1)  # after the demo data: a free slot
    while not slot.column.works_on(day):
        day += timedelta(days=1)
    start: datetime = slot.column.starts(day, 30)[0]
    api.put(
        "ehr",
        "/appointments/LIVE-A-1",
        {
            "patientId": "LIVE-P-1", "providerId": slot.ehr_id,
            "facilityId": slot.facility_ehr_id, "appointmentType": "MED_MGMT_30",
            "start": start.isoformat(timespec="seconds"), "timeZone": "America/Denver",
            "durationMinutes": 30, "status": "SCHEDULED", "ehrVersion": 1,
        },
    )  # fmt: skip
    return "LIVE-A-1"


def test_a_new_booking_is_synced_ahead_of_the_seed_backlog(
    seeded: tuple[LocalStack, SeedResult],
) -> None:
    stack, seed = seeded
    assert seed.queued >= 250  # the backlog is there
    api = api_for(stack)
    began = time.monotonic()
    appointment = _new_booking(stack, seed)
    while True:
        status = api.get("provider", f"/appointments/{appointment}/sync-status")
        if status["amdSyncStatus"] in ("synced", "error"):
            break
        assert time.monotonic() - began < BUSY_MACHINE_CEILING, status
        time.sleep(0.05)
    took = time.monotonic() - began
    print(f"new booking synced {took:.1f} s after the PUT, seed backlog present")
    assert status["amdSyncStatus"] == "synced", status
    still_pending = sum(
        api.get("provider", f"/appointments/{a}/sync-status")["amdSyncStatus"] == "pending"
        for a in seed.appointments[-50:]
    )
    assert still_pending >= 25, "the backlog drained first: the booking was not ahead of it"


def test_a_bulk_sync_of_366_days_answers_202_with_a_job_id_at_once(
    seeded: tuple[LocalStack, SeedResult],
) -> None:
    stack, seed = seeded
    assert seed.first_day is not None
    api = api_for(stack)
    days = {
        "from": seed.first_day.isoformat(),
        "to": (seed.first_day + timedelta(days=365)).isoformat(),
    }
    began = time.monotonic()
    reply = api.call("billing", "POST", "/appointments/bulk-sync", days)
    took = time.monotonic() - began
    print(f"bulk sync of 366 days answered {reply.status} in {took:.2f} s")
    assert reply.status == 202, reply.body
    assert reply.body["jobId"] and reply.body["state"] == "planning"
    assert took < BUSY_MACHINE_CEILING / 3
    api.post("billing", f"/appointments/bulk-sync/{reply.body['jobId']}/cancel")

"""The appointments and bulk-job repositories against moto (issue 13 item 10): an unlinked
AMD visit keeps when it was first seen, leaves the review list once claimed, in-flight bookings
round-trip, and a bulk job counts each appointment once however often it is delivered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from amdsync.domain.appointments import AppointmentSyncRecord, DesiredAppointment
from amdsync.domain.review import BookingInFlight, UnlinkedAmdAppointment
from amdsync.store.appointments import DynamoAppointments
from amdsync.store.control import DynamoBulkJobs
from tests.moto_tables import pk_sk_table

PRACTICE = "PR-1"
T0 = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from pk_sk_table(monkeypatch, "state")


def _sighting(at: datetime, status: int = 0) -> UnlinkedAmdAppointment:
    return UnlinkedAmdAppointment(
        advanced_md_visit_id="7001",
        advanced_md_patient_id="900",
        start="2026-12-02T09:00:00",
        amd_status=status,
        first_seen=at,
        last_seen=at,
    )


def test_an_unlinked_visit_keeps_its_first_sighting(table: Any) -> None:
    store = DynamoAppointments(table, PRACTICE)
    store.record_unlinked(_sighting(T0))
    store.record_unlinked(_sighting(T0 + timedelta(hours=2), status=10))
    [seen] = store.list_unlinked()
    assert (seen.first_seen, seen.last_seen, seen.amd_status) == (T0, T0 + timedelta(hours=2), 10)


def test_a_claimed_visit_leaves_the_review_list(table: Any) -> None:
    store = DynamoAppointments(table, PRACTICE)
    store.record_unlinked(_sighting(T0))
    assert store.claim_visit("7001", "A-1") == "A-1"
    assert store.list_unlinked() == []
    assert store.claim_visit("7001", "A-2") == "A-1"  # still unique


def test_in_flight_bookings_round_trip_and_expire(table: Any) -> None:
    store = DynamoAppointments(table, PRACTICE)
    booking = BookingInFlight(
        appointment_id="A-1", advanced_md_patient_id="900", start="2026-12-02T09:00:00"
    )
    store.mark_in_flight(booking)
    assert store.list_in_flight() == [booking]
    item = table.get_item(Key={"pk": f"{PRACTICE}#INFLIGHT", "sk": "A-1"})["Item"]
    assert int(item["expiresAt"]) > datetime.now(UTC).timestamp()
    store.clear_in_flight("A-1")
    assert store.list_in_flight() == []


def test_a_redelivered_message_counts_once(table: Any) -> None:
    jobs = DynamoBulkJobs(table, PRACTICE)
    jobs.count("B-1", "A-1", done=1)
    jobs.count("B-1", "A-1", done=1)
    jobs.count("B-1", "A-1", failed=1)
    jobs.count("B-1", "A-2", failed=1)
    assert jobs.progress("B-1") == (1, 1)


def test_bulk_plan_markers_hand_each_appointment_out_once(table: Any) -> None:
    """SPEC §9.3: re-running a planning page enqueues nothing twice; an appointment planned
    by a run that stopped before confirming it queued is handed out again."""
    jobs = DynamoBulkJobs(table, PRACTICE)
    assert jobs.plan("job-1", ["A-1", "A-2", "A-3"]) == ["A-1", "A-2", "A-3"]
    jobs.confirm_queued("job-1", ["A-1", "A-2"])  # the run stopped before confirming
    assert jobs.plan("job-1", ["A-1", "A-2", "A-3", "A-4"]) == ["A-3", "A-4"]
    jobs.confirm_queued("job-1", ["A-3", "A-4"])
    assert jobs.plan("job-1", ["A-1", "A-2", "A-3", "A-4"]) == []
    assert jobs.plan("job-2", ["A-1"]) == ["A-1"]  # another job plans on its own
    assert (jobs.planned_count("job-1"), jobs.planned_count("job-2")) == (4, 1)


def _record(n: int) -> AppointmentSyncRecord:
    desired = DesiredAppointment.model_validate(
        {"patientId": "P-1", "providerId": "DR-1", "facilityId": "MAIN",
         "appointmentType": "THERAPY_50", "start": f"2026-12-02T{8 + n % 9:02d}:00:00",
         "timeZone": "America/Denver", "durationMinutes": 50, "status": "SCHEDULED",
         "ehrVersion": 1}
    )  # fmt: skip
    return AppointmentSyncRecord.from_desired(f"A-{n}", desired).model_copy(
        update={"advanced_md_visit_id": str(7000 + n)}
    )


def test_a_pull_piece_reads_and_writes_in_batches(table: Any) -> None:
    """Owners and records by BatchGetItem (more than one page of 100), saves conditional each
    (a stale one is reported, the others stored), counters moved once, new sightings batched."""
    store = DynamoAppointments(table, PRACTICE)
    for n in range(120):
        store.save(_record(n), None)
        store.claim_visit(str(7000 + n), f"A-{n}")
    owners = store.owners_of_visits([str(7000 + n) for n in range(125)])
    assert owners == {str(7000 + n): f"A-{n}" for n in range(120)}
    records = store.get_many([f"A-{n}" for n in range(125)])
    assert sorted(records) == sorted(f"A-{n}" for n in range(120))
    assert all(v.version == 1 for v in records.values())

    synced = [
        (r.value.model_copy(update={"amd_sync_status": "synced"}), r.version)
        for r in records.values()
    ]
    store.save(_record(3).model_copy(update={"duration_minutes": 60}), 1)  # an EHR write
    versions, stale = store.save_each(synced)
    assert stale == ["A-3"] and len(versions) == 119
    counts, _ = store.counts()
    assert (counts["status_synced"], counts["status_pending"], counts["records"]) == (119, 1, 120)

    store.record_new_unlinked([_sighting(T0)])
    assert [u.first_seen for u in store.list_unlinked()] == [T0]
    assert store.unlinked_among(["7001", "7002"]) == {"7001"}


def _new_record(appointment_id: str, start: str) -> AppointmentSyncRecord:
    desired = DesiredAppointment.model_validate(
        {
            "patientId": "P-1",
            "providerId": "DR-1",
            "facilityId": "MAIN",
            "appointmentType": "THERAPY_50",
            "start": start,
            "timeZone": "America/Denver",
            "durationMinutes": 50,
            "status": "SCHEDULED",
            "ehrVersion": 1,
        }
    )
    return AppointmentSyncRecord.from_desired(appointment_id, desired)


def test_records_created_in_a_batch_read_and_count_as_saved_ones(table: Any) -> None:
    records = [_new_record(f"A-{n}", f"2026-12-0{n + 1}T09:00:00") for n in range(3)]
    batched, one_by_one = DynamoAppointments(table, PRACTICE), DynamoAppointments(table, "PR-2")
    batched.create_many(records)
    for record in records:
        one_by_one.save(record, None)
    for record in records:
        stored = batched.get(record.appointment_id)
        assert stored is not None and (stored.value, stored.version) == (record, 1)
    assert batched.counts() == one_by_one.counts()
    assert batched.counts()[0]

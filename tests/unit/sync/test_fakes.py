"""The fakes keep the contracts the use-case tests rely on."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from amdsync.amd.errors import AlreadyCheckedOut, AppointmentConflict, ServerError
from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.concurrency import StaleWriteError
from amdsync.sync import ports
from amdsync.sync.ports import Booking
from tests.fakes import FakeAmd, FakeAppointments, FakeClock, FakeLeases, FakeQueue, World
from tests.unit.sync.helpers import desired, job

BOOKING = Booking("7001", "21", "31", "41", "61", "2026-12-01T10:00:00", 50, "REF-1")


def test_repository_saves_are_conditional_on_the_version() -> None:
    repo = FakeAppointments()
    record = AppointmentSyncRecord.from_desired("A-1", desired())
    assert repo.save(record, None) == 1
    with pytest.raises(StaleWriteError):
        repo.save(record, None)  # create-only
    assert repo.save(record, 1) == 2
    with pytest.raises(StaleWriteError):
        repo.save(record, 1)  # someone else wrote version 2 meanwhile


def test_a_visit_id_is_claimed_once() -> None:
    repo = FakeAppointments()
    assert repo.claim_visit("5001", "A-1") == "A-1"
    assert repo.claim_visit("5001", "A-2") == "A-1"
    assert repo.owner_of_visit("5001") == "A-1"


def test_clock_is_aware_utc_and_advances() -> None:
    clock = FakeClock()
    start = clock.now()
    assert start.tzinfo is not None
    assert clock.advance(minutes=5) - start == timedelta(minutes=5)
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 1, 1))
    clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now().year == 2026


def test_queue_drops_a_repeated_dedup_id_within_five_minutes() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock)
    queue.enqueue([job(version=1), job(version=1)])
    assert queue.depth() == 1 and len(queue.deduplicated) == 1
    clock.advance(minutes=6)
    queue.enqueue([job(version=1)])
    assert queue.depth() == 2


def test_leases_exclude_other_owners_until_expiry() -> None:
    leases = FakeLeases()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert leases.acquire("pull", "a", now, now + timedelta(minutes=5))
    assert not leases.acquire("pull", "b", now, now + timedelta(minutes=5))
    assert leases.acquire("pull", "b", now + timedelta(minutes=6), now + timedelta(minutes=9))


def test_amd_books_checks_out_and_logs_changes_by_servertime() -> None:
    amd = FakeAmd()
    first = amd.servertime()
    appt = amd.book(BOOKING)
    assert amd.find_visit_by_reference("REF-1") == appt.visit_id
    with pytest.raises(AppointmentConflict) as overlap:
        amd.book(BOOKING)
    assert overlap.value.amd_code == 4101
    amd.check_out(appt.visit_id)
    with pytest.raises(AlreadyCheckedOut):
        amd.check_out(appt.visit_id)
    changes = amd.updated_visits(first)
    assert [v.visit_id for v in changes.visits] == [appt.visit_id]
    assert changes.servertime is not None and changes.servertime > first
    assert amd.updated_visits(changes.servertime).visits == ()
    assert amd.calls_made() == 7


def test_amd_failure_injection_before_and_after_commit() -> None:
    amd = FakeAmd()
    amd.faults.fail("book", ServerError())
    with pytest.raises(ServerError):
        amd.book(BOOKING)
    assert amd.appointments == {}
    amd.faults.fail_after_commit("book", ServerError())
    with pytest.raises(ServerError):
        amd.book(BOOKING)
    assert len(amd.appointments) == 1  # committed, reply lost


def test_person_edits_show_up_in_the_change_log(world: World) -> None:
    appt = world.amd.book(BOOKING)
    mark = world.amd.servertime()
    world.amd.person_edits(appt.visit_id, status_code=1)
    changes = world.amd.updated_visits(mark)
    assert [(v.visit_id, v.status_code) for v in changes.visits] == [(appt.visit_id, 1)]
    assert changes.update_flags == {appt.visit_id: "C"}


def test_every_port_method_has_a_fake(world: World) -> None:
    """Catches a port growing a method the fakes do not have (mypy checks signatures)."""
    implementations = {
        "AmdScheduler": world.amd,
        "AmdPatients": world.amd,
        "CallCounter": world.amd,
        "Appointments": world.appointments,
        "Patients": world.patients,
        "SettingsStore": world.settings,
        "MappingStore": world.mappings,
        "ConflictStore": world.conflicts,
        "ChangeFeed": world.feed,
        "SyncLogs": world.logs,
        "AuditTrail": world.audit,
        "Watermark": world.watermark,
        "Leases": world.leases,
        "BulkJobs": world.bulk_jobs,
        "PullWindows": world.pull_windows,
        "PullRequests": world.pull_requests,
        "JobQueue": world.queue,
        "Clock": world.clock,
    }
    protocols = {
        name: cls
        for name, cls in vars(ports).items()
        if inspect.isclass(cls) and Protocol in cls.__mro__ and cls is not Protocol
    }
    assert set(protocols) == set(implementations)
    for name, protocol in protocols.items():
        methods = [m for m in vars(protocol) if not m.startswith("_")]
        missing = [m for m in methods if not callable(getattr(implementations[name], m, None))]
        assert missing == [], f"{name} fake lacks {missing}"

"""Bounded work per request (SPEC §9.3, issue 15 item 4), against moto tables made from
template.yaml: no Scan, queries that read what they answer, pages chained by DynamoDB's
LastEvaluatedKey, and counters that equal a recount of what is stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from amdsync.config import TableSettings
from amdsync.domain.aggregates import count_logs, hours_window
from amdsync.domain.appointments import AppointmentSyncRecord, DesiredAppointment
from amdsync.domain.concurrency import BadPosition
from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.journal import SyncLogEntry
from amdsync.domain.patients import PatientSyncRecord
from amdsync.domain.review import ConflictingField, ConflictRecord, UnlinkedAmdAppointment
from amdsync.domain.status import EhrStatus
from amdsync.store.admin import DynamoConflicts
from amdsync.store.appointments import DynamoAppointments
from amdsync.store.journal import DynamoSyncLogs
from amdsync.store.patients import DynamoPatients
from amdsync.store.recount import recount
from amdsync.sync.pull import upcoming_range
from amdsync.sync.reports import stats_from_counts, sync_stats
from tests.moto_tables import ReadMeter, template_table

PRACTICE = "PR-1"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from template_table(monkeypatch, "SyncStateTable")


@pytest.fixture
def logs_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from template_table(monkeypatch, "LogsTable")


def _appointment(n: int, start: datetime, **update: Any) -> AppointmentSyncRecord:
    desired = DesiredAppointment.model_validate(
        {
            "patientId": f"P-{n % 7}",
            "providerId": "DR-1",
            "facilityId": "MAIN",
            "appointmentType": "THERAPY_50",
            "start": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "America/Denver",
            "durationMinutes": 50,
            "status": "SCHEDULED",
            "ehrVersion": 1,
        }
    )
    return AppointmentSyncRecord.from_desired(f"A-{n}", desired).model_copy(update=update)


def _entry(n: int, at: datetime, **fields: Any) -> SyncLogEntry:
    return SyncLogEntry.model_validate(
        {
            "id": f"L-{n:05d}",
            "at": at,
            "entityType": "appointment",
            "entityId": f"A-{n % 9}",
            "operation": "push",
            "direction": "to_amd",
            "outcome": "success",
            "durationMs": 40 + 37 * n % 900,
            **fields,
        }
    )


# ---------------------------------------------------------------- appointments


def test_the_mass_change_guard_range_reads_only_upcoming_appointments(state: Any) -> None:
    store = DynamoAppointments(state, PRACTICE)
    for n in range(120):
        store.save(_appointment(n, NOW - timedelta(days=3 + n % 200)), None)
    for n in range(120, 125):
        store.save(_appointment(n, NOW + timedelta(days=2 + n % 5)), None)
    meter = ReadMeter(state)
    upcoming = store.list_between(*upcoming_range(NOW))
    assert sorted(r.appointment_id for r in upcoming) == [f"A-{n}" for n in range(120, 125)]
    assert meter.calls == {"Query": 1} and meter.items_read == 5


def test_waiting_appointments_are_found_by_patient_and_leave_the_index(state: Any) -> None:
    store = DynamoAppointments(state, PRACTICE)
    waiting = {
        "amd_sync_status": "error",
        "amd_sync_error_code": SyncErrorCode.PATIENT_NOT_SYNCED,
    }
    for n in range(40):
        store.save(_appointment(n, NOW + timedelta(days=1), **(waiting if n < 3 else {})), None)
    meter = ReadMeter(state)
    found = store.waiting_on_patient("P-1")
    assert [r.appointment_id for r in found] == ["A-1"]
    assert meter.calls == {"Query": 1} and meter.items_read == 1
    store.save(_appointment(1, NOW + timedelta(days=1)), 1)  # synced meanwhile
    assert store.waiting_on_patient("P-1") == []


def test_unlinked_visits_are_looked_up_by_id_and_expire_after_their_start(state: Any) -> None:
    store = DynamoAppointments(state, PRACTICE)
    for n in range(30):
        store.record_unlinked(
            UnlinkedAmdAppointment(
                advanced_md_visit_id=str(7000 + n),
                advanced_md_patient_id="900",
                start="2026-12-02T09:00:00",
                amd_status=0,
                first_seen=NOW,
                last_seen=NOW,
            )
        )
    meter = ReadMeter(state)
    assert store.unlinked_among(["7003", "7004", "9999", "7003"]) == {"7003", "7004"}
    assert meter.calls == {"BatchGetItem": 1} and meter.items_read == 2
    item = state.get_item(Key={"pk": f"{PRACTICE}#UNLINKED", "sk": "7003"})["Item"]
    expires = datetime.fromtimestamp(int(item["expiresAt"]), UTC)
    assert datetime(2026, 12, 16, tzinfo=UTC) < expires <= datetime(2026, 12, 18, tzinfo=UTC)
    store.claim_visit("7003", "A-1")
    assert store.unlinked_among(["7003"]) == set()


def test_dashboard_counters_equal_a_recount_through_every_change(state: Any) -> None:
    store = DynamoAppointments(state, PRACTICE)
    versions: dict[int, int] = {}
    for n in range(12):
        versions[n] = store.save(_appointment(n, NOW + timedelta(days=n)), None)
    synced_at = NOW - timedelta(minutes=5)
    for n in range(0, 12, 2):
        update = {"amd_sync_status": "synced", "last_synced_to_amd": synced_at}
        if n % 4 == 0:
            update |= {"status": EhrStatus.CHECKED_OUT, "charges_posted": n % 8 == 0}
        versions[n] = store.save(_appointment(n, NOW + timedelta(days=n), **update), versions[n])
    error = {"amd_sync_status": "error", "amd_sync_error_code": SyncErrorCode.AMD_UNAVAILABLE}
    store.save(_appointment(1, NOW + timedelta(days=1), **error), versions[1])
    counts, last = store.counts()
    recount = _recount(store.list_all())
    assert {k: v for k, v in counts.items() if v} == recount
    assert last is not None and datetime.fromisoformat(last) == synced_at
    state.delete_item(Key={"pk": f"{PRACTICE}#COUNTS", "sk": "APPOINTMENTS"})
    store.rebuild_counts()
    assert {k: v for k, v in store.counts()[0].items() if v} == recount


def _recount(records: list[AppointmentSyncRecord]) -> dict[str, int]:
    from amdsync.domain.aggregates import record_keys  # noqa: PLC0415

    totals: dict[str, int] = {}
    for r in records:
        for name in record_keys(r.amd_sync_status, r.status, r.charges_posted):
            totals[name] = totals.get(name, 0) + 1
    return totals


def test_a_record_saved_before_counters_is_counted_once_it_is_saved_again(state: Any) -> None:
    store = DynamoAppointments(state, PRACTICE)
    store.save(_appointment(1, NOW + timedelta(days=1)), None)
    state.update_item(  # as a record written by the previous release: no `counted` flag
        Key={"pk": f"{PRACTICE}#APPT#A-1", "sk": "RECORD"}, UpdateExpression="REMOVE counted"
    )
    state.delete_item(Key={"pk": f"{PRACTICE}#COUNTS", "sk": "APPOINTMENTS"})
    synced = {"amd_sync_status": "synced", "last_synced_to_amd": NOW}
    store.save(_appointment(1, NOW + timedelta(days=1), **synced), 1)
    counts, _ = store.counts()
    assert counts == {"records": 1, "status_synced": 1}  # nothing went below zero


def test_patients_page_by_cursor_and_keep_status_counters(state: Any) -> None:
    store = DynamoPatients(state, PRACTICE)
    for n in range(25):
        status = {"amd_sync_status": "synced"} if n % 3 == 0 else {}
        store.save(PatientSyncRecord(patient_id=f"P-{n:03d}", **status), None)
    meter = ReadMeter(state)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page, cursor = store.page(10, cursor)
        seen += [p.patient_id for p in page]
        if cursor is None:
            break
    assert seen == [f"P-{n:03d}" for n in range(25)]
    assert meter.calls == {"Query": 3} and meter.items_read == 25
    counts, _ = store.counts()
    assert (counts["records"], counts["status_synced"], counts["status_pending"]) == (25, 9, 16)


# ---------------------------------------------------------------- conflicts


def _conflict(n: int, state: str = "open") -> ConflictRecord:
    return ConflictRecord(
        conflict_id=f"A-{n:03d}",
        appointment_id=f"A-{n:03d}",
        fields={"start": ConflictingField(ehr="2026-12-01T10:00:00", amd="2026-12-01T11:00:00")},
        detected_at=NOW,
        state=state,  # type: ignore[arg-type]
    )


def test_conflicts_page_with_a_state_filter_and_count_open_ones(state: Any) -> None:
    store = DynamoConflicts(state, PRACTICE)
    for n in range(30):
        store.put(_conflict(n))
    for n in range(0, 30, 3):
        store.put(_conflict(n, "resolved"))
    assert store.open_count() == 20
    ids: list[str] = []
    position: dict[str, Any] | None = None
    pages = 0
    while True:
        page, position = store.page("open", position, 7)
        ids += [c.conflict_id for c in page]
        pages += 1
        if position is None:
            break
    assert ids == [f"A-{n:03d}" for n in range(30) if n % 3], ids
    assert pages <= 6
    with pytest.raises(BadPosition):
        store.page("open", {"k": {"pk": "other#CONFLICTS", "sk": "x"}}, 7)


# ---------------------------------------------------------------- sync logs


def _seed_logs(store: DynamoSyncLogs, count: int, end: datetime) -> list[SyncLogEntry]:
    outcomes = ["success", "success", "error", "deferred", "conflict", "skipped"]
    entries = []
    for n in range(count):
        outcome = outcomes[n % len(outcomes)]
        fields: dict[str, Any] = {"outcome": outcome}
        if outcome in ("error", "conflict"):
            fields["errorCode"] = "AMD_UNAVAILABLE" if n % 2 else "AMD_REJECTED"
        if n % 5 == 0:
            fields["entityType"] = "patient"
        entry = _entry(n, end - timedelta(minutes=47 * n + 1), **fields)
        store.append(entry)
        entries.append(entry)
    return entries


def test_stats_counters_equal_a_recount_of_the_entries(logs_table: Any) -> None:
    store = DynamoSyncLogs(logs_table, PRACTICE)
    _seed_logs(store, 200, NOW)
    for period in (timedelta(hours=24), timedelta(days=7)):
        start, end = hours_window(NOW, period)
        meter = ReadMeter(logs_table)
        counted = stats_from_counts(store.counts_between(start, end), "p")
        assert meter.calls == {"Query": 1}
        assert meter.items_read <= period.total_seconds() // 3600
        assert counted == sync_stats(store.between(start, end), "p")
        assert counted.total > 0 and counted.p95_duration_ms is not None
    start, end = hours_window(NOW, timedelta(days=7))
    assert store.counts_between(start, end) == count_logs(store.between(start, end))


def test_logs_page_newest_first_across_days_with_filters(logs_table: Any) -> None:
    store = DynamoSyncLogs(logs_table, PRACTICE)
    entries = _seed_logs(store, 150, NOW)
    days = (NOW.date() - timedelta(days=6), NOW.date())
    for filters in ({}, {"outcome": "error"}, {"entityType": "patient", "outcome": "success"}):
        expected = [
            e.id
            for e in sorted(entries, key=lambda e: (e.at, e.id), reverse=True)
            if e.at.date() >= days[0]
            and all(e.model_dump(mode="json")[k] == v for k, v in filters.items())
        ]
        meter = ReadMeter(logs_table)
        got, pages = _all_pages(store, days, filters, 20)
        assert got == expected, filters
        assert pages >= len(expected) // 20
        # Every query asked for at most a page: nothing read beyond what pages hold + filters.
        assert meter.items_read <= 150
    with pytest.raises(BadPosition):
        store.page(days, {}, {"d": "not-a-day", "k": None}, 20)
    with pytest.raises(BadPosition):
        store.page(days, {}, {"d": days[1].isoformat(), "k": {"pk": "x", "sk": "y"}}, 20)


def _all_pages(
    store: DynamoSyncLogs, days: tuple[date, date], filters: dict[str, str], limit: int
) -> tuple[list[str], int]:
    ids: list[str] = []
    position: dict[str, Any] | None = None
    pages = 0
    while True:
        page, position = store.page(days, filters, position, limit)
        assert len(page) <= limit
        ids += [e.id for e in page]
        pages += 1
        if position is None:
            return ids, pages


def test_the_operators_recount_restores_every_counter(state: Any) -> None:
    appointments, conflicts = DynamoAppointments(state, PRACTICE), DynamoConflicts(state, PRACTICE)
    patients = DynamoPatients(state, PRACTICE)
    for n in range(5):
        appointments.save(_appointment(n, NOW + timedelta(days=1)), None)
        patients.save(PatientSyncRecord(patient_id=f"P-{n}"), None)
        conflicts.put(_conflict(n, "open" if n % 2 else "resolved"))
    expected = (appointments.counts(), patients.counts(), conflicts.open_count())
    for kind in ("APPOINTMENTS", "PATIENTS", "CONFLICTS"):
        state.put_item(Item={"pk": f"{PRACTICE}#COUNTS", "sk": kind, "records": 99})
    assert conflicts.open_count() == 0
    settings = TableSettings.model_validate(
        {**{n: n.lower() for n in TABLE_VARIABLES}, "SYNC_TABLE": state.name, "PRACTICE_ID": "pr-1"}
    )
    recount(settings.model_copy(update={"practice_id": PRACTICE}), _Res(state))
    assert (appointments.counts(), patients.counts(), conflicts.open_count()) == expected


TABLE_VARIABLES = ("SYNC_TABLE", "LOGS_TABLE", "AUDIT_TABLE", "CACHE_TABLE", "CONTROL_TABLE")


class _Res:
    """A resource stand-in that hands out the test's table (one table in this test)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def Table(self, _name: str) -> Any:  # boto3's spelling
        return self._table

"""A practice-sized store for the scale section: N synced appointments and M synced patients,
written straight into the sync table (BatchWriteItem) in the layout `DynamoAppointments.save` /
`DynamoPatients.save` write, with their visit-id claims and consistent dashboard counters.

Seeding through the product (a PUT, a queued job and an AMD create per appointment) would take
hours on moto; the figures measured afterwards read and write these items exactly as they read
and write the product's own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from amdsync.domain.aggregates import hour_of, log_counters, record_keys
from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.journal import SyncLogEntry
from amdsync.domain.patients import PatientSyncRecord
from amdsync.store import keys
from amdsync.store.counters import COUNTED, LogCounters, RecordCounters
from amdsync.store.dynamo import to_dynamo
from amdsync.store.journal import LOG_RETENTION

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# Synced visit and patient ids far above any the simulator hands out.
VISIT_BASE = 700_000_000
PATIENT_BASE = 800_000_000
PROVIDERS = ("DR-1", "DR-2", "DR-3", "DR-5", "DR-6", "DR-7", "DR-10", "DR-11")
# Past and future: the start index (bulk planning, the pull's mass-change guard) spans both.
STATUSES = ("COMPLETED", "COMPLETED", "SCHEDULED", "CHECKED_IN", "CANCELLED")


def seeded_appointment_id(index: int) -> str:
    return f"S-{index:06d}"


def seeded_patient_id(index: int) -> str:
    return f"SP-{index:06d}"


def _appointment(
    index: int, patients: int, first: date, days: int, synced: datetime
) -> AppointmentSyncRecord:
    day = first + timedelta(days=index % days)
    hour = 8 + (index // days) % 9
    return AppointmentSyncRecord.model_validate(
        {
            "appointmentId": seeded_appointment_id(index),
            "patientId": seeded_patient_id(index % patients),
            "providerId": PROVIDERS[index % len(PROVIDERS)],
            "facilityId": "MAIN",
            "appointmentType": "THERAPY_50",
            "start": f"{day.isoformat()}T{hour:02d}:{(index // (days * 9)) % 4 * 15:02d}:00",
            "timeZone": "America/Denver",
            "durationMinutes": 50,
            "status": STATUSES[index % len(STATUSES)],
            "ehrVersion": 1,
            "amdSyncStatus": "synced",
            "lastSyncedToAMD": synced.isoformat(),
            "advancedMDPatientId": str(PATIENT_BASE + index % patients),
            "advancedMDVisitId": str(VISIT_BASE + index),
            "chargesPosted": index % 3 == 0,
        }
    )


def _appointment_items(record: AppointmentSyncRecord, practice: str) -> list[dict[str, Any]]:
    data = record.model_dump(mode="json")
    item = {
        "pk": keys.appointment(practice, record.appointment_id),
        "sk": keys.RECORD,
        "gsi1pk": keys.appointments_index(practice),
        "gsi1sk": f"{record.start}#{record.appointment_id}",
        "data": data,
        "version": 1,
        COUNTED: True,
    }
    owner = {
        "pk": keys.visit_owner(practice, str(record.advanced_md_visit_id)),
        "sk": "OWNER",
        "appointmentId": record.appointment_id,
    }
    return [item, owner]


def _patient_item(index: int, practice: str, synced: datetime) -> dict[str, Any]:
    record = PatientSyncRecord.model_validate(
        {
            "patientId": seeded_patient_id(index),
            "advancedMDPatientId": str(PATIENT_BASE + index),
            "ehrVersion": 1,
            "amdSyncStatus": "synced",
            "lastSyncedToAMD": synced.isoformat(),
        }
    )
    return {
        "pk": keys.patient(practice, record.patient_id),
        "sk": keys.RECORD,
        "gsi1pk": keys.patients_index(practice),
        "gsi1sk": record.patient_id,
        "data": record.model_dump(mode="json"),
        "version": 1,
        COUNTED: True,
    }


def seed_practice(
    table: Table, practice: str, appointments: int, patients: int, first: date, *, days: int = 366
) -> dict[str, Any]:
    """Write the records and replace the APPOINTMENTS/PATIENTS counters with their recount."""
    synced = datetime(first.year, first.month, first.day, 12, tzinfo=UTC)
    appointment_cards: list[set[str] | None] = []
    with table.batch_writer() as batch:
        for index in range(appointments):
            record = _appointment(index, patients, first, days, synced)
            for item in _appointment_items(record, practice):
                batch.put_item(Item=to_dynamo(item))
            status = STATUSES[index % len(STATUSES)]
            appointment_cards.append(record_keys("synced", status, record.charges_posted))
        for index in range(patients):
            batch.put_item(Item=to_dynamo(_patient_item(index, practice, synced)))
    stamp = synced.isoformat()
    RecordCounters(table, practice, "APPOINTMENTS").rebuild(appointment_cards, stamp)
    RecordCounters(table, practice, "PATIENTS").rebuild([record_keys("synced")] * patients, stamp)
    return {
        "appointments": appointments,
        "patients": patients,
        "items_written": 2 * appointments + patients,
        "first_day": first.isoformat(),
        "days": days,
    }


def _log_entry(index: int, at: datetime) -> SyncLogEntry:
    failed = index % 40 == 0  # a few failures, so the stats have something to break down
    return SyncLogEntry.model_validate(
        {
            "id": f"seed-{index:07d}",
            "at": at,
            "entityType": "appointment",
            "entityId": seeded_appointment_id(index),
            "operation": "create" if index % 3 else "status",
            "direction": "to_amd",
            "outcome": "error" if failed else "success",
            "durationMs": 150 + index % 400,
            "amdCalls": 1,
            "errorCode": "AMD_UNAVAILABLE" if failed else None,
        }
    )


def seed_logs(table: Table, practice: str, entries: int, end: datetime, days: int = 30) -> int:
    """`entries` sync log entries spread over the `days` before `end` (the API reads logs and
    stats on the real clock), written as `DynamoSyncLogs.append` does, with their hourly
    counters summed per hour (one UpdateItem per hour instead of one per entry)."""
    step = timedelta(days=days) / max(entries, 1)
    hours: dict[str, tuple[datetime, dict[str, int]]] = {}
    with table.batch_writer() as batch:
        for index in range(entries):
            entry = _log_entry(index, end - step * (index + 1))
            sort = f"{keys.utc_iso(entry.at)}#{entry.id}"
            item = {
                "pk": keys.log_day(practice, entry.at),
                "sk": sort,
                "gsi1pk": keys.log_entity(practice, entry.entity_type, entry.entity_id),
                "gsi1sk": sort,
                "expiresAt": int((entry.at + LOG_RETENTION).timestamp()),
                "data": entry.model_dump(mode="json"),
            }
            batch.put_item(Item=to_dynamo(item))
            _, totals = hours.setdefault(hour_of(entry.at), (entry.at, {}))
            for name, value in log_counters(entry).items():
                totals[name] = totals.get(name, 0) + value
    counters = LogCounters(table, practice, LOG_RETENTION)
    for at, totals in hours.values():
        counters.add(at, totals)
    return entries

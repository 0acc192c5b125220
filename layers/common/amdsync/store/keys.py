"""Key layout of every sync-state, log, audit and webhook item, in this one module. Every
partition key starts with the practice id, so one deployment can later serve several practices
without a data migration (SPEC §3). The AMD client's control items (token, rate buckets) are
keyed in amd_keys."""

from __future__ import annotations

from datetime import UTC, datetime

RECORD = "RECORD"


def appointment(practice: str, appointment_id: str) -> str:
    return f"{practice}#APPT#{appointment_id}"


def appointments_index(practice: str) -> str:
    """gsi1 partition listing a practice's appointments, sorted by local start time."""
    return f"{practice}#APPTS"


def waiting_on_patient(practice: str, patient_id: str) -> str:
    """gsi2 partition (sparse): appointments waiting for this patient to reach AMD."""
    return f"{practice}#WAITING#{patient_id}"


def patient(practice: str, patient_id: str) -> str:
    return f"{practice}#PATIENT#{patient_id}"


def patients_index(practice: str) -> str:
    return f"{practice}#PATIENTS"


def visit_owner(practice: str, visit_id: str) -> str:
    """Claims an AMD visit id for one appointment, making advancedMDVisitId unique."""
    return f"{practice}#VISIT#{visit_id}"


def conflicts(practice: str) -> str:
    return f"{practice}#CONFLICTS"


def unlinked(practice: str) -> str:
    return f"{practice}#UNLINKED"


def in_flight(practice: str) -> str:
    """Bookings sent to AMD whose visit id is not claimed yet."""
    return f"{practice}#INFLIGHT"


def mapping(practice: str, kind: str) -> str:
    return f"{practice}#MAPPING#{kind}"


def settings(practice: str) -> str:
    return f"{practice}#SETTINGS"


def feed(practice: str) -> str:
    return f"{practice}#FEED"


def control(practice: str, what: str) -> str:
    return f"{practice}#{what}"


def failed(practice: str) -> str:
    """Dead-lettered jobs, newest first by sort key."""
    return f"{practice}#FAILED"


def record_counts(practice: str) -> str:
    """Dashboard counters, one item per kind of record (sync table)."""
    return f"{practice}#COUNTS"


def log_stats(practice: str) -> str:
    """Hourly sync-log counters (logs table)."""
    return f"{practice}#STATS"


def webhooks(practice: str) -> str:
    """Webhook subscriptions (never their secrets)."""
    return f"{practice}#WEBHOOKS"


def webhook_secrets(practice: str) -> str:
    """Signing secrets, apart so that no listing of subscriptions ever reads one."""
    return f"{practice}#WEBHOOKSECRET"


def webhook_deliveries(practice: str, webhook_id: str) -> str:
    return f"{practice}#WEBHOOK#{webhook_id}#DELIVERIES"


def utc_iso(at: datetime) -> str:
    """Sortable UTC timestamp with milliseconds, used in sort keys."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def timed(at: datetime, item_id: str) -> str:
    """Sort key of a time-ordered item (log, audit entry, delivery): its UTC time, then its id."""
    return f"{utc_iso(at)}#{item_id}"


def log_day(practice: str, at: datetime) -> str:
    return f"{practice}#LOG#{at.astimezone(UTC).date().isoformat()}"


def log_entity(practice: str, entity_type: str, entity_id: str) -> str:
    return f"{practice}#LOGENTITY#{entity_type}#{entity_id}"


def audit_month(practice: str, at: datetime) -> str:
    return audit_month_named(practice, at.astimezone(UTC).strftime("%Y-%m"))


def audit_month_named(practice: str, month: str) -> str:
    """The audit partition of `month` ("YYYY-MM")."""
    return f"{practice}#AUDIT#{month}"


def audit_entity(practice: str, entity_type: str, entity_id: str) -> str:
    """gsi1 partition of the audit table: one entity's history, whatever its age."""
    return f"{practice}#AUDITENTITY#{entity_type}#{entity_id}"

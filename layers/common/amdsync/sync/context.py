"""The ports a use case runs against, bundled. Composition builds one per practice."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from amdsync.domain.practice_time import PracticeTime
from amdsync.sync.metrics import MetricsSink
from amdsync.sync.ports import (
    AmdPatients,
    AmdScheduler,
    Appointments,
    AuditTrail,
    BulkJobs,
    CallCounter,
    ChangeFeed,
    Clock,
    ConflictStore,
    Fingerprint,
    JobQueue,
    Leases,
    MappingStore,
    Patients,
    PullRequests,
    PullWindows,
    SettingsStore,
    SyncLogs,
    Watermark,
)


@dataclass(frozen=True)
class SyncContext:
    practice: str
    timezone: ZoneInfo
    clock: Clock
    appointments: Appointments
    patients: Patients
    settings: SettingsStore
    mappings: MappingStore
    conflicts: ConflictStore
    feed: ChangeFeed
    logs: SyncLogs
    audit: AuditTrail
    watermark: Watermark
    leases: Leases
    bulk_jobs: BulkJobs
    pull_windows: PullWindows
    pull_requests: PullRequests
    queue: JobQueue
    scheduler: AmdScheduler
    amd_patients: AmdPatients
    metrics: MetricsSink
    amd_calls: CallCounter
    # Demographics -> their keyed digest (HMAC under the secret PHI hash key, issue 16).
    fingerprint: Fingerprint

    @property
    def practice_time(self) -> PracticeTime:
        """Conversions between an appointment's zone and AMD's practice-local wall time."""
        return PracticeTime(self.timezone)

    def reference_id(self, appointment_id: str) -> str:
        """The `referenceid` we give AMD for an appointment: stable, so a retry finds it."""
        return f"AMDSYNC-{self.practice}-{appointment_id}"[:64]

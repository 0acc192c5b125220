"""All fakes wired into one `SyncContext` for practice 999999 (America/Denver)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.patients import PatientDemographics
from amdsync.domain.settings import Settings
from amdsync.sync.context import SyncContext
from amdsync.sync.metrics import RecordingMetrics
from tests.fakes.admin import FakeConflicts, FakeMappings, FakeSettings
from tests.fakes.amd import FakeAmd
from tests.fakes.clock import FakeClock
from tests.fakes.control import (
    FakeBulkJobs,
    FakeLeases,
    FakePullRequests,
    FakePullWindows,
    FakeQueue,
    FakeWatermark,
)
from tests.fakes.journal import FakeAuditTrail, FakeChangeFeed, FakeSyncLogs
from tests.fakes.records import FakeAppointments, FakePatients

PRACTICE = "999999"
TIME_ZONE = "America/Denver"
# The fixed key the fakes fingerprint demographics with (production reads it from Secrets
# Manager, PHI_HASH_KEY_SECRET).
PHI_HASH_KEY = b"test-phi-hash-key-0123456789abcdef"

# EHR id -> AMD id (providers: profile id, column id). Two of each, all confirmed.
PROVIDERS = {"DR-7": ("21", "31"), "DR-8": ("22", "32")}
FACILITIES = {"MAIN": "41", "ANNEX": "42"}
TYPES = {"THERAPY_50": "61", "INTAKE_90": "62"}
REASONS = {"PATIENT_REQUEST": "23", "ILLNESS": "24"}


def default_mappings() -> FakeMappings:
    mappings = FakeMappings()
    for ehr_id, (profile, column) in PROVIDERS.items():
        mappings.put(
            Mapping(
                kind=MappingKind.PROVIDERS,
                ehr_id=ehr_id,
                amd_id=profile,
                amd_column_id=column,
                confirmed=True,
            )
        )
    for kind, table in (
        (MappingKind.FACILITIES, FACILITIES),
        (MappingKind.APPOINTMENT_TYPES, TYPES),
        (MappingKind.REASONS, REASONS),
    ):
        for ehr_id, amd_id in table.items():
            mappings.put(Mapping(kind=kind, ehr_id=ehr_id, amd_id=amd_id, confirmed=True))
    return mappings


@dataclass
class World:
    """The fakes behind one context, with their concrete types for test assertions."""

    clock: FakeClock = field(default_factory=FakeClock)
    amd: FakeAmd = field(default_factory=FakeAmd)
    appointments: FakeAppointments = field(default_factory=FakeAppointments)
    patients: FakePatients = field(default_factory=FakePatients)
    settings: FakeSettings = field(default_factory=FakeSettings)
    mappings: FakeMappings = field(default_factory=default_mappings)
    conflicts: FakeConflicts = field(default_factory=FakeConflicts)
    feed: FakeChangeFeed = field(default_factory=FakeChangeFeed)
    logs: FakeSyncLogs = field(default_factory=FakeSyncLogs)
    audit: FakeAuditTrail = field(default_factory=FakeAuditTrail)
    watermark: FakeWatermark = field(default_factory=FakeWatermark)
    leases: FakeLeases = field(default_factory=FakeLeases)
    bulk_jobs: FakeBulkJobs = field(default_factory=FakeBulkJobs)
    pull_windows: FakePullWindows = field(default_factory=FakePullWindows)
    pull_requests: FakePullRequests = field(default_factory=FakePullRequests)
    metrics: RecordingMetrics = field(default_factory=RecordingMetrics)
    queue: FakeQueue = field(init=False)
    ctx: SyncContext = field(init=False)

    def __post_init__(self) -> None:
        self.queue = FakeQueue(self.clock)
        self.ctx = SyncContext(
            practice=PRACTICE,
            timezone=ZoneInfo(TIME_ZONE),
            clock=self.clock,
            appointments=self.appointments,
            patients=self.patients,
            settings=self.settings,
            mappings=self.mappings,
            conflicts=self.conflicts,
            feed=self.feed,
            logs=self.logs,
            audit=self.audit,
            watermark=self.watermark,
            leases=self.leases,
            bulk_jobs=self.bulk_jobs,
            pull_windows=self.pull_windows,
            pull_requests=self.pull_requests,
            queue=self.queue,
            scheduler=self.amd,
            amd_patients=self.amd,
            metrics=self.metrics,
            amd_calls=self.amd,
            fingerprint=fingerprint,
        )


def fingerprint(demographics: PatientDemographics) -> str:
    """The context's fingerprint in tests: keyed with the fixed PHI_HASH_KEY."""
    return demographics.fingerprint(PHI_HASH_KEY)


def build_world(settings: Settings | None = None, **fakes: object) -> World:
    """A fresh world; pass e.g. `amd=FakeAmd(enforce_overlap=False)` to replace one fake."""
    world = World(**fakes)  # type: ignore[arg-type]
    if settings is not None:
        world.settings = FakeSettings(settings)
        world.__post_init__()
    return world


def build_context(settings: Settings | None = None, **fakes: object) -> SyncContext:
    return build_world(settings, **fakes).ctx

"""In-memory fakes for every port in `amdsync.sync.ports`, for unit tests of the use cases.

`build_world()` wires them into a `SyncContext` (`world.ctx`) and keeps their concrete types
at hand (`world.amd`, `world.queue`, ...); `build_context()` returns just the context.
"""

from tests.fakes.admin import FakeConflicts, FakeMappings, FakeSettings
from tests.fakes.amd import FakeAmd
from tests.fakes.clock import FakeClock
from tests.fakes.context import (
    FACILITIES,
    PHI_HASH_KEY,
    PRACTICE,
    PROVIDERS,
    REASONS,
    TIME_ZONE,
    TYPES,
    World,
    build_context,
    build_world,
)
from tests.fakes.control import FakeBulkJobs, FakeLeases, FakeQueue, FakeWatermark
from tests.fakes.failures import FaultPlan
from tests.fakes.journal import FakeAuditTrail, FakeChangeFeed, FakeSyncLogs
from tests.fakes.records import FakeAppointments, FakePatients

__all__ = [
    "FACILITIES",
    "PHI_HASH_KEY",
    "PRACTICE",
    "PROVIDERS",
    "REASONS",
    "TIME_ZONE",
    "TYPES",
    "FakeAmd",
    "FakeAppointments",
    "FakeAuditTrail",
    "FakeBulkJobs",
    "FakeChangeFeed",
    "FakeClock",
    "FakeConflicts",
    "FakeLeases",
    "FakeMappings",
    "FakePatients",
    "FakeQueue",
    "FakeSettings",
    "FakeSyncLogs",
    "FakeWatermark",
    "FaultPlan",
    "World",
    "build_context",
    "build_world",
]

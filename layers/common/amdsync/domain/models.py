"""All domain models in one import. The definitions live in small modules by subject:

- `base`: model configuration, constrained field types, `SyncState`;
- `appointments`: `DesiredAppointment`, `StatusChange`, `AppointmentSyncRecord`;
- `patients`: `PatientDemographics`, `Address`, `PatientSyncRecord`;
- `settings`: `Settings`; `mappings`: `Mapping`, `MappingKind`;
- `errors`: `SyncErrorCode` and the typed exceptions.
"""

from __future__ import annotations

from amdsync.domain.appointments import (
    SNAPSHOT_FIELDS,
    AppointmentFields,
    AppointmentSyncRecord,
    DesiredAppointment,
    SnapshotValue,
    StatusChange,
)
from amdsync.domain.base import (
    AmdId,
    AmdSyncStatus,
    DomainModel,
    EhrId,
    IanaTimeZone,
    LocalIsoDateTime,
    SyncState,
    normalize_amd_id,
)
from amdsync.domain.errors import SyncErrorCode
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.patients import Address, PatientDemographics, PatientSyncRecord
from amdsync.domain.settings import ConflictPolicy, Settings, SyncFrequency

__all__ = [
    "SNAPSHOT_FIELDS",
    "Address",
    "AmdId",
    "AmdSyncStatus",
    "AppointmentFields",
    "AppointmentSyncRecord",
    "ConflictPolicy",
    "DesiredAppointment",
    "DomainModel",
    "EhrId",
    "IanaTimeZone",
    "LocalIsoDateTime",
    "Mapping",
    "MappingKind",
    "PatientDemographics",
    "PatientSyncRecord",
    "Settings",
    "SnapshotValue",
    "StatusChange",
    "SyncErrorCode",
    "SyncFrequency",
    "SyncState",
    "normalize_amd_id",
]

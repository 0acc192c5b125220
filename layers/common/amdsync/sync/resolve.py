"""EHR ids -> AMD ids through confirmed mappings; a missing one is an error, never a guess."""

from __future__ import annotations

from dataclasses import dataclass

from amdsync.domain.appointments import AppointmentFields
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.sync.failures import SyncProblem
from amdsync.sync.ports import AmdAppointment, MappingStore


@dataclass(frozen=True)
class AmdTargets:
    profile_id: str
    column_id: str
    facility_id: str
    type_id: str


def _confirmed(store: MappingStore, kind: MappingKind, ehr_id: str) -> Mapping:
    mapping = store.get(kind, ehr_id)
    if mapping is None or not mapping.confirmed:
        raise SyncProblem(kind.not_mapped_code, f"no confirmed {kind.value} mapping for {ehr_id}")
    return mapping


def resolve_targets(store: MappingStore, fields: AppointmentFields) -> AmdTargets:
    provider = _confirmed(store, MappingKind.PROVIDERS, fields.provider_id)
    facility = _confirmed(store, MappingKind.FACILITIES, fields.facility_id)
    appt_type = _confirmed(store, MappingKind.APPOINTMENT_TYPES, fields.appointment_type)
    assert provider.amd_column_id is not None  # the model requires it for providers
    return AmdTargets(provider.amd_id, provider.amd_column_id, facility.amd_id, appt_type.amd_id)


def resolve_reason(store: MappingStore, reason: str | None) -> str | None:
    return None if reason is None else _confirmed(store, MappingKind.REASONS, reason).amd_id


class ReverseMappings:
    """AMD ids -> EHR ids, for reading AMD state in EHR vocabulary. Built once per run."""

    def __init__(self, store: MappingStore) -> None:
        self._by_kind: dict[MappingKind, dict[str, str]] = {}
        self._columns: dict[str, str] = {}
        for kind in MappingKind:
            table: dict[str, str] = {}
            for mapping in store.list(kind):
                if mapping.confirmed:
                    table.setdefault(mapping.amd_id, mapping.ehr_id)
                    if mapping.amd_column_id:
                        self._columns.setdefault(mapping.amd_column_id, mapping.ehr_id)
            self._by_kind[kind] = table

    def ehr_id(self, kind: MappingKind, amd_id: str | None) -> str | None:
        if amd_id is None:
            return None
        # An AMD value no mapping knows stays visible (prefixed) instead of being dropped.
        return self._by_kind[kind].get(amd_id, f"AMD-{amd_id}")

    def provider(self, appointment: AmdAppointment) -> str | None:
        """Booking puts a provider on a column; the column identifies the EHR provider best."""
        if appointment.column_id and appointment.column_id in self._columns:
            return self._columns[appointment.column_id]
        return self.ehr_id(MappingKind.PROVIDERS, appointment.profile_id)

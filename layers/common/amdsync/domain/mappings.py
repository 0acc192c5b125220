"""EHR id -> AMD id mappings maintained by admins (SPEC §3 "Mappings", §4 `/mappings/{kind}`)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, StrictBool, ValidationInfo, field_validator

from amdsync.domain.base import AmdId, DomainModel, EhrId
from amdsync.domain.errors import SyncErrorCode


class MappingKind(StrEnum):
    PROVIDERS = "providers"
    FACILITIES = "facilities"
    APPOINTMENT_TYPES = "appointment-types"
    REASONS = "reasons"

    @property
    def not_mapped_code(self) -> SyncErrorCode:
        """The error an unmapped id of this kind yields (never a guessed mapping)."""
        return _NOT_MAPPED[self]


_NOT_MAPPED: dict[MappingKind, SyncErrorCode] = {
    MappingKind.PROVIDERS: SyncErrorCode.PROVIDER_NOT_MAPPED,
    MappingKind.FACILITIES: SyncErrorCode.FACILITY_NOT_MAPPED,
    MappingKind.APPOINTMENT_TYPES: SyncErrorCode.TYPE_NOT_MAPPED,
    MappingKind.REASONS: SyncErrorCode.REASON_NOT_MAPPED,
}


class Mapping(DomainModel):
    """One EHR id mapped to its AMD counterpart.

    Providers need the AMD profile id (`amdId`) *and* the scheduler column id: booking takes
    both (PROTOCOL §3.16). Only `confirmed` mappings are used to sync; suggestions are not.
    """

    kind: MappingKind
    ehr_id: EhrId
    amd_id: AmdId
    amd_column_id: AmdId | None = Field(default=None, validate_default=True)
    confirmed: StrictBool = False

    @field_validator("amd_column_id")
    @classmethod
    def _column_only_for_providers(cls, column: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind is MappingKind.PROVIDERS and column is None:
            raise ValueError("a provider mapping needs amdColumnId (booking needs the column)")
        if kind is not None and kind is not MappingKind.PROVIDERS and column is not None:
            raise ValueError(f"amdColumnId applies to providers only, not {kind}")
        return column

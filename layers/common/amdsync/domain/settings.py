"""Practice-level sync settings (SPEC §3 "Settings"; body of `PUT /settings`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, field_validator

from amdsync.domain.base import DomainModel, EhrId

SyncFrequency = Literal["realtime", "hourly", "daily", "manual"]
ConflictPolicy = Literal["manual", "ehr_wins", "amd_wins"]


DailyHour = Annotated[StrictInt, Field(ge=0, le=23)]
# At least 0.1 %: a smaller share means nothing, and DynamoDB cannot store a number below
# 1e-130 (a subnormal float here used to fail the settings write with a 500).
GuardRatio = Annotated[float, Field(ge=0.001, le=1.0)]
# None = sync every type. An empty list would silently sync nothing, so it is rejected.
TypeAllowList = tuple[EhrId, ...] | None


def _non_empty_unique(types: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if types is None:
        return None
    if not types:
        raise ValueError("use null to sync every type; an empty list would sync none")
    if len(set(types)) != len(types):
        raise ValueError("appointment types must not repeat")
    return types


class Settings(DomainModel):
    auto_sync_appointments: StrictBool = True
    # realtime = pull as often as Tier 1 allows (1/min for GETUPDATEDVISITS).
    sync_frequency: SyncFrequency = "realtime"
    # Practice-local hour of the daily pull; 2 keeps it well clear of AMD's 06:00 peak start.
    daily_hour: DailyHour = 2
    conflict_policy: ConflictPolicy = "manual"
    sync_appointment_types: TypeAllowList = None
    # A pull that would cancel more than this share of upcoming appointments stops and alarms.
    mass_change_guard_ratio: GuardRatio = 0.2

    _types_valid = field_validator("sync_appointment_types")(_non_empty_unique)

    def syncs_type(self, appointment_type: str) -> bool:
        return (
            self.sync_appointment_types is None or appointment_type in self.sync_appointment_types
        )


class SettingsReplacement(DomainModel):
    """Body of `PUT /settings` (SPEC §9.1): the whole object. Every field is required, so a
    body naming one setting is refused (422) instead of resetting the others to defaults;
    `PATCH` is the way to change one."""

    auto_sync_appointments: StrictBool
    sync_frequency: SyncFrequency
    daily_hour: DailyHour
    conflict_policy: ConflictPolicy
    sync_appointment_types: TypeAllowList
    mass_change_guard_ratio: GuardRatio

    _types_valid = field_validator("sync_appointment_types")(_non_empty_unique)

    def settings(self) -> Settings:
        return Settings.model_validate(self.model_dump())

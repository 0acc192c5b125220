"""Practice-level sync settings (SPEC §3 "Settings"; body of `PUT /settings`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, field_validator

from amdsync.domain.base import DomainModel, EhrId

SyncFrequency = Literal["realtime", "hourly", "daily", "manual"]
ConflictPolicy = Literal["manual", "ehr_wins", "amd_wins"]


class Settings(DomainModel):
    auto_sync_appointments: StrictBool = True
    # realtime = pull as often as Tier 1 allows (1/min for GETUPDATEDVISITS).
    sync_frequency: SyncFrequency = "realtime"
    # Practice-local hour of the daily pull; 2 keeps it well clear of AMD's 06:00 peak start.
    daily_hour: Annotated[StrictInt, Field(ge=0, le=23)] = 2
    conflict_policy: ConflictPolicy = "manual"
    # None = sync every type. An empty list would silently sync nothing, so it is rejected.
    sync_appointment_types: tuple[EhrId, ...] | None = None
    # A pull that would cancel more than this share of upcoming appointments stops and alarms.
    # At least 0.1 %: a smaller share means nothing, and DynamoDB cannot store a number below
    # 1e-130 (a subnormal float here used to fail the settings write with a 500).
    mass_change_guard_ratio: Annotated[float, Field(ge=0.001, le=1.0)] = 0.2

    @field_validator("sync_appointment_types")
    @classmethod
    def _non_empty_unique(cls, types: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if types is None:
            return None
        if not types:
            raise ValueError("use null to sync every type; an empty list would sync none")
        if len(set(types)) != len(types):
            raise ValueError("appointment types must not repeat")
        return types

    def syncs_type(self, appointment_type: str) -> bool:
        return (
            self.sync_appointment_types is None or appointment_type in self.sync_appointment_types
        )

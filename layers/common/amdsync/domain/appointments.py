"""Appointment models: the EHR's desired state, status changes, and the sync record (SPEC §3-4)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final, Self

from pydantic import AwareDatetime, ConfigDict, Field, StrictInt, ValidationInfo, field_validator

from amdsync.domain.base import (
    AmdId,
    DomainModel,
    EhrId,
    EhrVersion,
    IanaTimeZone,
    LocalIsoDateTime,
    SyncState,
)
from amdsync.domain.localtime import (
    FoldPolicy,
    NonexistentLocalTimeError,
    is_nonexistent,
    zone_of,
)
from amdsync.domain.status import EhrStatus
from amdsync.domain.timefmt import local_wall_time

# JSON scalars only: the snapshot is stored as-is and compared field by field.
SnapshotValue = str | int | bool | None

# The fields both sides can change; the base snapshot records their last agreed values under
# these (JSON) names, and conflict detection compares exactly these.
SNAPSHOT_FIELDS: Final[tuple[str, ...]] = (
    "providerId",
    "facilityId",
    "appointmentType",
    "timeZone",
    "start",
    "durationMinutes",
    "status",
    "cancelReason",
)

_MINUTES_PER_DAY = 24 * 60

DurationMinutes = Annotated[StrictInt, Field(gt=0, le=_MINUTES_PER_DAY)]


class AppointmentFields(DomainModel):
    """What the EHR decides about an appointment; shared by the request body and the record."""

    patient_id: EhrId
    provider_id: EhrId
    facility_id: EhrId
    appointment_type: EhrId
    # Declared before `start` so that start's validator can see the zone.
    time_zone: IanaTimeZone
    start: LocalIsoDateTime
    duration_minutes: DurationMinutes
    status: EhrStatus
    ehr_version: EhrVersion
    cancel_reason: EhrId | None = None

    def start_instant(self, fold_policy: FoldPolicy = FoldPolicy.EARLIER) -> datetime:
        """When the appointment begins (aware, UTC)."""
        return local_wall_time(self.start, self.time_zone, fold_policy)

    def end_instant(self, fold_policy: FoldPolicy = FoldPolicy.EARLIER) -> datetime:
        # Added in UTC: a 50-minute session across a DST change still lasts 50 minutes.
        return self.start_instant(fold_policy) + timedelta(minutes=self.duration_minutes)

    def snapshot(self) -> dict[str, SnapshotValue]:
        """The SNAPSHOT_FIELDS values as JSON scalars, keyed by their JSON names."""
        dumped = self.model_dump(mode="json", by_alias=True)
        return {name: dumped[name] for name in SNAPSHOT_FIELDS}


def content_digest(kind: str, values: dict[str, object]) -> str:
    """SHA-256 of what one EHR request asked for (its `ehrVersion` left out), so a request
    repeating a version can be told apart from a different one reusing it (SPEC §9.1)."""
    canonical = json.dumps({"kind": kind, **values}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class DesiredAppointment(AppointmentFields):
    """Body of `PUT /appointments/{appointmentId}`: the state the EHR wants AMD to show."""

    def digest(self) -> str:
        return content_digest("put", self.model_dump(mode="json", exclude={"ehr_version"}))

    @field_validator("start")
    @classmethod
    def _start_exists_in_zone(cls, start: str, info: ValidationInfo) -> str:
        zone_name = info.data.get("time_zone")
        if zone_name is None:  # the zone was invalid; that error is reported already
            return start
        local = datetime.fromisoformat(start)
        if not start_in_window(local.date(), datetime.now(UTC).date()):
            raise ValueError(START_WINDOW_MESSAGE)
        # Rejected at the boundary: an appointment cannot start at a time clocks skip.
        if is_nonexistent(local, zone_name):
            raise NonexistentLocalTimeError(local, zone_of(zone_name))
        return start


START_WINDOW_MESSAGE: Final = "start must be within 2 years before and 3 years after today"


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def start_in_window(start: date, today: date) -> bool:
    """SPEC §9.2: [today - 2 years, today + 3 years], on the calendar (checked before any zone
    conversion, which overflows for years near 1 or 9999)."""
    return _years_from(today, -2) <= start <= _years_from(today, 3)


_REASON_REQUIRED: Final = frozenset({EhrStatus.CANCELLED})
_REASON_ALLOWED: Final = frozenset({EhrStatus.CANCELLED, EhrStatus.NO_SHOW})


class StatusChange(DomainModel):
    """Body of `POST /appointments/{appointmentId}/status`.

    A reason is required to cancel, optional for a no-show, and meaningless (so rejected) for
    any other status.
    """

    status: EhrStatus
    reason: EhrId | None = Field(default=None, validate_default=True)
    ehr_version: EhrVersion | None = None

    def digest(self) -> str:
        return content_digest("status", {"status": self.status, "reason": self.reason})

    @field_validator("reason")
    @classmethod
    def _reason_fits_status(cls, reason: str | None, info: ValidationInfo) -> str | None:
        status = info.data.get("status")
        if status is None:  # status itself was invalid; that error is reported already
            return reason
        if reason is None and status in _REASON_REQUIRED:
            raise ValueError(f"reason is required when status is {status}")
        if reason is not None and status not in _REASON_ALLOWED:
            raise ValueError(f"reason is only accepted with CANCELLED or NO_SHOW, not {status}")
        return reason


class AppointmentSyncRecord(SyncState, AppointmentFields):
    """One per EHR appointment: desired state, AMD ids, sync state and the base snapshot."""

    model_config = ConfigDict(extra="ignore")

    appointment_id: EhrId
    advanced_md_patient_id: AmdId | None = Field(default=None, alias="advancedMDPatientId")
    # The AMD scheduler appointment id, which AMD also uses as the visit id (PROTOCOL §3.13).
    advanced_md_visit_id: AmdId | None = Field(default=None, alias="advancedMDVisitId")
    advanced_md_provider_id: AmdId | None = Field(default=None, alias="advancedMDProviderId")
    advanced_md_facility_id: AmdId | None = Field(default=None, alias="advancedMDFacilityId")
    base_snapshot: dict[str, SnapshotValue] = Field(default_factory=dict)
    # The values an update is about to write to AMD (snapshot names, with the `timeZone` its
    # `start` is in), stored before the AMD call and cleared with the new base. A crash between
    # the two then leaves AMD showing these: our own write, never an AMD-side change (§9.1).
    amd_write_intent: dict[str, SnapshotValue] | None = None
    # Set just before asking AMD to create the appointment. A record with an intent but no
    # visit id may already exist in AMD (crash or lost reply): search before creating again.
    create_intent_at: AwareDatetime | None = None
    # From pulled AMD data: whether AMD shows charges posted on the visit (dashboard "charges").
    charges_posted: bool | None = Field(default=None, alias="chargesPosted")
    # Digest of the EHR request that set `ehr_version` (see `content_digest`).
    ehr_digest: str | None = None

    @classmethod
    def from_desired(cls, appointment_id: str, desired: DesiredAppointment) -> Self:
        """A new, pending record for an appointment the EHR just registered."""
        return cls.model_validate({**desired.model_dump(), "appointmentId": appointment_id})

    def with_desired(self, desired: DesiredAppointment) -> Self:
        """This record with the EHR's newer desired state; sync state and AMD ids unchanged."""
        return self.model_copy(update=desired.model_dump(by_alias=False))

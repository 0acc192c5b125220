"""Typed results of the AMD calls the product uses. Ids are bare (prefixes stripped), text trimmed.

These objects can hold PHI (patient names, DOBs): they are data, never log material.
`servertime` values are `ServerTime`s (verbatim `.raw`): they are only ever echoed back (§7.7).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from amdsync.domain.timefmt import ServerTime

# "never/unset" dates (§1.6).
_SENTINEL_YEARS = (1, 1900)


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, str_strip_whitespace=True, extra="ignore", coerce_numbers_to_str=True
    )


class Session(_Model):
    """Where and how to talk to AMD for one office key (PROTOCOL §2.3). Never log `token`."""

    token: str = Field(repr=False)
    webserver: str
    issued_at: datetime
    expires_at: datetime

    @property
    def xmlrpc_url(self) -> str:
        return self.webserver.rstrip("/") + "/xmlrpc/processrequest.aspx"

    @property
    def rest_base(self) -> str:
        # Replace the `processrequest` segment with `api`; never append (§1.1, §7.3).
        base = self.webserver.rstrip("/")
        head, sep, tail = base.rpartition("/processrequest/")
        if not sep:
            raise ValueError("webserver URL has no /processrequest/ segment")
        return f"{head}/api/{tail}"


class Profile(_Model):
    id: str
    code: str | None = None
    name: str | None = None
    status: str | None = None
    inactive: bool = False


class Provider(_Model):
    id: str
    code: str | None = None
    name: str | None = None


class Facility(_Model):
    id: str
    code: str | None = None
    name: str | None = None


class AppointmentType(_Model):
    id: str
    name: str | None = None
    deleted: bool = False
    default_duration: int | None = None


class Reason(_Model):
    id: str
    name: str | None = None


class Column(_Model):
    id: str
    name: str | None = None
    profile_id: str | None = None
    facility_id: str | None = None
    start: str | None = None
    end: str | None = None
    interval: int | None = None
    workweek: str | None = None
    max_per_slot: int | None = None


class SchedulerPage(_Model):
    id: str
    name: str | None = None
    column_ids: tuple[str, ...] = ()


class SchedulerSetup(_Model):
    pages: tuple[SchedulerPage, ...] = ()
    columns: tuple[Column, ...] = ()
    profiles: tuple[Profile, ...] = ()
    facilities: tuple[Facility, ...] = ()


class PatientSummary(_Model):
    id: str
    name: str | None = Field(default=None, repr=False)
    chart: str | None = None
    dob: str | None = Field(default=None, repr=False)


class PatientPage(_Model):
    patients: tuple[PatientSummary, ...] = ()
    page: int = 1
    page_count: int = 1
    item_count: int = 0


class Patient(_Model):
    id: str
    name: str | None = Field(default=None, repr=False)
    dob: str | None = Field(default=None, repr=False)
    sex: str | None = None
    chart: str | None = None
    respparty_id: str | None = None
    profile_id: str | None = None
    additional_mrn: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict, repr=False)
    # The `address` and `contactinfo` child elements' attributes (empty values left out).
    address: dict[str, str] = Field(default_factory=dict, repr=False)
    contact: dict[str, str] = Field(default_factory=dict, repr=False)


class Visit(_Model):
    """One row of getdatevisits / getupdatedvisits / getvisitsbyid, read via our field template."""

    id: str
    update_status: str | None = None  # N / C / D; D does not prove deletion (§7.10)
    start: datetime | None = None  # practice-local, naive
    duration: int | None = None
    status: int | None = None  # numeric ApptStatus, never words (§7.12)
    column: str | None = None
    profile: str | None = None
    appointment_type: str | None = None
    facility: str | None = None
    patient_id: str | None = None
    modified: str | None = None
    fields: dict[str, str] = Field(default_factory=dict, repr=False)


class DateVisits(_Model):
    servertime: ServerTime | None = None
    visits: tuple[Visit, ...] = ()


class UpdatedVisits(_Model):
    """A change-feed answer; `overflow_ids` is set when AMD sent ids only (>1000 matches)."""

    servertime: ServerTime | None = None
    visits: tuple[Visit, ...] = ()
    overflow_ids: tuple[str, ...] = ()

    @property
    def overflowed(self) -> bool:
        return bool(self.overflow_ids)


class ChangeSet(_Model):
    """A fully read change window: every visit, plus the watermark to store next."""

    servertime: ServerTime | None
    visits: tuple[Visit, ...]
    calls: int


class RefIdMatch(_Model):
    reference_id: str
    visit_id: str | None = None


class SavedPatient(_Model):
    id: str
    chart: str | None = None


class SchedulerAppt(_Model):
    """A `getAppts` row (reply shape UNCERTAIN, §3.9)."""

    id: str
    date: str | None = None
    time: str | None = None
    column_id: str | None = None
    patient_id: str | None = None
    profile_id: str | None = None
    facility_id: str | None = None
    status: int | None = None


class Appointment(_Model):
    """A scheduler REST appointment. Only fields the sync uses; names mirror AMD's JSON."""

    id: str
    startdatetime: datetime | None = None
    duration: int | None = None
    status: int | None = None
    columnid: str | None = None
    profileid: str | None = None
    facilityid: str | None = None
    patientid: str | None = None
    episodeid: str | None = None
    appointmenttypeids: tuple[str, ...] = ()
    color: str | None = None
    referenceid: str | None = None
    arrivetime: datetime | None = None
    seentime: datetime | None = None
    # Set once the appointment is confirmed (status stays 0, so this is the only sign).
    confirmdate: datetime | None = None
    # `{"id", "name"}` of the cancel/no-show reason, null otherwise (PROTOCOL §3.16 sample).
    cancelnoshowreason: dict[str, Any] | None = None

    @property
    def reason_id(self) -> str | None:
        reason = self.cancelnoshowreason or {}
        return str(reason["id"]) if reason.get("id") not in (None, "") else None

    @field_validator("startdatetime", "arrivetime", "seentime", "confirmdate", mode="after")
    @classmethod
    def _unset_to_none(cls, value: datetime | None) -> datetime | None:
        return None if value is not None and value.year in _SENTINEL_YEARS else value

    @field_validator("appointmenttypeids", mode="before")
    @classmethod
    def _none_to_empty(cls, value: Any) -> Any:
        return () if value is None else value


class BookingRequest(_Model):
    """What `POST /scheduler/Appointments` needs (§3.16); times are practice-local wall time."""

    patient_id: int
    column_id: int
    profile_id: int
    start: datetime
    duration_minutes: int = Field(gt=0)
    type_ids: tuple[int, ...] = Field(min_length=1)
    facility_id: int | None = None
    episode_id: int | None = None
    color: str | None = None
    reference_id: str | None = None

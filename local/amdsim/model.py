"""The simulated practice's records. Text is stored upper-cased, as AdvancedMD does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

STATUS_MADE = 0
STATUS_ARRIVED = 1
STATUS_OTHER = 2
STATUS_SEEN = 3
STATUS_MOVED = 5
STATUS_CANCELLED = 10
STATUS_DELETED = 11
STATUS_NOSHOW = 12
VALID_STATUSES = {0, 1, 2, 3, 5, 10, 11, 12}
HIDDEN_FROM_REST_LIST = {STATUS_MOVED, STATUS_DELETED}

EV_CREATE = "create"
EV_CHANGE = "change"
EV_DELETE = "delete"
EV_CHARGE = "charge"


@dataclass
class Facility:
    id: int
    code: str
    name: str
    npi: str
    address1: str
    city: str
    state: str
    zipcode: str
    phone: str


@dataclass
class Profile:
    """A schedulable provider profile; `provider_id` is its provider master-file record."""

    id: int
    code: str
    name: str
    provider_id: int
    email: str = ""
    active: bool = True


@dataclass
class Column:
    id: int
    name: str
    profile_id: int
    facility_id: int
    start: str = "08:00"
    end: str = "17:00"
    interval: int = 15
    workweek: str = "0111110"  # Sunday..Saturday
    max_per_slot: int = 1


@dataclass
class Page:
    id: int
    name: str
    column_ids: list[int]


@dataclass
class ApptType:
    id: int
    name: str
    duration: int
    color: str
    billable: bool = True
    telemedicine: bool = False
    group: bool = False
    hide: bool = False


@dataclass
class Reason:
    id: int
    name: str
    kind: str  # "C" cancel, "N" no-show


@dataclass
class Patient:
    id: int
    name: str
    dob: date
    sex: str
    chart: str
    ssn: str = ""
    relationship: str = "1"
    hipaarelationship: str = "18"
    profile_id: int = 0
    respparty: str = "SELF"
    finclass: str = ""
    additionalmrn: str = ""
    address: dict[str, str] = field(default_factory=dict)
    contactinfo: dict[str, str] = field(default_factory=dict)
    created_at: datetime | None = None  # UTC
    changed_at: datetime | None = None  # UTC
    extra: dict[str, str] = field(default_factory=dict)
    events: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def last_first(self) -> tuple[str, str]:
        last, _, first = self.name.partition(",")
        return last.strip(), first.strip()


@dataclass
class Charge:
    proccode: str
    fee: str
    units: str
    posted_at: datetime


@dataclass
class Visit:
    """A visit. Scheduler appointments have `is_appt=True`; `addvisit` creates `False` ones.
    The appointment id is the visit id."""

    id: int
    patient_id: int
    profile_id: int
    start: datetime  # practice-local, naive
    duration: int
    column_id: int | None = None
    facility_id: int | None = None
    status: int = STATUS_MADE
    type_ids: list[int] = field(default_factory=list)
    color: str = ""
    comments: str = ""
    referenceid: str = ""
    episode_id: int = 1
    is_appt: bool = True
    arrive_time: datetime | None = None  # practice-local
    other_time: datetime | None = None
    seen_time: datetime | None = None
    confirm_method: str = ""
    confirmed_at: datetime | None = None
    reason_id: int | None = None
    charges: list[Charge] = field(default_factory=list)
    created_at: datetime | None = None  # UTC
    created_by: str = "DEMO"
    modified_at: datetime | None = None  # UTC
    modified_by: str = "DEMO"
    events: list[tuple[datetime, str]] = field(default_factory=list)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.duration)

    @property
    def active(self) -> bool:
        return self.status < STATUS_CANCELLED and self.status != STATUS_MOVED

    def record(self, instant: datetime, kind: str, who: str) -> None:
        self.events.append((instant, kind))
        self.modified_at = instant
        self.modified_by = who
        if kind == EV_CREATE:
            self.created_at = instant
            self.created_by = who


@dataclass
class Token:
    value: str
    office_key: str
    username: str
    appname: str
    issued_at: datetime
    expires_at: datetime
    revoked: bool = False
    # Ended early by AMD (admin "expire tokens"): a client cannot know before it is told, so
    # its one use is the protocol working, not a client violation.
    ended_early: bool = False

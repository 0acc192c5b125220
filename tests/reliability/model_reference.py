"""The reference model of the model-based test (test_model_based.py; model_harness drives the
product): a few dicts per appointment and patient, and SPEC §6's three-way rule written out
once more, independently of `amdsync.domain.conflicts`.

Per appointment it keeps what the EHR asked for last (`ehr`), what AMD holds (`amd`) and what
both sides last agreed on (`base`). The fields compared are start (a UTC instant), provider,
duration and status (as AMD can show it). Everything between two settles happens "at once"
from the model's point of view: the product only works (queue, pulls) inside a settle, so a
settle is one merge per appointment:

    only the EHR changed -> AMD gets it        only AMD changed -> the EHR gets it + feed entry
    both, to the same    -> agreed             both, differently -> the further status wins,
                                                                    else a conflict (each side
                                                                    keeps its own value)

An appointment in conflict waits for a person: the machine leaves it alone from then on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

FIELDS = ("start", "providerId", "durationMinutes", "status")
# Providers whose AMD columns are open Mon-Fri 08:00-17:00, one appointment per slot, all at the
# clinic the EHR's facility maps to (a column change in AMD changes no facility).
MODEL_PROVIDERS = ("DR-5", "DR-10", "DR-15")
ZONES = ("America/Denver", "America/New_York", "America/Los_Angeles")
CANCEL_REASON = "PATIENT_REQUEST"
NO_SHOW_REASON = "NO_SHOW"

Value = str | int | None

# AMD ApptStatus -> what the EHR reads (SPEC §5), and the code each EHR status becomes.
STATUS_OF_CODE = {0: "SCHEDULED", 1: "CHECKED_IN", 2: "CHECKED_IN", 3: "COMPLETED",
                  10: "CANCELLED", 11: "CANCELLED", 12: "NO_SHOW"}  # fmt: skip
CODE_OF_STATUS = {"SCHEDULED": 0, "CONFIRMED": 0, "CHECKED_IN": 1, "COMPLETED": 3,
                  "CANCELLED": 10, "NO_SHOW": 12}  # fmt: skip
# The visit path; CANCELLED and NO_SHOW are off it (neither passes nor is passed).
RANK = {"SCHEDULED": 0, "CONFIRMED": 1, "CHECKED_IN": 2, "COMPLETED": 3}
TERMINAL = frozenset({"CANCELLED", "NO_SHOW"})
PRE_VISIT = frozenset({"SCHEDULED", "CONFIRMED"})
# Status changes the EHR (or staff) asks for: all legal in SPEC §5's table.
EHR_NEXT = {
    "SCHEDULED": ("CONFIRMED", "CHECKED_IN", "COMPLETED", "NO_SHOW", "CANCELLED"),
    "CONFIRMED": ("CHECKED_IN", "COMPLETED", "NO_SHOW", "CANCELLED"),
    "CHECKED_IN": ("COMPLETED",),
}
# Front-desk status edits (AMD code -> codes a person may set next).
AMD_NEXT = {0: (1, 3, 10, 11, 12), 1: (2, 3), 2: (3,)}


def further_along(a: str, b: str) -> str | None:
    ra, rb = RANK.get(a), RANK.get(b)
    if ra is None or rb is None or ra == rb:
        return None
    return a if ra > rb else b


def decide(name: str, base: Value, ehr: Value, amd: Value) -> tuple[str, Value]:
    """SPEC §6, one field: (action, agreed value); the value is None for a conflict."""
    ehr_changed, amd_changed = ehr != base, amd != base
    if not ehr_changed and not amd_changed:
        return "none", base
    if not amd_changed:
        return "to_amd", ehr
    if not ehr_changed:
        return "to_ehr", amd
    if ehr == amd:
        return "agree", ehr
    if name == "status":
        winner = further_along(str(ehr), str(amd))
        if winner is not None:
            return ("to_amd" if winner == ehr else "to_ehr"), winner
    return "conflict", None


def instant(wall: str, zone: str) -> str:
    """UTC ISO instant of a naive wall time in `zone`."""
    local = datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).isoformat()


def wall(at: str, zone: str | ZoneInfo) -> str:
    """Naive wall time in `zone` of a UTC ISO instant."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    return datetime.fromisoformat(at).astimezone(tz).replace(tzinfo=None).isoformat()


@dataclass
class ApptModel:
    appointment_id: str
    patient: int
    zone: str
    version: int
    ehr: dict[str, Value]
    reason: str | None = None
    # The last request that carried `version` (resent verbatim by the "repeat" rule).
    last_request: tuple[str, dict[str, Any]] | None = None
    booked: bool = False
    dirty: bool = True  # a push job is on its way (an EHR request, or a pull found one)
    amd: dict[str, Value] = field(default_factory=dict)
    amd_code: int = 0
    base: dict[str, Value] = field(default_factory=dict)
    conflicts: dict[str, tuple[Value, Value]] = field(default_factory=dict)
    charged: bool = False

    @property
    def frozen(self) -> bool:
        """In conflict: a person decides; the machine changes nothing more on it."""
        return bool(self.conflicts)

    def pre_visit(self) -> bool:
        return self.ehr["status"] in PRE_VISIT


@dataclass
class PatientModel:
    patient_id: str
    version: int
    content: dict[str, str]


@dataclass(frozen=True)
class Expected:
    """What the product must have published since the last check: AMD-side changes
    (appointment id, field, value, the appointment's zone then) and appointments whose
    charges were posted."""

    feed: list[tuple[str, str, Value, str]]
    charges: list[str]


@dataclass
class Model:
    """The three sync points: a drain (the worker pushes every appointment with a job: a full
    merge), a pull (a merge that leaves EHR-side changes for their push), a settle (both,
    until quiet: every appointment fully merged)."""

    appts: dict[str, ApptModel] = field(default_factory=dict)
    patients: list[PatientModel] = field(default_factory=list)
    feed: list[tuple[str, str, Value, str]] = field(default_factory=list)
    new_charges: list[str] = field(default_factory=list)

    def drain(self) -> None:
        for appt in self.appts.values():
            if appt.dirty:
                self._merge(appt, pushing=True)

    def pull(self) -> None:
        for appt in self.appts.values():
            if appt.booked:
                self._merge(appt, pushing=False)

    def settle(self) -> Expected:
        for appt in self.appts.values():
            self._merge(appt, pushing=True)
        expected = Expected(self.feed, self.new_charges)
        self.feed, self.new_charges = [], []
        return expected

    def _merge(self, appt: ApptModel, *, pushing: bool) -> None:
        if pushing:
            appt.dirty = False
        if not appt.booked:
            if not pushing or appt.ehr["status"] in TERMINAL:
                return  # (cancelled before it reached AMD: never booked)
            appt.booked = True
            appt.amd, appt.base = dict(appt.ehr), dict(appt.ehr)
            appt.amd_code = CODE_OF_STATUS[str(appt.ehr["status"])]
            return
        for name in FIELDS:
            if name in appt.conflicts:
                continue  # each side keeps its value until a person decides
            action, value = decide(name, appt.base[name], appt.ehr[name], appt.amd[name])
            if action == "conflict":
                appt.conflicts[name] = (appt.ehr[name], appt.amd[name])
                continue
            if action == "to_amd" and not pushing:
                appt.dirty = True  # the pull queues the push that carries it
                continue
            if action == "to_ehr":
                self.feed.append((appt.appointment_id, name, value, appt.zone))
            if name == "status" and value != appt.amd[name]:
                appt.amd_code = CODE_OF_STATUS[str(value)]
            appt.ehr[name] = appt.amd[name] = appt.base[name] = value

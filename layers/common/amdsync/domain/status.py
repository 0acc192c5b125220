"""EHR status vocabulary, AdvancedMD `ApptStatus` codes, and the mapping between them (SPEC §5).

Every lookup is an explicit table; a value missing from a table raises `UnknownStatusError`
instead of falling back to a default, because a silently defaulted status would be written to
the other side as if it were true.

Mapping, EHR -> AMD (target code = the code AMD shows once the action has succeeded):

    SCHEDULED    BOOK      0 Made
    CONFIRMED    CONFIRM   0 Made (plus a confirmation, which has no code of its own)
    CHECKED_IN   CHECKIN   1 Arrived
    CHECKED_OUT  CHECKOUT  3 Seen
    COMPLETED    CHECKOUT  3 Seen
    NO_SHOW      NOSHOW    12 No Show
    CANCELLED    CANCEL    10 Cancelled
    RESCHEDULED  MOVE      0 Made (a move keeps the record and its status, PROTOCOL §3.16)

AMD -> EHR: 0 -> SCHEDULED (CONFIRMED when confirmed), 1 and 2 -> CHECKED_IN, 3 -> COMPLETED,
5 -> RESCHEDULED, 10 and 11 -> CANCELLED, 12 -> NO_SHOW. Codes 4 and 6-9 are undefined.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Final

from amdsync.domain.errors import UnknownStatusError


class EhrStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    CONFIRMED = "CONFIRMED"
    CHECKED_IN = "CHECKED_IN"
    CHECKED_OUT = "CHECKED_OUT"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"
    CANCELLED = "CANCELLED"
    RESCHEDULED = "RESCHEDULED"


class ApptStatus(IntEnum):
    """AdvancedMD hard-coded appointment status values (PROTOCOL §4.1)."""

    MADE = 0
    ARRIVED = 1
    OTHER = 2
    SEEN = 3
    MOVED = 5
    CANCELLED = 10
    DELETED = 11
    NO_SHOW = 12


class AmdAction(StrEnum):
    """The AdvancedMD operation that makes AMD reflect an EHR status."""

    BOOK = "BOOK"  # POST /scheduler/Appointments
    CONFIRM = "CONFIRM"  # XMLRPC scheduler update, mode confirm
    CHECKIN = "CHECKIN"  # PUT .../{id}/checkin
    CHECKOUT = "CHECKOUT"  # PUT .../{id}/checkout
    NOSHOW = "NOSHOW"  # PUT .../{id}/noshow
    CANCEL = "CANCEL"  # PUT .../{id}/cancel
    MOVE = "MOVE"  # PUT .../{id}/move


_FROM_AMD: Final[dict[ApptStatus, EhrStatus]] = {
    ApptStatus.MADE: EhrStatus.SCHEDULED,
    ApptStatus.ARRIVED: EhrStatus.CHECKED_IN,
    # "Other" is an in-clinic stage (e.g. roomed): the patient is still checked in.
    ApptStatus.OTHER: EhrStatus.CHECKED_IN,
    ApptStatus.SEEN: EhrStatus.COMPLETED,
    ApptStatus.MOVED: EhrStatus.RESCHEDULED,
    ApptStatus.CANCELLED: EhrStatus.CANCELLED,
    # AMD soft-deletes; we never hard-delete our records, so a deletion reads as a cancellation.
    ApptStatus.DELETED: EhrStatus.CANCELLED,
    ApptStatus.NO_SHOW: EhrStatus.NO_SHOW,
}

_ACTION: Final[dict[EhrStatus, AmdAction]] = {
    EhrStatus.SCHEDULED: AmdAction.BOOK,
    EhrStatus.CONFIRMED: AmdAction.CONFIRM,
    EhrStatus.CHECKED_IN: AmdAction.CHECKIN,
    EhrStatus.CHECKED_OUT: AmdAction.CHECKOUT,
    EhrStatus.COMPLETED: AmdAction.CHECKOUT,
    EhrStatus.NO_SHOW: AmdAction.NOSHOW,
    EhrStatus.CANCELLED: AmdAction.CANCEL,
    EhrStatus.RESCHEDULED: AmdAction.MOVE,
}

_TARGET_CODE: Final[dict[EhrStatus, ApptStatus]] = {
    EhrStatus.SCHEDULED: ApptStatus.MADE,
    EhrStatus.CONFIRMED: ApptStatus.MADE,
    EhrStatus.CHECKED_IN: ApptStatus.ARRIVED,
    EhrStatus.CHECKED_OUT: ApptStatus.SEEN,
    EhrStatus.COMPLETED: ApptStatus.SEEN,
    EhrStatus.NO_SHOW: ApptStatus.NO_SHOW,
    EhrStatus.CANCELLED: ApptStatus.CANCELLED,
    EhrStatus.RESCHEDULED: ApptStatus.MADE,
}

# Several EHR statuses share one AMD state; reading that state back yields this one.
_CANONICAL: Final[dict[EhrStatus, EhrStatus]] = {
    EhrStatus.CHECKED_OUT: EhrStatus.COMPLETED,
    EhrStatus.RESCHEDULED: EhrStatus.SCHEDULED,
}

# How far along the visit is. Statuses of equal rank are the same stage; CANCELLED and NO_SHOW
# are off the path (terminal), so they never "progress past" anything and nothing passes them.
_RANK: Final[dict[EhrStatus, int]] = {
    EhrStatus.SCHEDULED: 0,
    EhrStatus.RESCHEDULED: 0,
    EhrStatus.CONFIRMED: 1,
    EhrStatus.CHECKED_IN: 2,
    EhrStatus.CHECKED_OUT: 3,
    EhrStatus.COMPLETED: 3,
}

TERMINAL_STATUSES: Final[frozenset[EhrStatus]] = frozenset({EhrStatus.CANCELLED, EhrStatus.NO_SHOW})


def parse_ehr_status(value: EhrStatus | str) -> EhrStatus:
    """Exact, case-sensitive parse of the EHR vocabulary (the API contract is upper-case)."""
    try:
        return EhrStatus(value)
    except ValueError:
        raise UnknownStatusError(value, vocabulary="EHR") from None


def parse_appt_status(code: int | str) -> ApptStatus:
    """AMD sends status as a number or, in XMLRPC JSON, as a numeric string ("10")."""
    if isinstance(code, bool):  # bool is an int subclass; True must not read as Arrived
        raise UnknownStatusError(code, vocabulary="AMD")
    number: int
    if isinstance(code, str):
        text = code.strip()
        if not text.isascii() or not text.isdigit():
            raise UnknownStatusError(code, vocabulary="AMD")
        number = int(text)
    else:
        number = code
    try:
        return ApptStatus(number)
    except ValueError:
        raise UnknownStatusError(code, vocabulary="AMD") from None


def ehr_status_from_amd(code: int | str, confirmed: bool = False) -> EhrStatus:
    """The EHR status an AMD `ApptStatus` means. `confirmed` only refines code 0."""
    amd = parse_appt_status(code)
    if amd is ApptStatus.MADE and confirmed:
        return EhrStatus.CONFIRMED
    return _FROM_AMD[amd]


def amd_action_for(ehr_status: EhrStatus | str) -> AmdAction:
    """The AMD operation that brings AMD to `ehr_status`."""
    return _ACTION[parse_ehr_status(ehr_status)]


def amd_code_for(ehr_status: EhrStatus | str) -> ApptStatus:
    """The `ApptStatus` AMD shows once `ehr_status` has been applied there."""
    return _TARGET_CODE[parse_ehr_status(ehr_status)]


def canonical_status(ehr_status: EhrStatus | str) -> EhrStatus:
    """The status that reading AMD back would report for `ehr_status`.

    Two EHR statuses that canonicalize equally are indistinguishable in AMD, so a difference
    between them is not a change to push nor a conflict.
    """
    status = parse_ehr_status(ehr_status)
    return _CANONICAL.get(status, status)


def is_terminal(ehr_status: EhrStatus | str) -> bool:
    return parse_ehr_status(ehr_status) in TERMINAL_STATUSES


def progression_rank(ehr_status: EhrStatus | str) -> int | None:
    """Position on the visit path SCHEDULED < CONFIRMED < CHECKED_IN < CHECKED_OUT = COMPLETED.

    None for the terminal statuses, which are not on that path.
    """
    return _RANK.get(parse_ehr_status(ehr_status))


def is_progression_of(later: EhrStatus | str, earlier: EhrStatus | str) -> bool:
    """True when `later` is strictly further along the visit path than `earlier`."""
    later_rank = progression_rank(later)
    earlier_rank = progression_rank(earlier)
    if later_rank is None or earlier_rank is None:
        return False
    return later_rank > earlier_rank


def further_along(a: EhrStatus | str, b: EhrStatus | str) -> EhrStatus | None:
    """The one of two differing statuses that is a progression of the other, else None.

    This is the conflict rule "AMD Seen beats EHR CHECKED_IN": when both sides changed status
    and one merely moved further along the path, that one wins; otherwise (e.g. CANCELLED vs
    CHECKED_IN) the decision belongs to the conflict policy, so None is returned.
    """
    first, second = parse_ehr_status(a), parse_ehr_status(b)
    if is_progression_of(first, second):
        return first
    if is_progression_of(second, first):
        return second
    return None


# AMD's own labels for its codes (PROTOCOL §4.1, "Hard-Coded Values"): what people read.
AMD_STATUS_LABELS: Final[dict[ApptStatus, str]] = {
    ApptStatus.MADE: "Made",
    ApptStatus.ARRIVED: "Arrived",
    ApptStatus.OTHER: "Other (in clinic)",
    ApptStatus.SEEN: "Seen",
    ApptStatus.MOVED: "Moved",
    ApptStatus.CANCELLED: "Cancelled",
    ApptStatus.DELETED: "Deleted",
    ApptStatus.NO_SHOW: "No show",
}


def amd_status_label(code: int | str | None) -> str:
    """AMD's word for a status code; an unknown code is named as such, never guessed."""
    if code is None or code == "":
        return ""
    try:
        return AMD_STATUS_LABELS[parse_appt_status(code)]
    except UnknownStatusError:
        return f"unknown status {code}"

"""Legal EHR status transitions, checked before any AMD call (SPEC §5: illegal -> 409).

Rows are the current status, columns the requested one. `=` is a repeat (a no-op, never an
error, so redelivered requests stay harmless), `Y` is legal, `.` is illegal.

    current \\ target  SCHED CONF  IN   OUT  COMPL NOSH CANC RESCH
    SCHEDULED          =    Y     Y    Y    Y     Y    Y    Y
    CONFIRMED          .    =     Y    Y    Y     Y    Y    Y
    CHECKED_IN         .    .     =    Y    Y     .    .    .
    CHECKED_OUT        .    .     .    =    Y     .    .    .
    COMPLETED          .    .     .    Y    =     .    .    .
    NO_SHOW            .    .     .    .    .     =    .    .
    CANCELLED          .    .     .    .    .     .    =    .
    RESCHEDULED        Y    Y     Y    Y    Y     Y    Y    =

Why these cells:
- Before the visit (SCHEDULED, CONFIRMED, RESCHEDULED) anything may happen next; check-out
  without check-in is allowed because AMD's checkout accepts a Made appointment.
- CONFIRMED -> SCHEDULED is illegal: AMD has no "unconfirm" action to mirror it.
- Once the patient arrived, the appointment can no longer be a no-show, be cancelled or be
  moved; it can only be finished.
- CHECKED_OUT and COMPLETED are the same AMD state (Seen), so either may follow the other.
- NO_SHOW and CANCELLED are terminal: e.g. checking out a cancelled appointment or cancelling
  a completed one is rejected. A new booking is a new EHR appointment.
- RESCHEDULED -> RESCHEDULED is a no-op for the status; the new time is a field change that
  the sync handles separately.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from amdsync.domain.errors import IllegalTransitionError
from amdsync.domain.status import EhrStatus, parse_ehr_status

_S = EhrStatus

_BEFORE_VISIT_TARGETS: Final[frozenset[EhrStatus]] = frozenset(
    {
        _S.CONFIRMED,
        _S.CHECKED_IN,
        _S.CHECKED_OUT,
        _S.COMPLETED,
        _S.NO_SHOW,
        _S.CANCELLED,
        _S.RESCHEDULED,
    }
)

# Targets reachable from each status, repeats excluded (they are handled as no-ops).
LEGAL_TRANSITIONS: Final[dict[EhrStatus, frozenset[EhrStatus]]] = {
    _S.SCHEDULED: _BEFORE_VISIT_TARGETS,
    _S.CONFIRMED: _BEFORE_VISIT_TARGETS - {_S.CONFIRMED},
    _S.RESCHEDULED: (_BEFORE_VISIT_TARGETS | {_S.SCHEDULED}) - {_S.RESCHEDULED},
    _S.CHECKED_IN: frozenset({_S.CHECKED_OUT, _S.COMPLETED}),
    _S.CHECKED_OUT: frozenset({_S.COMPLETED}),
    _S.COMPLETED: frozenset({_S.CHECKED_OUT}),
    _S.NO_SHOW: frozenset(),
    _S.CANCELLED: frozenset(),
}


class TransitionOutcome(StrEnum):
    NO_OP = "NO_OP"  # already in the requested status
    APPLY = "APPLY"  # legal change: carry it out


def is_legal_transition(current: EhrStatus | str, target: EhrStatus | str) -> bool:
    """True for repeats and for legal changes; unknown statuses raise UnknownStatusError."""
    before, after = parse_ehr_status(current), parse_ehr_status(target)
    return before is after or after in LEGAL_TRANSITIONS[before]


def check_transition(current: EhrStatus | str, target: EhrStatus | str) -> TransitionOutcome:
    """Validate a status change; raise IllegalTransitionError when the table forbids it."""
    before, after = parse_ehr_status(current), parse_ehr_status(target)
    if before is after:
        return TransitionOutcome.NO_OP
    if after not in LEGAL_TRANSITIONS[before]:
        raise IllegalTransitionError(before.value, after.value)
    return TransitionOutcome.APPLY

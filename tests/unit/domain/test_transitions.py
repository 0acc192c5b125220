"""Legal EHR status transitions (SPEC §5: illegal ones are rejected before any AMD call)."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amdsync.domain import transitions
from amdsync.domain.errors import IllegalTransitionError, SyncErrorCode, UnknownStatusError
from amdsync.domain.status import TERMINAL_STATUSES, EhrStatus, progression_rank
from amdsync.domain.transitions import (
    LEGAL_TRANSITIONS,
    TransitionOutcome,
    check_transition,
    is_legal_transition,
)

S = EhrStatus


def _documented_table() -> dict[tuple[EhrStatus, EhrStatus], str]:
    """The matrix from the module docstring, so the documentation cannot drift from the code."""
    doc = transitions.__doc__ or ""
    header = next(line for line in doc.splitlines() if "current" in line and "target" in line)
    rows = doc.splitlines()[doc.splitlines().index(header) + 1 :][: len(EhrStatus)]
    targets = list(EhrStatus)  # the columns are written in enum order
    table = {}
    for row in rows:
        name, *cells = row.split()
        assert len(cells) == len(targets), row
        for target, cell in zip(targets, cells, strict=True):
            table[(S[name], target)] = cell
    return table


def test_docstring_table_matches_code_for_every_pair():
    table = _documented_table()
    assert len(table) == len(EhrStatus) ** 2
    for (current, target), cell in table.items():
        assert cell in {"=", "Y", "."}
        assert (cell == "=") == (current is target)
        assert is_legal_transition(current, target) == (cell != "."), (current, target)


@given(st.sampled_from(EhrStatus))
def test_repeating_the_current_status_is_a_no_op(status):
    assert check_transition(status, status) is TransitionOutcome.NO_OP


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CANCELLED, S.CHECKED_OUT),
        (S.CANCELLED, S.COMPLETED),
        (S.COMPLETED, S.CANCELLED),
        (S.CHECKED_OUT, S.NO_SHOW),
        (S.CHECKED_IN, S.NO_SHOW),
        (S.NO_SHOW, S.CHECKED_IN),
        (S.CONFIRMED, S.SCHEDULED),
        (S.COMPLETED, S.SCHEDULED),
    ],
)
def test_illegal_transitions_raise_with_stable_code(current, target):
    with pytest.raises(IllegalTransitionError) as info:
        check_transition(current, target)
    assert info.value.code is SyncErrorCode.ILLEGAL_TRANSITION
    assert current.value in str(info.value)
    assert target.value in str(info.value)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.SCHEDULED, S.CONFIRMED),
        (S.SCHEDULED, S.CHECKED_IN),
        (S.CONFIRMED, S.CANCELLED),
        (S.CHECKED_IN, S.CHECKED_OUT),
        (S.CHECKED_OUT, S.COMPLETED),
        (S.RESCHEDULED, S.CHECKED_IN),
        (S.SCHEDULED, S.RESCHEDULED),
    ],
)
def test_legal_transitions_apply(current, target):
    assert check_transition(current, target) is TransitionOutcome.APPLY
    assert check_transition(current.value, target.value) is TransitionOutcome.APPLY


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_terminal_statuses_have_no_way_out(terminal):
    assert LEGAL_TRANSITIONS[terminal] == frozenset()
    for target in EhrStatus:
        if target is not terminal:
            assert not is_legal_transition(terminal, target)


def test_every_status_has_a_row():
    assert set(LEGAL_TRANSITIONS) == set(EhrStatus)


def test_legal_changes_never_move_backwards_on_the_visit_path():
    # RESCHEDULED restarts the visit at a new time, so it is the one deliberate exception.
    for current, target in itertools.product(EhrStatus, repeat=2):
        if S.RESCHEDULED in (current, target) or not is_legal_transition(current, target):
            continue
        before, after = progression_rank(current), progression_rank(target)
        if before is not None and after is not None:
            assert after >= before, (current, target)


def test_unknown_status_in_a_transition_is_not_an_illegal_transition():
    with pytest.raises(UnknownStatusError):
        check_transition("SCHEDULED", "ARRIVED")

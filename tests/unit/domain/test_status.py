"""SPEC §5 status mapping: tables, round-trips and the refusal to guess."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amdsync.domain.errors import SyncErrorCode, UnknownStatusError
from amdsync.domain.status import (
    TERMINAL_STATUSES,
    AmdAction,
    ApptStatus,
    EhrStatus,
    amd_action_for,
    amd_code_for,
    canonical_status,
    ehr_status_from_amd,
    further_along,
    is_progression_of,
    is_terminal,
    progression_rank,
)

KNOWN_CODES = {int(code) for code in ApptStatus}


@given(st.sampled_from(EhrStatus))
def test_every_ehr_status_round_trips_through_amd_to_its_canonical_status(status):
    code = amd_code_for(status)
    back = ehr_status_from_amd(code, confirmed=status is EhrStatus.CONFIRMED)
    assert back is canonical_status(status)


@given(st.sampled_from(ApptStatus), st.booleans(), st.booleans())
def test_every_amd_code_maps_to_an_ehr_status_as_int_or_string(code, confirmed, as_text):
    raw = str(int(code)) if as_text else int(code)
    status = ehr_status_from_amd(raw, confirmed=confirmed)
    assert isinstance(status, EhrStatus)
    # Canonical statuses are fixed points: AMD reads back what it was told.
    assert canonical_status(status) is status or status is EhrStatus.RESCHEDULED


@given(st.integers().filter(lambda n: n not in KNOWN_CODES))
def test_unknown_amd_integers_raise_instead_of_defaulting(code):
    with pytest.raises(UnknownStatusError) as info:
        ehr_status_from_amd(code)
    assert info.value.code is SyncErrorCode.UNKNOWN_STATUS


@given(st.text().filter(lambda t: not (t.strip().isascii() and t.strip().isdigit())))
def test_non_numeric_amd_text_raises(text):
    with pytest.raises(UnknownStatusError):
        ehr_status_from_amd(text)


@pytest.mark.parametrize("value", [True, False, "4", "6", "9", "-1", "+1", "1.0", "\u0661", "Made"])
def test_odd_amd_values_are_unknown(value):
    with pytest.raises(UnknownStatusError):
        ehr_status_from_amd(value)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (0, EhrStatus.SCHEDULED),
        (1, EhrStatus.CHECKED_IN),
        (2, EhrStatus.CHECKED_IN),
        (3, EhrStatus.COMPLETED),
        (5, EhrStatus.RESCHEDULED),
        (10, EhrStatus.CANCELLED),
        (11, EhrStatus.CANCELLED),
        (12, EhrStatus.NO_SHOW),
        (" 10 ", EhrStatus.CANCELLED),
    ],
)
def test_amd_to_ehr_table_matches_spec(code, expected):
    assert ehr_status_from_amd(code) is expected


@given(st.sampled_from(sorted(KNOWN_CODES - {0})))
def test_confirmation_only_refines_made(code):
    assert ehr_status_from_amd(code, confirmed=True) is ehr_status_from_amd(code)


def test_made_with_confirmation_is_confirmed():
    assert ehr_status_from_amd(0, confirmed=True) is EhrStatus.CONFIRMED
    assert ehr_status_from_amd("0", confirmed=False) is EhrStatus.SCHEDULED


@pytest.mark.parametrize(
    ("status", "action", "code"),
    [
        (EhrStatus.SCHEDULED, AmdAction.BOOK, ApptStatus.MADE),
        (EhrStatus.CONFIRMED, AmdAction.CONFIRM, ApptStatus.MADE),
        (EhrStatus.CHECKED_IN, AmdAction.CHECKIN, ApptStatus.ARRIVED),
        (EhrStatus.CHECKED_OUT, AmdAction.CHECKOUT, ApptStatus.SEEN),
        (EhrStatus.COMPLETED, AmdAction.CHECKOUT, ApptStatus.SEEN),
        (EhrStatus.NO_SHOW, AmdAction.NOSHOW, ApptStatus.NO_SHOW),
        (EhrStatus.CANCELLED, AmdAction.CANCEL, ApptStatus.CANCELLED),
        (EhrStatus.RESCHEDULED, AmdAction.MOVE, ApptStatus.MADE),
    ],
)
def test_ehr_to_amd_action_and_target_code(status, action, code):
    assert amd_action_for(status) is action
    assert amd_action_for(status.value) is action
    assert amd_code_for(status) is code


@pytest.mark.parametrize("value", ["scheduled", "CANCELED", "", " SCHEDULED", "DELETED", 0])
def test_unknown_ehr_status_raises(value):
    with pytest.raises(UnknownStatusError) as info:
        amd_action_for(value)
    assert info.value.code is SyncErrorCode.UNKNOWN_STATUS
    with pytest.raises(UnknownStatusError):
        amd_code_for(value)


def test_unknown_status_error_is_a_value_error_for_pydantic_validators():
    assert issubclass(UnknownStatusError, ValueError)


def test_progression_order():
    order = [
        EhrStatus.SCHEDULED,
        EhrStatus.CONFIRMED,
        EhrStatus.CHECKED_IN,
        EhrStatus.COMPLETED,
    ]
    ranks = [progression_rank(s) for s in order]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)
    assert progression_rank(EhrStatus.CHECKED_OUT) == progression_rank(EhrStatus.COMPLETED)
    for terminal in TERMINAL_STATUSES:
        assert progression_rank(terminal) is None
        assert is_terminal(terminal)


def test_amd_seen_beats_ehr_checked_in():
    seen_in_ehr_terms = ehr_status_from_amd(ApptStatus.SEEN)
    assert further_along(EhrStatus.CHECKED_IN, seen_in_ehr_terms) is EhrStatus.COMPLETED
    assert further_along(seen_in_ehr_terms, EhrStatus.CHECKED_IN) is EhrStatus.COMPLETED


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (EhrStatus.CANCELLED, EhrStatus.CHECKED_IN),
        (EhrStatus.NO_SHOW, EhrStatus.SCHEDULED),
        (EhrStatus.CHECKED_OUT, EhrStatus.COMPLETED),
        (EhrStatus.SCHEDULED, EhrStatus.RESCHEDULED),
        (EhrStatus.CANCELLED, EhrStatus.NO_SHOW),
    ],
)
def test_incomparable_statuses_have_no_winner(a, b):
    assert further_along(a, b) is None
    assert further_along(b, a) is None


@given(st.sampled_from(EhrStatus), st.sampled_from(EhrStatus))
def test_progression_is_a_strict_order(a, b):
    assert not (is_progression_of(a, b) and is_progression_of(b, a))
    assert not is_progression_of(a, a)
    winner = further_along(a, b)
    assert winner in (a, b, None)
    if winner is not None:
        assert not is_terminal(a)
        assert not is_terminal(b)

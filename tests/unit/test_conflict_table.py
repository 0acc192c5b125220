"""Exhaustive tests of the three-way decision table in amdsync.domain.conflicts."""

import itertools

import pytest

from amdsync.domain.conflicts import FieldAction, decide_field, plan_merge

POLICIES = ("manual", "ehr_wins", "amd_wins")

# For a plain field: base "b"; each side either unchanged ("b"), or changed to "x" or "y".
SIDES = ("b", "x", "y")


def expected_plain(ehr: str, amd: str, policy: str) -> FieldAction:
    if ehr == "b" and amd == "b":
        return FieldAction.NOOP
    if amd == "b":
        return FieldAction.TO_AMD
    if ehr == "b":
        return FieldAction.TO_EHR
    if ehr == amd:
        return FieldAction.AGREE
    return {
        "manual": FieldAction.CONFLICT,
        "ehr_wins": FieldAction.TO_AMD,
        "amd_wins": FieldAction.TO_EHR,
    }[policy]


@pytest.mark.parametrize(("ehr", "amd", "policy"), list(itertools.product(SIDES, SIDES, POLICIES)))
def test_plain_field_every_combination(ehr: str, amd: str, policy: str) -> None:
    decision = decide_field("start", "b", ehr, amd, policy)  # type: ignore[arg-type]
    assert decision.action is expected_plain(ehr, amd, policy)
    if decision.action is FieldAction.CONFLICT:
        assert decision.result is None
        assert (decision.ehr, decision.amd) == (ehr, amd)
    elif decision.action in (FieldAction.TO_AMD, FieldAction.AGREE):
        assert decision.result == ehr
    elif decision.action is FieldAction.TO_EHR:
        assert decision.result == amd
    else:
        assert decision.result == "b"


@pytest.mark.parametrize("policy", POLICIES)
def test_status_progression_beats_policy(policy: str) -> None:
    # AMD "Seen" beats EHR CHECKED_IN whatever the policy: it is further along the visit.
    decision = decide_field("status", "SCHEDULED", "CHECKED_IN", "COMPLETED", policy)  # type: ignore[arg-type]
    assert decision.action is FieldAction.TO_EHR
    assert decision.result == "COMPLETED"
    decision = decide_field("status", "SCHEDULED", "COMPLETED", "CHECKED_IN", policy)  # type: ignore[arg-type]
    assert decision.action is FieldAction.TO_AMD
    assert decision.result == "COMPLETED"


@pytest.mark.parametrize(
    ("policy", "action"),
    [
        ("manual", FieldAction.CONFLICT),
        ("ehr_wins", FieldAction.TO_AMD),
        ("amd_wins", FieldAction.TO_EHR),
    ],
)
def test_status_off_the_path_falls_back_to_policy(policy: str, action: FieldAction) -> None:
    decision = decide_field("status", "SCHEDULED", "CANCELLED", "CHECKED_IN", policy)  # type: ignore[arg-type]
    assert decision.action is action


def test_statuses_amd_cannot_tell_apart_are_not_changes() -> None:
    decision = decide_field("status", "COMPLETED", "CHECKED_OUT", "COMPLETED")
    assert decision.action is FieldAction.NOOP


def test_edits_of_different_fields_merge_without_conflict() -> None:
    base = {"start": "2026-12-01T10:00:00", "providerId": "DR-7", "status": "SCHEDULED"}
    ehr = {**base, "start": "2026-12-01T11:00:00"}
    amd = {**base, "providerId": "DR-8"}
    plan = plan_merge(base, ehr, amd)
    assert not plan.has_conflict
    assert plan.to_amd == {"start": "2026-12-01T11:00:00"}
    assert plan.to_ehr == {"providerId": "DR-8"}
    assert plan.new_base(base) == {**base, "start": "2026-12-01T11:00:00", "providerId": "DR-8"}


def test_conflicted_field_keeps_its_old_base() -> None:
    base = {"start": "2026-12-01T10:00:00", "durationMinutes": 50}
    ehr = {"start": "2026-12-01T11:00:00", "durationMinutes": 60}
    amd = {"start": "2026-12-01T12:00:00", "durationMinutes": 50}
    plan = plan_merge(base, ehr, amd)
    assert plan.conflicts == {"start": ("2026-12-01T11:00:00", "2026-12-01T12:00:00")}
    assert plan.to_amd == {"durationMinutes": 60}
    assert plan.new_base(base)["start"] == "2026-12-01T10:00:00"

"""Three-way, per-field reconciliation of EHR and AMD against their last agreed state.

The decision table (base = last agreed value, E = EHR's value, A = AMD's value):

    E == base, A == base           NOOP           nothing changed
    E != base, A == base           TO_AMD         only the EHR changed: push E
    E == base, A != base           TO_EHR         only AMD changed: publish A to the EHR
    E != base, A != base, E == A   AGREE          both made the same change: record it
    E != base, A != base, E != A   (both changed differently)
        status, one a progression of the other   the further one wins (AMD Seen > EHR CHECKED_IN)
        policy ehr_wins                          TO_AMD
        policy amd_wins                          TO_EHR
        policy manual                            CONFLICT: a person decides

Statuses are compared canonically (CHECKED_OUT and COMPLETED are one AMD state), so a
difference AMD cannot represent is neither pushed nor reported. Every field is decided on its
own, so edits of different fields merge without conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from amdsync.domain.appointments import SnapshotValue
from amdsync.domain.settings import ConflictPolicy
from amdsync.domain.status import canonical_status, further_along


class FieldAction(StrEnum):
    NOOP = "NOOP"
    TO_AMD = "TO_AMD"
    TO_EHR = "TO_EHR"
    AGREE = "AGREE"
    CONFLICT = "CONFLICT"


STATUS_FIELD: Final = "status"


@dataclass(frozen=True)
class FieldDecision:
    field: str
    action: FieldAction
    ehr: SnapshotValue
    amd: SnapshotValue
    # The value both sides should hold afterwards (None for CONFLICT: undecided).
    result: SnapshotValue


@dataclass(frozen=True)
class MergePlan:
    decisions: tuple[FieldDecision, ...]
    to_amd: dict[str, SnapshotValue] = field(default_factory=dict)
    to_ehr: dict[str, SnapshotValue] = field(default_factory=dict)
    conflicts: dict[str, tuple[SnapshotValue, SnapshotValue]] = field(default_factory=dict)

    @property
    def has_conflict(self) -> bool:
        return bool(self.conflicts)

    def new_base(self, old_base: dict[str, SnapshotValue]) -> dict[str, SnapshotValue]:
        """The agreed snapshot once the plan is applied; conflicted fields keep their old base."""
        base = dict(old_base)
        for decision in self.decisions:
            if decision.action is not FieldAction.CONFLICT:
                base[decision.field] = decision.result
        return base


def _same(name: str, left: SnapshotValue, right: SnapshotValue) -> bool:
    if name == STATUS_FIELD and isinstance(left, str) and isinstance(right, str):
        return canonical_status(left) == canonical_status(right)
    return left == right


def _both_changed(
    name: str, ehr: SnapshotValue, amd: SnapshotValue, policy: ConflictPolicy
) -> FieldDecision:
    if name == STATUS_FIELD and isinstance(ehr, str) and isinstance(amd, str):
        winner = further_along(ehr, amd)
        if winner is not None:
            side = FieldAction.TO_AMD if _same(name, winner, ehr) else FieldAction.TO_EHR
            return FieldDecision(name, side, ehr, amd, ehr if side is FieldAction.TO_AMD else amd)
    if policy == "ehr_wins":
        return FieldDecision(name, FieldAction.TO_AMD, ehr, amd, ehr)
    if policy == "amd_wins":
        return FieldDecision(name, FieldAction.TO_EHR, ehr, amd, amd)
    return FieldDecision(name, FieldAction.CONFLICT, ehr, amd, None)


def decide_field(
    name: str,
    base: SnapshotValue,
    ehr: SnapshotValue,
    amd: SnapshotValue,
    policy: ConflictPolicy = "manual",
) -> FieldDecision:
    """One row of the decision table in this module's docstring."""
    ehr_changed = not _same(name, ehr, base)
    amd_changed = not _same(name, amd, base)
    if not ehr_changed and not amd_changed:
        return FieldDecision(name, FieldAction.NOOP, ehr, amd, base)
    if ehr_changed and not amd_changed:
        return FieldDecision(name, FieldAction.TO_AMD, ehr, amd, ehr)
    if amd_changed and not ehr_changed:
        return FieldDecision(name, FieldAction.TO_EHR, ehr, amd, amd)
    if _same(name, ehr, amd):
        return FieldDecision(name, FieldAction.AGREE, ehr, amd, ehr)
    return _both_changed(name, ehr, amd, policy)


def plan_merge(
    base: dict[str, SnapshotValue],
    ehr: dict[str, SnapshotValue],
    amd: dict[str, SnapshotValue],
    policy: ConflictPolicy = "manual",
) -> MergePlan:
    """Decide every field AMD reports. Fields AMD does not carry are left to the EHR."""
    decisions = tuple(
        decide_field(name, base.get(name), ehr.get(name), amd[name], policy) for name in amd
    )
    plan = MergePlan(decisions)
    for decision in decisions:
        if decision.action is FieldAction.TO_AMD:
            plan.to_amd[decision.field] = decision.result
        elif decision.action is FieldAction.TO_EHR:
            plan.to_ehr[decision.field] = decision.result
        elif decision.action is FieldAction.CONFLICT:
            plan.conflicts[decision.field] = (decision.ehr, decision.amd)
    return plan

"""Apply a three-way merge between our record and AMD's state (shared by push and pull).

`TO_EHR` values become the record's desired values (we speak for AMD until the EHR catches up
through the change feed), conflicts become conflict records, and the new base snapshot keeps
the old agreed value for conflicted fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from amdsync.domain.appointments import AppointmentSyncRecord, SnapshotValue
from amdsync.domain.conflicts import MergePlan, plan_merge
from amdsync.domain.feed import ChangeFeedEntry, ChangeKind
from amdsync.domain.review import ConflictingField, ConflictRecord
from amdsync.domain.settings import Settings
from amdsync.sync.amd_view import base_in_zone
from amdsync.sync.context import SyncContext

_KIND_OF_FIELD: dict[str, ChangeKind] = {
    "status": "status",
    "start": "time",
    "providerId": "provider",
    "facilityId": "facility",
    "appointmentType": "type",
    "durationMinutes": "duration",
    "cancelReason": "cancelled",
}


@dataclass
class MergeOutcome:
    ctx: SyncContext
    record: AppointmentSyncRecord  # desired state with AMD-side changes applied
    plan: MergePlan
    amd_values: dict[str, SnapshotValue]
    new_base: dict[str, SnapshotValue]
    base: dict[str, SnapshotValue]  # the old base, in the record's zone (as compared)
    ehr_values: dict[str, SnapshotValue]  # the EHR's side as compared
    published: list[ChangeFeedEntry] = field(default_factory=list)

    def publish(self) -> None:
        """Feed entries for AMD-side changes, and the conflict record; after the record save."""
        entries = feed_entries(self.ctx, self.record, self.plan.to_ehr)
        if entries:
            self.ctx.feed.append(entries)
            self.published.extend(entries)
        if self.plan.has_conflict:
            self.ctx.conflicts.put(conflict_record(self.ctx, self.record, self))


def merge_with_amd(
    ctx: SyncContext,
    record: AppointmentSyncRecord,
    amd_values: dict[str, SnapshotValue],
    *,
    pushing: bool = True,
    settings: Settings | None = None,
) -> MergeOutcome:
    """`pushing=False` (the pull) leaves EHR-side changes out of the new base: they have not
    reached AMD yet, and the push that will carry them must still see them as changes.
    `settings`: read once by a caller merging many records (the pull), else read here."""
    settings = settings or ctx.settings.get().value
    base, unseen = own_writes(record, amd_values)
    ehr_values = record.snapshot()
    plan = plan_merge(base, ehr_values, amd_values, settings.conflict_policy)
    updated = with_values(record, plan.to_ehr).model_copy(update={"amd_write_intent": unseen})
    new_base = updated.snapshot()
    for name in plan.conflicts:
        new_base[name] = base.get(name)
    if not pushing:
        for name in plan.to_amd:
            new_base[name] = amd_values[name]
    return MergeOutcome(ctx, updated, plan, amd_values, new_base, base, ehr_values)


def own_writes(
    record: AppointmentSyncRecord, amd_values: dict[str, SnapshotValue]
) -> tuple[dict[str, SnapshotValue], dict[str, SnapshotValue] | None]:
    """(the base to compare against, the write intent still to be seen in AMD).

    A field AMD shows at the value of our unsettled write (`amd_write_intent`: the worker died
    or lost the reply after the AMD call, before the new base was stored) is our own write, so
    it counts as agreed at that value: what the EHR asked for since is pushed over it, and
    nothing is published as an AMD-side change. Fields where AMD shows something else keep the
    intent (the write may still be on its way) and are compared with the old base.
    """
    base = base_in_zone(record.base_snapshot, record.time_zone)
    intent = record.amd_write_intent
    if not intent:
        return base, None
    sent = base_in_zone(intent, record.time_zone)
    names = [name for name in sent if name != "timeZone"]
    landed = {n: sent[n] for n in names if n in amd_values and amd_values[n] == sent[n]}
    unseen = {n: intent[n] for n in names if n not in landed}
    return {**base, **landed}, ({**unseen, "timeZone": intent.get("timeZone")} if unseen else None)


def with_values(
    record: AppointmentSyncRecord, values: dict[str, SnapshotValue]
) -> AppointmentSyncRecord:
    """The record with snapshot fields (JSON names) set to `values`, validated again."""
    if not values:
        return record
    return AppointmentSyncRecord.model_validate({**record.model_dump(), **values})


def feed_entries(
    ctx: SyncContext, record: AppointmentSyncRecord, changed: dict[str, SnapshotValue]
) -> list[ChangeFeedEntry]:
    if not changed:
        return []
    kinds: dict[ChangeKind, dict[str, SnapshotValue]] = {}
    for name, value in changed.items():
        kind = _KIND_OF_FIELD.get(name)
        if kind is None:
            continue
        if name == "status" and value == "CANCELLED":
            kind = "cancelled"
        kinds.setdefault(kind, {})[name] = value
    return [
        ChangeFeedEntry(
            appointment_id=record.appointment_id,
            advanced_md_visit_id=record.advanced_md_visit_id or "",
            kind=kind,
            fields=values,
            at=ctx.clock.now(),
        )
        for kind, values in kinds.items()
    ]


def conflict_record(
    ctx: SyncContext, record: AppointmentSyncRecord, merged: MergeOutcome
) -> ConflictRecord:
    return ConflictRecord(
        conflict_id=record.appointment_id,
        appointment_id=record.appointment_id,
        advanced_md_visit_id=record.advanced_md_visit_id,
        fields={
            name: ConflictingField(ehr=ehr, amd=amd, base=merged.base.get(name))
            for name, (ehr, amd) in merged.plan.conflicts.items()
        },
        detected_at=ctx.clock.now(),
    )

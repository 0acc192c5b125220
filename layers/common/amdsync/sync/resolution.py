"""Conflict resolution: a person picks a side per field; the normal push/feed does the rest.

Keeping the EHR's value rewrites the base to AMD's value, so the next push sees "only the EHR
changed" and sends it. Keeping AMD's value makes it the desired and agreed value, published to
the EHR through the change feed.
"""

from __future__ import annotations

from amdsync.domain.appointments import AppointmentSyncRecord, SnapshotValue
from amdsync.domain.journal import AuditEntry
from amdsync.domain.review import ConflictRecord, ConflictResolution
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.journal import new_id
from amdsync.sync.merge import feed_entries


class ConflictNotFound(Exception):
    pass


def resolve_conflict(
    ctx: SyncContext, conflict_id: str, resolution: ConflictResolution, actor: str, role: str
) -> ConflictRecord:
    conflict = ctx.conflicts.get(conflict_id)
    stored = ctx.appointments.get(conflict.appointment_id) if conflict else None
    if conflict is None or conflict.state != "open" or stored is None:
        raise ConflictNotFound(conflict_id)
    record = stored.value
    choices = _choices(conflict, resolution)
    base = dict(record.base_snapshot)
    desired: dict[str, SnapshotValue] = {}
    for name, side in choices.items():
        values = conflict.fields[name]
        base[name] = values.amd  # AMD holds this now; keeping EHR makes it a change to push
        if side == "amd":
            desired[name] = values.amd
    updated = AppointmentSyncRecord.model_validate(
        {**record.model_dump(), **desired, "baseSnapshot": base}
    ).model_copy(
        update={"amd_sync_status": "pending", "amd_sync_error": None, "amd_sync_error_code": None}
    )
    if desired:
        ctx.feed.append(feed_entries(ctx, updated, desired))
    ctx.appointments.save(updated, stored.version)
    ctx.queue.enqueue(
        [
            SyncJob(
                kind="appointment",
                entityId=record.appointment_id,
                version=record.ehr_version,
                practice=ctx.practice,
                # A fresh trigger: the job that found the conflict carried this same version
                # and may still be inside SQS's 5-minute dedup window.
                trigger=new_id()[:16],
            )
        ]
    )
    resolved = conflict.model_copy(
        update={
            "state": "resolved",
            "resolution": resolution.keep,
            "resolved_by": actor,
            "resolved_at": ctx.clock.now(),
        }
    )
    ctx.conflicts.put(resolved)
    ctx.audit.append(
        AuditEntry(
            id=new_id(),
            at=ctx.clock.now(),
            subject=actor,
            role=role,
            action="conflict_resolve",
            entity_type="conflict",
            entity_id=conflict_id,
            outcome="success",
            details={"keep": resolution.keep},
        )
    )
    return resolved


def _choices(conflict: ConflictRecord, resolution: ConflictResolution) -> dict[str, str]:
    if resolution.keep != "merge":
        return dict.fromkeys(conflict.fields, resolution.keep)
    picked = resolution.fields or {}
    missing = set(conflict.fields) - set(picked)
    if missing:
        raise ValueError(f"merge needs a side for every field; missing {sorted(missing)}")
    return {name: picked[name] for name in conflict.fields}

"""Following an appointment AMD moved to a new record (ApptStatus 5, SPEC §5).

A move may keep the record (the usual case, PROTOCOL §3.16) or mark the old visit Moved and
create a new one. Both visits change at the same instant, so they arrive in the same pull
window: the new one is unowned, on the same patient and still on the schedule. Exactly one such
candidate is followed: the record is re-linked to it (and the EHR told `RESCHEDULED`), and the
new visit is then merged like any other, bringing its time back. Anything ambiguous is left
alone and counted (`MoveNotFollowed`): a wrong re-link would be worse than none.
"""

from __future__ import annotations

from amdsync.domain.concurrency import StaleWriteError
from amdsync.domain.feed import ChangeFeedEntry
from amdsync.domain.status import ApptStatus, EhrStatus
from amdsync.sync.context import SyncContext
from amdsync.sync.ports import AmdAppointment

MAX_STALE_RETRIES = 5


def _on_schedule(visit: AmdAppointment) -> bool:
    code = visit.status_code
    return code is not None and code < ApptStatus.CANCELLED and code != ApptStatus.MOVED


def follow_moves(ctx: SyncContext, visits: list[AmdAppointment]) -> list[AmdAppointment]:
    """Re-link records whose visit was moved to a new record in this window.

    Returns the visits still to apply: a followed old visit is dropped (its record now points
    at the new one).
    """
    moved = [v for v in visits if v.status_code == ApptStatus.MOVED]
    if not moved:
        return visits
    claimed = ctx.appointments.owners_of_visits([v.visit_id for v in visits])
    owners = {v.visit_id: claimed.get(v.visit_id) for v in visits}
    followed: set[str] = set()
    for old in moved:
        owner = owners[old.visit_id]
        # Unowned, or already claimed by this record (a re-run after a crash mid-relink).
        options = [
            v
            for v in visits
            if _on_schedule(v)
            and v.patient_id == old.patient_id
            and owners[v.visit_id] in (None, owner)
        ]
        if owner is None or len(options) != 1:
            ctx.metrics.count("MoveNotFollowed")
            continue
        new = options[0]
        if _relink(ctx, owner, old.visit_id, new.visit_id):
            owners[new.visit_id] = owner
            followed.add(old.visit_id)
    return [v for v in visits if v.visit_id not in followed]


def _relink(ctx: SyncContext, appointment_id: str, old_id: str, new_id: str) -> bool:
    if ctx.appointments.claim_visit(new_id, appointment_id) != appointment_id:
        return False
    for _ in range(MAX_STALE_RETRIES):
        stored = ctx.appointments.get(appointment_id)
        if stored is None or stored.value.advanced_md_visit_id != old_id:
            return False
        record = stored.value
        update: dict[str, object] = {"advanced_md_visit_id": new_id}
        if record.status == EhrStatus.SCHEDULED:
            update["status"] = EhrStatus.RESCHEDULED  # AMD shows both as Made (no push)
        # Published first: a crash before the save repeats it (at least once), never loses it.
        ctx.feed.append(
            [
                ChangeFeedEntry(
                    appointment_id=appointment_id,
                    advanced_md_visit_id=new_id,
                    kind="status",
                    fields={"status": EhrStatus.RESCHEDULED.value, "movedFrom": old_id},
                    at=ctx.clock.now(),
                )
            ]
        )
        try:
            ctx.appointments.save(record.model_copy(update=update), stored.version)
        except StaleWriteError:
            continue
        ctx.metrics.count("MoveFollowed")
        return True
    return False

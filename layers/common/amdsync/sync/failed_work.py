"""What a person may do with dead-lettered work (SPEC §9.4): retry one (interactive lane),
retry all (background lane), or discard one with a reason. Every action is audited.

A retry sends the stored job again with a fresh trigger (SQS FIFO would drop a copy of the
failed message inside its 5-minute deduplication window) and then removes the failed item; if
the job fails again, the worker records a new one. The bulk id is dropped: the bulk job already
counted this job as failed, and a retry must not count it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from amdsync.amd.lanes import BACKGROUND, INTERACTIVE, Lane
from amdsync.domain.journal import AuditEntry, EntityType
from amdsync.failed_jobs import FailedJob
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.journal import new_id

RETRY_ALL_PAGE = 100
# The audit trail's entity vocabulary for each job kind.
_AUDITED_AS: dict[str, EntityType] = {
    "appointment": "appointment",
    "patient": "patient",
    "bulk_plan": "bulk",
    "pull": "pull",
}


class FailedWorkStore(Protocol):
    def get(self, job_id: str) -> FailedJob | None: ...
    def page(self, after: str | None, limit: int) -> tuple[list[FailedJob], str | None]: ...
    def remove(self, job_id: str) -> bool: ...


@dataclass(frozen=True)
class Actor:
    """The person acting, as the audit trail records them."""

    subject: str
    role: str
    source_ip: str | None = None
    user_agent: str | None = None


class FailedJobNotFound(LookupError):
    pass


class FailedWork:
    def __init__(self, ctx: SyncContext, store: FailedWorkStore) -> None:
        self._ctx = ctx
        self._store = store

    def retry(self, job_id: str, actor: Actor) -> FailedJob:
        failed = self._take(job_id)
        self._ctx.queue.enqueue([_again(failed.job, INTERACTIVE)])
        self._store.remove(job_id)
        self._audit(actor, "failed_work_retry", failed, job_id)
        return failed

    def retry_all(self, actor: Actor) -> int:
        """Re-queue every failed job; returns how many. Pages by key, so jobs that fail again
        while this runs (new, newer ids) are not picked up twice."""
        queued = 0
        after: str | None = None
        while True:
            jobs, after = self._store.page(after, RETRY_ALL_PAGE)
            if jobs:
                self._ctx.queue.enqueue([_again(f.job, BACKGROUND) for f in jobs])
                queued += sum(1 for f in jobs if self._store.remove(f.job_id))
            if after is None:
                break
        self._ctx.audit.append(
            self._entry(actor, "failed_work_retry_all", "bulk", "failed-work", {"queued": queued})
        )
        return queued

    def discard(self, job_id: str, reason: str, actor: Actor) -> FailedJob:
        failed = self._take(job_id)
        self._store.remove(job_id)
        self._ctx.audit.append(
            self._entry(
                actor,
                "failed_work_discard",
                _AUDITED_AS[failed.entity_type],
                failed.entity_id,
                {"jobId": job_id, "reason": reason},
            )
        )
        return failed

    def _take(self, job_id: str) -> FailedJob:
        failed = self._store.get(job_id)
        if failed is None:
            raise FailedJobNotFound(job_id)
        return failed

    def _audit(self, actor: Actor, action: str, failed: FailedJob, job_id: str) -> None:
        entity_type = _AUDITED_AS[failed.entity_type]
        self._ctx.audit.append(
            self._entry(actor, action, entity_type, failed.entity_id, {"jobId": job_id})
        )

    def _entry(
        self,
        actor: Actor,
        action: str,
        entity_type: EntityType,
        entity_id: str,
        details: dict[str, str | int | bool | None],
    ) -> AuditEntry:
        return AuditEntry(
            id=new_id(),
            at=self._ctx.clock.now(),
            subject=actor.subject,
            role=actor.role,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            outcome="success",
            source_ip=actor.source_ip,
            user_agent=actor.user_agent,
            details=details,
        )


def _again(job: SyncJob, lane: Lane) -> SyncJob:
    return job.model_copy(
        update={"trigger": f"redrive-{new_id()[:16]}", "lane": lane, "bulk": None}
    )

"""Bulk sync: a date range (optionally one provider) synced in the background (SPEC §9.3).

`start` only records the job (state `planning`) and queues its first planning step, so the
request answers at once whatever the range. The worker then plans page by page: one paged
query of the start-time index per step (never a scan), batches of at most 50 queued jobs, and
the next step queued before the job's position moves. Re-running a step enqueues nothing twice:
each appointment gets a create-only plan marker, confirmed once its job is on the queue (SQS's
deduplication covers a crash between the two). When the last page is planned the job is
`running` with its total; the worker's counters then bring it to `done`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from amdsync.amd.lanes import BACKGROUND
from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.bulk import BATCH_SIZE, BulkJob, BulkSyncRequest
from amdsync.domain.concurrency import StaleWriteError
from amdsync.domain.journal import AuditEntry
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.estimate import seconds_per_job
from amdsync.sync.journal import Journal, Operation, new_id
from amdsync.sync.reconcile import reconcile_range

# Appointments read per planning step: a few seconds of conditional writes, far inside the
# worker's timeout, so a step is never cut off mid-page.
PLAN_PAGE_SIZE = 250
MAX_SAVE_ATTEMPTS = 10


class PlanNotYet(Exception):
    """A planning step arrived before the previous one was recorded: try again shortly."""


class BulkSync:
    def __init__(self, ctx: SyncContext) -> None:
        self._ctx = ctx
        self._journal = Journal(ctx.logs, ctx.metrics, ctx.clock)

    def start(self, request: BulkSyncRequest, actor: str, role: str = "billing") -> BulkJob:
        job = BulkJob(
            job_id=new_id()[:20],
            from_=request.from_,
            to=request.to,
            provider_id=request.provider_id,
            mode=request.mode,
            created_at=self._ctx.clock.now(),
            actor=actor,
        )
        self._ctx.bulk_jobs.create(job)
        self._queue_plan_step(job.job_id, 0)
        self._audit(actor, role, "bulk_sync_start", job.job_id)
        op = Operation("bulk", job.job_id, "start", "to_amd", actor=actor)
        self._journal.finish(op, "success")
        return job

    def plan_step(self, job_id: str, page: int) -> None:
        """Plan one page of the job (the worker's `bulk_plan` message); idempotent."""
        stored = self._ctx.bulk_jobs.get(job_id)
        if stored is None or stored.value.state != "planning" or stored.value.plan_page > page:
            return  # gone, cancelled, or this page is planned already
        if stored.value.plan_page < page:
            raise PlanNotYet(job_id)
        job = stored.value
        if job.mode == "reconcile" and job.wanted is None:
            reconciled = self._reconcile(job)
            if reconciled is None:
                return  # cancelled while AMD's side was read
            job = reconciled
        records, cursor = self._ctx.appointments.page_between(
            job.from_.isoformat(),
            (job.to + timedelta(days=1)).isoformat(),
            PLAN_PAGE_SIZE,
            job.plan_cursor,
        )
        planned = self._queue_page(job, [r for r in records if self._wanted(job, r)])
        if cursor is not None:
            # Queued before the position moves: a crash in between re-runs this page (its
            # markers enqueue nothing twice) instead of losing the rest of the range.
            self._queue_plan_step(job_id, page + 1)
            update: dict[str, object] = {
                "plan_page": page + 1,
                "plan_cursor": cursor,
                "planned": job.planned + planned,
            }
        else:
            total = self._ctx.bulk_jobs.planned_count(job_id)
            update = {"plan_page": page + 1, "plan_cursor": None, "planned": total, "total": total}
            update["state"] = "running"
        self._save(job_id, lambda j: j.model_copy(update=update), only_while_planning=True)

    def progress(self, job_id: str) -> BulkJob | None:
        stored = self._ctx.bulk_jobs.get(job_id)
        if stored is None:
            return None
        done, failed = self._ctx.bulk_jobs.progress(job_id)
        job = stored.value.model_copy(update={"done": done, "failed": failed})
        if job.state == "running" and job.remaining == 0:
            job = job.model_copy(update={"state": "done"})
        return job

    def eta_seconds(self, job: BulkJob) -> int:
        """Seconds until the job is done at the limiter's pace. While planning, its total is
        unknown and its planning step waits behind the background lane's queue: at least that
        queue (which holds the job's batches planned so far) goes first."""
        if job.state not in ("planning", "running"):
            return 0
        ahead = job.remaining
        if job.state == "planning":
            ahead = max(ahead, self._ctx.queue.depth(BACKGROUND))
        return int(ahead * seconds_per_job(self._ctx.clock.now()))

    def cancel(self, job_id: str, actor: str, role: str = "billing") -> BulkJob | None:
        """Any state: planning stops at its next step, queued work is skipped by the worker. A
        job already done stays done (nothing is left to cancel)."""
        current = self.progress(job_id)
        if current is None:
            return None
        if current.state not in ("done", "cancelled"):
            self._save(job_id, lambda j: j.model_copy(update={"state": "cancelled"}))
            self._audit(actor, role, "bulk_sync_cancel", job_id)
        return self.progress(job_id)

    def is_cancelled(self, job_id: str) -> bool:
        stored = self._ctx.bulk_jobs.get(job_id)
        return stored is not None and stored.value.state == "cancelled"

    def _reconcile(self, job: BulkJob) -> BulkJob | None:
        report = reconcile_range(self._ctx, job.from_, job.to, job.provider_id, enqueue=False)
        summary = {
            "amdAppointments": report.amd_appointments,
            "amdOnly": len(report.amd_only),
            "missingInAmd": len(report.missing_in_amd),
            "differing": len(report.differing),
        }
        wanted = sorted(set(report.missing_in_amd) | set(report.differing))
        update = {"reconcile": summary, "wanted": wanted}
        return self._save(
            job.job_id, lambda j: j.model_copy(update=update), only_while_planning=True
        )

    @staticmethod
    def _wanted(job: BulkJob, record: AppointmentSyncRecord) -> bool:
        if job.provider_id is not None and record.provider_id != job.provider_id:
            return False
        return job.wanted is None or record.appointment_id in job.wanted

    def _queue_page(self, job: BulkJob, records: list[AppointmentSyncRecord]) -> int:
        """Marks then queues the page's appointments, batches of ≤ 50; returns how many new."""
        fresh = 0
        for first in range(0, len(records), BATCH_SIZE):
            batch = {r.appointment_id: r for r in records[first : first + BATCH_SIZE]}
            to_send = self._ctx.bulk_jobs.plan(job.job_id, list(batch))
            if not to_send:
                continue
            jobs = [
                SyncJob(
                    kind="appointment",
                    entityId=entity_id,
                    version=batch[entity_id].ehr_version,
                    practice=self._ctx.practice,
                    bulk=job.job_id,
                    lane=BACKGROUND,
                )
                for entity_id in to_send
            ]
            self._ctx.queue.enqueue(jobs, bulk_job_id=job.job_id)
            self._ctx.bulk_jobs.confirm_queued(job.job_id, to_send)
            fresh += len(to_send)
        return fresh

    def _queue_plan_step(self, job_id: str, page: int) -> None:
        step = SyncJob(
            kind="bulk_plan",
            entityId=job_id,
            version=page,
            practice=self._ctx.practice,
            lane=BACKGROUND,
        )
        self._ctx.queue.enqueue([step])

    def _save(
        self,
        job_id: str,
        change: Callable[[BulkJob], BulkJob],
        *,
        only_while_planning: bool = False,
    ) -> BulkJob | None:
        """Apply `change` to the stored job, re-reading when someone else (a cancel, the
        worker's counters do not touch the body) saved in between. None if it no longer
        applies (planning changes to a job cancelled meanwhile)."""
        for _ in range(MAX_SAVE_ATTEMPTS):
            stored = self._ctx.bulk_jobs.get(job_id)
            if stored is None:
                return None
            if only_while_planning and stored.value.state != "planning":
                return None
            changed = change(stored.value)
            try:
                self._ctx.bulk_jobs.save(changed, stored.version)
            except StaleWriteError:
                continue
            return changed
        raise StaleWriteError(job_id)

    def _audit(self, actor: str, role: str, action: str, job_id: str) -> None:
        self._ctx.audit.append(
            AuditEntry(
                id=new_id(),
                at=self._ctx.clock.now(),
                subject=actor,
                role=role,
                action=action,
                entity_type="bulk",
                entity_id=job_id,
                outcome="success",
            )
        )

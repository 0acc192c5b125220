"""Bulk sync: a date range (optionally one provider) as batches of at most 50 queued jobs, with
progress, an ETA from the live rate budget, and cancel. Re-running creates nothing twice: jobs
are level-triggered and creation is idempotent."""

from __future__ import annotations

from datetime import timedelta

from amdsync.amd.lanes import BACKGROUND
from amdsync.domain.bulk import BATCH_SIZE, BulkJob, BulkSyncRequest
from amdsync.domain.journal import AuditEntry
from amdsync.jobs import SyncJob
from amdsync.sync.context import SyncContext
from amdsync.sync.estimate import seconds_per_job
from amdsync.sync.journal import Journal, Operation, new_id
from amdsync.sync.reconcile import reconcile_range


class BulkSync:
    def __init__(self, ctx: SyncContext) -> None:
        self._ctx = ctx
        self._journal = Journal(ctx.logs, ctx.metrics, ctx.clock)

    def start(self, request: BulkSyncRequest, actor: str, role: str = "billing") -> BulkJob:
        first = request.from_.isoformat()
        after_last = (request.to + timedelta(days=1)).isoformat()
        records = [
            r
            for r in self._ctx.appointments.list_between(first, after_last)
            if request.provider_id is None or r.provider_id == request.provider_id
        ]
        summary: dict[str, int] | None = None
        if request.mode == "reconcile":
            report = reconcile_range(
                self._ctx, request.from_, request.to, request.provider_id, enqueue=False
            )
            wanted = set(report.missing_in_amd) | set(report.differing)
            records = [r for r in records if r.appointment_id in wanted]
            summary = {
                "amdAppointments": report.amd_appointments,
                "amdOnly": len(report.amd_only),
                "missingInAmd": len(report.missing_in_amd),
                "differing": len(report.differing),
            }
        job = BulkJob(
            job_id=new_id()[:20],
            from_=request.from_,
            to=request.to,
            provider_id=request.provider_id,
            total=len(records),
            created_at=self._ctx.clock.now(),
            actor=actor,
            reconcile=summary,
        )
        self._ctx.bulk_jobs.create(job)
        for start in range(0, len(records), BATCH_SIZE):
            batch = records[start : start + BATCH_SIZE]
            jobs = [
                SyncJob(
                    kind="appointment",
                    entityId=r.appointment_id,
                    version=r.ehr_version,
                    practice=self._ctx.practice,
                    bulk=job.job_id,
                    lane=BACKGROUND,
                )
                for r in batch
            ]
            self._ctx.queue.enqueue(jobs, bulk_job_id=job.job_id)
        self._audit(actor, role, "bulk_sync_start", job.job_id)
        op = Operation("bulk", job.job_id, "start", "to_amd", actor=actor)
        self._journal.finish(op, "success")
        return job

    def progress(self, job_id: str) -> BulkJob | None:
        stored = self._ctx.bulk_jobs.get(job_id)
        if stored is None:
            return None
        done, failed = self._ctx.bulk_jobs.progress(job_id)
        job = stored.value.model_copy(update={"done": done, "failed": failed})
        if job.state == "running" and job.remaining == 0:
            job = job.model_copy(update={"state": "completed"})
        return job

    def eta_seconds(self, job: BulkJob) -> int:
        if job.state != "running":
            return 0
        return int(job.remaining * seconds_per_job(self._ctx.clock.now()))

    def cancel(self, job_id: str, actor: str, role: str = "billing") -> BulkJob | None:
        stored = self._ctx.bulk_jobs.get(job_id)
        if stored is None:
            return None
        cancelled = stored.value.model_copy(update={"state": "cancelled"})
        self._ctx.bulk_jobs.save(cancelled, stored.version)
        self._audit(actor, role, "bulk_sync_cancel", job_id)
        return self.progress(job_id)

    def is_cancelled(self, job_id: str) -> bool:
        stored = self._ctx.bulk_jobs.get(job_id)
        return stored is not None and stored.value.state == "cancelled"

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

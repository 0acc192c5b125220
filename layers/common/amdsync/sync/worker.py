"""What the queue worker does with one job, as a decision the handler carries out on SQS.

- done: the job is finished (synced, no-op, skipped, or a permanent error now on the record);
- defer: the rate limiter has no budget; come back after `delay` seconds. Deferrals never count
  against the retry budget, so they alone can never dead-letter a job;
- retry: a transient failure; come back after an exponential, jittered backoff;
- dead_letter: transient failures exhausted the retry budget; the record shows `error` and the
  job is kept as failed work for a person to retry or discard (GET /sync/failed).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from amdsync.amd.errors import RateLimited
from amdsync.amd.lanes import in_lane
from amdsync.domain.errors import SyncErrorCode
from amdsync.jobs import SyncJob
from amdsync.sync.bulk import BulkSync, PlanNotYet
from amdsync.sync.context import SyncContext
from amdsync.sync.failures import describe
from amdsync.sync.journal import new_id
from amdsync.sync.manual_pull import ManualPulls
from amdsync.sync.patients import PatientBusy, PatientSync
from amdsync.sync.pull import PullOptions, Remaining
from amdsync.sync.push import AppointmentPush, PushOutcome, RetryLater

RETRY_BUDGET = 6
BASE_BACKOFF_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 900.0  # SQS caps a visibility timeout change at 12 h; 15 min is plenty
MIN_DEFER_SECONDS = 1.0
PLAN_RETRY_SECONDS = 2.0

DecisionKind = Literal["done", "defer", "retry", "dead_letter"]


@dataclass(frozen=True)
class JobDecision:
    kind: DecisionKind
    delay: float = 0.0
    code: SyncErrorCode | None = None
    attempts: int = 0  # tries spent, when the job is dead-lettered


def backoff(
    attempt: int, rng: random.Random | None = None, base: float = BASE_BACKOFF_SECONDS
) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2^attempt)], at least one second."""
    ceiling = min(MAX_BACKOFF_SECONDS, base * 2 ** max(attempt, 0))
    return max(1.0, (rng or random).uniform(0, ceiling))


class JobProcessor:
    def __init__(
        self,
        ctx: SyncContext,
        remaining: Remaining | None = None,
        pull_options: PullOptions | None = None,
        backoff_base: float = BASE_BACKOFF_SECONDS,
        on_pull_blocked: Callable[[], None] | None = None,
    ) -> None:
        self._ctx = ctx
        self._bulk = BulkSync(ctx)
        # Seconds left in this invocation: a manual pull stops and resumes before it ends.
        self._remaining = remaining
        self._pull_options = pull_options
        self._backoff_base = backoff_base
        self._on_pull_blocked = on_pull_blocked  # a manual pull the mass-change guard stopped

    def process(self, job: SyncJob) -> JobDecision:
        # Every AMD call the job makes is paced for its lane (amd/lanes.py).
        with in_lane(job.lane):
            return self._process(job)

    def _process(self, job: SyncJob) -> JobDecision:
        if job.kind in ("bulk_plan", "pull"):
            return self._plan(job) if job.kind == "bulk_plan" else self._pull(job)
        if job.bulk and self._bulk.is_cancelled(job.bulk):
            return JobDecision("done")
        try:
            ok = self._run(job)
        except RetryLater as exc:
            if exc.code is SyncErrorCode.RATE_LIMITED:
                return JobDecision("defer", max(MIN_DEFER_SECONDS, exc.retry_after or 0.0))
            return self._retry_or_give_up(job, exc.code)
        except PatientBusy:
            return JobDecision("defer", 5.0)
        if job.bulk:
            self._ctx.bulk_jobs.count(job.bulk, job.entity_id, done=int(ok), failed=int(not ok))
        return JobDecision("done")

    def _pull(self, job: SyncJob) -> JobDecision:
        """A manual pull (SPEC §9.3), in pieces: deferred until finished."""
        pulls = ManualPulls(self._ctx, self._pull_options, self._on_pull_blocked)
        step = pulls.run(job.entity_id, self._remaining)
        return JobDecision("done") if step.finished else JobDecision("defer", step.wait)

    def _plan(self, job: SyncJob) -> JobDecision:
        """One planning step of a bulk job (SPEC §9.3): paged, resumable, idempotent."""
        try:
            self._bulk.plan_step(job.entity_id, job.version)
        except PlanNotYet:
            return JobDecision("defer", PLAN_RETRY_SECONDS)
        except RateLimited as exc:  # reconcile mode reads AMD's days first
            return JobDecision("defer", max(MIN_DEFER_SECONDS, exc.retry_after or 0.0))
        return JobDecision("done")

    def _run(self, job: SyncJob) -> bool:
        if job.kind == "patient":
            try:
                amd_id = PatientSync(self._ctx).run(job.entity_id)
            except PatientBusy:
                raise
            except Exception as exc:  # run() re-raises only transient and rate-limit failures
                failure = describe(exc)
                raise RetryLater(failure.code, failure.message, failure.retry_after) from exc
            if amd_id is not None:
                self._release_waiting_appointments(job.entity_id)
            return amd_id is not None
        result = AppointmentPush(self._ctx).run(job.entity_id)
        return result.outcome is not PushOutcome.ERROR

    def _retry_or_give_up(self, job: SyncJob, code: SyncErrorCode) -> JobDecision:
        attempts = self._attempts(job)
        if attempts < RETRY_BUDGET:
            return JobDecision("retry", backoff(attempts, base=self._backoff_base), code)
        self._mark_given_up(job, code)
        if job.bulk:
            self._ctx.bulk_jobs.count(job.bulk, job.entity_id, failed=1)
        self._ctx.metrics.count("SyncDeadLettered", error_type=code.value)
        return JobDecision("dead_letter", code=code, attempts=attempts)

    def _attempts(self, job: SyncJob) -> int:
        if job.kind == "patient":
            patient = self._ctx.patients.get(job.entity_id)
            return patient.value.attempts if patient else RETRY_BUDGET
        stored = self._ctx.appointments.get(job.entity_id)
        return stored.value.attempts if stored else RETRY_BUDGET

    def _mark_given_up(self, job: SyncJob, code: SyncErrorCode) -> None:
        message = "gave up after repeated AdvancedMD failures; see Failed work (dead-letter)"
        update = {
            "amd_sync_status": "error",
            "amd_sync_error_code": code,
            "amd_sync_error": message,
        }
        if job.kind == "patient":
            patient = self._ctx.patients.get(job.entity_id)
            if patient:
                self._ctx.patients.save(patient.value.model_copy(update=update), patient.version)
            return
        stored = self._ctx.appointments.get(job.entity_id)
        if stored:
            self._ctx.appointments.save(stored.value.model_copy(update=update), stored.version)

    def _release_waiting_appointments(self, patient_id: str) -> None:
        """SPEC §6: appointments waiting on this patient are retried once the patient syncs."""
        waiting = self._ctx.appointments.waiting_on_patient(patient_id)
        if waiting:
            self._ctx.queue.enqueue(
                [
                    SyncJob(
                        kind="appointment",
                        entityId=r.appointment_id,
                        version=r.ehr_version,
                        practice=self._ctx.practice,
                        # A fresh trigger: the job that failed on this version may be inside
                        # SQS's 5-minute dedup window.
                        trigger=new_id()[:16],
                    )
                    for r in waiting
                ]
            )

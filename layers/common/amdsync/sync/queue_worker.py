"""The sync worker's batch loop: SQS records -> JobProcessor decisions -> SQS actions.

Deferred and retried records are reported as batch item failures after their visibility
timeout is set to the wait, so SQS brings them back then; dead-lettered jobs are kept as failed
work by us (DynamoDB, listed at GET /sync/failed) and acknowledged, so `maxReceiveCount` (set
high) and the SQS DLQ behind it are only a safety net.

SQS counts every receive against `maxReceiveCount`, deferrals included, so a job the rate
limiter keeps deferring (a long bulk sync at peak) would eventually be moved to the DLQ by SQS
although it never failed. So a job deferred on its RECYCLE_AT_RECEIVE-th receive or later is
sent again as a fresh message (new deduplication id, receive count 0) and the old one is
acknowledged: deferrals alone can never dead-letter a job. (FIFO queues have no per-message
delay, so the copy is seen at once and deferred again by the limiter, without an AMD call.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from amdsync.amd.lanes import INTERACTIVE, Lane
from amdsync.jobs import SyncJob
from amdsync.sync.journal import new_id
from amdsync.sync.worker import JobDecision, JobProcessor

# Below the template's smallest QueueMaxReceiveCount (5), so SQS never redrives a deferral.
RECYCLE_AT_RECEIVE = 4


class QueueControl(Protocol):
    def defer(self, receipt_handle: str, seconds: float, lane: Lane = INTERACTIVE) -> None: ...
    def enqueue(self, jobs: list[SyncJob], bulk_job_id: str | None = None) -> None: ...


class DeadLetters(Protocol):
    def send(self, job: SyncJob, reason: str, attempts: int = 0) -> None: ...


@dataclass(frozen=True)
class RecordRef:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int = 1  # SQS ApproximateReceiveCount (1 on the first delivery)


class PoisonMessage(Exception):
    """Not a sync job at all; left for SQS's redrive to move to the DLQ."""


def handle_record(
    record: RecordRef,
    processor: Callable[[], JobProcessor],
    queue: QueueControl,
    dead_letters: DeadLetters,
) -> JobDecision:
    """Process one record; raises when SQS should deliver it again (a batch item failure)."""
    try:
        job = SyncJob.model_validate_json(record.body)
    except ValidationError:
        raise PoisonMessage(record.message_id) from None
    decision = processor().process(job)
    if decision.kind == "defer" and record.receive_count >= RECYCLE_AT_RECEIVE:
        queue.enqueue([job.model_copy(update={"trigger": new_id()[:16]})])
        return decision  # acknowledged: the fresh copy carries the job on
    if decision.kind in ("defer", "retry"):
        queue.defer(record.receipt_handle, decision.delay, job.lane)
        raise RetryRecord(decision)
    if decision.kind == "dead_letter":
        code = decision.code.value if decision.code else "UNKNOWN"
        dead_letters.send(job, code, decision.attempts)
    return decision


class RetryRecord(Exception):
    def __init__(self, decision: JobDecision) -> None:
        super().__init__(f"{decision.kind} in {decision.delay:.0f}s")
        self.decision = decision

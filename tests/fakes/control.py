"""Pull watermark, leases, bulk jobs and the FIFO sync queue, in memory."""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from amdsync.domain.bulk import BulkJob
from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.pulls import CompletedPull, PullCheckpoint, PullRequest
from amdsync.jobs import SyncJob
from tests.fakes.clock import FakeClock
from tests.fakes.failures import FaultPlan

SQS_DEDUP_WINDOW = timedelta(minutes=5)


class FakeWatermark:
    """None at version 0 until the first advance; conditional on the version like DynamoDB."""

    def __init__(self) -> None:
        self._current: Versioned[str | None] = Versioned(None, 0)
        self._succeeded_at: datetime | None = None
        self._completed: CompletedPull | None = None
        self.history: list[str] = []
        self.faults = FaultPlan()

    def get(self) -> Versioned[str | None]:
        return self._current

    def succeeded_at(self) -> datetime | None:
        return self._succeeded_at

    def last_completed(self) -> CompletedPull | None:
        return self._completed

    def advance(
        self,
        servertime: str,
        succeeded_at: datetime,
        expected_version: int,
        completed: CompletedPull | None = None,
    ) -> int:
        self.faults.before("advance")
        if expected_version != self._current.version:
            raise StaleWriteError("watermark")
        self._current = Versioned(servertime, expected_version + 1)
        self._succeeded_at = succeeded_at
        self._completed = completed
        self.history.append(servertime)
        return self._current.version


class FakeLeases:
    def __init__(self) -> None:
        self.held: dict[str, tuple[str, datetime]] = {}
        self.acquired: list[str] = []

    def acquire(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        current = self.held.get(name)
        if current is not None and current[0] != owner and current[1] >= now:
            return False
        self.held[name] = (owner, until)
        self.acquired.append(name)
        return True

    def release(self, name: str, owner: str) -> None:
        current = self.held.get(name)
        if current is not None and current[0] == owner:
            del self.held[name]


class FakeBulkJobs:
    def __init__(self) -> None:
        self.jobs: dict[str, Versioned[BulkJob]] = {}
        self.counters: dict[str, tuple[int, int]] = {}
        self.counted: set[tuple[str, str]] = set()
        # (job id, entity id) -> "planned" | "queued", like the DynamoDB plan markers.
        self.plan_markers: dict[tuple[str, str], str] = {}

    def create(self, job: BulkJob) -> None:
        if job.job_id in self.jobs:
            raise StaleWriteError(job.job_id)
        self.jobs[job.job_id] = Versioned(job, 1)

    def get(self, job_id: str) -> Versioned[BulkJob] | None:
        return self.jobs.get(job_id)

    def save(self, job: BulkJob, expected_version: int) -> int:
        current = self.jobs.get(job.job_id)
        if current is None or current.version != expected_version:
            raise StaleWriteError(job.job_id)
        self.jobs[job.job_id] = Versioned(job, expected_version + 1)
        return expected_version + 1

    def count(self, job_id: str, entity_id: str, *, done: int = 0, failed: int = 0) -> None:
        """Once per entity, kept apart from the job body like the DynamoDB adapter."""
        if (job_id, entity_id) in self.counted:
            return
        self.counted.add((job_id, entity_id))
        old_done, old_failed = self.counters.get(job_id, (0, 0))
        self.counters[job_id] = (old_done + done, old_failed + failed)

    def progress(self, job_id: str) -> tuple[int, int]:
        return self.counters.get(job_id, (0, 0))

    def plan(self, job_id: str, entity_ids: list[str]) -> list[str]:
        to_send = []
        for entity_id in entity_ids:
            if self.plan_markers.get((job_id, entity_id)) == "queued":
                continue
            self.plan_markers[(job_id, entity_id)] = "planned"
            to_send.append(entity_id)
        return to_send

    def confirm_queued(self, job_id: str, entity_ids: list[str]) -> None:
        for entity_id in entity_ids:
            self.plan_markers[(job_id, entity_id)] = "queued"

    def planned_count(self, job_id: str) -> int:
        return sum(1 for (job, _) in self.plan_markers if job == job_id)


@dataclass(frozen=True)
class Enqueued:
    jobs: tuple[SyncJob, ...]
    bulk_job_id: str | None


class FakeQueue:
    """An SQS FIFO queue as the use cases see it: a message whose dedup id was sent within the
    last five minutes is accepted but dropped (recorded in `deduplicated`)."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.pending: deque[SyncJob] = deque()
        self.sent: list[SyncJob] = []
        self.calls: list[Enqueued] = []
        self.deduplicated: list[SyncJob] = []
        self._seen: dict[str, datetime] = {}

    def enqueue(self, jobs: list[SyncJob], bulk_job_id: str | None = None) -> None:
        self.calls.append(Enqueued(tuple(jobs), bulk_job_id))
        now = self._clock.now()
        for job in jobs:
            seen = self._seen.get(job.dedup_id)
            if seen is not None and now - seen < SQS_DEDUP_WINDOW:
                self.deduplicated.append(job)
                continue
            self._seen[job.dedup_id] = now
            self.pending.append(job)
            self.sent.append(job)

    def depth(self, lane: str | None = None) -> int:
        return sum(1 for job in self.pending if lane in (None, job.lane))

    def take(self) -> SyncJob | None:
        return self.pending.popleft() if self.pending else None

    def put_back(self, job: SyncJob) -> None:
        """Redelivery (visibility timeout over): no dedup, like SQS."""
        self.pending.append(job)

    def jobs_for(self, entity_id: str) -> list[SyncJob]:
        return [j for j in self.sent if j.entity_id == entity_id]

    def clear(self) -> None:
        """Forget what was sent so far (SQS's dedup memory stays, as it would)."""
        self.pending.clear()
        self.sent.clear()
        self.calls.clear()
        self.deduplicated.clear()


class FakePullWindows:
    """The stored change window and its checkpoint; `reads` counts the pieces read back."""

    def __init__(self) -> None:
        self.current: PullCheckpoint | None = None
        self.chunks: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self.parts: dict[tuple[str, str, int], list[Any]] = {}  # an overflow's ids and reads
        self.reads = 0

    def checkpoint(self) -> PullCheckpoint | None:
        return self.current

    def store_window(self, checkpoint: PullCheckpoint, chunks: list[list[dict[str, Any]]]) -> None:
        for index, visits in enumerate(chunks):
            self.chunks[(checkpoint.window_id, index)] = copy.deepcopy(visits)
        self.current = checkpoint

    def chunk(self, window_id: str, index: int) -> list[dict[str, Any]]:
        self.reads += 1
        return copy.deepcopy(self.chunks[(window_id, index)])

    def store_ids(self, checkpoint: PullCheckpoint, chunks: list[list[str]]) -> None:
        for index, ids in enumerate(chunks):
            self.parts[(checkpoint.window_id, "ids", index)] = list(ids)
        self.current = checkpoint

    def ids(self, window_id: str, index: int) -> list[str]:
        return list(self.parts[(window_id, "ids", index)])

    def store_read(self, window_id: str, index: int, visits: list[dict[str, Any]]) -> None:
        self.parts[(window_id, "read", index)] = copy.deepcopy(visits)

    def read(self, window_id: str, index: int) -> list[dict[str, Any]]:
        return copy.deepcopy(self.parts[(window_id, "read", index)])

    def save_checkpoint(self, checkpoint: PullCheckpoint) -> None:
        self.current = checkpoint

    def clear(self, checkpoint: PullCheckpoint) -> None:
        self.current = None
        for index in range(checkpoint.chunks):
            self.chunks.pop((checkpoint.window_id, index), None)
        for index in range(checkpoint.id_chunks):
            self.parts.pop((checkpoint.window_id, "ids", index), None)
            self.parts.pop((checkpoint.window_id, "read", index), None)


class FakePullRequests:
    def __init__(self) -> None:
        self.requests: dict[str, PullRequest] = {}

    def create(self, request: PullRequest) -> None:
        self.requests[request.pull_id] = request

    def get(self, pull_id: str) -> PullRequest | None:
        return self.requests.get(pull_id)

    def save(self, request: PullRequest) -> None:
        self.requests[request.pull_id] = request

"""Dead-lettered work (SPEC §9.4): a sync job the worker gave up on, kept until a person
retries or discards it. Ids and codes only: the job names an entity, never a person."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field, field_serializer

from amdsync.domain.base import DomainModel
from amdsync.jobs import SyncJob

JOB_ID_PATTERN = r"^[0-9]{8}T[0-9]{9}-[0-9a-f]{8}$"

# Plain words per error code for the console; the code itself is listed beside them.
_PLAIN_WORDS: dict[str, str] = {
    "AMD_UNAVAILABLE": "AdvancedMD kept failing or timing out, so the sync stopped retrying.",
    "RATE_LIMITED": "AdvancedMD kept refusing calls for being too frequent.",
    "AMD_AUTH_FAILED": "AdvancedMD refused our sign-in.",
    "INTERNAL": "An unexpected error kept stopping this sync.",
}
_DEFAULT_WORDS = "The sync stopped retrying after repeated failures."


def plain_error(code: str) -> str:
    return _PLAIN_WORDS.get(code, _DEFAULT_WORDS)


def new_job_id(at: datetime) -> str:
    """Sortable by the time of failure (newest-first listing is a key order), unique by suffix."""
    stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")[:-3]
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


class FailedJob(DomainModel):
    job_id: str = Field(pattern=JOB_ID_PATTERN)
    # The job's kind: only appointment and patient jobs spend a retry budget today.
    entity_type: Literal["appointment", "patient", "bulk_plan", "pull"]
    entity_id: str = Field(min_length=1, max_length=128)
    failed_at: AwareDatetime
    attempts: int = Field(ge=0)
    error_code: str = Field(max_length=64)
    error: str = Field(max_length=200)
    job: SyncJob  # what a retry sends again

    @field_serializer("job")
    def _job_as_queued(self, job: SyncJob) -> dict[str, Any]:
        # The queue's own wire form (SyncJob validates by its aliases only).
        return job.model_dump(mode="json", by_alias=True)

    @classmethod
    def from_job(cls, job: SyncJob, code: str, attempts: int, at: datetime) -> FailedJob:
        return cls(
            job_id=new_job_id(at),
            entity_type=job.kind,
            entity_id=job.entity_id,
            failed_at=at,
            attempts=attempts,
            error_code=code,
            error=plain_error(code),
            job=job,
        )

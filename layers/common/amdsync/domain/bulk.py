"""Bulk sync jobs: a date range split into batches of at most 50, with progress and ETA."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from amdsync.domain.base import DomainModel

BATCH_SIZE = 50
BulkState = Literal["running", "completed", "cancelled"]


class BulkSyncRequest(DomainModel):
    """Body of `POST /appointments/bulk-sync`. `reconcile` first compares AMD's appointments in
    the range with our records and syncs only the differences."""

    from_: date = Field(alias="from")
    to: date
    provider_id: str | None = Field(default=None, max_length=128)
    mode: Literal["sync", "reconcile"] = "sync"

    @model_validator(mode="after")
    def _range_is_ordered_and_bounded(self) -> Self:
        if self.to < self.from_:
            raise ValueError("'to' must not be before 'from'")
        if (self.to - self.from_).days > 366:
            raise ValueError("a bulk sync covers at most 366 days")
        return self


class BulkJob(DomainModel):
    job_id: str = Field(min_length=1, max_length=64)
    from_: date = Field(alias="from")
    to: date
    provider_id: str | None = None
    state: BulkState = "running"
    total: int = Field(ge=0)
    done: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)
    created_at: AwareDatetime
    actor: str = Field(max_length=128)
    # Reconcile mode: counts of what the comparison found (amdOnly, missingInAmd, differing).
    reconcile: dict[str, int] | None = None

    @property
    def remaining(self) -> int:
        return max(self.total - self.done - self.failed, 0)

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else (100 * (self.done + self.failed)) // self.total

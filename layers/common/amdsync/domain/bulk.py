"""Bulk sync jobs: a date range planned page by page in the background, then synced in batches
of at most 50, with progress, ETA and cancel in every state (SPEC §9.3)."""

from __future__ import annotations

from datetime import date
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator

from amdsync.domain.base import DomainModel

BATCH_SIZE = 50
MAX_RANGE_DAYS = 366
# planning: the background planner is still finding the range's appointments (total unknown);
# running: every appointment is queued; done: all counted; cancelled: stopped by a person.
BulkState = Literal["planning", "running", "done", "cancelled"]
BulkMode = Literal["sync", "reconcile"]


class BulkSyncRequest(DomainModel):
    """Body of `POST /appointments/bulk-sync`. `reconcile` first compares AMD's appointments in
    the range with our records and syncs only the differences."""

    from_: date = Field(alias="from")
    to: date
    provider_id: str | None = Field(default=None, max_length=128)
    mode: BulkMode = "sync"

    @model_validator(mode="after")
    def _range_is_ordered_and_bounded(self) -> Self:
        if self.to < self.from_:
            raise ValueError("'to' must not be before 'from'")
        if (self.to - self.from_).days > MAX_RANGE_DAYS:
            raise ValueError(f"a bulk sync covers at most {MAX_RANGE_DAYS} days")
        return self


class BulkJob(DomainModel):
    job_id: str = Field(min_length=1, max_length=64)
    from_: date = Field(alias="from")
    to: date
    provider_id: str | None = None
    mode: BulkMode = "sync"
    state: BulkState = "planning"
    # Known once planning has finished (None while planning); `planned` counts so far.
    total: int | None = Field(default=None, ge=0)
    planned: int = Field(default=0, ge=0)
    done: int = Field(default=0, ge=0)
    failed: int = Field(default=0, ge=0)
    created_at: AwareDatetime
    actor: str = Field(max_length=128)
    # Reconcile mode: counts of what the comparison found (amdOnly, missingInAmd, differing).
    reconcile: dict[str, int] | None = None
    # Planner position: the next page to plan and where its query starts (opaque store cursor).
    plan_page: int = Field(default=0, ge=0)
    plan_cursor: str | None = None
    # Reconcile mode: the appointments the comparison wants synced (the planner's filter).
    wanted: list[str] | None = None

    @property
    def remaining(self) -> int:
        known = self.planned if self.total is None else self.total
        return max(known - self.done - self.failed, 0)

    @property
    def percent(self) -> int:
        if self.total is None:
            return 0
        return 100 if self.total == 0 else min(100, (100 * (self.done + self.failed)) // self.total)

"""The sync job message carried by the SQS FIFO queue.

Level-triggered: a job says only *which* entity needs reconciling and at which EHR version;
the worker loads the latest desired state itself, so stale or repeated jobs are harmless.
Two control kinds ride the same queue: `bulk_plan` (entity = bulk job id, version = the page
to plan) and `pull` (entity = pull id, a manual pull run by the worker).
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from amdsync.amd.lanes import INTERACTIVE, Lane


class SyncJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["appointment", "patient", "bulk_plan", "pull"]
    entity_id: str = Field(min_length=1, max_length=128, alias="entityId")
    version: int = Field(ge=0)
    practice: str = Field(min_length=1, max_length=64)
    # Set when the job belongs to a bulk sync, whose progress it counts toward.
    bulk: str | None = Field(default=None, max_length=64)
    # Set for manual requests, so a person's "sync again" is never eaten by SQS dedup.
    trigger: str | None = Field(default=None, max_length=32)
    # SPEC §9.3: which queue carries it and how its AMD calls are paced. Absent in messages
    # queued before lanes existed: those were interactive.
    lane: Lane = INTERACTIVE

    @property
    def group_id(self) -> str:
        """FIFO message group: serialises all work on one entity."""
        return f"{self.kind}#{self.entity_id}"

    @property
    def dedup_id(self) -> str:
        """FIFO deduplication id: one job per entity version."""
        # A bulk re-run must not be swallowed by SQS's 5-minute dedup window, or its progress
        # would never reach 100 %: the bulk job id is part of the identity.
        suffix = "".join(f"#{part}" for part in (self.bulk, self.trigger) if part)
        return f"{self.kind}#{self.entity_id}#v{self.version}{suffix}"

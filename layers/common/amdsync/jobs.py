"""The sync job message carried by the SQS FIFO queue.

Level-triggered: a job says only *which* entity needs reconciling and at which EHR version;
the worker loads the latest desired state itself, so stale or repeated jobs are harmless.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SyncJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["appointment", "patient"]
    entity_id: str = Field(min_length=1, max_length=128, alias="entityId")
    version: int = Field(ge=0)
    practice: str = Field(min_length=1, max_length=64)

    @property
    def group_id(self) -> str:
        """FIFO message group: serialises all work on one entity."""
        return f"{self.kind}#{self.entity_id}"

    @property
    def dedup_id(self) -> str:
        """FIFO deduplication id: one job per entity version."""
        return f"{self.kind}#{self.entity_id}#v{self.version}"

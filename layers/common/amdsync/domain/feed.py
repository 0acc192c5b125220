"""The change feed: what changed in AdvancedMD, published for the EHR (SPEC §4 `/changes`).

Entries are ordered by a strictly increasing sequence number assigned at append time; the EHR
pages with an opaque cursor and acknowledges by advancing it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from amdsync.domain.appointments import SnapshotValue
from amdsync.domain.base import DomainModel

ChangeKind = Literal[
    "status",
    "time",
    "provider",
    "facility",
    "type",
    "duration",
    "cancelled",
    "charges",
    "unlinked",
]


class ChangeFeedEntry(DomainModel):
    """One AMD-side change. `fields` holds new values in EHR vocabulary (ids, codes, times)."""

    appointment_id: str | None = Field(default=None, max_length=128)
    advanced_md_visit_id: str = Field(alias="advancedMDVisitId", max_length=32)
    kind: ChangeKind
    fields: dict[str, SnapshotValue] = Field(default_factory=dict)
    at: AwareDatetime


class PublishedChange(ChangeFeedEntry):
    """A feed entry as stored and served, with its position in the feed."""

    sequence: int = Field(ge=1)

    @property
    def cursor(self) -> str:
        return str(self.sequence)

"""Sync log entries (operational, 90 days) and audit entries (append-only, 6 years): SPEC §3.

Both carry ids and codes only. `message` is a sanitized, bounded text chosen by our code, never
text copied from AMD (a fault's `extrainfo` can echo credentials) or from the EHR (PHI).
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from amdsync.domain.base import DomainModel, ErrorMessage
from amdsync.domain.errors import SyncErrorCode

EntityType = Literal["patient", "appointment", "charge", "pull", "bulk", "settings", "conflict"]
Direction = Literal["to_amd", "from_amd", "none"]
Outcome = Literal["success", "error", "skipped", "deferred", "conflict"]


class SyncLogEntry(DomainModel):
    id: str = Field(min_length=1, max_length=64)
    at: AwareDatetime
    entity_type: EntityType
    entity_id: str = Field(max_length=128)
    operation: str = Field(max_length=64)
    direction: Direction
    outcome: Outcome
    duration_ms: int = Field(ge=0)
    amd_calls: int = Field(default=0, ge=0)
    error_code: SyncErrorCode | None = None
    message: ErrorMessage | None = None
    correlation_id: str | None = Field(default=None, max_length=128)
    actor: str = Field(default="system", max_length=128)


class AuditEntry(DomainModel):
    """Who did what to which entity, when, with what outcome; human actions add IP/user agent."""

    id: str = Field(min_length=1, max_length=64)
    at: AwareDatetime
    subject: str = Field(max_length=128)
    role: str = Field(max_length=32)
    action: str = Field(max_length=64)
    entity_type: EntityType
    entity_id: str = Field(max_length=128)
    outcome: Outcome
    source_ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=256)
    details: dict[str, str | int | bool | None] = Field(default_factory=dict)

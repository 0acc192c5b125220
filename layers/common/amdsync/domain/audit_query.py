"""What the audit trail's reader is asked: a time range and optional filters (SPEC §9.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AuditQuery:
    start: datetime  # inclusive
    end: datetime  # exclusive
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None  # the subject (who)
    action: str | None = None

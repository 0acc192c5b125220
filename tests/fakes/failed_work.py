"""Failed work and the audit reader in memory, for API tests that need no DynamoDB (the
role matrix); tests of their behaviour use the DynamoDB stores on moto."""

from __future__ import annotations

from typing import Any

from amdsync.domain.audit_query import AuditQuery
from amdsync.domain.journal import AuditEntry
from amdsync.failed_jobs import FailedJob
from tests.fakes.journal import FakeAuditTrail


class FakeFailedWork:
    def __init__(self) -> None:
        self.jobs: dict[str, FailedJob] = {}

    def put(self, failed: FailedJob) -> None:
        self.jobs[failed.job_id] = failed

    def get(self, job_id: str) -> FailedJob | None:
        return self.jobs.get(job_id)

    def page(self, after: str | None, limit: int) -> tuple[list[FailedJob], str | None]:
        ordered = sorted(self.jobs, reverse=True)
        older = [j for j in ordered if after is None or j < after]
        chunk = older[:limit]
        more = len(older) > limit
        return [self.jobs[j] for j in chunk], (chunk[-1] if more else None)

    def remove(self, job_id: str) -> bool:
        return self.jobs.pop(job_id, None) is not None


class FakeAuditLog:
    def __init__(self, trail: FakeAuditTrail) -> None:
        self._trail = trail

    def page(
        self, query: AuditQuery, position: dict[str, Any] | None, limit: int
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        offset = int((position or {}).get("o", 0))
        matches = [
            e
            for e in sorted(self._trail.entries, key=lambda e: e.at, reverse=True)
            if query.start <= e.at < query.end
            and query.entity_type in (None, e.entity_type)
            and query.entity_id in (None, e.entity_id)
            and query.actor in (None, e.subject)
            and query.action in (None, e.action)
        ]
        chunk = matches[offset : offset + limit]
        more = offset + limit < len(matches)
        return chunk, ({"o": offset + limit} if more else None)

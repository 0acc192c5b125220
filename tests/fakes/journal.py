"""Change feed, sync logs and the audit trail: append-only lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from amdsync.domain.aggregates import count_logs
from amdsync.domain.feed import ChangeFeedEntry, PublishedChange
from amdsync.domain.journal import AuditEntry, SyncLogEntry
from tests.fakes.failures import FaultPlan


class FakeChangeFeed:
    def __init__(self) -> None:
        self.entries: list[PublishedChange] = []
        self.faults = FaultPlan()
        self.published_once: dict[str, set[str]] = {}

    def append(self, entries: list[ChangeFeedEntry]) -> list[PublishedChange]:
        self.faults.before("append")
        published = [
            PublishedChange.model_validate({**e.model_dump(), "sequence": self.head() + i + 1})
            for i, e in enumerate(entries)
        ]
        self.entries.extend(published)
        return published

    def append_once(
        self, scope: str, sources: dict[str, list[ChangeFeedEntry]]
    ) -> list[PublishedChange]:
        """Like the DynamoDB feed: a source's entries once per scope, however often replayed."""
        done = self.published_once.setdefault(scope, set())
        entries = [e for key, batch in sources.items() if key not in done for e in batch]
        published = self.append(entries) if entries else []
        done.update(k for k, v in sources.items() if v)
        return published

    def read(self, after: int, limit: int) -> list[PublishedChange]:
        return [e for e in self.entries if e.sequence > after][:limit]

    def head(self) -> int:
        return self.entries[-1].sequence if self.entries else 0

    def for_appointment(self, appointment_id: str) -> list[PublishedChange]:
        return [e for e in self.entries if e.appointment_id == appointment_id]


class FakeSyncLogs:
    def __init__(self) -> None:
        self.entries: list[SyncLogEntry] = []

    def append(self, entry: SyncLogEntry) -> None:
        self.entries.append(entry)

    def between(self, start: datetime, end: datetime) -> list[SyncLogEntry]:
        return self._between(start, end)

    def _between(self, start: datetime, end: datetime) -> list[SyncLogEntry]:
        return [e for e in self.entries if start <= e.at < end]

    def for_entity(self, entity_type: str, entity_id: str) -> list[SyncLogEntry]:
        return [
            e for e in self.entries if e.entity_type == entity_type and e.entity_id == entity_id
        ]

    def counts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        return count_logs(self._between(start, end))

    def page(
        self,
        days: tuple[date, date],
        filters: dict[str, str],
        position: dict[str, Any] | None,
        limit: int,
    ) -> tuple[list[SyncLogEntry], dict[str, Any] | None]:
        start = datetime.combine(days[0], time.min, UTC)
        end = datetime.combine(days[1] + timedelta(days=1), time.min, UTC)
        matching = [
            e
            for e in sorted(self._between(start, end), key=lambda e: e.at, reverse=True)
            if all(e.model_dump(mode="json").get(k) == v for k, v in filters.items())
        ]
        offset = int(position["o"]) if position else 0
        more = offset + limit < len(matching)
        return matching[offset : offset + limit], {"o": offset + limit} if more else None


class FakeAuditTrail:
    """Append-only: there is deliberately no way to change or remove an entry."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

"""Sync logs (per attempt, 90-day TTL) and the audit trail (append-only, kept 6 years)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key

from amdsync.domain.journal import AuditEntry, SyncLogEntry
from amdsync.store.audit_log import DynamoAuditLog

__all__ = ["DynamoAuditLog", "DynamoAuditTrail", "DynamoSyncLogs"]
from amdsync.store import keys
from amdsync.store.audit_keys import audit_entity
from amdsync.store.dynamo import from_dynamo, put_new, query_all, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

LOG_RETENTION = timedelta(days=90)
MAX_LOG_DAYS = 31


class DynamoSyncLogs:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def append(self, entry: SyncLogEntry) -> None:
        sort = f"{keys.utc_iso(entry.at)}#{entry.id}"
        item = {
            "pk": keys.log_day(self._practice, entry.at),
            "sk": sort,
            "gsi1pk": keys.log_entity(self._practice, entry.entity_type, entry.entity_id),
            "gsi1sk": sort,
            "expiresAt": int((entry.at + LOG_RETENTION).timestamp()),
            "data": entry.model_dump(mode="json"),
        }
        self._table.put_item(Item=to_dynamo(item))

    def between(self, start: datetime, end: datetime) -> list[SyncLogEntry]:
        """Entries with start <= at < end, newest first; at most MAX_LOG_DAYS day partitions."""
        days = min((end.date() - start.date()).days + 1, MAX_LOG_DAYS)
        low, high = keys.utc_iso(start), keys.utc_iso(end)
        entries: list[SyncLogEntry] = []
        for offset in range(days):
            day = end - timedelta(days=offset)
            condition = Key("pk").eq(keys.log_day(self._practice, day)) & Key("sk").between(
                low, high
            )
            for item in query_all(self._table, condition, forward=False):
                entry = SyncLogEntry.model_validate(from_dynamo(item["data"]))
                if start <= entry.at < end:
                    entries.append(entry)
        return entries

    def for_entity(self, entity_type: str, entity_id: str) -> list[SyncLogEntry]:
        """An entity's history, newest first."""
        condition = Key("gsi1pk").eq(keys.log_entity(self._practice, entity_type, entity_id))
        items = query_all(self._table, condition, index="gsi1", forward=False)
        return [SyncLogEntry.model_validate(from_dynamo(i["data"])) for i in items]


class DynamoAuditTrail:
    """Append-only: create-only puts; functions' IAM policies allow PutItem and nothing else."""

    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def append(self, entry: AuditEntry) -> None:
        sort = f"{keys.utc_iso(entry.at)}#{entry.id}"
        put_new(
            self._table,
            {
                "pk": keys.audit_month(self._practice, entry.at),
                "sk": sort,
                # One entity's history is a query on gsi1, whatever its age (DynamoAuditLog).
                "gsi1pk": audit_entity(self._practice, entry.entity_type, entry.entity_id),
                "gsi1sk": sort,
                "data": entry.model_dump(mode="json"),
            },
        )

    def month(self, at: datetime) -> list[AuditEntry]:
        condition = Key("pk").eq(keys.audit_month(self._practice, at))
        items = query_all(self._table, condition, forward=False)
        return [AuditEntry.model_validate(from_dynamo(i["data"])) for i in items]

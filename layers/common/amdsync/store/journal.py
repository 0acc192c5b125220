"""Sync logs (per attempt, 90-day TTL) and the audit trail (append-only, kept 6 years)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from amdsync.domain.aggregates import log_counters
from amdsync.domain.concurrency import BadPosition
from amdsync.domain.journal import AuditEntry, SyncLogEntry
from amdsync.store.audit_log import DynamoAuditLog

__all__ = ["DynamoAuditLog", "DynamoAuditTrail", "DynamoSyncLogs"]
from amdsync.store import keys
from amdsync.store.counters import LogCounters
from amdsync.store.dynamo import from_dynamo, put_new, query_all, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

LOG_RETENTION = timedelta(days=90)
MAX_LOG_DAYS = 31
# A page of a sparse filter stops after this many queries and says where to go on.
MAX_PAGE_QUERIES = 12


class DynamoSyncLogs:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice
        self._counters = LogCounters(table, practice, LOG_RETENTION)

    def append(self, entry: SyncLogEntry) -> None:
        """The entry, then its hour's stats counters (a crash between loses one count from
        the stats, never an entry)."""
        sort = keys.timed(entry.at, entry.id)
        item = {
            "pk": keys.log_day(self._practice, entry.at),
            "sk": sort,
            "gsi1pk": keys.log_entity(self._practice, entry.entity_type, entry.entity_id),
            "gsi1sk": sort,
            "expiresAt": int((entry.at + LOG_RETENTION).timestamp()),
            "data": entry.model_dump(mode="json"),
        }
        self._table.put_item(Item=to_dynamo(item))
        self._counters.add(entry.at, log_counters(entry))

    def counts_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """Summed stats counters of the UTC hours in [start, end) (hour-aligned bounds)."""
        return self._counters.between(start, end)

    def page(
        self,
        days: tuple[date, date],
        filters: dict[str, str],
        position: dict[str, Any] | None,
        limit: int,
    ) -> tuple[list[SyncLogEntry], dict[str, Any] | None]:
        """Entries of the UTC days `days` (first, last), newest first, matching `filters`
        (entityType, entityId, outcome), one page from `position`: the day being read and
        DynamoDB's LastEvaluatedKey. Each query asks for no more than the page still needs."""
        first, last = days
        day = _day_of(position) if position else last
        if not first <= day <= last:
            raise BadPosition("day")
        start_key = _start_key(position, self._day_pk(day))
        entries: list[SyncLogEntry] = []
        for _ in range(MAX_PAGE_QUERIES):
            found, start_key = self._query_day(day, filters, start_key, limit - len(entries))
            entries.extend(found)
            if start_key is None:
                day -= timedelta(days=1)
                if day < first:
                    return entries, None
            if len(entries) >= limit:
                break
        return entries, {"d": day.isoformat(), "k": start_key}

    def _day_pk(self, day: date) -> str:
        return keys.log_day(self._practice, datetime.combine(day, datetime.min.time(), UTC))

    def _query_day(
        self,
        day: date,
        filters: dict[str, str],
        start_key: dict[str, Any] | None,
        limit: int,
    ) -> tuple[list[SyncLogEntry], dict[str, Any] | None]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(self._day_pk(day)),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        condition = _filter_of(filters)
        if condition is not None:
            kwargs["FilterExpression"] = condition
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        reply = self._table.query(**kwargs)
        found = [SyncLogEntry.model_validate(from_dynamo(i["data"])) for i in reply["Items"]]
        return found, reply.get("LastEvaluatedKey")

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


_FILTER_FIELDS = {"entityType": "entityType", "entityId": "entityId", "outcome": "outcome"}


def _filter_of(filters: dict[str, str]) -> ConditionBase | None:
    condition: ConditionBase | None = None
    for name, value in sorted(filters.items()):
        part = Attr(f"data.{_FILTER_FIELDS[name]}").eq(value)
        condition = part if condition is None else condition & part
    return condition


def _day_of(position: dict[str, Any]) -> date:
    try:
        return date.fromisoformat(str(position["d"]))
    except (KeyError, ValueError):
        raise BadPosition("day") from None


def _start_key(position: dict[str, Any] | None, partition: str) -> dict[str, Any] | None:
    """The LastEvaluatedKey a position carries, checked to belong to that day's partition."""
    if not position or position.get("k") is None:
        return None
    key = position["k"]
    if (
        not isinstance(key, dict)
        or set(key) != {"pk", "sk"}
        or key["pk"] != partition
        or not isinstance(key["sk"], str)
    ):
        raise BadPosition("key")
    return key


class DynamoAuditTrail:
    """Append-only: create-only puts; functions' IAM policies allow PutItem and nothing else."""

    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def append(self, entry: AuditEntry) -> None:
        sort = keys.timed(entry.at, entry.id)
        put_new(
            self._table,
            {
                "pk": keys.audit_month(self._practice, entry.at),
                "sk": sort,
                # One entity's history is a query on gsi1, whatever its age (DynamoAuditLog).
                "gsi1pk": keys.audit_entity(self._practice, entry.entity_type, entry.entity_id),
                "gsi1sk": sort,
                "data": entry.model_dump(mode="json"),
            },
        )

    def month(self, at: datetime) -> list[AuditEntry]:
        condition = Key("pk").eq(keys.audit_month(self._practice, at))
        items = query_all(self._table, condition, forward=False)
        return [AuditEntry.model_validate(from_dynamo(i["data"])) for i in items]

"""Reading the audit trail, newest first, paged (SPEC §9.4) - always by query, never a scan.

- An entity filter (type and id) queries the entity index (gsi1) over the time range.
- Otherwise the month partitions from the range's end back to its start are queried in turn.
Other filters (actor, action, a type alone) are filter expressions on those queries.

A page position is the month being read plus DynamoDB's LastEvaluatedKey. Each query asks for
no more items than the page still needs, so a LastEvaluatedKey never skips a match. A sparse
filter could make one page read many months: a page stops after MAX_QUERIES queries and says
where to go on, so a request's cost stays bounded (the page may then hold fewer items).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from amdsync.domain.audit_query import AuditQuery
from amdsync.domain.journal import AuditEntry
from amdsync.store import keys
from amdsync.store.dynamo import from_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

MAX_QUERIES = 24
INDEX = "gsi1"
_KEY_FIELDS = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})


class BadPosition(ValueError):
    """A page position this reader did not hand out (or one for another query)."""


class DynamoAuditLog:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def page(
        self, query: AuditQuery, position: dict[str, Any] | None, limit: int
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        if query.entity_type and query.entity_id:
            return self._entity_page(query, position, limit)
        return self._months_page(query, position, limit)

    # ------------------------------------------------------------ one entity (gsi1)

    def _entity_page(
        self, query: AuditQuery, position: dict[str, Any] | None, limit: int
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        partition = keys.audit_entity(
            self._practice, query.entity_type or "", query.entity_id or ""
        )
        start_key = _start_key(position, "gsi1pk", partition)
        condition = Key("gsi1pk").eq(partition) & _sort_range("gsi1sk", query)
        entries: list[AuditEntry] = []
        for _ in range(MAX_QUERIES):
            items, start_key = self._query(
                condition, _filters(query, entity=False), start_key, limit - len(entries), INDEX
            )
            entries.extend(items)
            if start_key is None:
                return entries, None
            if len(entries) >= limit:
                break
        return entries, {"m": None, "k": start_key}

    # ------------------------------------------------------------ month partitions

    def _months_page(
        self, query: AuditQuery, position: dict[str, Any] | None, limit: int
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        months = _months_back(query.start, query.end)
        month = str(position["m"]) if position else months[0]
        if month not in months:
            raise BadPosition("month")
        start_key = _start_key(position, "pk", self._partition(month))
        entries: list[AuditEntry] = []
        index = months.index(month)
        for _ in range(MAX_QUERIES):
            condition = Key("pk").eq(self._partition(months[index])) & _sort_range("sk", query)
            items, start_key = self._query(
                condition, _filters(query, entity=True), start_key, limit - len(entries)
            )
            entries.extend(items)
            if start_key is None:
                index += 1
                if index == len(months):
                    return entries, None
            if len(entries) >= limit:
                break
        return entries, {"m": months[index], "k": start_key}

    def _partition(self, month: str) -> str:
        return keys.audit_month_named(self._practice, month)

    def _query(
        self,
        condition: ConditionBase,
        filters: ConditionBase | None,
        start_key: dict[str, Any] | None,
        limit: int,
        index: str | None = None,
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if filters is not None:
            kwargs["FilterExpression"] = filters
        if index:
            kwargs["IndexName"] = index
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        reply = self._table.query(**kwargs)
        entries = [AuditEntry.model_validate(from_dynamo(i["data"])) for i in reply["Items"]]
        last = reply.get("LastEvaluatedKey")
        return entries, ({k: str(v) for k, v in last.items()} if last else None)


def _sort_range(field: str, query: AuditQuery) -> ConditionBase:
    # Sort keys are "<utc iso>#<id>": every entry at `start` sorts after the bare timestamp
    # (inclusive) and every entry at `end` after it too (exclusive).
    return Key(field).between(keys.utc_iso(query.start), keys.utc_iso(query.end))


def _filters(query: AuditQuery, *, entity: bool) -> ConditionBase | None:
    conditions: list[ConditionBase] = []
    if entity and query.entity_type:
        conditions.append(Attr("data.entityType").eq(query.entity_type))
    if entity and query.entity_id:
        conditions.append(Attr("data.entityId").eq(query.entity_id))
    if query.actor:
        conditions.append(Attr("data.subject").eq(query.actor))
    if query.action:
        conditions.append(Attr("data.action").eq(query.action))
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = combined & condition
    return combined


def _start_key(
    position: dict[str, Any] | None, partition_field: str, partition: str
) -> dict[str, Any] | None:
    key = position.get("k") if position else None
    if key is None:
        return None
    if (
        not isinstance(key, dict)
        or not set(key) <= _KEY_FIELDS
        or not all(isinstance(v, str) for v in key.values())
        or key.get(partition_field) != partition
    ):
        raise BadPosition("key")
    return key


def _months_back(start: datetime, end: datetime) -> list[str]:
    """ "YYYY-MM" of every month the range touches, newest first."""
    first = start.astimezone(UTC)
    last = end.astimezone(UTC)
    year, month = last.year, last.month
    months: list[str] = []
    while (year, month) >= (first.year, first.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months

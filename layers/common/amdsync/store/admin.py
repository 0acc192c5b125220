"""Admin-managed state in the sync table: settings, mappings and conflicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, Key

from amdsync.domain.aggregates import STATUS_PREFIX
from amdsync.domain.concurrency import BadPosition, Versioned
from amdsync.domain.mappings import Mapping, MappingKind
from amdsync.domain.review import ConflictRecord
from amdsync.domain.settings import Settings
from amdsync.store import keys
from amdsync.store.counters import COUNTED, RecordCounters
from amdsync.store.dynamo import from_dynamo, put_versioned, query_all, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

CURRENT = "CURRENT"


class DynamoSettings:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def get(self) -> Versioned[Settings]:
        """The practice's settings; defaults (version 0) until an admin saves some."""
        key = {"pk": keys.settings(self._practice), "sk": CURRENT}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return Versioned(Settings(), 0)
        settings = Settings.model_validate(from_dynamo(item["data"]))
        return Versioned(settings, int(from_dynamo(item["version"])))

    def save(self, settings: Settings, expected_version: int) -> int:
        item = {
            "pk": keys.settings(self._practice),
            "sk": CURRENT,
            "data": settings.model_dump(mode="json"),
        }
        return put_versioned(self._table, item, expected_version or None)


class DynamoMappings:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def get(self, kind: MappingKind, ehr_id: str) -> Mapping | None:
        key = {"pk": keys.mapping(self._practice, kind.value), "sk": ehr_id}
        item = self._table.get_item(Key=key).get("Item")
        return None if item is None else Mapping.model_validate(from_dynamo(item["data"]))

    def put(self, mapping: Mapping) -> None:
        item = {
            "pk": keys.mapping(self._practice, mapping.kind.value),
            "sk": mapping.ehr_id,
            "data": mapping.model_dump(mode="json"),
        }
        self._table.put_item(Item=to_dynamo(item))

    def list(self, kind: MappingKind) -> list[Mapping]:
        condition = Key("pk").eq(keys.mapping(self._practice, kind.value))
        return [
            Mapping.model_validate(from_dynamo(i["data"]))
            for i in query_all(self._table, condition)
        ]


class DynamoConflicts:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice
        self._counters = RecordCounters(table, practice, "CONFLICTS")

    def get(self, conflict_id: str) -> ConflictRecord | None:
        key = {"pk": keys.conflicts(self._practice), "sk": conflict_id}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return None if item is None else ConflictRecord.model_validate(from_dynamo(item["data"]))

    def put(self, conflict: ConflictRecord) -> None:
        """Upsert; the open/resolved counters move from the replaced item's state."""
        item = {
            "pk": keys.conflicts(self._practice),
            "sk": conflict.conflict_id,
            "state": conflict.state,
            "data": conflict.model_dump(mode="json"),
            COUNTED: True,
        }
        old = self._table.put_item(Item=to_dynamo(item), ReturnValues="ALL_OLD").get("Attributes")
        self._counters.move(_state_keys(old), {f"{STATUS_PREFIX}{conflict.state}"}, None)

    def rebuild_counts(self) -> None:
        """Recount every conflict into the counters: an operator's one-off (reads them all)."""
        items = query_all(self._table, Key("pk").eq(keys.conflicts(self._practice)))
        self._counters.rebuild([_state_keys({**i, COUNTED: True}) for i in items], None)

    def open_count(self) -> int:
        return max(0, self._counters.read()[0].get(f"{STATUS_PREFIX}open", 0))

    def page(
        self, state: str | None, position: dict[str, Any] | None, limit: int
    ) -> tuple[list[ConflictRecord], dict[str, Any] | None]:
        """One page (by conflict id) from `position` (DynamoDB's LastEvaluatedKey); a state is
        a filter, so a page may hold fewer than `limit` and still have a next one."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(keys.conflicts(self._practice)),
            "Limit": limit,
        }
        if state is not None:
            kwargs["FilterExpression"] = Attr("state").eq(state)
        if position:
            start = position.get("k")
            if not isinstance(start, dict) or start.get("pk") != keys.conflicts(self._practice):
                raise BadPosition("conflicts")
            kwargs["ExclusiveStartKey"] = start
        reply = self._table.query(**kwargs)
        found = [ConflictRecord.model_validate(from_dynamo(i["data"])) for i in reply["Items"]]
        last = reply.get("LastEvaluatedKey")
        return found, None if last is None else {"k": last}

    def list(self, state: str | None = "open") -> list[ConflictRecord]:
        condition = Key("pk").eq(keys.conflicts(self._practice))
        records = [
            ConflictRecord.model_validate(from_dynamo(i["data"]))
            for i in query_all(self._table, condition)
        ]
        return [r for r in records if state is None or r.state == state]


def _state_keys(item: dict[str, Any] | None) -> set[str] | None:
    if item is None or not item.get(COUNTED):
        return None
    return {f"{STATUS_PREFIX}{item['state']}"}

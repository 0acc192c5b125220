"""The change feed for the EHR: append-only, strictly ordered, paged by cursor.

Each append reads the feed head, then in one transaction moves the head from n to n+k and
writes entries n+1..n+k. A concurrent appender fails the head condition and retries, so
sequence numbers have no gaps and an entry is never visible after a later one — a reader that
advanced its cursor past n can never miss an entry numbered n or below.

`append_once` (the pull) publishes many sources' entries (one AMD visit each) in as few
transactions as fit, each also writing a marker naming the sources it published, under the
caller's scope (a pull window's piece). A replayed piece reads its scope's markers first and
publishes only the sources not yet named, so a crash between publishing and saving never
publishes a change twice; markers expire with the pull window.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from amdsync.domain.feed import ChangeFeedEntry, PublishedChange
from amdsync.store import keys
from amdsync.store.dynamo import from_dynamo, is_condition_failure, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

HEAD = "HEAD"
MAX_ATTEMPTS = 20
# DynamoDB transactions take at most 100 items; one is the head.
MAX_BATCH = 99
# append_once: the head and the marker.
MAX_ONCE_ENTRIES = 98
ONCE_TTL_SECONDS = 2 * 24 * 3600


def _sort_key(sequence: int) -> str:
    return f"SEQ#{sequence:015d}"


class DynamoChangeFeed:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice
        self._client = table.meta.client

    def head(self) -> int:
        key = {"pk": keys.feed(self._practice), "sk": HEAD}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return 0 if item is None else int(from_dynamo(item["sequence"]))

    def append(self, entries: list[ChangeFeedEntry]) -> list[PublishedChange]:
        published: list[PublishedChange] = []
        for start in range(0, len(entries), MAX_BATCH):
            published.extend(self._append_batch(entries[start : start + MAX_BATCH]))
        return published

    def _append_batch(self, entries: list[ChangeFeedEntry]) -> list[PublishedChange]:
        for _ in range(MAX_ATTEMPTS):
            head = self.head()
            batch = [
                PublishedChange.model_validate({**e.model_dump(), "sequence": head + i + 1})
                for i, e in enumerate(entries)
            ]
            try:
                self._client.transact_write_items(TransactItems=self._transaction(head, batch))
            except ClientError as exc:
                if _lost_race(exc):
                    continue
                raise
            return batch
        raise RuntimeError("change feed append kept losing the race for the head")

    def _transaction(self, head: int, batch: list[PublishedChange]) -> list[Any]:
        table = self._table.name
        pk = keys.feed(self._practice)
        head_item = {"pk": pk, "sk": HEAD, "sequence": head + len(batch)}
        condition = "attribute_not_exists(pk)" if head == 0 else "#s = :head"
        # The resource's client takes plain Python values (boto3 serialises them).
        head_put: dict[str, Any] = {
            "TableName": table,
            "Item": to_dynamo(head_item),
            "ConditionExpression": condition,
        }
        if head:
            head_put["ExpressionAttributeNames"] = {"#s": "sequence"}
            head_put["ExpressionAttributeValues"] = {":head": head}
        puts: list[Any] = [{"Put": head_put}]
        for change in batch:
            item = {
                "pk": pk,
                "sk": _sort_key(change.sequence),
                "data": change.model_dump(mode="json"),
            }
            puts.append({"Put": {"TableName": table, "Item": to_dynamo(item)}})
        return puts

    def append_once(
        self, scope: str, sources: dict[str, list[ChangeFeedEntry]]
    ) -> list[PublishedChange]:
        """Each source's entries exactly once per `scope`, however often this is replayed."""
        published: list[PublishedChange] = []
        done, parts = self._markers(scope)
        head: int | None = None  # known after our own transaction; read again after a race
        for _ in range(MAX_ATTEMPTS + len(sources)):
            pending = {k: v for k, v in sources.items() if v and k not in done}
            if not pending:
                return published
            pack = _first_pack(pending)
            entries = [e for key in pack for e in pending[key]]
            head = self.head() if head is None else head
            batch = [
                PublishedChange.model_validate({**e.model_dump(), "sequence": head + i + 1})
                for i, e in enumerate(entries)
            ]
            marker = self._marker(scope, parts, pack)
            try:
                self._client.transact_write_items(
                    TransactItems=[*self._transaction(head, batch), marker]
                )
            except ClientError as exc:
                if not _lost_race(exc):
                    raise
                # Another appender moved the head, or another run wrote this marker: re-read.
                done, parts = self._markers(scope)
                head = None
                continue
            published.extend(batch)
            done |= set(pack)
            parts += 1
            head += len(batch)
        raise RuntimeError("change feed append kept losing the race for the head")

    def _markers(self, scope: str) -> tuple[set[str], int]:
        """(sources already published under `scope`, how many markers it has)."""
        condition = Key("pk").eq(self._once_pk()) & Key("sk").begins_with(f"{scope}#")
        items = self._table.query(KeyConditionExpression=condition, ConsistentRead=True)["Items"]
        done = {str(source) for item in items for source in _strings(item.get("sources"))}
        return done, len(items)

    def _marker(self, scope: str, index: int, sources: list[str]) -> Any:
        item = {
            "pk": self._once_pk(),
            "sk": f"{scope}#{index:04d}",
            "sources": sources,
            "expiresAt": int(time.time()) + ONCE_TTL_SECONDS,
        }
        return {
            "Put": {
                "TableName": self._table.name,
                "Item": to_dynamo(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _once_pk(self) -> str:
        return f"{keys.feed(self._practice)}#ONCE"

    def read(self, after: int, limit: int) -> list[PublishedChange]:
        """Up to `limit` entries with sequence > `after`, oldest first."""
        condition = Key("pk").eq(keys.feed(self._practice)) & Key("sk").between(
            _sort_key(after + 1), _sort_key(10**15 - 1)
        )
        page = self._table.query(KeyConditionExpression=condition, Limit=limit)
        return [PublishedChange.model_validate(from_dynamo(i["data"])) for i in page["Items"]]


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _first_pack(pending: dict[str, list[ChangeFeedEntry]]) -> list[str]:
    """The first sources (in order) whose entries fit one transaction; a source's entries are
    never split across two."""
    pack: list[str] = []
    size = 0
    for key, entries in pending.items():
        if pack and size + len(entries) > MAX_ONCE_ENTRIES:
            break
        pack.append(key)
        size += len(entries)
    return pack


def _lost_race(exc: ClientError) -> bool:
    """Only a failed head condition means another appender won; anything else is an error."""
    if not is_condition_failure(exc):
        return False
    reasons = exc.response.get("CancellationReasons") or [{"Code": "ConditionalCheckFailed"}]
    return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)

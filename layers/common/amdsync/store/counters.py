"""Counter items the stats and the dashboard read instead of scanning (domain/aggregates.py).

- Sync logs: one item per practice and UTC hour in the logs table (`{practice}#STATS`,
  `HOUR#2026-12-05T13`), ADDed to when an entry is written; expires with the logs.
- Records: one item per practice and kind in the sync table (`{practice}#COUNTS`,
  `APPOINTMENTS|PATIENTS`), moved from a record's old keys to its new ones on every save. A record
  saved before these counters existed carries no `counted` flag, so its first save only adds
  (nothing is taken away that was never counted); `rebuild` recounts from the records (an
  operator's one-off after deploying, never a request path).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from amdsync.domain.aggregates import hour_of, record_delta
from amdsync.store import keys
from amdsync.store.dynamo import from_dynamo, is_condition_failure, query_all, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

COUNTED = "counted"
LAST_SYNCED = "lastSynced"


def add_counts(table: Table, key: dict[str, str], counts: dict[str, int], **extra: Any) -> None:
    """One UpdateItem ADDing every non-zero count (and SETting `extra` attributes)."""
    counts = {k: v for k, v in counts.items() if v}
    if not counts and not extra:
        return
    names = {f"#a{i}": name for i, name in enumerate(counts)}
    values: dict[str, Any] = {f":a{i}": value for i, value in enumerate(counts.values())}
    parts = []
    if counts:
        parts.append("ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(counts))))
    if extra:
        names.update({f"#s{i}": name for i, name in enumerate(extra)})
        values.update({f":s{i}": value for i, value in enumerate(extra.values())})
        parts.append("SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(extra))))
    table.update_item(
        Key=key,
        UpdateExpression=" ".join(parts),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=to_dynamo(values),
    )


def numbers_of(item: dict[str, Any]) -> dict[str, int]:
    return {
        k: int(from_dynamo(v))
        for k, v in item.items()
        if k not in ("pk", "sk", "expiresAt") and not isinstance(from_dynamo(v), str)
    }


class LogCounters:
    """Hourly sync-log counters (logs table)."""

    def __init__(self, table: Table, practice: str, retention: timedelta) -> None:
        self._table = table
        self._pk = keys.log_stats(practice)
        self._retention = retention

    def add(self, at: datetime, counts: dict[str, int]) -> None:
        expires = int((at + self._retention).timestamp())
        key = {"pk": self._pk, "sk": f"HOUR#{hour_of(at)}"}
        add_counts(self._table, key, counts, expiresAt=expires)

    def between(self, start: datetime, end: datetime) -> dict[str, int]:
        """The summed counters of the hours in [start, end) (hour-aligned bounds)."""
        last = end - timedelta(microseconds=1)
        condition = Key("pk").eq(self._pk) & Key("sk").between(
            f"HOUR#{hour_of(start)}", f"HOUR#{hour_of(last)}"
        )
        total: dict[str, int] = {}
        for item in query_all(self._table, condition):
            for name, value in numbers_of(item).items():
                total[name] = total.get(name, 0) + value
        return total


class RecordCounters:
    """Dashboard counters of one kind of record (sync table)."""

    def __init__(self, table: Table, practice: str, kind: str) -> None:
        self._table = table
        self._key = {"pk": keys.record_counts(practice), "sk": kind}

    def move(self, old: set[str] | None, new: set[str], synced_at: str | None) -> None:
        """`old` None: the record was not counted before (new, or saved before counters)."""
        delta = {k: v for k, v in record_delta(old or set(), new).items() if v}
        if delta and synced_at and self._add_with_latest(delta, synced_at):
            return
        add_counts(self._table, self._key, delta)
        if synced_at:
            self._latest(synced_at)

    def _add_with_latest(self, delta: dict[str, int], synced_at: str) -> bool:
        """The counts and the newest sync time in one update (a sync's usual save: one request
        instead of two). False when a newer time is stored: nothing was written then, so the
        caller adds the counts alone."""
        names = {f"#a{i}": name for i, name in enumerate(delta)}
        values: dict[str, Any] = {f":a{i}": value for i, value in enumerate(delta.values())}
        added = ", ".join(f"#a{i} :a{i}" for i in range(len(delta)))
        try:
            self._table.update_item(
                Key=self._key,
                UpdateExpression=f"ADD {added} SET #l = :t",
                ConditionExpression="attribute_not_exists(#l) OR #l < :t",
                ExpressionAttributeNames={**names, "#l": LAST_SYNCED},
                ExpressionAttributeValues=to_dynamo({**values, ":t": synced_at}),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            return False
        return True

    def move_all(self, moves: list[tuple[set[str] | None, set[str], str | None]]) -> None:
        """Many `move`s as one ADD and at most one newest-sync update."""
        total: dict[str, int] = {}
        for old, new, _ in moves:
            for name, value in record_delta(old or set(), new).items():
                total[name] = total.get(name, 0) + value
        add_counts(self._table, self._key, total)
        synced = [at for _, _, at in moves if at]
        if synced:
            self._latest(max(synced))

    def _latest(self, synced_at: str) -> None:
        """Keep the newest sync time (ISO UTC strings compare as times)."""
        try:
            self._table.update_item(
                Key=self._key,
                UpdateExpression="SET #l = :t",
                ConditionExpression="attribute_not_exists(#l) OR #l < :t",
                ExpressionAttributeNames={"#l": LAST_SYNCED},
                ExpressionAttributeValues={":t": synced_at},
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise

    def read(self) -> tuple[dict[str, int], str | None]:
        item = self._table.get_item(Key=self._key, ConsistentRead=True).get("Item") or {}
        synced = item.get(LAST_SYNCED)
        return numbers_of(item), None if synced is None else str(synced)

    def rebuild(self, cards: list[set[str] | None], synced_at: str | None) -> None:
        """Replace the counters with a recount of `cards` (one set of keys per record)."""
        totals: dict[str, int] = {}
        for card in cards:
            for name in card or ():
                totals[name] = totals.get(name, 0) + 1
        item: dict[str, Any] = {**self._key, **totals}
        if synced_at:
            item[LAST_SYNCED] = synced_at
        self._table.put_item(Item=to_dynamo(item))

"""DynamoDB lookup cache (cache table, TTL `expiresAt`).

Implements `amdsync.amd.ports.LookupCache` structurally. Rows are stored as one JSON string so
numbers stay plain (no Decimal) and an item stays well under 400 KB for lookup-sized lists.
TTL deletion is lazy (and absent in moto), so reads check `expiresAt` themselves.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from amdsync.store.amd_keys import amd_pk, epoch

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def lookup_sk(kind: str) -> str:
    return f"LOOKUP#{kind}"


class DynamoLookupCache:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, scope: str, kind: str, now: datetime) -> list[dict[str, Any]] | None:
        item = self._table.get_item(Key={"pk": amd_pk(scope), "sk": lookup_sk(kind)}).get("Item")
        if not item or int(str(item.get("expiresAt", 0))) <= epoch(now):
            return None
        rows = json.loads(str(item["rows"]))
        return rows if isinstance(rows, list) else None

    def put(self, scope: str, kind: str, rows: list[dict[str, Any]], expires_at: datetime) -> None:
        self._table.put_item(
            Item={
                "pk": amd_pk(scope),
                "sk": lookup_sk(kind),
                "rows": json.dumps(rows, separators=(",", ":")),
                "expiresAt": epoch(expires_at),
            }
        )

    def invalidate(self, scope: str, kind: str) -> None:
        self._table.delete_item(Key={"pk": amd_pk(scope), "sk": lookup_sk(kind)})

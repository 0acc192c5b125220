"""A pull's stored change window and checkpoint, and manual pull requests (control table).

The window's visits are AMD ids, local times and status codes (no demographics), kept as JSON
pieces of at most a few hundred visits each, far below DynamoDB's 400 KB item limit; they expire
after a day in case a window is abandoned. A window AMD answered with ids only also keeps those
ids (≤ 500 per item) and what each resubmission returned, until the window is stored in pieces.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from amdsync.domain.pulls import PullCheckpoint, PullRequest
from amdsync.store import keys
from amdsync.store.dynamo import from_dynamo, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

CHECKPOINT = "CHECKPOINT"
# An overflow window's parts (PROTOCOL §3.14): its ids per resubmission, the visits each returned.
IDS = "ids#"
READ = "read#"
WINDOW_TTL_SECONDS = 24 * 3600
REQUEST_TTL_SECONDS = 30 * 24 * 3600


def _expiry(seconds: int) -> int:
    return int(time.time()) + seconds


class DynamoPullWindows:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def checkpoint(self) -> PullCheckpoint | None:
        key = {"pk": keys.control(self._practice, "PULL"), "sk": CHECKPOINT}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return PullCheckpoint.model_validate_json(str(item["data"]))

    def store_window(self, checkpoint: PullCheckpoint, chunks: list[list[dict[str, Any]]]) -> None:
        with self._table.batch_writer() as batch:
            for index, visits in enumerate(chunks):
                batch.put_item(
                    Item={
                        **self._chunk_key(checkpoint.window_id, index),
                        "visits": json.dumps(visits),
                        "expiresAt": _expiry(WINDOW_TTL_SECONDS),
                    }
                )
        self.save_checkpoint(checkpoint)

    def chunk(self, window_id: str, index: int) -> list[dict[str, Any]]:
        visits: list[dict[str, Any]] = self._part(window_id, index)
        return visits

    def store_ids(self, checkpoint: PullCheckpoint, chunks: list[list[str]]) -> None:
        with self._table.batch_writer() as batch:
            for index, ids in enumerate(chunks):
                batch.put_item(Item=self._part_item(checkpoint.window_id, index, ids, IDS))
        self.save_checkpoint(checkpoint)

    def ids(self, window_id: str, index: int) -> list[str]:
        ids: list[str] = self._part(window_id, index, IDS)
        return ids

    def store_read(self, window_id: str, index: int, visits: list[dict[str, Any]]) -> None:
        self._table.put_item(Item=self._part_item(window_id, index, visits, READ))

    def read(self, window_id: str, index: int) -> list[dict[str, Any]]:
        visits: list[dict[str, Any]] = self._part(window_id, index, READ)
        return visits

    def _part(self, window_id: str, index: int, kind: str = "") -> Any:
        key = self._chunk_key(window_id, index, kind)
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            raise LookupError(f"pull window {window_id} part {kind}{index} is missing")
        return json.loads(str(item["visits"]))

    def _part_item(self, window_id: str, index: int, values: list[Any], kind: str) -> Any:
        return {
            **self._chunk_key(window_id, index, kind),
            "visits": json.dumps(values),
            "expiresAt": _expiry(WINDOW_TTL_SECONDS),
        }

    def save_checkpoint(self, checkpoint: PullCheckpoint) -> None:
        self._table.put_item(
            Item={
                "pk": keys.control(self._practice, "PULL"),
                "sk": CHECKPOINT,
                "data": checkpoint.model_dump_json(),
                "expiresAt": _expiry(WINDOW_TTL_SECONDS),
            }
        )

    def clear(self, checkpoint: PullCheckpoint) -> None:
        """The checkpoint first: pieces without one are never read (and expire)."""
        self._table.delete_item(Key={"pk": keys.control(self._practice, "PULL"), "sk": CHECKPOINT})
        window = checkpoint.window_id
        with self._table.batch_writer() as batch:
            for index in range(checkpoint.chunks):
                batch.delete_item(Key=self._chunk_key(window, index))
            for index in range(checkpoint.id_chunks):
                batch.delete_item(Key=self._chunk_key(window, index, IDS))
                batch.delete_item(Key=self._chunk_key(window, index, READ))

    def _chunk_key(self, window_id: str, index: int, kind: str = "") -> dict[str, str]:
        return {
            "pk": keys.control(self._practice, "PULLWINDOW"),
            "sk": f"{window_id}#{kind}{index:06d}",
        }


class DynamoPullRequests:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def create(self, request: PullRequest) -> None:
        self.save(request)

    def get(self, pull_id: str) -> PullRequest | None:
        key = {"pk": keys.control(self._practice, "PULLREQ"), "sk": pull_id}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return PullRequest.model_validate(from_dynamo(item["data"]))

    def save(self, request: PullRequest) -> None:
        self._table.put_item(
            Item={
                "pk": keys.control(self._practice, "PULLREQ"),
                "sk": request.pull_id,
                "data": to_dynamo(request.model_dump(mode="json")),
                "expiresAt": _expiry(REQUEST_TTL_SECONDS),
            }
        )

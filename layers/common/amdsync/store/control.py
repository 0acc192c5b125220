"""Control state: the pull watermark, leases that keep two runs from overlapping, bulk jobs."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from amdsync.domain.bulk import BulkJob
from amdsync.domain.concurrency import StaleWriteError, Versioned
from amdsync.domain.pulls import CompletedPull
from amdsync.store import keys
from amdsync.store.dynamo import (
    from_dynamo,
    is_condition_failure,
    put_versioned,
    query_all,
    to_dynamo,
)
from amdsync.store.lease import acquire_lease, release_lease

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

WATERMARK = "WATERMARK"
# A lease item lingers this long past its end before DynamoDB's TTL removes it.
_TIDY = timedelta(hours=1)
# Plan markers outlive any bulk job's run (the queue keeps messages 14 days).
PLAN_MARKER_TTL_SECONDS = 30 * 24 * 3600


class DynamoWatermark:
    """AMD's own `servertime` from the last fully stored pull, kept verbatim (PROTOCOL §3.14)."""

    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def get(self) -> Versioned[str | None]:
        key = {"pk": keys.control(self._practice, "PULL"), "sk": WATERMARK}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return Versioned(None, 0)
        return Versioned(str(item["servertime"]), int(from_dynamo(item["version"])))

    def succeeded_at(self) -> datetime | None:
        """When the last pull that advanced the watermark finished."""
        item = self._item()
        if item is None or "succeededAt" not in item:
            return None
        return datetime.fromisoformat(str(item["succeededAt"]))

    def last_completed(self) -> CompletedPull | None:
        """The last pull that advanced the watermark (None before the first, or if it was
        written before pulls recorded themselves)."""
        item = self._item()
        if item is None or "completed" not in item:
            return None
        return CompletedPull.model_validate_json(str(item["completed"]))

    def advance(
        self,
        servertime: str,
        succeeded_at: datetime,
        expected_version: int,
        completed: CompletedPull | None = None,
    ) -> int:
        item = {
            "pk": keys.control(self._practice, "PULL"),
            "sk": WATERMARK,
            "servertime": servertime,
            "succeededAt": succeeded_at.isoformat(),
        }
        if completed is not None:
            item["completed"] = completed.model_dump_json()
        return put_versioned(self._table, item, expected_version or None)

    def _item(self) -> dict[str, Any] | None:
        key = {"pk": keys.control(self._practice, "PULL"), "sk": WATERMARK}
        item: dict[str, Any] | None = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return item


class DynamoLeases:
    """Named, time-bounded leases: a crashed holder's lease simply expires."""

    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def acquire(self, name: str, owner: str, now: datetime, until: datetime) -> bool:
        return acquire_lease(self._table, self._key(name), owner, now, until, tidy_after=_TIDY)

    def release(self, name: str, owner: str) -> None:
        release_lease(self._table, self._key(name), owner)

    def _key(self, name: str) -> dict[str, str]:
        return {"pk": keys.control(self._practice, "LEASE"), "sk": name}


class DynamoBulkJobs:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def create(self, job: BulkJob) -> None:
        self._write(job, None)

    def get(self, job_id: str) -> Versioned[BulkJob] | None:
        key = {"pk": keys.control(self._practice, "BULK"), "sk": job_id}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return Versioned(
            BulkJob.model_validate(from_dynamo(item["data"])), int(from_dynamo(item["version"]))
        )

    def save(self, job: BulkJob, expected_version: int) -> int:
        return self._write(job, expected_version)

    def count(self, job_id: str, entity_id: str, *, done: int = 0, failed: int = 0) -> None:
        """Progress for one entity of the job, counted once however often its message is
        delivered: a create-only marker and the increment commit together or not at all."""
        table = self._table.name
        marker = {"pk": keys.control(self._practice, f"BULK#{job_id}"), "sk": entity_id}
        try:
            self._table.meta.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": marker,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"pk": keys.control(self._practice, "BULK"), "sk": job_id},
                            "UpdateExpression": "ADD progressDone :d, progressFailed :f",
                            "ExpressionAttributeValues": {":d": done, ":f": failed},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise  # a marker already there: this entity was counted by an earlier delivery

    def progress(self, job_id: str) -> tuple[int, int]:
        key = {"pk": keys.control(self._practice, "BULK"), "sk": job_id}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
        return int(from_dynamo(item.get("progressDone", 0))), int(
            from_dynamo(item.get("progressFailed", 0))
        )

    def plan(self, job_id: str, entity_ids: list[str]) -> list[str]:
        """A create-only marker per entity; one still `planned` (an earlier run stopped before
        confirming it queued) is handed out again, one `queued` never is. A first run writes
        the batch (≤ 50) in one transaction; a re-run falls back to one write per entity."""
        if not entity_ids:
            return []
        try:
            puts: list[Any] = [
                {"Put": {**self._plan_put(job_id, entity_id), "TableName": self._table.name}}
                for entity_id in entity_ids
            ]
            self._table.meta.client.transact_write_items(TransactItems=puts)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
        else:
            return list(entity_ids)
        return [e for e in entity_ids if self._plan_one(job_id, e)]

    def _plan_one(self, job_id: str, entity_id: str) -> bool:
        try:
            self._table.put_item(**self._plan_put(job_id, entity_id))
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            return False  # queued by an earlier run of this page
        return True

    def _plan_put(self, job_id: str, entity_id: str) -> dict[str, Any]:
        return {
            "Item": {
                **self._plan_key(job_id, entity_id),
                "state": "planned",
                "expiresAt": self._plan_expiry(),
            },
            "ConditionExpression": "attribute_not_exists(pk) OR #s = :planned",
            "ExpressionAttributeNames": {"#s": "state"},
            "ExpressionAttributeValues": {":planned": "planned"},
        }

    def confirm_queued(self, job_id: str, entity_ids: list[str]) -> None:
        with self._table.batch_writer() as batch:
            for entity_id in entity_ids:
                batch.put_item(
                    Item={
                        **self._plan_key(job_id, entity_id),
                        "state": "queued",
                        "expiresAt": self._plan_expiry(),
                    }
                )

    def planned_count(self, job_id: str) -> int:
        """A COUNT query over the job's own markers, page by page."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(self._plan_pk(job_id)),
            "Select": "COUNT",
        }
        total = 0
        while True:
            page = self._table.query(**kwargs)
            total += int(page.get("Count", 0))
            last = page.get("LastEvaluatedKey")
            if not last:
                return total
            kwargs["ExclusiveStartKey"] = last

    def _plan_pk(self, job_id: str) -> str:
        return keys.control(self._practice, f"BULKPLAN#{job_id}")

    def _plan_key(self, job_id: str, entity_id: str) -> dict[str, str]:
        return {"pk": self._plan_pk(job_id), "sk": entity_id}

    @staticmethod
    def _plan_expiry() -> int:
        return int(time.time()) + PLAN_MARKER_TTL_SECONDS

    def list(self) -> list[BulkJob]:
        condition = Key("pk").eq(keys.control(self._practice, "BULK"))
        return [
            BulkJob.model_validate(from_dynamo(i["data"]))
            for i in query_all(self._table, condition)
        ]

    def _write(self, job: BulkJob, expected_version: int | None) -> int:
        key = {"pk": keys.control(self._practice, "BULK"), "sk": job.job_id}
        data = to_dynamo(job.model_dump(mode="json"))
        new_version = (expected_version or 0) + 1
        # An update, not a put, so the progress counters other workers ADD are kept.
        condition = "attribute_not_exists(pk)" if expected_version is None else "version = :v"
        values: dict[str, Any] = {":data": data, ":nv": new_version}
        if expected_version is not None:
            values[":v"] = expected_version
        try:
            self._table.update_item(
                Key=key,
                UpdateExpression="SET #d = :data, version = :nv",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#d": "data"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise StaleWriteError(job.job_id) from None
            raise
        return new_version

"""Dead-lettered jobs in the sync-state table, one item per failure, newest first by key.

Why DynamoDB and not the SQS DLQ itself: a queue cannot be listed or paged, and taking one
message out by id means receiving everything in front of it (docs/decisions.md)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from amdsync.failed_jobs import FailedJob
from amdsync.jobs import SyncJob
from amdsync.store import keys
from amdsync.store.dynamo import from_dynamo, is_condition_failure, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class Clock(Protocol):
    def now(self) -> datetime: ...


class DynamoFailedWork:
    def __init__(self, table: Table, practice: str, clock: Clock) -> None:
        self._table = table
        self._practice = practice
        self._clock = clock

    def send(self, job: SyncJob, reason: str, attempts: int = 0) -> None:
        """The worker's dead-letter port: keep the job for a person to retry or discard."""
        self.put(FailedJob.from_job(job, reason, attempts, self._clock.now()))

    def put(self, failed: FailedJob) -> None:
        item = {
            "pk": keys.failed(self._practice),
            "sk": failed.job_id,
            "data": failed.model_dump(mode="json"),
        }
        self._table.put_item(Item=to_dynamo(item))

    def get(self, job_id: str) -> FailedJob | None:
        key = {"pk": keys.failed(self._practice), "sk": job_id}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return None if item is None else FailedJob.model_validate(from_dynamo(item["data"]))

    def page(self, after: str | None, limit: int) -> tuple[list[FailedJob], str | None]:
        """Up to `limit` jobs older than job id `after`, newest first; and the id to go on from."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(keys.failed(self._practice)),
            "ScanIndexForward": False,
            "Limit": limit,
            "ConsistentRead": True,
        }
        if after:
            kwargs["ExclusiveStartKey"] = {"pk": keys.failed(self._practice), "sk": after}
        reply = self._table.query(**kwargs)
        jobs = [FailedJob.model_validate(from_dynamo(i["data"])) for i in reply.get("Items", [])]
        last = reply.get("LastEvaluatedKey")
        return jobs, (str(last["sk"]) if last else None)

    def remove(self, job_id: str) -> bool:
        """Delete one; False when it was already gone (another person retried it first)."""
        try:
            self._table.delete_item(
                Key={"pk": keys.failed(self._practice), "sk": job_id},
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

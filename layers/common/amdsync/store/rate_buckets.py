"""DynamoDB rate buckets (control table): one counter item per office key, budget and minute.

Implements `amdsync.amd.ports.RateBuckets` structurally. Taking budget is a single conditional
update, so concurrent Lambdas can never push a window past its limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from amdsync.store.amd_keys import epoch, office_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def rate_sk(bucket: str) -> str:
    return f"RATE#{bucket}"


def _conditional_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class DynamoRateBuckets:
    def __init__(self, table: Table) -> None:
        self._table = table

    def try_take(
        self, scope: str, bucket: str, *, cost: int, limit: int, expires_at: datetime
    ) -> bool:
        if cost > limit:
            return False
        try:
            self._table.update_item(
                Key={"pk": office_pk(scope), "sk": rate_sk(bucket)},
                UpdateExpression="SET used = if_not_exists(used, :zero) + :cost, expiresAt = :exp",
                ConditionExpression="attribute_not_exists(used) OR used <= :max",
                ExpressionAttributeValues={
                    ":zero": 0,
                    ":cost": cost,
                    ":max": limit - cost,
                    ":exp": epoch(expires_at),
                },
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def give_back(self, scope: str, bucket: str, *, cost: int) -> None:
        try:
            self._table.update_item(
                Key={"pk": office_pk(scope), "sk": rate_sk(bucket)},
                UpdateExpression="SET used = used - :cost",
                ConditionExpression="used >= :cost",
                ExpressionAttributeValues={":cost": cost},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    def exhaust(self, scope: str, bucket: str, *, limit: int, expires_at: datetime) -> None:
        try:
            self._table.update_item(
                Key={"pk": office_pk(scope), "sk": rate_sk(bucket)},
                UpdateExpression="SET used = :limit, expiresAt = :exp",
                ConditionExpression="attribute_not_exists(used) OR used < :limit",
                ExpressionAttributeValues={":limit": limit, ":exp": epoch(expires_at)},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    def used(self, scope: str, bucket: str) -> int:
        item = self._table.get_item(
            Key={"pk": office_pk(scope), "sk": rate_sk(bucket)}, ConsistentRead=True
        ).get("Item")
        return int(str(item["used"])) if item and "used" in item else 0

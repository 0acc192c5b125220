"""Small helpers shared by the DynamoDB repositories: type conversion and conditional writes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from amdsync.domain.concurrency import AlreadyExistsError, StaleWriteError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import DynamoDBServiceResource, Table

# DynamoDB's BatchGetItem takes at most 100 keys.
BATCH_GET = 100


def to_dynamo(value: Any) -> Any:
    """DynamoDB's resource API refuses floats; it wants Decimal (and stores ints exactly)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """Decimals back to int where integral, else float; recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value


def is_condition_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def put_new(table: Table, item: dict[str, Any]) -> None:
    """Create-only put: AlreadyExistsError if an item with that key exists."""
    try:
        table.put_item(Item=to_dynamo(item), ConditionExpression="attribute_not_exists(pk)")
    except ClientError as exc:
        if is_condition_failure(exc):
            raise AlreadyExistsError(item["pk"]) from None
        raise


def put_versioned(table: Table, item: dict[str, Any], expected_version: int | None) -> int:
    """Write `item` if the stored version is still `expected_version` (None = must not exist).

    Returns the new version. Two writers that read the same version cannot both win.
    """
    new_version = (expected_version or 0) + 1
    body = to_dynamo({**item, "version": new_version})
    try:
        if expected_version is None:
            table.put_item(Item=body, ConditionExpression="attribute_not_exists(pk)")
        else:
            table.put_item(
                Item=body,
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={":expected": expected_version},
            )
    except ClientError as exc:
        if is_condition_failure(exc):
            raise StaleWriteError(item["pk"]) from None
        raise
    return new_version


def put_versioned_old(
    table: Table, item: dict[str, Any], expected_version: int | None
) -> tuple[int, dict[str, Any] | None]:
    """`put_versioned` that also returns the item it replaced (None when it created one), for
    stores that keep counters of what they hold (no extra read: the put returns it)."""
    new_version = (expected_version or 0) + 1
    kwargs: dict[str, Any] = {
        "Item": to_dynamo({**item, "version": new_version}),
        "ReturnValues": "ALL_OLD",
    }
    if expected_version is None:
        kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        kwargs["ConditionExpression"] = "version = :expected"
        kwargs["ExpressionAttributeValues"] = {":expected": expected_version}
    try:
        reply = table.put_item(**kwargs)
    except ClientError as exc:
        if is_condition_failure(exc):
            raise StaleWriteError(item["pk"]) from None
        raise
    return new_version, reply.get("Attributes")


def query_all(
    table: Table, condition: Any, *, index: str | None = None, forward: bool = True
) -> list[dict[str, Any]]:
    """Every item matching a key condition, following pagination."""
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": forward}
    if index:
        kwargs["IndexName"] = index
    items: list[dict[str, Any]] = []
    while True:
        page = table.query(**kwargs)
        items.extend(page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        if not last:
            return items
        kwargs["ExclusiveStartKey"] = last


def query_page(
    table: Table, condition: Any, limit: int, cursor: str | None, *, index: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a key-condition query from `cursor` (DynamoDB's LastEvaluatedKey as JSON;
    string keys only), and the next page's cursor (None at the end)."""
    kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "Limit": limit}
    if index:
        kwargs["IndexName"] = index
    if cursor:
        kwargs["ExclusiveStartKey"] = json.loads(cursor)
    page = table.query(**kwargs)
    last = page.get("LastEvaluatedKey")
    return page.get("Items", []), json.dumps(last, sort_keys=True) if last else None


def batch_get(
    table: Table, wanted: list[dict[str, str]], projection: str | None = None
) -> list[dict[str, Any]]:
    """These items (those that exist), by BatchGetItem in pages of BATCH_GET keys, consistent,
    retrying unprocessed keys. Order is not kept."""
    found: list[dict[str, Any]] = []
    client = table.meta.client
    for start in range(0, len(wanted), BATCH_GET):
        page: dict[str, Any] = {"Keys": wanted[start : start + BATCH_GET], "ConsistentRead": True}
        if projection:
            page["ProjectionExpression"] = projection
        request: dict[str, Any] = {table.name: page}
        while request:
            reply = client.batch_get_item(RequestItems=request)
            found.extend(reply["Responses"].get(table.name, []))
            request = reply.get("UnprocessedKeys") or {}
    return found


def table_of(resource: DynamoDBServiceResource, name: str) -> Table:
    return resource.Table(name)

"""The one time-bounded lease: a conditional put that succeeds when the item is absent, expired
or already ours, and a release that deletes only our own. A crashed holder's lease expires on
its own; the TTL attribute only tidies the item away later.

Used by the named control-table leases (pull, weekly reconcile, ...) and the AMD login lease
of the token cache; each keeps the attribute name its stored items already use."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from amdsync.store.amd_keys import epoch
from amdsync.store.dynamo import is_condition_failure

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def acquire_lease(
    table: Table,
    key: dict[str, str],
    holder: str,
    now: datetime,
    until: datetime,
    *,
    tidy_after: timedelta,
    until_attribute: str = "until",
) -> bool:
    """True when `holder` now holds the lease at `key` until `until`."""
    try:
        table.put_item(
            Item={
                **key,
                "owner": holder,
                until_attribute: epoch(until),
                "expiresAt": epoch(until + tidy_after),
            },
            ConditionExpression="attribute_not_exists(pk) OR #u < :now OR #o = :owner",
            ExpressionAttributeNames={"#u": until_attribute, "#o": "owner"},
            ExpressionAttributeValues={":now": epoch(now), ":owner": holder},
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def release_lease(table: Table, key: dict[str, str], holder: str) -> None:
    """Let the lease go if `holder` still holds it (someone else's is left alone)."""
    try:
        table.delete_item(
            Key=key,
            ConditionExpression="#o = :owner",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":owner": holder},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise

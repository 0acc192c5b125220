"""DynamoDB token cache (control table) with a conditional-write login lease.

Implements `amdsync.amd.ports.TokenCache` structurally. One item per token owner (login URL +
office key + username, keyed by `token_cache_key`) holds the token (`sk="TOKEN"`); the lease is
a sibling item (`sk="TOKEN#LEASE"`) so taking it never rewrites the token. The table has SSE on
(template); the token is never logged or returned by any API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from amdsync.domain.token_keys import TokenOwner, token_cache_key
from amdsync.store.amd_keys import amd_pk, epoch

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TOKEN_SK = "TOKEN"  # noqa: S105 - a sort key, not a secret
LEASE_SK = "TOKEN#LEASE"
# Keep the item a day past the token's expiry before TTL removes it (TTL is lazy anyway).
_TTL_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class StoredToken:
    token: str = field(repr=False)
    webserver: str
    issued_at: datetime
    expires_at: datetime


def _pk(owner: TokenOwner) -> str:
    return amd_pk(token_cache_key(owner))


def _conditional_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


class DynamoTokenCache:
    def __init__(self, table: Table) -> None:
        self._table = table

    def load(self, owner: TokenOwner) -> StoredToken | None:
        item = self._table.get_item(
            Key={"pk": _pk(owner), "sk": TOKEN_SK}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return StoredToken(
            token=str(item["token"]),
            webserver=str(item["webserver"]),
            issued_at=datetime.fromisoformat(str(item["issuedAt"])),
            expires_at=datetime.fromisoformat(str(item["tokenExpiresAt"])),
        )

    def save(
        self,
        owner: TokenOwner,
        *,
        token: str,
        webserver: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> None:
        self._table.put_item(
            Item={
                "pk": _pk(owner),
                "sk": TOKEN_SK,
                "token": token,
                "webserver": webserver,
                "issuedAt": issued_at.isoformat(),
                "tokenExpiresAt": expires_at.isoformat(),
                "expiresAt": epoch(expires_at + _TTL_SLACK),
            }
        )

    def discard(self, owner: TokenOwner, token: str) -> None:
        try:
            self._table.delete_item(
                Key={"pk": _pk(owner), "sk": TOKEN_SK},
                ConditionExpression="#t = :t",
                ExpressionAttributeNames={"#t": "token"},
                ExpressionAttributeValues={":t": token},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise  # a newer token is there: keep it

    def try_lease(self, owner: TokenOwner, holder: str, now: datetime, until: datetime) -> bool:
        values: dict[str, Any] = {":now": epoch(now), ":owner": holder}
        try:
            self._table.put_item(
                Item={
                    "pk": _pk(owner),
                    "sk": LEASE_SK,
                    "owner": holder,
                    "leaseUntil": epoch(until),
                    "expiresAt": epoch(until + _TTL_SLACK),
                },
                ConditionExpression=(
                    "attribute_not_exists(pk) OR leaseUntil < :now OR #o = :owner"
                ),
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def release_lease(self, owner: TokenOwner, holder: str) -> None:
        try:
            self._table.delete_item(
                Key={"pk": _pk(owner), "sk": LEASE_SK},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": holder},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

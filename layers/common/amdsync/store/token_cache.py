"""DynamoDB token cache (control table) with a conditional-write login lease.

Implements `amdsync.amd.ports.TokenCache` structurally. One item per token owner (login URL +
office key + username, keyed by `token_cache_key`) holds the token (`sk="TOKEN"`); the lease is
a sibling item (`sk="TOKEN#LEASE"`) so taking it never rewrites the token. The table has SSE on
(template); the token is never logged or returned by any API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from amdsync.domain.token_keys import TokenOwner, token_cache_key
from amdsync.store.amd_keys import amd_pk, epoch
from amdsync.store.dynamo import is_condition_failure
from amdsync.store.lease import acquire_lease, release_lease

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
            if not is_condition_failure(exc):
                raise  # a newer token is there: keep it

    def try_lease(self, owner: TokenOwner, holder: str, now: datetime, until: datetime) -> bool:
        return acquire_lease(
            self._table,
            {"pk": _pk(owner), "sk": LEASE_SK},
            holder,
            now,
            until,
            tidy_after=_TTL_SLACK,
            until_attribute="leaseUntil",
        )

    def release_lease(self, owner: TokenOwner, holder: str) -> None:
        release_lease(self._table, {"pk": _pk(owner), "sk": LEASE_SK}, holder)

"""DynamoDB pacing item (control table): one item per office key, shared by every process.

Implements `amdsync.amd.ports.RateBuckets` structurally. The item `AMD#<practice id>` /
`RATE#PACE` holds each budget's theoretical arrival time (`at_T2`, ..., epoch seconds) and
the estimate of AMD's clock (`clockLo`, `clockHi`, `clockAt`). Taking a call is ONE
conditional UpdateItem over every budget the call spends (all or none; no read first, no
retry loop): the condition is "each arrival time is absent or <= now", the update moves each to
now + its spacing. On success the new item comes back (ReturnValues=ALL_NEW), on failure the
current one (ReturnValuesOnConditionCheckFailure=ALL_OLD), so the caller learns how long to
wait and what the fleet knows about AMD's clock without another round trip.

Per-minute call counts (`RATE#USE#<minute>`, with TTL) are for display only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from amdsync.domain.pacing import ClockOffset, PaceState
from amdsync.store.amd_keys import amd_pk, epoch

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

PACE_SK = "RATE#PACE"
_ARRIVAL = "at_"
_DESERIALIZE = TypeDeserializer()


def rate_sk(bucket: str) -> str:
    return f"RATE#{bucket}"


def use_sk(window: str) -> str:
    return f"RATE#USE#{window}"


def _number(value: float) -> Decimal:
    # Microseconds are plenty; DynamoDB numbers keep 38 significant digits.
    return Decimal(f"{value:.6f}")


def _conditional_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def _state(item: Mapping[str, Any]) -> PaceState:
    arrivals = {
        name[len(_ARRIVAL) :]: float(value)
        for name, value in item.items()
        if name.startswith(_ARRIVAL)
    }
    clock = None
    if all(k in item for k in ("clockLo", "clockHi", "clockAt")):
        clock = ClockOffset(
            lo=float(item["clockLo"]), hi=float(item["clockHi"]), at=float(item["clockAt"])
        )
    return PaceState(arrivals, clock)


def _plain(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A low-level (typed) item, as error responses carry it, in the resource layer's form."""
    return {name: _DESERIALIZE.deserialize(value) for name, value in raw.items()}


class DynamoRateBuckets:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _key(self, scope: str, sk: str = PACE_SK) -> dict[str, str]:
        return {"pk": amd_pk(scope), "sk": sk}

    def advance(
        self,
        scope: str,
        spacing: Mapping[str, float],
        now: float,
        clock: ClockOffset | None = None,
    ) -> tuple[bool, PaceState]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {":now": _number(now)}
        conditions: list[str] = []
        sets: list[str] = []
        for index, (budget, gap) in enumerate(spacing.items()):
            names[f"#a{index}"] = _ARRIVAL + budget
            values[f":n{index}"] = _number(now + gap)
            conditions.append(f"(attribute_not_exists(#a{index}) OR #a{index} <= :now)")
            sets.append(f"#a{index} = :n{index}")
        if clock is not None:
            sets += ["clockLo = :clo", "clockHi = :chi", "clockAt = :cat"]
            values.update(
                {":clo": _number(clock.lo), ":chi": _number(clock.hi), ":cat": _number(clock.at)}
            )
        try:
            reply = self._table.update_item(
                Key=self._key(scope),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False, _state(_plain(exc.response.get("Item", {})))  # type: ignore[arg-type]
        return True, _state(reply.get("Attributes", {}))

    def hold(self, scope: str, budgets: Sequence[str], until: float) -> None:
        for budget in budgets:
            try:
                self._table.update_item(
                    Key=self._key(scope),
                    UpdateExpression="SET #a = :until",
                    ConditionExpression="attribute_not_exists(#a) OR #a < :until",
                    ExpressionAttributeNames={"#a": _ARRIVAL + budget},
                    ExpressionAttributeValues={":until": _number(until)},
                )
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise

    def state(self, scope: str) -> PaceState:
        item = self._table.get_item(Key=self._key(scope), ConsistentRead=True).get("Item")
        return _state(item or {})

    def count(self, scope: str, window: str, budgets: Sequence[str], expires_at: datetime) -> None:
        names = {f"#u{i}": name for i, name in enumerate(budgets)}
        adds = ", ".join(f"#u{i} :one" for i in range(len(budgets)))
        self._table.update_item(
            Key=self._key(scope, use_sk(window)),
            UpdateExpression=f"ADD {adds} SET expiresAt = :exp",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":one": 1, ":exp": epoch(expires_at)},
        )

    def used(self, scope: str, window: str) -> dict[str, int]:
        item = self._table.get_item(Key=self._key(scope, use_sk(window))).get("Item") or {}
        return {
            name: int(str(value))
            for name, value in item.items()
            if name not in ("pk", "sk", "expiresAt")
        }

"""Counting the DynamoDB request units the product spends, from the requests it makes.

A botocore `after-call` hook on the default boto3 session (every client the product builds
afterwards inherits it) sizes each request the way DynamoDB on-demand bills it: a write unit
per 1 KB of each item written (2 in a transaction), a read unit per 4 KB read (strongly
consistent; 2 in a transaction). Item sizes are the JSON length of the attribute values, close
to DynamoDB's own (names + values) for these string-heavy items.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import boto3

WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
READS = {"GetItem", "Query", "Scan"}


def _size(item: Any) -> int:
    return len(json.dumps(item, default=str))


def _write_units(operation: str, params: dict[str, Any]) -> int:
    if operation in WRITES:
        return max(1, math.ceil(_size(params.get("Item") or params.get("Key")) / 1024))
    if operation == "BatchWriteItem":
        requests = [r for items in params["RequestItems"].values() for r in items]
        return sum(max(1, math.ceil(_size(r) / 1024)) for r in requests)
    if operation == "TransactWriteItems":
        return sum(2 * max(1, math.ceil(_size(t) / 1024)) for t in params["TransactItems"])
    return 0


def _read_units(operation: str, parsed: dict[str, Any]) -> int:
    if operation == "GetItem":
        return max(1, math.ceil(_size(parsed.get("Item", {})) / 4096))
    if operation in ("Query", "Scan"):
        return max(1, math.ceil(_size(parsed.get("Items", [])) / 4096))
    if operation == "BatchGetItem":
        found = [i for items in parsed.get("Responses", {}).values() for i in items]
        return max(1, math.ceil(_size(found) / 4096))
    return 0


class RequestCounter:
    """Requests and request units by DynamoDB operation and SQS action, since `reset`."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.units: Counter[str] = Counter()

    def install(self) -> RequestCounter:
        events = boto3._get_default_session().events  # the one shared session
        events.register("before-parameter-build.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)
        events.register("after-call.sqs", self._sqs)
        return self

    def reset(self) -> None:
        self.requests.clear()
        self.units.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "write_units": self.units["write"],
            "read_units": self.units["read"],
            "sqs_requests": sum(n for k, n in self.requests.items() if k.startswith("sqs:")),
        }

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = params

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **kw: Any) -> None:
        operation = model.name
        self.requests[operation] += 1
        params = kw.get("context", {}).get("bench_params", {})
        self.units["write"] += _write_units(operation, params)
        self.units["read"] += _read_units(operation, parsed)

    def _sqs(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.requests[f"sqs:{model.name}"] += 1

"""One moto DynamoDB table with the generic `pk`/`sk` keys every repository uses (ARCHITECTURE
§2), for store-level tests that need no whole local stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.runner.moto_endpoint import serialize_dynamodb

REPO = Path(__file__).resolve().parents[1]

# The table shape every repository uses: CreateTable's arguments (and a CloudFormation table's
# Properties) apart from the name.
PK_SK_TABLE: dict[str, Any] = {
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def _moto_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for in-process moto, and DynamoDB requests one at a time: moto's
    conditional writes are not atomic across threads (DynamoDB's are), and tests race threads."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    serialize_dynamodb()


def pk_sk_table(monkeypatch: pytest.MonkeyPatch, name: str = "state") -> Iterator[Any]:
    """Yield the table inside `mock_aws()`; use from a fixture (`yield from pk_sk_table(...)`)."""
    _moto_environment(monkeypatch)
    with mock_aws():
        yield boto3.resource("dynamodb", region_name="us-east-1").create_table(
            TableName=name, **PK_SK_TABLE
        )


def template_table(monkeypatch: pytest.MonkeyPatch, logical_id: str) -> Iterator[Any]:
    """Yield one table as template.yaml defines it (keys and GSIs), inside `mock_aws()`."""
    from cfnlint.decode import decode  # noqa: PLC0415 (only tests that need the template)

    template, problems = decode(str(REPO / "template.yaml"))
    assert not problems
    props = template["Resources"][logical_id]["Properties"]
    _moto_environment(monkeypatch)
    request = {
        key: props[key]
        for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
        if key in props
    }
    with mock_aws():
        yield boto3.resource("dynamodb", region_name="us-east-1").create_table(
            TableName=logical_id, BillingMode="PAY_PER_REQUEST", **request
        )


class ReadMeter:
    """Counts what a table's client reads, at the botocore edge: calls per operation and the
    items each Query/Scan returned. A request path that scans, or reads a whole partition, shows
    up here whatever the code above it does."""

    def __init__(self, table: Any) -> None:
        self.calls: dict[str, int] = {}
        self.items_read = 0
        table.meta.client.meta.events.register("after-call.dynamodb", self._after)

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1
        if model.name in ("Query", "Scan"):
            self.items_read += int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        if model.name == "BatchGetItem":
            self.items_read += sum(len(v) for v in parsed.get("Responses", {}).values())

    def reset(self) -> None:
        self.calls.clear()
        self.items_read = 0

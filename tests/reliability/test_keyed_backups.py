"""`keyed_transaction_backups` (the 20,000 bulk's moto speed-up) leaves moto's outcome as it was:
the same transactions, failed ones included, leave the same items with and without it."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.moto_tables import PK_SK_TABLE
from tests.reliability.world import keyed_transaction_backups


def put(sk: str, condition: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"TableName": "t", "Item": {"pk": {"S": "P"}, "sk": {"S": sk}}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Put": op}


def add(sk: str, amount: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": "t",
            "Key": {"pk": {"S": "P"}, "sk": {"S": sk}},
            "UpdateExpression": "ADD n :n",
            "ExpressionAttributeValues": {":n": {"N": str(amount)}},
        }
    }


TRANSACTIONS = [
    [put("a"), add("count", 1)],  # commits
    [add("count", 5), put("b"), put("a", "attribute_not_exists(pk)")],  # fails last: rolled back
    [put("c"), add("count", 2)],  # commits
    [put("d"), add("a", 3), put("c", "attribute_not_exists(pk)")],  # fails: d gone, a unchanged
]


def outcome(backups: AbstractContextManager[Any]) -> tuple[list[Any], list[bool]]:
    with mock_aws(), backups:
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="t", **PK_SK_TABLE)
        committed = []
        for items in TRANSACTIONS:
            try:
                client.transact_write_items(TransactItems=items)
                committed.append(True)
            except ClientError:
                committed.append(False)
        items = client.scan(TableName="t")["Items"]
        return sorted(items, key=lambda i: i["sk"]["S"]), committed


@pytest.mark.timeout(60)
def test_failed_transactions_roll_back_as_moto_does() -> None:
    plain = outcome(nullcontext())
    keyed = outcome(keyed_transaction_backups())
    assert plain[1] == [True, False, True, False]
    assert keyed == plain
    assert [i["sk"]["S"] for i in keyed[0]] == ["a", "c", "count"]

"""The local moto server survives what the product does concurrently: transactions (bulk
progress, change feed) while other workers write the same table."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.config import Config

from local.runner.moto_endpoint import MotoEndpoint
from tests.moto_tables import PK_SK_TABLE

WORKERS, ROUNDS = 6, 25


def _hammer(client: Any, table: str, worker: int, errors: list[BaseException]) -> None:
    try:
        for n in range(ROUNDS):
            client.put_item(
                TableName=table, Item={"pk": {"S": f"W{worker}"}, "sk": {"S": f"{n:04d}"}}
            )
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {"pk": {"S": f"T{worker}"}, "sk": {"S": f"{n:04d}"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"pk": {"S": "COUNTER"}, "sk": {"S": "C"}},
                            "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            )
    except BaseException as exc:  # reported to the test thread
        errors.append(exc)


def test_concurrent_transactions_and_writes_neither_crash_nor_lose_counts() -> None:
    endpoint = MotoEndpoint(port=0).start()
    try:
        # No SDK retries: a request the server fails must fail the test, not be retried away.
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint.url,
            region_name=endpoint.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )
        client.create_table(TableName="t", **PK_SK_TABLE)
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_hammer, args=(client, "t", w, errors)) for w in range(WORKERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        item = client.get_item(TableName="t", Key={"pk": {"S": "COUNTER"}, "sk": {"S": "C"}})
        assert int(item["Item"]["n"]["N"]) == WORKERS * ROUNDS
    finally:
        endpoint.stop()


def test_a_secret_read_through_powertools_reaches_the_next_endpoint_of_the_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Powertools keeps one Secrets Manager client per process (right for Lambda). A stack that
    stops must not leave it bound to its dead port: the next stack's tests read their secret
    (a CI run failed 9 setups this way when one worker restarted a package's stack)."""
    for generation in range(2):
        endpoint = MotoEndpoint(port=0).start()
        try:
            for key, value in endpoint.environment().items():
                monkeypatch.setenv(key, value)
            secret = json.dumps({"generation": generation})
            endpoint.client("secretsmanager").create_secret(Name="amd", SecretString=secret)
            read = parameters.get_secret("amd", transform="json", max_age=0)
            assert read == {"generation": generation}
        finally:
            endpoint.stop()

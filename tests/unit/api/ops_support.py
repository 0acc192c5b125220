"""The API over the real failed-work and audit stores on moto DynamoDB (the world's other
ports stay fakes): tables shaped as template.yaml declares them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from amdsync.failed_jobs import FailedJob
from amdsync.jobs import SyncJob
from amdsync.store.failed_work import DynamoFailedWork
from amdsync.store.journal import DynamoAuditLog, DynamoAuditTrail
from tests.fakes import PRACTICE, build_world
from tests.unit.api.support import Api, FakeApiServices


def _keys(*names: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": n, "KeyType": k} for n, k in zip(names, ("HASH", "RANGE"), strict=True)
    ]


def create_table(resource: Any, name: str, *, index: bool) -> Any:
    attributes = ["pk", "sk", *(["gsi1pk", "gsi1sk"] if index else [])]
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": _keys("pk", "sk"),
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if index:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "gsi1",
                "KeySchema": _keys("gsi1pk", "gsi1sk"),
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    return resource.create_table(**request)


@dataclass
class OpsApi:
    api: Api
    failed: DynamoFailedWork
    trail: DynamoAuditTrail

    def add_failure(
        self, entity_id: str, *, kind: str = "appointment", code: str = "AMD_UNAVAILABLE"
    ) -> FailedJob:
        job = SyncJob.model_validate(
            {"kind": kind, "entityId": entity_id, "version": 3, "practice": PRACTICE}
        )
        self.failed.send(job, code, 6)
        self.api.world.clock.advance(seconds=1)  # ids sort by failure time
        jobs, _ = self.failed.page(None, 1)
        return jobs[0]


def ops_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpsApi]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        state = create_table(resource, "state", index=True)
        audit_table = create_table(resource, "audit", index=True)
        trail = DynamoAuditTrail(audit_table, PRACTICE)
        world = build_world(audit=trail)
        failed = DynamoFailedWork(state, PRACTICE, world.clock)
        services = FakeApiServices(
            world=world, failed=failed, audit=DynamoAuditLog(audit_table, PRACTICE)
        )
        yield OpsApi(Api(services), failed, trail)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)

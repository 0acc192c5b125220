"""The weekly summary as an operator receives it: the real weekly_report handler publishes to
the alarm topic (moto SNS), an SQS queue subscribed to the topic receives it, and its numbers
are the ones `GET /sync/stats?period=7d` answers through the real api handler."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from amdsync.domain.journal import SyncLogEntry
from amdsync.store.journal import DynamoSyncLogs
from tests.integration.functions.conftest import AwsHarness
from tests.lambda_support import FakeLambdaContext, load_event


def _entry(n: int, at: datetime, **fields: Any) -> SyncLogEntry:
    values: dict[str, Any] = {
        "id": f"log-{n:04d}",
        "at": at.isoformat(),
        "entityType": "appointment",
        "entityId": f"A-{n}",
        "operation": "create",
        "direction": "to_amd",
        "outcome": "success",
        "durationMs": 100 + n * 10,
        "amdCalls": 2,
    } | fields
    return SyncLogEntry.model_validate(values)


def _seed(logs: DynamoSyncLogs, now: datetime) -> None:
    n = 0
    for _ in range(20):  # successes, 110..300 ms
        n += 1
        logs.append(_entry(n, now - timedelta(hours=n)))
    for code in ("PROVIDER_NOT_MAPPED", "PROVIDER_NOT_MAPPED", "AMD_UNAVAILABLE"):
        n += 1
        logs.append(_entry(n, now - timedelta(hours=n), outcome="error", errorCode=code))
    n += 1
    logs.append(_entry(n, now - timedelta(days=2), outcome="conflict", errorCode="CONFLICT"))
    for _ in range(2):
        n += 1
        logs.append(_entry(n, now - timedelta(days=3), outcome="deferred"))
    n += 1  # a pull is not a sync
    logs.append(_entry(n, now - timedelta(hours=1), entityType="pull", operation="pull"))
    n += 1  # older than the week
    logs.append(_entry(n, now - timedelta(days=8), outcome="error", errorCode="AMD_REJECTED"))


def _subscribe(aws: AwsHarness, topic_arn: str) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="weekly-summary-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def _stats_event() -> dict[str, Any]:
    event = load_event("api/get-sync-stats.json")
    assert event["queryStringParameters"] == {"period": "7d"}
    return event


def test_weekly_summary_reaches_the_topic_and_matches_sync_stats(aws: AwsHarness) -> None:
    weekly = aws.load("weekly_report")
    environment = aws.environment("weekly_report")
    practice = weekly.SERVICES.practice
    table = boto3.resource(
        "dynamodb",
        endpoint_url=environment.get("AWS_ENDPOINT_URL"),
        region_name=environment.get("AWS_DEFAULT_REGION") or environment.get("AWS_REGION"),
    ).Table(environment["LOGS_TABLE"])
    _seed(DynamoSyncLogs(table, practice), datetime.now(UTC))
    inbox = _subscribe(aws, environment["ALARM_TOPIC_ARN"])

    result = weekly.lambda_handler(load_event("weekly_report/schedule.json"), FakeLambdaContext())
    assert result["sent"] is True

    messages = aws.client("sqs").receive_message(QueueUrl=inbox, WaitTimeSeconds=1)["Messages"]
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Subject"] == "amdsync weekly summary"
    text = envelope["Message"]
    lines = text.splitlines()
    assert lines[0].startswith("amdsync weekly summary for practice ••••")
    assert practice not in text  # the office key is masked
    # Syncs without the two rate-limit deferrals (a job put back to wait is not a sync).
    assert "Syncs: 24 (20 succeeded, 4 failed)" in lines
    assert "Success rate: 83.3 %; p95 duration: 290 ms" in lines
    assert "Top errors: PROVIDER_NOT_MAPPED: 2, AMD_UNAVAILABLE: 1, CONFLICT: 1" in lines
    assert "Conflicts: 1 new; 0 open" in lines
    assert (
        "Rate-limit deferrals: 2 (jobs put back to wait for AMD's budget; not counted as syncs)"
        in lines
    )

    api = aws.load("api")
    response = api.lambda_handler(_stats_event(), FakeLambdaContext())
    assert response["statusCode"] == 200
    stats = json.loads(response["body"])
    # The same numbers, from the API the report points at (its total counts the deferrals).
    assert (stats["total"], stats["succeeded"], stats["failed"]) == (26, 20, 4)
    syncs = stats["total"] - stats["deferred"]
    assert f"Syncs: {syncs} ({stats['succeeded']} succeeded, {stats['failed']} failed)" in lines
    rate = re.search(r"Success rate: ([\d.]+) %; p95 duration: (\d+) ms", text)
    assert rate is not None
    assert float(rate.group(1)) == round(stats["successRate"] * 100, 1)
    assert float(rate.group(2)) == stats["p95DurationMs"]
    assert stats["errorsByType"] == {
        "PROVIDER_NOT_MAPPED": 2,
        "AMD_UNAVAILABLE": 1,
        "CONFLICT": 1,
    }
    assert stats["conflicts"] == 1 and stats["rateLimitWaits"] == 2
    assert result["stats"] == {k: v for k, v in stats.items() if k in result["stats"]}

"""Each deployed handler imports, validates its environment at cold start, and runs its sample
events from events/ against moto and the AMD simulator."""

import json

import pytest

from amdsync.config import ConfigError
from tests.integration.functions.conftest import AwsHarness
from tests.lambda_support import FakeLambdaContext, load_event, load_handler


def test_api_health(aws: AwsHarness) -> None:
    api = aws.load("api")
    response = api.lambda_handler(load_event("api/get-health.json"), FakeLambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}


def test_api_serves_an_openapi_31_document(aws: AwsHarness) -> None:
    api = aws.load("api")
    response = api.lambda_handler(load_event("api/get-openapi.json"), FakeLambdaContext())
    assert response["statusCode"] == 200
    document = json.loads(response["body"])
    assert document["openapi"].startswith("3.1")
    assert "/api/advancedmd/health" in document["paths"]


def test_worker_reports_only_the_poison_message_as_failed(aws: AwsHarness) -> None:
    worker = aws.load("sync_worker")
    event = load_event("sync_worker/batch-with-poison.json")
    response = worker.lambda_handler(event, FakeLambdaContext())
    # A.200 is not registered: a no-op, acknowledged. The poison body is reported as failed.
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0002"}]}


def test_webhook_delivery_acknowledges_a_deleted_subscriptions_event_and_fails_poison(
    aws: AwsHarness,
) -> None:
    delivery = aws.load("webhook_delivery")
    event = load_event("webhook_delivery/batch-with-poison.json")
    response = delivery.lambda_handler(event, FakeLambdaContext())
    # wh-gone does not exist: nothing to send, acknowledged. The poison body is reported as
    # failed (the queue's redrive moves it to the DLQ).
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0002"}]}


def test_pull_bootstraps_from_the_simulator(
    aws: AwsHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    pull = aws.load("pull")
    # A short window keeps the bootstrap inside one minute's Tier 2 budget even at peak.
    pull.OPTIONS = pull.PullOptions(bootstrap_days_back=1, bootstrap_days_ahead=3)
    result = pull.lambda_handler(load_event("pull/schedule.json"), FakeLambdaContext())
    assert result["pulled"] is True
    assert result["visits"] > 0
    report = aws.sim.admin.report()
    assert report["logins"] == 1
    assert report["violations"]["count"] == 0


def test_weekly_report_publishes_a_summary(aws: AwsHarness) -> None:
    weekly = aws.load("weekly_report")
    result = weekly.lambda_handler(load_event("weekly_report/schedule.json"), FakeLambdaContext())
    assert result["sent"] is True
    assert result["stats"]["period"] == "7d"


def test_cold_start_fails_naming_a_missing_variable(
    aws: AwsHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in aws.environment("api").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SYNC_QUEUE_URL")
    with pytest.raises(ConfigError, match="SYNC_QUEUE_URL"):
        load_handler("api")

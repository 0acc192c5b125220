"""Each deployed handler imports, validates its environment at cold start, and runs its events."""

import json

import pytest

from amdsync.config import ConfigError
from tests.lambda_support import FakeLambdaContext, load_event, load_handler

ENV = {
    "SYNC_TABLE": "sync",
    "LOGS_TABLE": "logs",
    "AUDIT_TABLE": "audit",
    "CACHE_TABLE": "cache",
    "CONTROL_TABLE": "control",
    "SYNC_QUEUE_URL": "https://sqs.invalid/q.fifo",
    "SYNC_DLQ_URL": "https://sqs.invalid/dlq.fifo",
    "ALARM_TOPIC_ARN": "arn:aws:sns:us-west-2:123456789012:alarms",
    "AMD_SECRET_NAME": "amdsync/amd-credentials",
    "AMD_PARTNER_LOGIN_URL": "http://127.0.0.1:1/practicemanager/xmlrpc/processrequest.aspx",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "AMDSync",
}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


def test_api_health() -> None:
    api = load_handler("api")
    response = api.lambda_handler(load_event("api/get-health.json"), FakeLambdaContext())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"status": "ok"}


def test_api_serves_an_openapi_31_document() -> None:
    api = load_handler("api")
    response = api.lambda_handler(load_event("api/get-openapi.json"), FakeLambdaContext())
    assert response["statusCode"] == 200
    document = json.loads(response["body"])
    assert document["openapi"].startswith("3.1")
    assert "/api/advancedmd/health" in document["paths"]


def test_worker_reports_only_the_poison_message_as_failed() -> None:
    worker = load_handler("sync_worker")
    event = load_event("sync_worker/batch-with-poison.json")
    response = worker.lambda_handler(event, FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0002"}]}


@pytest.mark.parametrize(
    ("name", "event"),
    [("pull", "pull/schedule.json"), ("weekly_report", "weekly_report/schedule.json")],
)
def test_scheduled_functions_run(name: str, event: str) -> None:
    module = load_handler(name)
    result = module.lambda_handler(load_event(event), FakeLambdaContext())
    assert isinstance(result, dict)


def test_cold_start_fails_naming_a_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNC_QUEUE_URL")
    with pytest.raises(ConfigError, match="SYNC_QUEUE_URL"):
        load_handler("api")

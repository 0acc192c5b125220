"""The moto resources are created from template.yaml and match it; functions get AWS's env."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.runner.function_specs import read_functions
from local.runner.lambda_environment import lambda_environment
from local.runner.moto_endpoint import MotoEndpoint
from local.runner.resources import LocalResources, create_resources
from local.runner.template import Template

SIM_LOGIN = "http://127.0.0.1:4999/practicemanager/xmlrpc/processrequest.aspx"


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load()


@pytest.fixture(scope="module")
def created(template: Template) -> Iterator[tuple[MotoEndpoint, LocalResources]]:
    endpoint = MotoEndpoint(port=0).start()
    try:
        parameters = template.parameter_values(
            {
                "OidcIssuer": "https://issuer.invalid",
                "OidcAudience": "aud",
                "AmdPartnerLoginUrl": SIM_LOGIN,
            }
        )
        yield endpoint, create_resources(template, endpoint, parameters)
    finally:
        endpoint.stop()


def props(template: Template, logical_id: str) -> dict[str, Any]:
    return template.resources[logical_id]["Properties"]


def test_every_table_matches_the_template(template: Template, created: Any) -> None:
    endpoint, resources = created
    dynamodb = endpoint.client("dynamodb")
    declared = template.resources_of_type("AWS::DynamoDB::Table")
    assert set(resources.tables) == set(declared)
    for logical_id in declared:
        expected = props(template, logical_id)
        name = resources.tables[logical_id]
        assert name == expected["TableName"]["Fn::Sub"].replace("${Stage}", "dev")
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == expected["KeySchema"]
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            expected["AttributeDefinitions"], key=str
        )
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        indexes = {
            gsi["IndexName"]: (gsi["KeySchema"], gsi["Projection"])
            for gsi in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {
            gsi["IndexName"]: (gsi["KeySchema"], gsi["Projection"])
            for gsi in expected.get("GlobalSecondaryIndexes", [])
        }
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if "TimeToLiveSpecification" in expected:
            assert ttl["TimeToLiveStatus"] == "ENABLED"
            assert ttl["AttributeName"] == expected["TimeToLiveSpecification"]["AttributeName"]
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_logs_and_control_tables_expire_items_by_expires_at(created: Any) -> None:
    endpoint, resources = created
    dynamodb = endpoint.client("dynamodb")
    for logical_id in ("LogsTable", "CacheTable", "ControlTable"):
        ttl = dynamodb.describe_time_to_live(TableName=resources.tables[logical_id])
        assert ttl["TimeToLiveDescription"]["AttributeName"] == "expiresAt"


def test_queues_are_fifo_and_both_lanes_redrive_to_the_dlq(created: Any) -> None:
    endpoint, resources = created
    sqs = endpoint.client("sqs")
    attributes = {
        logical_id: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        for logical_id, url in resources.queues.items()
    }
    assert set(attributes) == {
        "SyncQueue",
        "BackgroundQueue",
        "SyncDeadLetterQueue",
        "WebhookQueue",
        "WebhookDeadLetterQueue",
    }
    queue, dlq = attributes["SyncQueue"], attributes["SyncDeadLetterQueue"]
    assert queue["QueueArn"].endswith(":amdsync-sync-dev.fifo")
    assert dlq["QueueArn"].endswith(":amdsync-sync-dlq-dev.fifo")
    assert queue["FifoQueue"] == dlq["FifoQueue"] == "true"
    assert queue["ContentBasedDeduplication"] == "false"
    assert queue["DeduplicationScope"] == "messageGroup"
    assert queue["VisibilityTimeout"] == "360"
    assert queue["MessageRetentionPeriod"] == "1209600"
    redrive = json.loads(queue["RedrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq["QueueArn"], "maxReceiveCount": 50}
    background = attributes["BackgroundQueue"]
    assert background["QueueArn"].endswith(":amdsync-background-dev.fifo")
    assert json.loads(background["RedrivePolicy"]) == redrive
    assert "RedrivePolicy" not in dlq


def test_topic_secret_and_alarms_exist(template: Template, created: Any) -> None:
    endpoint, resources = created
    topic_arn = resources.topics["AlarmTopic"]
    assert topic_arn.endswith(":amdsync-alarms-dev")
    assert topic_arn in [t["TopicArn"] for t in endpoint.client("sns").list_topics()["Topics"]]
    secret = endpoint.client("secretsmanager").get_secret_value(SecretId="amdsync/amd-credentials")
    assert json.loads(secret["SecretString"]) == {
        "officeKey": "999999",
        "username": "DEMO",
        "password": "demo",
        "appName": "TEMP",
    }
    alarms = endpoint.client("cloudwatch").describe_alarms()["MetricAlarms"]
    by_name = {alarm["AlarmName"]: alarm for alarm in alarms}
    declared = template.resources_of_type("AWS::CloudWatch::Alarm")
    assert set(resources.alarms) == set(declared)
    assert set(by_name) == set(resources.alarms.values())
    dlq_alarm = by_name["amdsync-dlq-not-empty-dev"]
    assert dlq_alarm["AlarmActions"] == [topic_arn]
    assert dlq_alarm["Dimensions"] == [{"Name": "QueueName", "Value": "amdsync-sync-dlq-dev.fifo"}]
    # Every other resource type of the template is created (or is code/routing, see resources.py).
    # The stack's own Cognito pool is skipped: the local stack brings its own issuer.
    cognito = {
        name: "condition CreateUserPool is false"
        for name, resource in template.resources.items()
        if resource.get("Condition") == "CreateUserPool"
    }
    assert {"UserPool", "AdminUiClient", "EhrClient"} <= set(cognito)
    assert resources.skipped == {
        "AlarmEmailSubscription": "condition HasAlarmEmail is false",
        **cognito,
    }


def test_each_function_gets_the_environment_it_would_get_in_aws(
    template: Template, created: Any
) -> None:
    endpoint, resources = created
    functions = read_functions(template, resources.resolver)
    assert set(functions) == {
        "ApiFunction",
        "SyncWorkerFunction",
        "BackgroundWorkerFunction",
        "PullFunction",
        "WeeklyReportFunction",
        "WebhookDeliveryFunction",
    }
    services = set()
    for spec in functions.values():
        env = lambda_environment(spec, endpoint.environment())
        assert env["SYNC_TABLE"] == "amdsync-sync-state-dev"
        assert env["LOGS_TABLE"] == "amdsync-sync-logs-dev"
        assert env["SYNC_QUEUE_URL"] == resources.queues["SyncQueue"]
        assert env["SYNC_DLQ_URL"] == resources.queues["SyncDeadLetterQueue"]
        assert env["WEBHOOK_QUEUE_URL"] == resources.queues["WebhookQueue"]
        assert env["ALARM_TOPIC_ARN"] == resources.topics["AlarmTopic"]
        assert env["AMD_SECRET_NAME"] == "amdsync/amd-credentials"
        assert env["AMD_PARTNER_LOGIN_URL"] == SIM_LOGIN
        assert env["AWS_ENDPOINT_URL"] == endpoint.url
        assert env["AWS_REGION"] == "us-west-2"
        assert env["POWERTOOLS_TRACE_DISABLED"] == "1"
        assert env["AWS_LAMBDA_FUNCTION_NAME"] == spec.function_name
        services.add(env["POWERTOOLS_SERVICE_NAME"])
    assert services == {
        "amdsync-api",
        "amdsync-sync-worker",
        "amdsync-background-worker",
        "amdsync-pull",
        "amdsync-weekly-report",
        "amdsync-webhook-delivery",
    }
    worker = functions["SyncWorkerFunction"]
    assert worker.timeout_seconds == 60
    (source,) = worker.sqs_sources
    assert source.queue_arn == resources.resolver.get_att("SyncQueue", "Arn")
    assert (source.batch_size, source.report_batch_item_failures) == (10, True)
    assert source.maximum_concurrency == 2


def test_keys_log_groups_and_tls_policies_are_created_like_the_template(
    template: Template, created: Any
) -> None:
    """Issue 16's resources exist locally too (moto stores them; it enforces none)."""
    endpoint, resources = created
    kms = endpoint.client("kms")
    assert set(resources.keys) == set(template.resources_of_type("AWS::KMS::Key"))
    for arn in resources.keys.values():
        assert kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"] is True
    topic = endpoint.client("sns").get_topic_attributes(TopicArn=resources.topics["AlarmTopic"])
    assert topic["Attributes"]["KmsMasterKeyId"] == resources.keys["AlarmTopicKey"]
    assert _denies_without_tls(topic["Attributes"]["Policy"])
    logs = endpoint.client("logs")
    declared = template.resources_of_type("AWS::Logs::LogGroup")
    unconditional = {k for k, v in declared.items() if v.get("Condition") != "CreateUserPool"}
    assert set(resources.log_groups) == unconditional
    found = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    for name in resources.log_groups.values():
        assert found[name]["retentionInDays"] == 90
        assert found[name]["kmsKeyId"] == resources.keys["LogsKey"]
    sqs = endpoint.client("sqs")
    for url in resources.queues.values():
        policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
        assert _denies_without_tls(policy["Policy"])


def _denies_without_tls(policy: str) -> bool:
    return any(
        s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] is False
        for s in json.loads(policy)["Statement"]
        if "Condition" in s and "Bool" in s["Condition"]
    )


def test_the_phi_hash_key_secret_is_generated_and_only_the_fingerprinting_functions_name_it(
    template: Template, created: Any
) -> None:
    """Issue 16: the template's generated secret exists locally with a random value, and the
    API and worker get its ARN (the `Ref` of a secret) like in AWS."""
    endpoint, resources = created
    arn = resources.secrets["PhiHashKeySecret"]
    assert arn.startswith("arn:aws:secretsmanager:")
    value = endpoint.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    assert len(value) == 64 and value.isalnum()
    functions = read_functions(template, resources.resolver)
    named = {
        logical_id
        for logical_id, spec in functions.items()
        if spec.environment.get("PHI_HASH_KEY_SECRET") == arn
    }
    assert named == {"ApiFunction", "SyncWorkerFunction", "BackgroundWorkerFunction"}

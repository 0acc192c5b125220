"""Which service the `amdsync` CLI joins: a deployed stack's settings, read from CloudFormation.

`--stack NAME` (or AMDSYNC_STACK) gives the CLI the environment the stack's functions get (the
template's `Globals` variables): the table, queue and topic names are the physical ids of the
stack's resources, the secret name, login URL, zone and stage are the stack's parameters. Two
lookups (`DescribeStacks`, `ListStackResources`), no stack outputs needed. The result is read
through `AmdSettings` like a function's environment, so a stack that is not an amdsync stack
fails with the missing variables named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from amdsync.config import ConfigError

# Template parameter -> the function variable it becomes (template.yaml, Globals).
STACK_PARAMETERS: Mapping[str, str] = {
    "Stage": "STAGE",
    "AmdSecretName": "AMD_SECRET_NAME",
    "AmdPartnerLoginUrl": "AMD_PARTNER_LOGIN_URL",
    "AmdTrustedHosts": "AMD_TRUSTED_HOSTS",
    "PracticeId": "PRACTICE_ID",
    "PracticeTimeZone": "PRACTICE_TIMEZONE",
    "RoleClaim": "ROLE_CLAIM",
    "WebhookInsecureHosts": "WEBHOOK_INSECURE_HOSTS",
}
# Template resource (logical id) -> the function variable holding its `Ref` (physical id).
STACK_RESOURCES: Mapping[str, str] = {
    "SyncStateTable": "SYNC_TABLE",
    "LogsTable": "LOGS_TABLE",
    "AuditTable": "AUDIT_TABLE",
    "CacheTable": "CACHE_TABLE",
    "ControlTable": "CONTROL_TABLE",
    "SyncQueue": "SYNC_QUEUE_URL",
    "BackgroundQueue": "BACKGROUND_QUEUE_URL",
    "SyncDeadLetterQueue": "SYNC_DLQ_URL",
    "WebhookQueue": "WEBHOOK_QUEUE_URL",
    "AlarmTopic": "ALARM_TOPIC_ARN",
    # Only the API and worker get it (function-level, not Globals); the CLI never fingerprints.
    "PhiHashKeySecret": "PHI_HASH_KEY_SECRET",
}


def stack_environment(stack_name: str, cloudformation: Any) -> dict[str, str]:
    """The functions' variables of the deployed stack `stack_name` (a boto3 CloudFormation
    client reads it; the caller's AWS profile and region pick the account)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        resources = [
            summary
            for page in cloudformation.get_paginator("list_stack_resources").paginate(
                StackName=stack_name
            )
            for summary in page["StackResourceSummaries"]
        ]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message") or "not found"
        raise ConfigError(f"stack {stack_name!r}: {message}") from None
    except BotoCoreError as exc:
        raise ConfigError(f"stack {stack_name!r}: {exc}") from None
    environment: dict[str, str] = {}
    for parameter in stacks[0].get("Parameters", []):
        variable = STACK_PARAMETERS.get(parameter["ParameterKey"])
        if variable:
            environment[variable] = parameter.get("ResolvedValue") or parameter["ParameterValue"]
    for summary in resources:
        variable = STACK_RESOURCES.get(summary["LogicalResourceId"])
        if variable and summary.get("PhysicalResourceId"):
            environment[variable] = summary["PhysicalResourceId"]
    return environment

"""Create the template's AWS resources in moto: tables, queues, topics, alarms, the AMD secret,
generated secrets (the PHI hash key), KMS keys, log groups and the queue/topic policies (moto
stores them; it enforces none of them).

Creation is driven by template.yaml (resolved with the same parameters a deploy would use), so a
key, index, TTL attribute, FIFO flag or redrive policy added there appears here without edits.
Resources whose references are not created yet are retried in a later pass (the DLQ before the
queue that redrives to it), so the order in the template does not matter.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.runner.moto_endpoint import MotoEndpoint
from local.runner.template import Resolver, Template, TemplateError, UnresolvedReference

# The simulator's demo login (fake, documented in the README); the password is never printed.
LOCAL_AMD_CREDENTIALS = {
    "officeKey": "999999",
    "username": "DEMO",
    "password": "demo",
    "appName": "TEMP",
}

# Resource types that exist only as code or routing locally; their Ref is a stand-in name.
_STAND_INS = {
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::Function",
}

# CloudFormation property -> SQS attribute, for the properties that are plain attributes.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


@dataclass
class LocalResources:
    """What was created: the resolver (holding every Ref/GetAtt value) and a per-type index."""

    resolver: Resolver
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    topics: dict[str, str] = field(default_factory=dict)  # logical id -> topic ARN
    alarms: dict[str, str] = field(default_factory=dict)  # logical id -> alarm name
    dashboards: dict[str, str] = field(default_factory=dict)  # logical id -> dashboard name
    keys: dict[str, str] = field(default_factory=dict)  # logical id -> KMS key ARN
    log_groups: dict[str, str] = field(default_factory=dict)  # logical id -> log group name
    policies: dict[str, list[str]] = field(default_factory=dict)  # logical id -> queues/topics
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> secret ARN
    secret_name: str = ""
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> why

    def queue_url_for_arn(self, arn: str) -> str:
        for logical_id, url in self.queues.items():
            if self.resolver.get_att(logical_id, "Arn") == arn:
                return url
        raise KeyError(arn)


def create_resources(
    template: Template,
    endpoint: MotoEndpoint,
    parameters: Mapping[str, str],
    property_overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> LocalResources:
    """Create every supported resource of `template` in moto and the AMD credentials secret.

    `property_overrides` replaces top-level properties by logical id (tests shrink a queue's
    VisibilityTimeout this way); parameters are overridden through `parameters`.
    """
    resolver = Resolver(parameters=dict(parameters), conditions=template.conditions)
    resources = LocalResources(resolver=resolver)
    creator = _Creator(endpoint, resources)
    pending = {}
    for logical_id, resource in template.resources.items():
        condition = resource.get("Condition")
        if condition and not resolver.condition_holds(condition):
            resources.skipped[logical_id] = f"condition {condition} is false"
            continue
        props = {**resource.get("Properties", {}), **(property_overrides or {}).get(logical_id, {})}
        pending[logical_id] = (resource["Type"], props)
    _create_in_passes(pending, creator)
    resources.secret_name = parameters["AmdSecretName"]
    creator.secret(resources.secret_name, LOCAL_AMD_CREDENTIALS)
    return resources


def _create_in_passes(pending: dict[str, tuple[str, dict[str, Any]]], creator: _Creator) -> None:
    while pending:
        progressed = False
        for logical_id, (kind, props) in list(pending.items()):
            try:
                creator.create(logical_id, kind, props)
            except UnresolvedReference:
                continue
            progressed = True
            del pending[logical_id]
        if not progressed:
            raise TemplateError(f"cannot resolve references of {sorted(pending)}")


class _Creator:
    def __init__(self, endpoint: MotoEndpoint, resources: LocalResources) -> None:
        self._endpoint = endpoint
        self._resources = resources
        self._resolver = resources.resolver
        self._handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "AWS::DynamoDB::Table": self.table,
            "AWS::SQS::Queue": self.queue,
            "AWS::SNS::Topic": self.topic,
            "AWS::SNS::Subscription": self.subscription,
            "AWS::CloudWatch::Alarm": self.alarm,
            "AWS::CloudWatch::Dashboard": self.dashboard,
            "AWS::KMS::Key": self.kms_key,
            "AWS::Logs::LogGroup": self.log_group,
            "AWS::SQS::QueuePolicy": self.queue_policy,
            "AWS::SNS::TopicPolicy": self.topic_policy,
            "AWS::SecretsManager::Secret": self.template_secret,
        }

    def create(self, logical_id: str, kind: str, props: dict[str, Any]) -> None:
        if kind in _STAND_INS:
            self._stand_in(logical_id, kind, props)
            return
        handler = self._handlers.get(kind)
        if handler is None:
            self._resources.skipped[logical_id] = f"{kind} is not emulated locally"
            return
        handler(logical_id, self._resolver.resolve(props))

    def _stand_in(self, logical_id: str, kind: str, props: dict[str, Any]) -> None:
        name_prop = {"AWS::Serverless::Function": "FunctionName"}.get(kind, "")
        name = self._resolver.resolve(props.get(name_prop, logical_id)) if name_prop else logical_id
        self._resolver.refs[logical_id] = str(name)
        if kind == "AWS::Serverless::Function":
            arn = f"arn:aws:lambda:{self._resolver.region}:{self._resolver.account_id}"
            self._resolver.attributes[(logical_id, "Arn")] = f"{arn}:function:{name}"

    def table(self, logical_id: str, props: dict[str, Any]) -> None:
        dynamodb = self._endpoint.client("dynamodb")
        name = props.get("TableName", logical_id)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
            if key in props:
                request[key] = props[key]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        sse = props.get("SSESpecification")
        if sse:
            request["SSESpecification"] = {
                "Enabled": bool(sse.get("SSEEnabled", False)),
                **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
            }
        description = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        self._resolver.refs[logical_id] = name
        self._resolver.attributes[(logical_id, "Arn")] = description["TableArn"]
        if "LatestStreamArn" in description:
            self._resolver.attributes[(logical_id, "StreamArn")] = description["LatestStreamArn"]
        self._resources.tables[logical_id] = name

    def queue(self, logical_id: str, props: dict[str, Any]) -> None:
        sqs = self._endpoint.client("sqs")
        name = props.get("QueueName", logical_id + (".fifo" if props.get("FifoQueue") else ""))
        attributes = {key: _attribute(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                attributes[key] = json.dumps(props[key])
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        self._resolver.refs[logical_id] = url
        self._resolver.attributes[(logical_id, "Arn")] = arn["QueueArn"]
        self._resolver.attributes[(logical_id, "QueueName")] = name
        self._resolver.attributes[(logical_id, "QueueUrl")] = url
        self._resources.queues[logical_id] = url

    def topic(self, logical_id: str, props: dict[str, Any]) -> None:
        sns = self._endpoint.client("sns")
        name = props.get("TopicName", logical_id)
        attributes = {
            key: _attribute(props[key])
            for key in ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication")
            if key in props
        }
        arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        self._resolver.refs[logical_id] = arn
        self._resolver.attributes[(logical_id, "TopicArn")] = arn
        self._resolver.attributes[(logical_id, "TopicName")] = name
        self._resources.topics[logical_id] = arn

    def subscription(self, logical_id: str, props: dict[str, Any]) -> None:
        sns = self._endpoint.client("sns")
        arn = sns.subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
        )["SubscriptionArn"]
        self._resolver.refs[logical_id] = arn

    def alarm(self, logical_id: str, props: dict[str, Any]) -> None:
        cloudwatch = self._endpoint.client("cloudwatch")
        request = {key: value for key, value in props.items() if key not in {"Tags"}}
        request.setdefault("AlarmName", logical_id)
        cloudwatch.put_metric_alarm(**request)
        self._resolver.refs[logical_id] = request["AlarmName"]
        self._resources.alarms[logical_id] = request["AlarmName"]

    def dashboard(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("DashboardName", logical_id)
        body = props["DashboardBody"]
        body = body if isinstance(body, str) else json.dumps(body)
        self._endpoint.client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody=body)
        self._resolver.refs[logical_id] = name
        self._resources.dashboards[logical_id] = name

    def kms_key(self, logical_id: str, props: dict[str, Any]) -> None:
        kms = self._endpoint.client("kms")
        request: dict[str, Any] = {"Description": props.get("Description", logical_id)}
        if "KeyPolicy" in props:
            request["Policy"] = json.dumps(props["KeyPolicy"])
        metadata = kms.create_key(**request)["KeyMetadata"]
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=metadata["KeyId"])
        self._resolver.refs[logical_id] = metadata["KeyId"]
        self._resolver.attributes[(logical_id, "Arn")] = metadata["Arn"]
        self._resolver.attributes[(logical_id, "KeyId")] = metadata["KeyId"]
        self._resources.keys[logical_id] = metadata["Arn"]

    def log_group(self, logical_id: str, props: dict[str, Any]) -> None:
        logs = self._endpoint.client("logs")
        name = props.get("LogGroupName", logical_id)
        request: dict[str, Any] = {"logGroupName": name}
        if "KmsKeyId" in props:
            request["kmsKeyId"] = props["KmsKeyId"]
        logs.create_log_group(**request)
        if "RetentionInDays" in props:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(props["RetentionInDays"])
            )
        arn = f"arn:aws:logs:{self._resolver.region}:{self._resolver.account_id}:log-group:{name}"
        self._resolver.refs[logical_id] = name
        self._resolver.attributes[(logical_id, "Arn")] = f"{arn}:*"
        self._resources.log_groups[logical_id] = name

    def queue_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        sqs = self._endpoint.client("sqs")
        policy = json.dumps(props["PolicyDocument"])
        for url in props["Queues"]:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        self._resolver.refs[logical_id] = logical_id
        self._resources.policies[logical_id] = list(props["Queues"])

    def topic_policy(self, logical_id: str, props: dict[str, Any]) -> None:
        sns = self._endpoint.client("sns")
        policy = json.dumps(props["PolicyDocument"])
        for arn in props["Topics"]:
            sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=policy)
        self._resolver.refs[logical_id] = logical_id
        self._resources.policies[logical_id] = list(props["Topics"])

    def template_secret(self, logical_id: str, props: dict[str, Any]) -> None:
        """A template secret: its SecretString, or a random one like GenerateSecretString
        (letters and digits; the template's secrets exclude punctuation). Ref is the ARN."""
        value = props.get("SecretString")
        if value is None:
            generate = props.get("GenerateSecretString", {})
            alphabet = string.ascii_letters + string.digits
            length = int(generate.get("PasswordLength", 32))
            value = "".join(secrets.choice(alphabet) for _ in range(length))
        request: dict[str, Any] = {"Name": props.get("Name", logical_id), "SecretString": value}
        if "Description" in props:
            request["Description"] = props["Description"]
        arn = self._endpoint.client("secretsmanager").create_secret(**request)["ARN"]
        self._resolver.refs[logical_id] = arn
        self._resolver.attributes[(logical_id, "Id")] = arn
        self._resources.secrets[logical_id] = arn

    def secret(self, name: str, value: dict[str, str]) -> None:
        self._endpoint.client("secretsmanager").create_secret(
            Name=name, SecretString=json.dumps(value)
        )


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

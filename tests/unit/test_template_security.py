"""Issue 16 (template): the deployed stack's security controls, read from template.yaml.

Each control listed in docs/security.md ("Deployed template") is pinned here: customer-managed
keys whose policies let the services that must use them do so, one encrypted log group per
function, PHI-free API access logs, throttling, reserved concurrency, table deletion protection,
TLS-only queue and topic policies, and checkov skips that say why.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.lambda_support import REPO

TABLES = ("SyncStateTable", "LogsTable", "AuditTable", "CacheTable", "ControlTable")
QUEUES = ("SyncQueue", "SyncDeadLetterQueue", "WebhookQueue", "WebhookDeadLetterQueue")
FUNCTIONS = (
    "ApiFunction",
    "SyncWorkerFunction",
    "PullFunction",
    "WeeklyReportFunction",
    "WebhookDeliveryFunction",
)
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827}
LOG_RETENTION_DAYS |= {2192, 2557, 2922, 3288, 3653}
# $context variables an access log line may carry: ids, timings, status, the route *template*.
# Never the raw path or query string (patient and appointment ids, dates), bodies or headers.
PHI_FREE_CONTEXT = {
    "requestId",
    "requestTime",
    "requestTimeEpoch",
    "identity.sourceIp",
    "routeKey",
    "status",
    "protocol",
    "httpMethod",
    "responseLength",
    "responseLatency",
    "integrationLatency",
    "integrationStatus",
    "integrationErrorMessage",
    "error.message",
    "authorizer.error",
    "authorizer.claims.sub",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    parsed, problems = decode(str(REPO / "template.yaml"))
    assert not problems, problems
    return parsed


def _resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resources: dict[str, Any] = template["Resources"]
    assert logical_id in resources, f"{logical_id} is missing"
    return dict(resources[logical_id])


def _props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return dict(_resource(template, logical_id).get("Properties", {}))


def _referenced_id(value: Any) -> str | None:
    """The logical id behind `!Ref X` or `!GetAtt X.Attr`, else None."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _sub_text(value: Any) -> str:
    """A literal or `!Sub` string as its text (variables left as ${...})."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    return str(value)


def _customer_key(template: dict[str, Any], reference: Any) -> dict[str, Any]:
    """The AWS::KMS::Key a property references (fails for aliases such as alias/aws/sns)."""
    logical_id = _referenced_id(reference)
    assert logical_id is not None, f"{reference!r} is not a key defined in this template"
    key = _resource(template, logical_id)
    assert key["Type"] == "AWS::KMS::Key", logical_id
    assert key["Properties"]["EnableKeyRotation"] is True, logical_id
    return key


def _service_statements(key: dict[str, Any], service: str) -> list[dict[str, Any]]:
    found = []
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        principals = statement.get("Principal", {})
        services = _as_list(principals.get("Service", [])) if isinstance(principals, dict) else []
        if statement["Effect"] == "Allow" and service in {_sub_text(s) for s in services}:
            found.append(statement)
    return found


def _actions(statement: dict[str, Any]) -> set[str]:
    return set(_as_list(statement["Action"]))


def _deny_without_tls(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        s
        for s in statements
        if s["Effect"] == "Deny"
        and s.get("Principal") in ("*", {"AWS": "*"})
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in (False, "false")
    ]


# ------------------------------------------------------------------ alarm topic and its key


def test_alarm_topic_key_is_customer_managed_and_cloudwatch_may_use_it(
    template: dict[str, Any],
) -> None:
    """CloudWatch alarms cannot publish to a topic under alias/aws/sns: no alarm would notify."""
    topic = _props(template, "AlarmTopic")
    key = _customer_key(template, topic["KmsMasterKeyId"])
    (statement,) = _service_statements(key, "cloudwatch.amazonaws.com")
    assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= _actions(statement)


def _publishers(template: dict[str, Any]) -> set[str]:
    found = set()
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for policy in resource["Properties"].get("Policies", []):
            target = policy.get("SNSPublishMessagePolicy", {}).get("TopicName")
            if _referenced_id(target) == "AlarmTopic":
                found.add(name)
    return found


def test_functions_that_publish_to_the_alarm_topic_may_use_its_key(
    template: dict[str, Any],
) -> None:
    """The weekly report and the pull's notices publish with the function role (not through
    EventBridge), so each such role needs the key too; the key policy delegates to IAM."""
    publishers = _publishers(template)
    # Cross-check with the code: every handler that notifies is a publisher in the template.
    notifying = {
        "PullFunction": "functions/pull/app.py",
        "WeeklyReportFunction": "functions/weekly_report/app.py",
        # The pull button's pull runs in the workers: blocked, the scheduled pull's notice.
        "SyncWorkerFunction": "functions/sync_worker/app.py",
        "BackgroundWorkerFunction": "functions/sync_worker/app.py",
    }
    for path in notifying.values():
        assert re.search(r"\.notify(_pull_blocked)?\b", (REPO / path).read_text()), path
    assert publishers == set(notifying)
    key_ref = _props(template, "AlarmTopic")["KmsMasterKeyId"]
    key_id = _referenced_id(key_ref)
    for function in publishers:
        granted: set[str] = set()
        for policy in _props(template, function)["Policies"]:
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                if _referenced_id(statement.get("Resource")) == key_id:
                    granted |= _actions(statement)
        # Exact actions: inline policies carry no wildcards (test_template.py).
        assert {"kms:Decrypt", "kms:GenerateDataKey"} <= granted, function
    key = _resource(template, str(key_id))
    root = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s["Effect"] == "Allow" and "Service" not in s.get("Principal", {})
    ]
    assert any(":root" in _sub_text(s["Principal"]["AWS"]) for s in root)


def test_alarm_topic_policy_lets_this_accounts_alarms_publish_and_denies_plain_http(
    template: dict[str, Any],
) -> None:
    policies = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SNS::TopicPolicy"
        and any(_referenced_id(t) == "AlarmTopic" for t in r["Properties"]["Topics"])
    ]
    assert len(policies) == 1
    statements = policies[0]["PolicyDocument"]["Statement"]
    assert _deny_without_tls(statements)
    cloudwatch = [
        s
        for s in statements
        if s["Effect"] == "Allow"
        and "cloudwatch.amazonaws.com" in _as_list(s.get("Principal", {}).get("Service", []))
    ]
    (allow,) = cloudwatch
    assert "sns:Publish" in _actions(allow)
    assert "aws:SourceAccount" in json.dumps(allow["Condition"])


# ------------------------------------------------------------------ logs


def _log_group_of(template: dict[str, Any], function: str) -> tuple[str, dict[str, Any]]:
    logging = _props(template, function).get("LoggingConfig", {})
    logical_id = _referenced_id(logging.get("LogGroup"))
    assert logical_id is not None, f"{function} does not name its log group"
    group = _resource(template, logical_id)
    assert group["Type"] == "AWS::Logs::LogGroup"
    return logical_id, group["Properties"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_logs_to_its_own_encrypted_log_group_with_retention(
    template: dict[str, Any], function: str
) -> None:
    _, group = _log_group_of(template, function)
    function_name = _sub_text(_props(template, function)["FunctionName"])
    assert _sub_text(group["LogGroupName"]) == f"/aws/lambda/{function_name}"
    retention = group["RetentionInDays"]
    if _referenced_id(retention):
        parameter = template["Parameters"][_referenced_id(retention)]
        assert set(parameter["AllowedValues"]) <= LOG_RETENTION_DAYS
        retention = parameter["Default"]
    assert 30 <= int(retention) <= 3653
    _customer_key(template, group["KmsKeyId"])


def test_log_groups_are_not_shared_between_functions(template: dict[str, Any]) -> None:
    groups = [_log_group_of(template, function)[0] for function in FUNCTIONS]
    assert len(set(groups)) == len(FUNCTIONS)


def test_log_key_lets_cloudwatch_logs_of_this_region_use_it(template: dict[str, Any]) -> None:
    _, group = _log_group_of(template, "ApiFunction")
    key = _customer_key(template, group["KmsKeyId"])
    (statement,) = _service_statements(key, "logs.${AWS::Region}.amazonaws.com")
    assert {"kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"} <= _actions(statement)
    # Only for this account's log groups (CloudWatch Logs passes the group as context).
    context = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert ":${AWS::AccountId}:log-group:" in _sub_text(context)


# ------------------------------------------------------------------ HTTP API


def test_http_api_access_logs_are_encrypted_and_phi_free(template: dict[str, Any]) -> None:
    settings = _props(template, "HttpApi")["AccessLogSettings"]
    group_id = _referenced_id(settings["DestinationArn"])
    group = _props(template, str(group_id))
    _customer_key(template, group["KmsKeyId"])
    assert "RetentionInDays" in group
    line = json.loads(settings["Format"])
    used = set()
    for value in line.values():
        variables = re.findall(r"\$context\.([A-Za-z.]+)", str(value))
        assert variables, value
        used.update(variables)
    assert used <= PHI_FREE_CONTEXT, used - PHI_FREE_CONTEXT
    assert {"requestId", "identity.sourceIp", "routeKey", "status"} <= used


def test_http_api_default_route_throttling_is_parameterised(template: dict[str, Any]) -> None:
    route = _props(template, "HttpApi")["DefaultRouteSettings"]
    for key in ("ThrottlingBurstLimit", "ThrottlingRateLimit"):
        parameter = template["Parameters"][_referenced_id(route[key])]
        assert parameter["Type"] == "Number"
        assert 0 < float(parameter["Default"]) <= 1000, key


# ------------------------------------------------------------------ functions


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_parameterised_reserved_concurrency(
    template: dict[str, Any], function: str
) -> None:
    reserved = _props(template, function).get("ReservedConcurrentExecutions")
    parameter = template["Parameters"][_referenced_id(reserved)]
    assert parameter["Type"] == "Number"
    assert int(parameter["Default"]) >= int(parameter.get("MinValue", 1)) >= 1


def test_worker_reserved_concurrency_covers_its_queue_maximum(template: dict[str, Any]) -> None:
    """SQS maximum concurrency above reserved concurrency only throttles (AWS advice)."""
    props = _props(template, "SyncWorkerFunction")
    (sqs,) = [e["Properties"] for e in props["Events"].values() if e["Type"] == "SQS"]
    assert props["ReservedConcurrentExecutions"] == sqs["ScalingConfig"]["MaximumConcurrency"]


# ------------------------------------------------------------------ tables


@pytest.mark.parametrize("table", TABLES)
def test_tables_are_deletion_protected_and_retained(template: dict[str, Any], table: str) -> None:
    resource = _resource(template, table)
    assert resource["Properties"]["DeletionProtectionEnabled"] is True
    assert resource.get("DeletionPolicy") == "Retain"
    assert resource.get("UpdateReplacePolicy") == "Retain"


# ------------------------------------------------------------------ queues


@pytest.mark.parametrize("queue", QUEUES)
def test_queues_refuse_requests_without_tls(template: dict[str, Any], queue: str) -> None:
    policies = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SQS::QueuePolicy"
        and any(_referenced_id(q) == queue for q in r["Properties"]["Queues"])
    ]
    assert len(policies) == 1, queue
    denies = _deny_without_tls(policies[0]["PolicyDocument"]["Statement"])
    covered = {_referenced_id(r) for s in denies for r in _as_list(s["Resource"])}
    assert queue in covered


# ------------------------------------------------------------------ PHI hash key


def _mentions(value: Any, logical_id: str) -> bool:
    """True when `value` references `logical_id` anywhere (Ref, GetAtt or ${...} in a Sub)."""
    if isinstance(value, dict):
        if _referenced_id(value) == logical_id:
            return True
        if "Fn::Sub" in value and f"${{{logical_id}" in _sub_text(value):
            return True
        return any(_mentions(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, logical_id) for v in value)
    return False


def test_phi_hash_key_is_a_generated_secret_only_the_api_and_workers_read(
    template: dict[str, Any],
) -> None:
    """The demographics fingerprint is an HMAC (issue 16) whose key CloudFormation generates
    into Secrets Manager: no one types it, and only the functions that fingerprint may read it."""
    secret = _resource(template, "PhiHashKeySecret")
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    props = secret["Properties"]
    assert "SecretString" not in props
    generated = props["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    assert generated["ExcludePunctuation"] is True
    readers = set()
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        if _mentions(resource["Properties"].get("Policies", []), "PhiHashKeySecret"):
            readers.add(name)
    assert readers == {"ApiFunction", "SyncWorkerFunction", "BackgroundWorkerFunction"}
    globals_env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert "PHI_HASH_KEY_SECRET" not in globals_env
    for name in FUNCTIONS:
        variables = _props(template, name).get("Environment", {}).get("Variables", {})
        if name in readers:
            assert variables["PHI_HASH_KEY_SECRET"] == {"Ref": "PhiHashKeySecret"}, name
        else:
            assert "PHI_HASH_KEY_SECRET" not in variables, name


# ------------------------------------------------------------------ checkov


def test_every_checkov_skip_names_a_check_and_says_why(template: dict[str, Any]) -> None:
    for name, resource in template["Resources"].items():
        skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
        for skip in skips:
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
            assert len(str(skip.get("comment", "")).strip()) >= 20, (name, skip)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://partnerlogin.advancedmd.com/practicemanager/xmlrpc/processrequest.aspx", True),
        ("https://advancedmd.com/login", True),
        ("http://partnerlogin.advancedmd.com/practicemanager/xmlrpc/processrequest.aspx", False),
        ("https://partnerlogin.advancedmd.com.collector.example/x", False),
        ("https://collector.example/advancedmd.com", False),
    ],
)
def test_the_partner_login_url_must_be_https_on_an_advancedmd_host(
    template: dict[str, Any], url: str, allowed: bool
) -> None:
    parameter = template["Parameters"]["AmdPartnerLoginUrl"]
    assert re.fullmatch(parameter["AllowedPattern"], parameter["Default"])
    assert bool(re.fullmatch(parameter["AllowedPattern"], url)) is allowed


def test_functions_get_the_trusted_hosts_for_credentials(template: dict[str, Any]) -> None:
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["AMD_TRUSTED_HOSTS"] == {"Ref": "AmdTrustedHosts"}
    assert template["Parameters"]["AmdTrustedHosts"]["Default"] == "advancedmd.com"

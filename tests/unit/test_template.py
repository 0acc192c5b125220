"""template.yaml declares the deployed shape; these tests pin the parts later code relies on."""

from typing import Any

import pytest
from cfnlint.decode import decode

from amdsync.sync.pull import PullOptions
from amdsync.web.routes import API_ROUTES, BASE_PATH
from tests.lambda_support import FUNCTION_NAMES, REPO

TABLES = ("SyncStateTable", "LogsTable", "AuditTable", "CacheTable", "ControlTable")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    parsed, problems = decode(str(REPO / "template.yaml"))
    assert not problems, problems
    return parsed


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def http_events(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for fn in resources_of(template, "AWS::Serverless::Function").values():
        for event in fn["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                found[(props["Method"], props["Path"])] = props
    return found


def test_every_spec_route_is_declared_and_nothing_else(template: dict[str, Any]) -> None:
    declared = set(http_events(template))
    expected = {(r.method, r.full_path) for r in API_ROUTES}
    assert declared == expected


def test_only_public_routes_skip_the_jwt_authorizer(template: dict[str, Any]) -> None:
    events = http_events(template)
    for route in API_ROUTES:
        auth = events[(route.method, route.full_path)].get("Auth", {})
        public = auth.get("Authorizer") == "NONE"
        assert public == (route.roles is None), route.full_path


def test_all_routes_live_under_the_base_path(template: dict[str, Any]) -> None:
    assert all(path.startswith(BASE_PATH + "/") for _, path in http_events(template))


def test_http_api_uses_a_jwt_authorizer_with_parameterised_issuer_and_audience(
    template: dict[str, Any],
) -> None:
    auth = template["Resources"]["HttpApi"]["Properties"]["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    config = authorizer["JwtConfiguration"]
    # The external issuer's parameters, or the stack's own pool (test_template_identity.py).
    assert config["issuer"]["Fn::If"][2] == {"Ref": "OidcIssuer"}
    assert config["audience"]["Fn::If"][2] == {"Ref": "OidcAudience"}


def test_functions_exist_with_python311_on_the_shared_layer(template: dict[str, Any]) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    code_uris = {fn["Properties"]["CodeUri"].rstrip("/") for fn in functions.values()}
    assert code_uris == {f"functions/{name}" for name in FUNCTION_NAMES}
    glob = template["Globals"]["Function"]
    assert glob["Runtime"] == "python3.11"
    assert glob["Layers"] == [{"Ref": "CommonLayer"}]
    layer = template["Resources"]["CommonLayer"]
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/common"
    # Built by layers/common/Makefile (requirements + amdsync + bytecode), for arm64.
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (REPO / "layers" / "common" / "Makefile").read_text()
    assert "\nbuild-CommonLayer:" in makefile
    assert "--invalidation-mode unchecked-hash" in makefile


@pytest.mark.parametrize("table", TABLES)
def test_tables_have_point_in_time_recovery_and_encryption(
    template: dict[str, Any], table: str
) -> None:
    props = template["Resources"][table]["Properties"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True


@pytest.mark.parametrize(
    ("table", "has_ttl"),
    [
        ("LogsTable", True),
        ("CacheTable", True),
        ("AuditTable", False),
        # Only the PHI (DEMOGRAPHICS) items expire there, as a backstop to their deletion.
        ("SyncStateTable", True),
    ],
)
def test_ttl_where_retention_is_limited(
    template: dict[str, Any], table: str, has_ttl: bool
) -> None:
    ttl = template["Resources"][table]["Properties"].get("TimeToLiveSpecification")
    assert bool(ttl and ttl["Enabled"]) == has_ttl


def test_sync_queue_is_fifo_with_a_fifo_dead_letter_queue(template: dict[str, Any]) -> None:
    queue = template["Resources"]["SyncQueue"]["Properties"]
    dlq = template["Resources"]["SyncDeadLetterQueue"]["Properties"]
    assert queue["FifoQueue"] is True and dlq["FifoQueue"] is True
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["SyncDeadLetterQueue", "Arn"]
    }


def test_worker_reports_partial_batch_failures_with_bounded_concurrency(
    template: dict[str, Any],
) -> None:
    events = template["Resources"]["SyncWorkerFunction"]["Properties"]["Events"]
    (sqs,) = [e["Properties"] for e in events.values() if e["Type"] == "SQS"]
    assert sqs["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumConcurrency" in sqs["ScalingConfig"]


@pytest.mark.parametrize(
    ("function", "expression"),
    [("PullFunction", "rate(1 minute)"), ("WeeklyReportFunction", "cron(0 7 ? * MON *)")],
)
def test_schedules(template: dict[str, Any], function: str, expression: str) -> None:
    events = template["Resources"][function]["Properties"]["Events"]
    (schedule,) = [e["Properties"] for e in events.values() if e["Type"] == "ScheduleV2"]
    assert schedule["ScheduleExpression"] == expression
    assert schedule["ScheduleExpressionTimezone"] == "America/Denver"


def _actions(policy: Any) -> list[str]:
    if isinstance(policy, dict) and "Statement" in policy:
        actions: list[str] = []
        for statement in policy["Statement"]:
            action = statement["Action"]
            actions.extend([action] if isinstance(action, str) else action)
        return actions
    return []


def test_no_wildcard_actions_in_inline_policies(template: dict[str, Any]) -> None:
    for name, fn in resources_of(template, "AWS::Serverless::Function").items():
        for policy in fn["Properties"].get("Policies", []):
            assert isinstance(policy, dict), f"{name}: managed policy names are not allowed"
            for action in _actions(policy):
                assert "*" not in action, f"{name}: {action}"


def test_audit_table_is_append_only_for_every_function(template: dict[str, Any]) -> None:
    for name, fn in resources_of(template, "AWS::Serverless::Function").items():
        for policy in fn["Properties"].get("Policies", []):
            for template_name in ("DynamoDBCrudPolicy", "DynamoDBWritePolicy"):
                target = policy.get(template_name, {}).get("TableName")
                assert target != {"Ref": "AuditTable"}, f"{name} may rewrite audit entries"


def test_alarm_topic_and_credentials_secret_are_parameterised(template: dict[str, Any]) -> None:
    assert "AlarmTopic" in template["Resources"]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["AMD_SECRET_NAME"] == {"Ref": "AmdSecretName"}


def test_a_pull_without_a_deadline_leases_for_the_pull_functions_timeout(
    template: dict[str, Any],
) -> None:
    """With a Lambda deadline the lease is the time left (+ slack); the CLI, which has none,
    uses the pull function's Timeout: never a lease that outlives what a run can last."""
    pull = template["Resources"]["PullFunction"]["Properties"]
    assert PullOptions().lease_seconds == pull["Timeout"]

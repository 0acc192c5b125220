"""SPEC §7: the five alarms exist, watch the right metric with the right threshold, and notify
the AlarmTopic; a dashboard exists. Metric names are cross-checked against the code that emits
them, so renaming a metric in one place only fails here."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.lambda_support import REPO

LAYER = REPO / "layers" / "common" / "amdsync"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    parsed, problems = decode(str(REPO / "template.yaml"))
    assert not problems, problems
    return parsed


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: res["Properties"]
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::CloudWatch::Alarm"
    }


def _alarm(template: dict[str, Any], name: str) -> dict[str, Any]:
    alarms = _alarms(template)
    assert name in alarms, sorted(alarms)
    return alarms[name]


def _service_of(template: dict[str, Any], function: str) -> str:
    props = template["Resources"][function]["Properties"]
    service: str = props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    return service


def _emitted(name: str) -> bool:
    """Some module or function really emits this metric name."""
    sources = [*LAYER.rglob("*.py"), *(REPO / "functions").rglob("app.py")]
    pattern = re.compile(rf"""["']{re.escape(name)}["']""")
    return any(pattern.search(path.read_text()) for path in sources)


def _metric_stats(props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["Id"]: m["MetricStat"] for m in props["Metrics"] if "MetricStat" in m}


def _expression(props: dict[str, Any]) -> dict[str, Any]:
    returned = [m for m in props["Metrics"] if m.get("ReturnData", True)]
    assert len(returned) == 1
    return returned[0]


def test_every_alarm_notifies_the_alarm_topic(template: dict[str, Any]) -> None:
    alarms = _alarms(template)
    assert len(alarms) >= 5
    for name, props in alarms.items():
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert props.get("AlarmDescription"), name
    assert template["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"


def test_failure_rate_alarm_is_metric_math_over_15_minutes_with_minimum_volume(
    template: dict[str, Any],
) -> None:
    props = _alarm(template, "FailureRateAlarm")
    stats = _metric_stats(props)
    worker = _service_of(template, "SyncWorkerFunction")
    names = {stat["Metric"]["MetricName"] for stat in stats.values()}
    assert names == {"SyncFailed", "SyncSucceeded"}
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == "AMDSync"
        assert stat["Metric"]["Dimensions"] == [{"Name": "service", "Value": worker}]
        assert stat["Period"] == 900 and stat["Stat"] == "Sum"
    expression = _expression(props)["Expression"].replace(" ", "")
    assert "100*FILL(failed,0)/(FILL(failed,0)+FILL(succeeded,0))" in expression
    minimum = re.search(r"IF\(\(FILL\(failed,0\)\+FILL\(succeeded,0\)\)>=(\d+)", expression)
    assert minimum and int(minimum.group(1)) >= 5, expression
    assert props["Threshold"] == 10
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert props["TreatMissingData"] == "notBreaching"
    assert _emitted("SyncFailed") and _emitted("SyncSucceeded")


def test_any_amd_429_alarms_from_every_function_that_calls_amd(template: dict[str, Any]) -> None:
    props = _alarm(template, "AmdRateLimitAlarm")
    stats = _metric_stats(props)
    services = {stat["Metric"]["Dimensions"][0]["Value"] for stat in stats.values()}
    assert services == {
        _service_of(template, fn) for fn in ("SyncWorkerFunction", "PullFunction", "ApiFunction")
    }
    assert {stat["Metric"]["MetricName"] for stat in stats.values()} == {"RateLimitHits"}
    assert all(stat["Stat"] == "Sum" for stat in stats.values())
    expression = _expression(props)["Expression"].replace(" ", "")
    for metric_id in stats:
        assert f"FILL({metric_id},0)" in expression
    assert props["Threshold"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert _emitted("RateLimitHits")


def test_queue_depth_alarm_above_100(template: dict[str, Any]) -> None:
    props = _alarm(template, "QueueDepthAlarm")
    assert props["Namespace"] == "AWS/SQS"
    assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["SyncQueue", "QueueName"]}}
    ]
    assert props["Threshold"] == 100
    assert props["ComparisonOperator"] == "GreaterThanThreshold"


def test_dead_letter_queue_not_empty_alarm(template: dict[str, Any]) -> None:
    props = _alarm(template, "DeadLetterQueueNotEmptyAlarm")
    assert props["Namespace"] == "AWS/SQS"
    assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["SyncDeadLetterQueue", "QueueName"]}}
    ]
    assert props["Threshold"] == 0
    assert props["ComparisonOperator"] == "GreaterThanThreshold"
    assert props["Period"] <= 300
    # The DLQ really is the worker queue's redrive target.
    redrive = template["Resources"]["SyncQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["SyncDeadLetterQueue", "Arn"]}


def test_failed_work_alarm_fires_when_the_worker_gives_up_on_a_job(
    template: dict[str, Any],
) -> None:
    props = _alarm(template, "FailedWorkAlarm")
    assert props["Namespace"] == "AMDSync"
    assert props["MetricName"] == "SyncDeadLettered" and _emitted("SyncDeadLettered")
    worker = _service_of(template, "SyncWorkerFunction")
    assert props["Dimensions"] == [{"Name": "service", "Value": worker}]
    assert (props["Statistic"], props["Threshold"]) == ("Sum", 1)
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert "runbook.md#failed-work" in props["AlarmDescription"]


def test_pull_stale_alarm_treats_silence_as_stale(template: dict[str, Any]) -> None:
    props = _alarm(template, "PullStaleAlarm")
    assert props["Namespace"] == "AMDSync"
    assert props["MetricName"] == "PullStale"
    assert props["Dimensions"] == [
        {"Name": "service", "Value": _service_of(template, "PullFunction")}
    ]
    assert props["Threshold"] == 1
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["TreatMissingData"] == "breaching"
    assert _emitted("PullStale")


def test_dashboard_exists_and_shows_the_alarmed_metrics(template: dict[str, Any]) -> None:
    dashboards = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    assert len(dashboards) == 1
    body = dashboards[0]["Properties"]["DashboardBody"]
    text = body["Fn::Sub"] if isinstance(body, dict) else body
    parsed = json.loads(re.sub(r"\$\{[^}]+\}", "x", text))  # valid JSON once substituted
    assert len(parsed["widgets"]) >= 4
    for metric in ("SyncSucceeded", "SyncFailed", "RateLimitHits", "PullStale"):
        assert metric in text
    assert "ApproximateNumberOfMessagesVisible" in text
    # SPEC §7: AMD calls by tier (the client emits AmdCalls with a `tier` dimension).
    by_tier = [
        line
        for widget in parsed["widgets"]
        for line in widget["properties"]["metrics"]
        if "AmdCalls" in line and "tier" in line
    ]
    assert sorted(line[line.index("tier") + 1] for line in by_tier) == ["T1", "T2", "T3"]


def test_a_pull_blocked_by_the_mass_change_guard_alarms_whoever_started_it(
    template: dict[str, Any],
) -> None:
    props = _alarm(template, "MassChangeBlockedAlarm")
    stats = _metric_stats(props)
    assert {stat["Metric"]["MetricName"] for stat in stats.values()} == {"MassChangeBlocked"}
    assert _emitted("MassChangeBlocked")
    services = {stat["Metric"]["Dimensions"][0]["Value"] for stat in stats.values()}
    # The scheduled pull (pull function) and the pull button's job (the workers) all count.
    assert services == {
        _service_of(template, "PullFunction"),
        _service_of(template, "SyncWorkerFunction"),
        _service_of(template, "BackgroundWorkerFunction"),
    }
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["Threshold"] == 1 and props["TreatMissingData"] == "notBreaching"
    expression = _expression(props)["Expression"]
    assert all(f"FILL({name}, 0)" in expression for name in stats)


def test_the_api_reads_the_state_of_every_alarm(
    template: dict[str, Any],
) -> None:
    api = template["Resources"]["ApiFunction"]["Properties"]
    listed = api["Environment"]["Variables"]["ALARM_NAMES"]["Fn::Join"][1]
    assert sorted(ref["Ref"] for ref in listed) == sorted(_alarms(template))
    statements = [
        statement
        for policy in api["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
    ]
    describe = [s for s in statements if s["Action"] == ["cloudwatch:DescribeAlarms"]]
    assert len(describe) == 1
    assert describe[0]["Resource"]["Fn::Sub"].endswith(":alarm:amdsync-*")
    for name, props in _alarms(template).items():
        assert props["AlarmName"]["Fn::Sub"].startswith("amdsync-"), name


def test_webhook_dead_letter_queue_not_empty_alarm(template: dict[str, Any]) -> None:
    props = _alarm(template, "WebhookDeadLetterQueueNotEmptyAlarm")
    assert (props["Namespace"], props["MetricName"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
    )
    assert props["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["WebhookDeadLetterQueue", "QueueName"]}}
    ]
    assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    redrive = template["Resources"]["WebhookQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]}

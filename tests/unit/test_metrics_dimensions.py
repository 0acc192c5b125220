"""AmdCalls by tier reaches CloudWatch (EMF) as a dimension, next to the service-wide count."""

import json

import pytest
from aws_lambda_powertools import Metrics

from amdsync.amd.metrics import PowertoolsMetrics as AmdPowertoolsMetrics
from amdsync.compose import PowertoolsMetrics


def emitted(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("sink", [PowertoolsMetrics, AmdPowertoolsMetrics])
def test_amd_calls_carry_the_tier_as_a_dimension(sink, capsys, monkeypatch):
    # As each function is deployed (template.yaml): the service name comes from the environment.
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "amdsync-sync-worker")
    metrics = Metrics(namespace="AMDSync")
    sink(metrics).count("AmdCalls", tier="T2")
    by_tier = emitted(capsys.readouterr().out)
    assert len(by_tier) == 1
    directive = by_tier[0]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "AMDSync"
    assert sorted(directive["Dimensions"][0]) == ["service", "tier"]
    assert by_tier[0]["tier"] == "T2" and by_tier[0]["AmdCalls"] == [1.0]
    assert by_tier[0]["service"] == "amdsync-sync-worker"
    # The function's own set keeps the total (what the alarms and the dashboard's sums read).
    assert metrics.serialize_metric_set()["AmdCalls"] == [1.0]
    metrics.clear_metrics()

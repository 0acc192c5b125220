"""The dashboard's alarm states, read from CloudWatch (moto) with DescribeAlarms."""

import boto3
import pytest
from moto import mock_aws

from amdsync.store.alarms import CloudWatchAlarms


@pytest.fixture
def cloudwatch(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("cloudwatch", region_name="us-west-2")
        for name in ("amdsync-pull-stale-dev", "amdsync-queue-depth-dev", "other-stack-alarm"):
            client.put_metric_alarm(
                AlarmName=name,
                AlarmDescription=f"{name} watches something",
                Namespace="AMDSync",
                MetricName="PullStale",
                Statistic="Maximum",
                Period=300,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
            )
        yield client


def test_the_named_alarms_with_their_states_alarming_first(cloudwatch):
    cloudwatch.set_alarm_state(
        AlarmName="amdsync-queue-depth-dev", StateValue="ALARM", StateReason="test"
    )
    cloudwatch.set_alarm_state(AlarmName="amdsync-pull-stale-dev", StateValue="OK", StateReason="t")
    names = ["amdsync-pull-stale-dev", "amdsync-queue-depth-dev", "amdsync-gone-dev"]
    states = CloudWatchAlarms(cloudwatch, names).states()
    assert [(s.name, s.state, s.words) for s in states] == [
        ("amdsync-queue-depth-dev", "ALARM", "In alarm"),
        ("amdsync-pull-stale-dev", "OK", "OK"),
    ]
    assert states[0].description == "amdsync-queue-depth-dev watches something"
    assert states[0].since is not None


def test_no_names_no_call(cloudwatch):
    assert CloudWatchAlarms(cloudwatch, ["", ""]).states() == []

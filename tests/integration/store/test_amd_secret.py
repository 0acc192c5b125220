"""Credentials from Secrets Manager through Powertools parameters (cached), against moto."""

import json

import boto3
import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from amdsync.amd.config import AmdCredentials, load_credentials
from amdsync.amd.metrics import PowertoolsMetrics

SECRET = {"officeKey": "991982", "username": "API_USER", "password": "pw-123", "appName": "APP"}


@pytest.fixture
def secrets(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name="amdsync/amd", SecretString=json.dumps(SECRET))
        yield client
    parameters.clear_caches()


def test_credentials_come_from_the_secret_and_are_cached(secrets):
    creds = load_credentials("amdsync/amd")
    assert isinstance(creds, AmdCredentials)
    assert creds.office_key == "991982" and creds.app_name == "APP"
    assert creds.password.get_secret_value() == "pw-123"
    secrets.update_secret(
        SecretId="amdsync/amd", SecretString=json.dumps({**SECRET, "appName": "NEW"})
    )
    assert load_credentials("amdsync/amd").app_name == "APP"  # cached per process (max_age)
    assert "pw-123" not in repr(creds) and "991982" not in repr(creds)


def test_secret_must_be_an_object(secrets):
    secrets.create_secret(Name="bad", SecretString=json.dumps(["x"]))
    with pytest.raises(ValueError, match="JSON object"):
        load_credentials("bad")


def test_powertools_metrics_adapter_counts():
    metrics = Metrics(namespace="AMDSync")
    PowertoolsMetrics(metrics).count("RateLimitHits")
    PowertoolsMetrics(metrics).count("RateLimitHits", 2)
    data = metrics.serialize_metric_set()
    assert data["RateLimitHits"] == [1.0, 2.0]
    assert data["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AMDSync"
    metrics.clear_metrics()

"""Issue 16: the demographics fingerprint is an HMAC whose key the functions read from Secrets
Manager (the template's generated PhiHashKeySecret), once, the first time they need it."""

from __future__ import annotations

import pytest

from amdsync.compose import Services
from amdsync.config import ApiSettings, ConfigError, PullSettings, load_settings
from amdsync.domain.patients import PatientDemographics
from amdsync.sync.metrics import RecordingMetrics
from tests.integration.functions.conftest import AwsHarness

DEMOGRAPHICS = PatientDemographics.model_validate(
    {
        "firstName": "Ada",
        "lastName": "Sample",
        "dateOfBirth": "1980-04-02",
        "sex": "F",
        "phone": "5555550100",
        "address": {"line1": "1 Main St", "city": "Salt Lake City", "state": "UT", "zip": "84101"},
        "ehrVersion": 1,
    }
)


def _services(
    aws: AwsHarness, name: str, model: type[ApiSettings] | type[PullSettings]
) -> Services:
    environment = aws.environment(name)
    for key, value in environment.items():
        aws.monkeypatch.setenv(key, value)
    return Services(load_settings(model, environment), RecordingMetrics())


def test_services_fingerprint_with_the_key_from_secrets_manager(aws: AwsHarness) -> None:
    services = _services(aws, "api", ApiSettings)
    secret_arn = services.settings.phi_hash_key_secret
    assert secret_arn is not None
    key = aws.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    digest = services.context().fingerprint(DEMOGRAPHICS)
    assert digest == DEMOGRAPHICS.fingerprint(key.encode("utf-8"))
    # Read once: a later rotation of the value does not change this process's digests.
    aws.client("secretsmanager").put_secret_value(SecretId=secret_arn, SecretString="x" * 64)
    assert services.context().fingerprint(DEMOGRAPHICS) == digest


def test_a_function_without_the_key_variable_fails_only_when_it_fingerprints(
    aws: AwsHarness,
) -> None:
    services = _services(aws, "pull", PullSettings)
    assert services.settings.phi_hash_key_secret is None
    ctx = services.context()  # the pull never fingerprints: building its context is fine
    with pytest.raises(ConfigError, match="PHI_HASH_KEY_SECRET"):
        ctx.fingerprint(DEMOGRAPHICS)

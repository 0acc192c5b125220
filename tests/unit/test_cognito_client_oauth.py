"""The admin UI client's OAuth settings are applied after the API exists (template.yaml,
CognitoClientOAuthFunction): the inline code, run against moto's Cognito, sets the redirect URLs
and flows from the custom resource's properties and keeps what the template gave the client."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cfnlint.decode import decode
from moto import mock_aws

from tests.lambda_support import REPO, FakeLambdaContext

UI_URL = "https://abc123.execute-api.us-west-2.amazonaws.com/dev/api/advancedmd/ui/sign-in"


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    parsed, problems = decode(str(REPO / "template.yaml"))
    assert not problems, problems
    return dict(parsed["Resources"])


@pytest.fixture
def responses(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """cfnresponse (provided by Lambda for inline code) replaced by a recorder."""
    sent: list[tuple[str, str]] = []
    fake = types.ModuleType("cfnresponse")
    fake.SUCCESS, fake.FAILED = "SUCCESS", "FAILED"  # type: ignore[attr-defined]
    fake.send = lambda event, context, status, data, physical_id: sent.append(  # type: ignore[attr-defined]
        (status, physical_id)
    )
    monkeypatch.setitem(sys.modules, "cfnresponse", fake)
    return sent


@pytest.fixture
def handler_module(resources: dict[str, Any], responses: Any) -> types.ModuleType:
    code = resources["CognitoClientOAuthFunction"]["Properties"]["Code"]["ZipFile"]
    module = types.ModuleType("cognito_client_oauth")
    exec(compile(str(code), "index.py", "exec"), module.__dict__)
    return module


@pytest.fixture
def pool(
    resources: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, str, str]]:
    monkeypatch.setenv("AWS_REGION", "us-west-2")  # as Lambda sets it
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-west-2")
        pool_id = idp.create_user_pool(PoolName="amdsync-test")["UserPool"]["Id"]
        client = dict(resources["AdminUiClient"]["Properties"])
        client.update(UserPoolId=pool_id, ClientName="amdsync-admin-ui-test")
        client_id = idp.create_user_pool_client(**client)["UserPoolClient"]["ClientId"]
        yield idp, pool_id, client_id


def _event(resources: dict[str, Any], request: str, pool_id: str, client_id: str) -> dict[str, Any]:
    props = dict(resources["AdminUiClientRedirects"]["Properties"])
    props.update(UserPoolId=pool_id, ClientId=client_id, CallbackURLs=[UI_URL])
    props.update(LogoutURLs=[UI_URL], ServiceToken="arn:aws:lambda:us-west-2:1:function:x")
    # CloudFormation hands custom resources every scalar as a string.
    for key in ("AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity"):
        props[key] = str(props[key])
    return {"RequestType": request, "LogicalResourceId": "AdminUiClientRedirects",
            "ResourceProperties": props}  # fmt: skip


def test_create_sets_the_redirects_and_code_flow_and_keeps_the_clients_own_settings(
    resources: dict[str, Any], handler_module: Any, pool: Any, responses: Any
) -> None:
    idp, pool_id, client_id = pool
    handler_module.handler(_event(resources, "Create", pool_id, client_id), FakeLambdaContext())
    assert responses == [("SUCCESS", "AdminUiClientRedirects")]
    client = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    client = client["UserPoolClient"]
    assert client["CallbackURLs"] == [UI_URL] and client["LogoutURLs"] == [UI_URL]
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert client["ClientName"] == "amdsync-admin-ui-test"
    assert "ClientSecret" not in client


def test_delete_changes_nothing_and_reports_success(
    resources: dict[str, Any], handler_module: Any, pool: Any, responses: Any
) -> None:
    idp, pool_id, client_id = pool
    handler_module.handler(_event(resources, "Delete", pool_id, client_id), FakeLambdaContext())
    assert responses == [("SUCCESS", "AdminUiClientRedirects")]
    client = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    assert "CallbackURLs" not in client["UserPoolClient"]


def test_a_failure_is_reported_to_cloudformation(
    resources: dict[str, Any], handler_module: Any, pool: Any, responses: Any
) -> None:
    _, pool_id, _ = pool
    event = _event(resources, "Update", pool_id, "no-such-client")
    handler_module.handler(event, FakeLambdaContext())
    assert responses == [("FAILED", "AdminUiClientRedirects")]

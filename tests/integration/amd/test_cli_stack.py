"""`amdsync --stack NAME`: the CLI finds a deployed stack's tables, secret and login URL through
CloudFormation (moto) and uses the service's token cache there (the simulator as AMD)."""

import json

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from amdsync.cli import main
from amdsync.cli_stack import STACK_PARAMETERS, STACK_RESOURCES
from local.runner.template import Template
from tests.moto_tables import PK_SK_TABLE

REGION = "us-east-1"
STACK = "amdsync-test"
SECRET = "amdsync/test-credentials"

_TABLE = {"Type": "AWS::DynamoDB::Table", "Properties": PK_SK_TABLE}


def _stack_template(login_url: str) -> str:
    """The deployed stack's shape as far as the CLI reads it (the real template is SAM)."""
    parameters = {
        "Stage": {"Type": "String", "Default": "test"},
        "AmdSecretName": {"Type": "String", "Default": SECRET},
        "AmdPartnerLoginUrl": {"Type": "String", "Default": login_url},
        "PracticeTimeZone": {"Type": "String", "Default": "America/Denver"},
    }
    tables = ("SyncStateTable", "LogsTable", "AuditTable", "CacheTable", "ControlTable")
    resources = dict.fromkeys(tables, _TABLE)
    resources["SyncQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    resources["SyncDeadLetterQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    resources["AlarmTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    return json.dumps({"Parameters": parameters, "Resources": resources})


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    # Powertools keeps its Secrets Manager client per process: not one bound to another test's AWS.
    parameters.clear_caches()
    with mock_aws():
        yield
    parameters.clear_caches()


@pytest.fixture
def deployed(aws, amd_sim):
    amd_sim.admin.follow_real_time()  # the CLI runs on the system clock
    boto3.client("cloudformation").create_stack(
        StackName=STACK, TemplateBody=_stack_template(amd_sim.partner_login_url)
    )
    credentials = {
        "officeKey": amd_sim.office_key,
        "username": amd_sim.username,
        "password": amd_sim.password,
        "appName": amd_sim.appname,
    }  # no partnerLoginUrl: the stack's AmdPartnerLoginUrl names the endpoint, as for the functions
    boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(credentials))
    resources = boto3.client("cloudformation").describe_stack_resources(StackName=STACK)
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources["StackResources"]}


def _operator_env(tmp_path) -> dict[str, str]:
    return {"AMDSYNC_STATE_DIR": str(tmp_path / "state"), "AWS_REGION": REGION}


def test_stack_option_shares_the_deployed_services_token(deployed, amd_sim, tmp_path, capsys):
    assert main(["--stack", STACK, "test-connection"], _operator_env(tmp_path)) == 0
    assert main(["--stack", STACK, "--json", "providers"], _operator_env(tmp_path)) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Success") and "amdsync:" not in err
    control = boto3.resource("dynamodb").Table(deployed["ControlTable"])
    tokens = [item for item in control.scan()["Items"] if item["sk"] == "TOKEN"]
    assert len(tokens) == 1  # in the stack's control table, where the functions look
    cache = boto3.resource("dynamodb").Table(deployed["CacheTable"])
    assert any(item["sk"].startswith("LOOKUP#") for item in cache.scan()["Items"])
    assert not (tmp_path / "state").exists()  # nothing private
    assert amd_sim.admin.report()["logins"] == 1


def test_amdsync_stack_variable_is_the_same_as_the_option(deployed, amd_sim, tmp_path, capsys):
    env = {**_operator_env(tmp_path), "AMDSYNC_STACK": STACK}
    assert main(["test-connection"], env) == 0
    assert "amdsync:" not in capsys.readouterr().err
    assert not (tmp_path / "state").exists()


def test_own_credentials_give_way_to_the_services_and_say_so(deployed, amd_sim, tmp_path, capsys):
    env = {**_operator_env(tmp_path), "AMD_USERNAME": "SOMEONE", "AMD_PASSWORD": "other"}
    assert main(["--stack", STACK, "test-connection"], env) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "amdsync: using the service's AdvancedMD credentials; AMD_USERNAME, AMD_PASSWORD ignored"
    ]
    assert amd_sim.admin.report()["logins"] == 1


def test_unknown_stack_is_a_configuration_problem(aws, tmp_path, capsys):
    assert main(["--stack", "no-such-stack", "limits"], _operator_env(tmp_path)) == 2
    assert "no-such-stack" in capsys.readouterr().err


def test_a_stack_that_is_not_amdsync_names_what_is_missing(aws, tmp_path, capsys):
    body = {"Resources": {"Something": {"Type": "AWS::SNS::Topic", "Properties": {}}}}
    boto3.client("cloudformation").create_stack(StackName="other", TemplateBody=json.dumps(body))
    assert main(["--stack", "other", "limits"], _operator_env(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "stack 'other'" in err and "CONTROL_TABLE" in err and "AMD_SECRET_NAME" in err


def test_the_stack_lookup_mirrors_the_templates_function_variables():
    """Every function variable the template sets from a parameter or resource `Ref` is read
    from the stack under the same name (so `--stack` and the functions cannot drift)."""
    variables = Template.load().globals["Function"]["Environment"]["Variables"]
    refs = {
        name: value["Ref"]
        for name, value in variables.items()
        if isinstance(value, dict) and "Ref" in value
    }
    lookup = {**STACK_PARAMETERS, **STACK_RESOURCES}
    assert {lookup[ref]: ref for ref in refs.values() if ref in lookup} == refs


def test_the_stack_lookup_covers_every_functions_own_resource_variables():
    """Variables a single function gets from a resource `Ref` (the PHI hash key's secret) are
    looked up too, under the same name."""
    template = Template.load()
    for logical_id in template.resources_of_type("AWS::Serverless::Function"):
        environment = template.resources[logical_id]["Properties"].get("Environment", {})
        for name, value in environment.get("Variables", {}).items():
            ref = value.get("Ref") if isinstance(value, dict) else None
            if ref in template.resources:
                assert STACK_RESOURCES.get(ref) == name, (logical_id, name)

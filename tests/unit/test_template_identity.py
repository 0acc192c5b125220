"""Issue 17 item 1 (SPEC §9.5): who may call the deployed API, read from template.yaml.

With no `OidcIssuer` the stack runs its own Cognito user pool (groups admin/billing/provider, a
public PKCE client for the admin UI, a client-credentials client for the EHR with scope
`amdsync/ehr`); with one, the authorizer trusts that issuer and creates nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from cfnlint.decode import decode

from amdsync.web.api_ui import PAGES
from amdsync.web.auth import SCOPE_ROLES
from tests.lambda_support import REPO

COGNITO = "CreateUserPool"
COGNITO_TYPES = {
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolResourceServer",
    "AWS::Cognito::UserPoolClient",
    "Custom::CognitoClientOAuth",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    parsed, problems = decode(str(REPO / "template.yaml"))
    assert not problems, problems
    return parsed


def _props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return dict(template["Resources"][logical_id]["Properties"])


def _sub_text(value: Any) -> str:
    return str(value["Fn::Sub"]) if isinstance(value, dict) else str(value)


def test_issuer_parameters_default_to_the_stacks_own_pool(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    assert parameters["OidcIssuer"]["Default"] == ""
    assert parameters["OidcAudience"]["Type"] == "CommaDelimitedList"
    assert parameters["RoleClaim"]["Default"] == "cognito:groups"
    assert template["Conditions"][COGNITO] == {"Fn::Equals": [{"Ref": "OidcIssuer"}, ""]}
    assert not {"JwtIssuer", "JwtAudience"} & set(parameters)


def test_every_identity_resource_exists_only_without_an_external_issuer(
    template: dict[str, Any],
) -> None:
    identity = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] in COGNITO_TYPES or name.startswith("CognitoClientOAuth")
    }
    assert {r["Type"] for r in identity.values()} >= COGNITO_TYPES
    assert all(r.get("Condition") == COGNITO for r in identity.values()), identity.keys()


def test_the_authorizer_trusts_whichever_issuer_applies(template: dict[str, Any]) -> None:
    auth = template["Resources"]["HttpApi"]["Properties"]["Auth"]
    config = auth["Authorizers"][auth["DefaultAuthorizer"]]["JwtConfiguration"]
    condition, pool_issuer, external_issuer = config["issuer"]["Fn::If"]
    assert condition == COGNITO
    assert _sub_text(pool_issuer) == "https://${UserPool.ProviderURL}"
    assert external_issuer == {"Ref": "OidcIssuer"}
    # Cognito access tokens carry `client_id` (no `aud`): the audiences are the two clients.
    condition, pool_audience, external_audience = config["audience"]["Fn::If"]
    assert pool_audience == [{"Ref": "AdminUiClient"}, {"Ref": "EhrClient"}]
    assert external_audience == {"Ref": "OidcAudience"}


def test_the_role_claim_reaches_every_function(template: dict[str, Any]) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["ROLE_CLAIM"] == {"Ref": "RoleClaim"}


def test_the_user_pool_is_admin_provisioned_with_mfa_and_kept(template: dict[str, Any]) -> None:
    pool = template["Resources"]["UserPool"]
    props = pool["Properties"]
    assert pool["DeletionPolicy"] == "Retain" and pool["UpdateReplacePolicy"] == "Retain"
    assert props["DeletionProtection"] == "ACTIVE"
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["MfaConfiguration"] == "ON"
    password = props["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(password[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers"))


def test_the_staff_groups_are_the_staff_roles(template: dict[str, Any]) -> None:
    groups = {
        r["Properties"]["GroupName"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Cognito::UserPoolGroup"
    }
    assert groups == {"admin", "billing", "provider"}


def test_the_ehr_scope_is_the_one_the_api_maps_to_the_ehr_role(template: dict[str, Any]) -> None:
    server = _props(template, "EhrResourceServer")
    scopes = {f"{server['Identifier']}/{s['ScopeName']}" for s in server["Scopes"]}
    assert scopes == set(SCOPE_ROLES) and SCOPE_ROLES == {"amdsync/ehr": "ehr"}
    ehr = _props(template, "EhrClient")
    assert ehr["GenerateSecret"] is True
    assert ehr["AllowedOAuthFlows"] == ["client_credentials"]
    assert ehr["AllowedOAuthScopes"] == ["amdsync/ehr"]


def test_the_admin_ui_client_is_public_code_flow_landing_on_the_sign_in_page(
    template: dict[str, Any],
) -> None:
    client = _props(template, "AdminUiClient")
    assert client["GenerateSecret"] is False
    oauth = _props(template, "AdminUiClientRedirects")
    assert oauth["ClientId"] == {"Ref": "AdminUiClient"}
    assert oauth["AllowedOAuthFlows"] == ["code"]
    # A staff token must never carry the EHR's scope (it would add the ehr role).
    assert not set(oauth["AllowedOAuthScopes"]) & set(SCOPE_ROLES)
    ui_url = "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
    ui_url += "/api/advancedmd/ui/sign-in"
    assert [_sub_text(u) for u in oauth["CallbackURLs"]] == [ui_url]
    assert [_sub_text(u) for u in oauth["LogoutURLs"]] == [ui_url]
    assert "sign-in" in PAGES


def test_identity_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for name in ("UserPoolId", "AdminUiClientId", "EhrClientId", "TokenUrl"):
        assert outputs[name]["Condition"] == COGNITO, name
    assert outputs["OidcIssuerUrl"]["Value"]["Fn::If"][0] == COGNITO
    assert _sub_text(outputs["TokenUrl"]["Value"]).endswith("amazoncognito.com/oauth2/token")

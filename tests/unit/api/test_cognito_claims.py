"""SPEC §9.5 with the stack's own Cognito pool: staff roles arrive in `cognito:groups` (flattened
by API Gateway), and the EHR's client-credentials token has no groups at all - it is known by
its scope `amdsync/ehr`, which maps to the role `ehr` and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from amdsync.web.auth import caller_from_event
from amdsync.web.resolver import create_resolver
from tests.lambda_support import FakeLambdaContext
from tests.unit.api.support import Api, Reply, http_event

COGNITO_GROUPS = "cognito:groups"
APPOINTMENT = {
    "patientId": "P-100",
    "providerId": "DR-7",
    "facilityId": "MAIN",
    "appointmentType": "THERAPY_50",
    "start": "2026-12-01T10:00:00",
    "timeZone": "America/Denver",
    "durationMinutes": 50,
    "status": "SCHEDULED",
    "ehrVersion": 1,
}


def staff_access_token(groups: str) -> dict[str, Any]:
    """A Cognito user access token's claims as API Gateway hands them over (strings only)."""
    return {
        "sub": "5f0c-staff",
        "token_use": "access",
        "client_id": "ui-client-id",
        "scope": "openid email profile",
        COGNITO_GROUPS: groups,
        "exp": "1900000000",
    }


def ehr_access_token(scope: str = "amdsync/ehr") -> dict[str, Any]:
    """A Cognito client-credentials access token: `sub` is the client id, no groups."""
    return {
        "sub": "ehr-client-id",
        "token_use": "access",
        "client_id": "ehr-client-id",
        "scope": scope,
        "exp": "1900000000",
    }


def call_as_cognito(method: str, route_path: str, token: dict[str, Any], **kwargs: Any) -> Reply:
    api = Api()
    api.resolver = create_resolver(lambda: api.services, role_claim=COGNITO_GROUPS)
    event = http_event(method, route_path, jwt_claims=token, **kwargs)
    return Reply(api.resolver.resolve(event, FakeLambdaContext()))


@pytest.mark.parametrize(("groups", "status"), [("[admin]", 200), ("[billing provider]", 403)])
def test_staff_roles_come_from_the_flattened_cognito_groups(groups: str, status: int) -> None:
    reply = call_as_cognito("GET", "/sync/dashboard", staff_access_token(groups))
    assert reply.status == status, reply.text


def test_the_ehr_scope_grants_the_ehr_role() -> None:
    event = http_event("GET", "/changes", jwt_claims=ehr_access_token())
    caller = caller_from_event(event, COGNITO_GROUPS)
    assert caller is not None and caller.roles == {"ehr"}


def test_the_ehr_machine_client_may_register_an_appointment() -> None:
    reply = call_as_cognito(
        "PUT",
        "/appointments/{appointmentId}",
        ehr_access_token(),
        path_params={"appointmentId": "A-200"},
        body=APPOINTMENT,
    )
    assert reply.status == 202, reply.text


@pytest.mark.parametrize("scope", ["amdsync/ehr-admin", "AMDSYNC/EHR", "other/ehr", "ehr", ""])
def test_other_scopes_grant_nothing(scope: str) -> None:
    reply = call_as_cognito("GET", "/changes", ehr_access_token(scope))
    assert reply.status == 403, reply.text


def test_the_ehr_scope_grants_no_staff_route() -> None:
    reply = call_as_cognito("GET", "/sync/dashboard", ehr_access_token())
    assert reply.status == 403, reply.text

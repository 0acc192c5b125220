"""Every route of API_ROUTES, for every role (and no token): allowed, or 401/403.

Allowed means "not 401/403": on fake data a route may legitimately answer 404 or 409. The
expected outcome comes from the route table, so a route added without a sample here fails the
completeness test, and a role widened or narrowed by mistake fails its cell.
"""

from __future__ import annotations

from typing import Any

import pytest

from amdsync.web.routes import API_ROUTES, Role, RouteSpec
from tests.unit.api.samples import SAMPLES, route_id, sample_for
from tests.unit.api.support import Api, Reply, claims

ROLES = [role.value for role in Role]
# On fake data an allowed call succeeds or finds nothing (e.g. a patient never registered).
ALLOWED_OUTCOMES = (200, 201, 202, 204, 404)
# How API Gateway's JWT authorizer passes an array claim, and how other issuers/local tokens do.
ROLE_FORMS = {
    "flattened": lambda roles: "[" + " ".join(roles) + "]",
    "list": list,
}


def _call(route: RouteSpec, jwt_claims: dict[str, Any] | None) -> Reply:
    sample = sample_for(route)
    return Api().call(
        route.method,
        route.path,
        roles=None,
        path_params=sample.path_params,
        body=sample.body,
        query=sample.query,
        jwt_claims=jwt_claims,
    )


def test_every_route_has_a_sample_request() -> None:
    assert set(SAMPLES) == {(r.method, r.path) for r in API_ROUTES}


@pytest.mark.parametrize("form", sorted(ROLE_FORMS))
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", API_ROUTES, ids=route_id)
def test_role_matrix(route: RouteSpec, role: str, form: str) -> None:
    reply = _call(route, claims(ROLE_FORMS[form]([role])))
    if route.roles is None or role in route.roles:
        assert reply.status not in (401, 403), reply.text
        assert reply.status in ALLOWED_OUTCOMES, reply.text
    else:
        reply.assert_problem(403, "FORBIDDEN")


@pytest.mark.parametrize("route", API_ROUTES, ids=route_id)
def test_no_token(route: RouteSpec) -> None:
    reply = _call(route, None)
    if route.roles is None:
        assert reply.status in ALLOWED_OUTCOMES, reply.text
    else:
        reply.assert_problem(401, "UNAUTHENTICATED")


@pytest.mark.parametrize("route", [r for r in API_ROUTES if r.roles], ids=route_id)
def test_several_roles_flattened_are_each_honoured(route: RouteSpec) -> None:
    # "[provider ehr]" may call what either role may call.
    assert route.roles is not None
    allowed = sorted(route.roles)[0]
    other = next(r for r in ROLES if r != allowed)
    reply = _call(route, claims(f"[{other} {allowed}]"))
    assert reply.status not in (401, 403), reply.text


@pytest.mark.parametrize("route", [r for r in API_ROUTES if r.roles], ids=route_id)
def test_token_of_another_practice_is_refused(route: RouteSpec) -> None:
    assert route.roles is not None
    reply = _call(route, claims([sorted(route.roles)[0]], practice="123456"))
    reply.assert_problem(403, "WRONG_PRACTICE")


def test_token_without_roles_is_forbidden_not_unauthenticated() -> None:
    route = next(r for r in API_ROUTES if r.path == "/sync/dashboard")
    reply = _call(route, {"sub": "user-1", "practice": "999999"})
    reply.assert_problem(403, "FORBIDDEN")


def test_denied_request_with_an_invalid_body_is_refused_before_validation() -> None:
    # A 422 would describe the schema to a caller who may not use the route at all.
    route = next(r for r in API_ROUTES if (r.method, r.path) == ("PUT", "/settings"))
    api = Api()
    no_token = api.call(route.method, route.path, roles=None, body={"bogus": 1})
    no_token.assert_problem(401, "UNAUTHENTICATED")
    wrong_role = api.call(route.method, route.path, roles="[billing]", body="{not json")
    wrong_role.assert_problem(403, "FORBIDDEN")

"""SPEC §9.5 in the gate: roles match exactly, and a `practice` claim that is present must name
this deployment's practice (an empty one included)."""

from __future__ import annotations

from typing import Any

import pytest

from amdsync.web.auth import parse_roles
from tests.fakes import PRACTICE
from tests.unit.api.support import Api, claims


def _dashboard(token_claims: dict[str, Any]) -> int:
    return Api().call("GET", "/sync/dashboard", roles=None, jwt_claims=token_claims).status


@pytest.mark.parametrize(
    "roles",
    ["ADMIN", "Admin", "provider,admin", "provider, admin", "admin ", '["admin"]', "[ADMIN]"],
)
def test_loose_role_strings_grant_nothing(roles: str) -> None:
    assert _dashboard(claims(roles)) == 403


@pytest.mark.parametrize("roles", [["admin"], "admin", "[admin]", "[provider admin]"])
def test_exact_roles_a_list_or_api_gateways_flattened_list(roles: Any) -> None:
    assert _dashboard(claims(roles)) == 200


def test_parse_roles_keeps_only_exact_strings() -> None:
    assert parse_roles(["admin", "Billing", 7]) == {"admin", "Billing"}
    assert parse_roles("[billing ehr]") == {"billing", "ehr"}
    assert parse_roles("billing,ehr") == {"billing,ehr"}


@pytest.mark.parametrize("practice", ["", " ", "other-practice", PRACTICE.lower() + "x"])
def test_a_practice_claim_must_name_this_practice(practice: str) -> None:
    assert _dashboard(claims(["admin"], practice=practice)) == 403


def test_without_a_practice_claim_the_single_practice_binds_the_request() -> None:
    assert _dashboard(claims(["admin"], practice=None)) == 200

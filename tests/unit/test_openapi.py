"""The committed OpenAPI document is generated from the code and matches the route table."""

import json

from amdsync.web import openapi
from amdsync.web.routes import API_ROUTES
from tests.lambda_support import REPO


def test_committed_document_matches_the_code() -> None:
    committed = (REPO / "docs" / "openapi.json").read_text()
    assert committed == openapi.render(), "run: .venv/bin/python -m amdsync.web.openapi"


def test_document_is_openapi_31_and_covers_every_route() -> None:
    document = json.loads(openapi.render())
    assert document["openapi"].startswith("3.1")
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert documented == {(r.method, r.full_path) for r in API_ROUTES if r.documented}


def test_bearer_jwt_security_scheme_is_declared() -> None:
    schemes = json.loads(openapi.render())["components"]["securitySchemes"]
    assert schemes == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": schemes["bearerAuth"]["description"],
        }
    }


def test_every_route_but_the_public_ones_requires_a_token_and_names_its_roles() -> None:
    """Issue 16: the document said nothing about authentication or who may call what."""
    paths = json.loads(openapi.render())["paths"]
    for route in (r for r in API_ROUTES if r.documented):
        operation = paths[route.full_path][route.method.lower()]
        if route.roles is None:
            assert operation["security"] == [], route.full_path
            assert "x-amdsync-roles" not in operation
        else:
            assert operation["security"] == [{"bearerAuth": []}], route.full_path
            assert operation["x-amdsync-roles"] == sorted(route.roles), route.full_path
            assert "Roles: " + ", ".join(sorted(route.roles)) in operation["description"]
    public = {r.path for r in API_ROUTES if r.documented and r.roles is None}
    assert public == {"/health", "/openapi.json"}

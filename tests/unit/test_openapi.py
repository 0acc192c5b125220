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

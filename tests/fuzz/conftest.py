"""The API on the local stack (HTTP front, API function processes, moto) for fuzzing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from local.amdsim.handle import SimHandle
from local.runner.jwt_authorizer import JwtSettings
from local.runner.stack import LocalStack, StackConfig
from local.runner.tokens import dev_tokens
from tests.reliability.conftest import pytest_collection_modifyitems, pytest_configure
from tests.reliability.world import ROOT_OPENAPI

__all__ = ["pytest_collection_modifyitems", "pytest_configure"]


@pytest.fixture(scope="module")
def api_stack(amd_sim_server: SimHandle) -> Iterator[LocalStack]:
    config = StackConfig(
        api_port=0,
        moto_port=0,
        sim_port=0,
        start_simulator=False,
        run_pollers=False,
        run_scheduler=False,
        functions=("ApiFunction",),
        api_concurrency=2,
        parameter_overrides={"AmdPartnerLoginUrl": amd_sim_server.partner_login_url},
    )
    stack = LocalStack(config).start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def api_schema(api_stack: LocalStack) -> Any:
    assert api_stack.http is not None
    raw = json.loads(ROOT_OPENAPI.read_text())
    schema = schemathesis.openapi.from_dict(raw)
    schema.config.update(base_url=api_stack.http.url)
    return schema


@pytest.fixture(scope="module")
def tokens() -> dict[str, str]:
    return dev_tokens(JwtSettings())

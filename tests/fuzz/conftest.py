"""The API on the local stack (HTTP front, API function processes, moto) for fuzzing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis

from bench.stack_bench import SIM_WIDE, WIDE_LIMITS
from local.amdsim.handle import SimHandle
from local.runner.moto_endpoint import forget_cached_sdk_clients
from local.runner.stack import LocalStack, StackConfig
from tests.reliability.conftest import pytest_collection_modifyitems, pytest_configure
from tests.reliability.world import ROOT_OPENAPI

__all__ = ["pytest_collection_modifyitems", "pytest_configure"]


@pytest.fixture(scope="module")
def api_stack(amd_sim_server: SimHandle) -> Iterator[LocalStack]:
    # The functions run on real time, so the simulator does too; both limiters widened (no
    # rate limit applies: a deferral is not what this suite is about).
    amd_sim_server.admin.reset(seed=1, patients=30, appointments=60)
    amd_sim_server.admin.config(**SIM_WIDE)
    forget_cached_sdk_clients()
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
        function_environment={"AMD_RATE_LIMITS_JSON": json.dumps(WIDE_LIMITS)},
    )
    stack = LocalStack(config).start()
    try:
        # The first pull bootstraps (GETDATEVISITS day by day): done once here, not inside a
        # fuzzed request's timeout.
        token = stack.tokens["billing"]
        reply = httpx.post(
            f"{stack.api_base_url}/appointments/pull-updates",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        assert reply.status_code < 500, reply.text
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
def tokens(api_stack: LocalStack) -> dict[str, str]:
    return api_stack.tokens

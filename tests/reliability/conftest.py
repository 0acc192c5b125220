"""Fixtures for the fault campaign: moto (the local stack's AWS side) once per module, and a
fresh product + simulator per test on a frozen simulated clock shared by both.

Profiles: the quick one runs in `make test`; `AMDSYNC_RELIABILITY=full` (what `make reliability`
sets) runs the long schedules as well.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from local.amdsim.handle import SimHandle
from local.runner.stack import LocalStack
from tests.reliability.world import Product, confirm_mappings, moto_stack, wipe

# Wed 2025-03-12 19:00 MDT: off-peak, a work day follows.
CAMPAIGN_EPOCH = datetime(2025, 3, 13, 1, 0, tzinfo=UTC)
FULL = os.environ.get("AMDSYNC_RELIABILITY", "").lower() == "full"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "full: long reliability profile (AMDSYNC_RELIABILITY=full)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long profile runs only when asked for: deselected (not skipped) otherwise."""
    if FULL:
        return
    keep = [item for item in items if item.get_closest_marker("full") is None]
    dropped = [item for item in items if item.get_closest_marker("full") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="module")
def aws(amd_sim_server: SimHandle) -> Iterator[LocalStack]:
    with moto_stack(amd_sim_server) as (stack, _environment):
        yield stack


@pytest.fixture
def product(aws: LocalStack, amd_sim: SimHandle) -> Product:
    amd_sim.admin.reset(clock=CAMPAIGN_EPOCH.isoformat(), frozen=True, seed=3, patients=30,
                        appointments=0)  # fmt: skip
    wipe(aws)
    built = Product.build(amd_sim)
    confirm_mappings(built)
    return built

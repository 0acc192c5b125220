"""Simulator tests use the simulator's own fixtures (the lead may also register the plugin
globally; these names then simply shadow it for this package)."""

from collections.abc import Iterator

import httpx
import pytest

from local.amdsim.handle import SimHandle
from local.amdsim.pytest_plugin import amd_sim, amd_sim_server, amd_sim_strict  # noqa: F401
from tests.amdsim.helpers import Amd


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, headers={"Accept": "application/json"}) as client:
        yield client


@pytest.fixture
def amd(amd_sim: SimHandle, http: httpx.Client) -> Amd:  # noqa: F811
    """A logged-in test client (one login)."""
    client = Amd(amd_sim, http)
    client.login()
    return client

"""pytest fixtures for the AdvancedMD simulator.

Register with `pytest_plugins = ["local.amdsim.pytest_plugin"]`.

* `amd_sim_server` (session scope): one in-process simulator on a free 127.0.0.1 port, threaded.
* `amd_sim` (function scope): the same server, reset before each test: default switches, no
  faults, zero counters, no tokens, demo data re-seeded (seed 1, 200 patients, 300
  appointments), and the simulated clock running from `FIXTURE_EPOCH` (Wednesday 05:00
  America/Denver, off-peak), so results do not depend on the hour the suite runs. Call
  `amd_sim.admin.follow_real_time()` for wall-clock time.
* `amd_sim_strict` (function scope): as `amd_sim`, with the strict rate modes the product is
  judged against (`STRICT_RATE_SWITCHES`: sliding 60 s window, AMD's clock 17 s ahead).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .app import Simulator
from .config import STRICT_RATE_SWITCHES
from .handle import SimHandle
from .server import start_server

FIXTURE_EPOCH = "2025-03-12T11:00:00+00:00"  # Wed 2025-03-12 05:00 MDT: off-peak, a work day
FIXTURE_SEED = {"seed": 1, "patients": 200, "appointments": 300}


@pytest.fixture(scope="session")
def amd_sim_server() -> Iterator[SimHandle]:
    sim = Simulator(
        seed=FIXTURE_SEED["seed"],
        patients=FIXTURE_SEED["patients"],
        appointments=FIXTURE_SEED["appointments"],
    )
    server, thread = start_server(sim)
    handle = SimHandle(base_url=sim.base_url, sim=sim)
    try:
        yield handle
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def amd_sim(amd_sim_server: SimHandle) -> SimHandle:
    amd_sim_server.admin.reset(clock=FIXTURE_EPOCH, frozen=False, **FIXTURE_SEED)
    return amd_sim_server


@pytest.fixture
def amd_sim_strict(amd_sim_server: SimHandle) -> SimHandle:
    amd_sim_server.admin.reset(
        clock=FIXTURE_EPOCH, frozen=False, config=STRICT_RATE_SWITCHES, **FIXTURE_SEED
    )
    return amd_sim_server

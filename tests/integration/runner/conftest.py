"""Fixtures for the local runner's tests: stacks on free ports, nothing left running after."""

import multiprocessing
from collections.abc import Iterator

import pytest

from local.runner.stack import LocalStack, StackConfig


def quiet_config(**overrides: object) -> StackConfig:
    """A stack on free ports that runs only what a test asks for."""
    settings: dict[str, object] = {
        "api_port": 0,
        "moto_port": 0,
        "sim_port": 0,
        "start_simulator": False,
        "run_http": False,
        "run_pollers": False,
        "run_scheduler": False,
        "api_concurrency": 2,
    }
    settings.update(overrides)
    return StackConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="module")
def _no_children_left() -> Iterator[None]:
    yield
    assert multiprocessing.active_children() == []


def running_stack(config: StackConfig) -> Iterator[LocalStack]:
    stack = LocalStack(config).start()
    try:
        yield stack
    finally:
        stack.stop()

"""Shared fixtures. The AMD simulator's fixtures come from its pytest plugin."""

import logging
from collections.abc import Iterator

import pytest

from tests.shared_stack import release, uses_shared

pytest_plugins = ["local.amdsim.pytest_plugin"]


@pytest.fixture(autouse=True)
def _amdsync_logger_restored() -> Iterator[None]:
    """A handler cold start bridges the `amdsync` logger into Powertools (its own handler, no
    propagation); later tests in the same process must still see its records in `caplog`."""
    package = logging.getLogger("amdsync")
    saved = (list(package.handlers), package.level, package.propagate)
    yield
    package.handlers[:], package.level, package.propagate = saved


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test that does not use the shared stack may start a stack of its own: stop the shared
    one first (moto allows one per process). Runs before any of the test's fixtures."""
    if not uses_shared(getattr(item, "fixturenames", [])):
        release()


@pytest.fixture(scope="session", autouse=True)
def _shared_stack_stopped_at_the_end() -> Iterator[None]:
    yield
    release()

"""Shared fixtures. The AMD simulator's fixtures come from its pytest plugin."""

import logging
from collections.abc import Iterator

import pytest

pytest_plugins = ["local.amdsim.pytest_plugin"]


@pytest.fixture(autouse=True)
def _amdsync_logger_restored() -> Iterator[None]:
    """A handler cold start bridges the `amdsync` logger into Powertools (its own handler, no
    propagation); later tests in the same process must still see its records in `caplog`."""
    package = logging.getLogger("amdsync")
    saved = (list(package.handlers), package.level, package.propagate)
    yield
    package.handlers[:], package.level, package.propagate = saved

"""Shared fixtures. The AMD simulator's fixtures come from its pytest plugin."""

import logging
from collections.abc import Iterator

import pytest

from tests.shared_stack import release, uses_shared

pytest_plugins = ["local.amdsim.pytest_plugin"]

# Suites in the order their files should be handed out, longest-running first: under
# `-n 2 --dist loadfile --no-loadscope-reorder` (Makefile) the files given out last are then
# short ones, so neither worker idles for minutes while the other finishes a stack-backed module.
# (xdist's own reorder puts the files with most tests first, which left the few-test, long e2e
# and UI modules to the end.) The sort is stable: a file's and a package's tests stay together.
SUITES_LONGEST_FIRST = (
    "tests/e2e/",
    "tests/ui/",
    "tests/reliability/",
    "tests/fuzz/",
    "tests/integration/",
    "tests/amdsim/",
    "tests/unit/",
)


def suite_rank(nodeid: str) -> int:
    """Where a test's suite comes in `SUITES_LONGEST_FIRST` (unknown suites last)."""
    for rank, prefix in enumerate(SUITES_LONGEST_FIRST):
        if nodeid.startswith(prefix):
            return rank
    return len(SUITES_LONGEST_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: suite_rank(item.nodeid))


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

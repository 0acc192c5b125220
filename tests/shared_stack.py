"""One local stack kept across the test modules of a process that can share it.

Starting a stack costs 15-25 s, and moto allows one per process at a time (`MotoInUse`). Suites
whose tests own their data (the e2e suite) share one stack per process across their modules;
the root conftest stops it before any test that does not use it runs (another suite may start
a stack of its own), and at the end of the session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

# Fixtures that hand out the shared stack: a test using none of them gets no shared stack.
SHARING_FIXTURES = frozenset({"e2e"})


@dataclass
class _Kept:
    key: str
    value: Any
    stop: Callable[[Any], None]


_kept: list[_Kept] = []  # at most one


def shared(key: str, start: Callable[[], T], stop: Callable[[T], None]) -> T:
    """The running stack for `key`, or a new one (stopping one kept for another key first)."""
    if _kept and _kept[0].key == key:
        value: T = _kept[0].value
        return value
    release()
    started = start()
    _kept.append(_Kept(key, started, stop))  # type: ignore[arg-type]
    return started


def release() -> None:
    """Stop the kept stack, if any."""
    while _kept:
        kept = _kept.pop()
        kept.stop(kept.value)


def uses_shared(fixturenames: list[str]) -> bool:
    return not SHARING_FIXTURES.isdisjoint(fixturenames)

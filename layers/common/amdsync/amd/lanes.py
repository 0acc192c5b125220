"""Work lanes (SPEC §9.3): interactive work never waits behind background work for AMD's budget.

The lane is ambient for the duration of one job (`in_lane`), so every AMD call the job makes,
however deep in the sync code, is paced for its lane without threading a parameter through
every adapter. Code that runs outside a job (the CLI, the pull, a person's click) is
interactive: that is the default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

Lane = Literal["interactive", "background"]
INTERACTIVE: Lane = "interactive"
BACKGROUND: Lane = "background"

_current: ContextVar[Lane] = ContextVar("amdsync_lane", default=INTERACTIVE)


def current_lane() -> Lane:
    return _current.get()


@contextmanager
def in_lane(lane: Lane) -> Iterator[None]:
    token = _current.set(lane)
    try:
        yield
    finally:
        _current.reset(token)

"""The invocation's deadline (amd/budget.py explains the budgets): its own module because
every function builds one at import, and budget.py pulls in the HTTP transport."""

from __future__ import annotations

from collections.abc import Callable

from amdsync.amd.errors import RateLimited

OUT_OF_TIME_RETRY_SECONDS = 1.0


class OutOfTime(RateLimited):
    """Not enough of this invocation left for the AMD write's worst case: nothing was sent.
    A RateLimited, so the worker defers the job (no attempt counted) like any budget wait."""

    meaning = "Not enough time left in this invocation to start the AdvancedMD write"

    def __init__(self) -> None:
        super().__init__(OUT_OF_TIME_RETRY_SECONDS)


class Deadline:
    """How long the current invocation has left, as the handler said (None: unknown, e.g. the
    CLI). One per process; each invocation sets it before any work."""

    def __init__(self) -> None:
        self._remaining: Callable[[], float] | None = None

    def start(self, remaining_seconds: Callable[[], float] | None) -> None:
        self._remaining = remaining_seconds

    def remaining(self) -> float | None:
        return None if self._remaining is None else self._remaining()

    def check_write(self, needs_seconds: float) -> None:
        """Raise OutOfTime unless `needs_seconds` still fit (a write must never be cut off)."""
        left = self.remaining()
        if left is not None and left < needs_seconds:
            raise OutOfTime()

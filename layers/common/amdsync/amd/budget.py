"""Time budgets that fit the function (SPEC §9.3, issue 15 item 5).

One AMD call, with all its retries and backoff, must fit inside the function's timeout minus a
margin: `derive_budget` picks the HTTP timeouts and the number of attempts from the function's
timeout (`FUNCTION_TIMEOUT_SECONDS`, set per function in template.yaml from its `Timeout`).

And a write is never started that could be cut off by the invocation's end: the handler tells
the `Deadline` how much time is left (Lambda's `get_remaining_time_in_millis`); the client asks
it before each AMD write and raises `OutOfTime` (a RateLimited: the queue brings the job back a
moment later, in a fresh invocation) when the worst case of that call no longer fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from amdsync.amd.deadline import Deadline, OutOfTime
from amdsync.amd.retry import RetryPolicy
from amdsync.amd.transport import Timeouts

__all__ = ["CallBudget", "Deadline", "OutOfTime", "derive_budget", "worst_case_seconds"]

DEFAULT_ATTEMPTS = RetryPolicy().max_attempts
DEFAULT_TIMEOUTS = Timeouts()
# Never below this much margin: logging, the record write after the call, Lambda's own overhead.
MIN_MARGIN_SECONDS = 3.0
MARGIN_SHARE = 0.1
# Below this read timeout an attempt is not worth making: fewer, longer attempts instead.
MIN_READ_SECONDS = 8.0
# Connecting, sending a small body and waiting for a pooled connection take well under these;
# what is left goes to the read (AMD's own work).
CONNECT_CAP, WRITE_CAP, POOL_CAP = 3.0, 5.0, 2.0


def worst_case_seconds(timeouts: Timeouts, retry: RetryPolicy) -> float:
    """The longest one call can take: every attempt hitting every timeout, every backoff at
    its ceiling (the jitter never exceeds it)."""
    per_attempt = timeouts.pool + timeouts.connect + timeouts.write + timeouts.read
    backoff = sum(
        min(retry.cap_seconds, retry.base_seconds * 2**i) for i in range(retry.max_attempts - 1)
    )
    return float(retry.max_attempts * per_attempt + backoff)


@dataclass(frozen=True)
class CallBudget:
    timeouts: Timeouts
    retry: RetryPolicy
    margin_seconds: float

    @property
    def worst_call_seconds(self) -> float:
        return worst_case_seconds(self.timeouts, self.retry)


def derive_budget(function_timeout_seconds: float | None) -> CallBudget:
    """Timeouts and attempts such that one call's worst case fits the function's timeout less
    a margin (10 %, at least MIN_MARGIN_SECONDS). No timeout known (CLI, tests): the defaults."""
    if function_timeout_seconds is None:
        return CallBudget(DEFAULT_TIMEOUTS, RetryPolicy(), MIN_MARGIN_SECONDS)
    margin = max(MIN_MARGIN_SECONDS, MARGIN_SHARE * function_timeout_seconds)
    usable = max(1.0, function_timeout_seconds - margin)
    fixed = Timeouts(
        connect=min(CONNECT_CAP, usable / 10),
        write=min(WRITE_CAP, usable / 10),
        pool=min(POOL_CAP, usable / 10),
        read=0.0,
    )
    overhead = fixed.connect + fixed.write + fixed.pool
    for attempts in range(DEFAULT_ATTEMPTS, 0, -1):
        retry = RetryPolicy(max_attempts=attempts)
        backoff = worst_case_seconds(Timeouts(0, 0, 0, 0), retry)
        read = min(DEFAULT_TIMEOUTS.read, (usable - backoff) / attempts - overhead)
        if read >= MIN_READ_SECONDS or attempts == 1:
            timeouts = Timeouts(
                connect=fixed.connect, read=max(1.0, read), write=fixed.write, pool=fixed.pool
            )
            return CallBudget(timeouts, retry, margin)
    raise AssertionError("unreachable: one attempt always fits")  # pragma: no cover

"""Bounded exponential backoff with full jitter, for transient failures only (SPEC §6).

Business, permanent and rate-limit outcomes are never retried here: the first two need a
person, and rate limits are waited out by the caller (the window length is known exactly).
A create that may have reached AMD is only retried after an idempotency check says it did
not (PROTOCOL §3.13); the check is passed in by the caller.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from amdsync.amd.errors import TransientError

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_seconds: float = 0.5
    cap_seconds: float = 8.0
    rng: Callable[[float, float], float] = field(default=random.uniform)

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)] for attempt 0, 1, ..."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2**attempt))
        return self.rng(0.0, ceiling)


def run_with_retry(
    call: Callable[[], T],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    idempotent: bool = True,
    already_done: Callable[[], T | None] | None = None,
    on_retry: Callable[[TransientError], None] | None = None,
) -> T:
    """Run `call`, retrying transient failures.

    For a non-idempotent call a transient failure that may have been committed is retried only
    if `already_done` is given and finds nothing; if it finds the result, that result is used.
    """
    attempt = 0
    while True:
        try:
            return call()
        except TransientError as exc:
            attempt += 1
            if attempt >= policy.max_attempts:
                raise
            if not idempotent:
                if already_done is None:
                    raise
                found = already_done()
                if found is not None:
                    return found
            if on_retry is not None:
                on_retry(exc)
            pause = policy.delay(attempt - 1)
            log.info("retrying AMD call after transient failure", extra={"attempt": attempt})
            sleep(pause)

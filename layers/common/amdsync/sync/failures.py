"""How an AdvancedMD failure shows on a sync record: stable code, sanitized message, and
whether the job should be retried by the queue (transient) or stop (business/permanent)."""

from __future__ import annotations

from dataclasses import dataclass

from amdsync.amd.errors import AmdError, Family, RateLimited
from amdsync.domain.errors import DomainError, SyncErrorCode

_AMD_TO_SYNC: dict[str, SyncErrorCode] = {
    "AMD_CONFLICT": SyncErrorCode.AMD_OVERLAP,
    "AMD_NOT_FOUND": SyncErrorCode.AMD_NOT_FOUND,
    "AMD_AUTH_FAILED": SyncErrorCode.AMD_AUTH_FAILED,
    "RATE_LIMITED": SyncErrorCode.RATE_LIMITED,
}


@dataclass(frozen=True)
class Failure:
    code: SyncErrorCode
    message: str
    retry: bool
    retry_after: float | None = None  # seconds, when the rate limiter knows


def describe(exc: Exception) -> Failure:
    """The record-facing view of an exception. Messages are our own words plus codes."""
    if isinstance(exc, DomainError):
        return Failure(exc.code, exc.message, retry=False)
    if isinstance(exc, AmdError):
        if exc.family in (Family.TRANSIENT, Family.SESSION_EXPIRED):
            return Failure(SyncErrorCode.AMD_UNAVAILABLE, str(exc), retry=True)
        if isinstance(exc, RateLimited):
            return Failure(SyncErrorCode.RATE_LIMITED, str(exc), True, exc.retry_after)
        code = _AMD_TO_SYNC.get(exc.error_code, SyncErrorCode.AMD_REJECTED)
        return Failure(code, str(exc), retry=False)
    return Failure(SyncErrorCode.INTERNAL, type(exc).__name__, retry=True)


class SyncProblem(DomainError):
    """A sync that cannot proceed for a reason a person must fix (e.g. a missing mapping)."""

    def __init__(self, code: SyncErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code

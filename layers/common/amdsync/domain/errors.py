"""Stable error codes and the typed exceptions the domain raises.

Codes are part of the public contract (stored on records, returned as problem+json `code`,
used as metric dimensions), so values never change once released; add new members instead.
Messages carry ids and codes only: they end up in logs and sync logs, which must stay PHI-free.
"""

from __future__ import annotations

from enum import StrEnum


class SyncErrorCode(StrEnum):
    """Why a sync did not (yet) succeed. The value is what clients and dashboards see."""

    PATIENT_NOT_SYNCED = "PATIENT_NOT_SYNCED"
    PROVIDER_NOT_MAPPED = "PROVIDER_NOT_MAPPED"
    FACILITY_NOT_MAPPED = "FACILITY_NOT_MAPPED"
    TYPE_NOT_MAPPED = "TYPE_NOT_MAPPED"
    REASON_NOT_MAPPED = "REASON_NOT_MAPPED"
    AMD_UNAVAILABLE = "AMD_UNAVAILABLE"
    AMD_REJECTED = "AMD_REJECTED"
    AMD_OVERLAP = "AMD_OVERLAP"
    AMD_NOT_FOUND = "AMD_NOT_FOUND"
    AMD_AUTH_FAILED = "AMD_AUTH_FAILED"
    RATE_LIMITED = "RATE_LIMITED"
    UNKNOWN_STATUS = "UNKNOWN_STATUS"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    CONFLICT = "CONFLICT"
    INVALID_TIME = "INVALID_TIME"
    MASS_CHANGE_BLOCKED = "MASS_CHANGE_BLOCKED"
    SKIPPED_BY_SETTINGS = "SKIPPED_BY_SETTINGS"
    INTERNAL = "INTERNAL"


class DomainError(Exception):
    """Base of every domain rule violation; `code` is the stable machine-readable reason."""

    code: SyncErrorCode = SyncErrorCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownStatusError(DomainError, ValueError):
    """A status value outside the known vocabulary, in either direction (SPEC §5).

    Also a ValueError so that pydantic validators turn it into a normal validation error.
    """

    code = SyncErrorCode.UNKNOWN_STATUS

    def __init__(self, value: object, *, vocabulary: str) -> None:
        # repr() keeps odd inputs (empty strings, whitespace, bools) visible in the message;
        # status values are codes, never PHI.
        super().__init__(f"unknown {vocabulary} status {value!r}")
        self.value = value
        self.vocabulary = vocabulary


class IllegalTransitionError(DomainError):
    """The requested status change is not allowed from the current status (HTTP 409)."""

    code = SyncErrorCode.ILLEGAL_TRANSITION

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"illegal status transition {current} -> {target}")
        self.current = current
        self.target = target

"""One classifier for every AdvancedMD failure (PROTOCOL §5.2).

Every fault code, HTTP status and transport failure maps to exactly one exception family, and
each family tells the caller what to do: retry (transient), wait (rate limited), log in again
(session expired), surface to a person (business/conflict) or give up and alert (permanent).
Messages never carry AMD's free text: a fault's `description` can name patients and its
`extrainfo` can echo the posted password (§1.4), so only codes and our own wording get out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

# Negative PPMD codes are 0x80040000 + the table code (§5.1).
_PPMD_BASE = 2147221504

LOGIN_REDIRECT = 1028
OVERFLOW = 4154  # more than 1000 results: ids only, not a failure (§3.14)


def normalise_code(raw: str | int | None) -> int | None:
    """Turn a wire code (`"-2147220479"`, `"429"`, 1025) into the table code (1025, 429)."""
    if raw is None:
        return None
    try:
        code = int(str(raw).strip())
    except ValueError:
        return None
    return code + _PPMD_BASE if code < 0 else code


class Family(StrEnum):
    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    SESSION_EXPIRED = "session_expired"
    BUSINESS = "business"
    PERMANENT = "permanent"


class AmdError(Exception):
    """Base of all AdvancedMD failures. `str()` is safe to log: code + our own wording."""

    family: Family = Family.PERMANENT
    error_code: str = "AMD_REJECTED"  # stable code stored on sync records (SPEC §3)
    meaning: str = "AdvancedMD rejected the request"

    def __init__(
        self,
        meaning: str | None = None,
        *,
        amd_code: int | None = None,
        http_status: int | None = None,
    ) -> None:
        self.amd_code = amd_code
        self.http_status = http_status
        if meaning is not None:
            self.meaning = meaning
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [self.meaning]
        if self.amd_code is not None:
            parts.append(f"code {self.amd_code}")
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        return " | ".join(parts)

    @property
    def retryable(self) -> bool:
        return self.family is Family.TRANSIENT


# --- transient: retry with backoff ------------------------------------------------------------
class TransientError(AmdError):
    family = Family.TRANSIENT
    error_code = "AMD_UNAVAILABLE"
    meaning = "AdvancedMD is temporarily unavailable"

    def __init__(
        self,
        meaning: str | None = None,
        *,
        amd_code: int | None = None,
        http_status: int | None = None,
        maybe_committed: bool = False,
    ) -> None:
        # A read timeout on a create may have created the record: callers must check first.
        self.maybe_committed = maybe_committed
        super().__init__(meaning, amd_code=amd_code, http_status=http_status)


class ServerError(TransientError):
    meaning = "AdvancedMD answered with a server error"


class TimeoutError_(TransientError):
    meaning = "AdvancedMD did not answer in time"


class ConnectionFailed(TransientError):
    meaning = "could not reach AdvancedMD"


class ServerUnreachable(ConnectionFailed):
    """No connection was made (refused, no answer to connect, no such host): nothing was sent.

    Against a cached webserver this may mean AMD moved the office key, which a fresh login
    reveals (PROTOCOL §2); the client spends one login on it per call.
    """


# --- rate limited: wait -----------------------------------------------------------------------
class RateLimited(AmdError):
    family = Family.RATE_LIMITED
    error_code = "RATE_LIMITED"
    meaning = "AdvancedMD rate limit reached"

    def __init__(
        self,
        retry_after: float,
        *,
        amd_code: int | None = None,
        http_status: int | None = None,
        from_server: bool = False,
        budget: str | None = None,
    ) -> None:
        self.retry_after = max(0.0, retry_after)
        self.from_server = from_server  # True = AMD said 429 (costs money); False = our limiter
        self.budget = budget  # our limiter's budget that made the call wait (e.g. "FEED")
        super().__init__(None, amd_code=amd_code, http_status=http_status)

    def _render(self) -> str:
        return f"{super()._render()} | retry after {self.retry_after:.1f}s"


# --- session expired: re-login once -----------------------------------------------------------
class SessionExpired(AmdError):
    family = Family.SESSION_EXPIRED
    error_code = "AMD_SESSION_EXPIRED"
    meaning = "AdvancedMD session expired"


# --- business / conflict: surface, never retry blindly ----------------------------------------
class BusinessError(AmdError):
    family = Family.BUSINESS
    error_code = "AMD_REJECTED"
    meaning = "AdvancedMD refused the change"


class AppointmentConflict(BusinessError):
    error_code = "AMD_CONFLICT"
    meaning = "the appointment conflicts with the AdvancedMD schedule"


class DuplicatePatient(BusinessError):
    error_code = "AMD_DUPLICATE_PATIENT"
    meaning = "AdvancedMD already has a matching patient"


class ConcurrentEdit(BusinessError):
    error_code = "AMD_CONCURRENT_EDIT"
    meaning = "the record was changed in AdvancedMD by someone else"


class AlreadyCheckedOut(BusinessError):
    error_code = "AMD_ALREADY_CHECKED_OUT"
    meaning = "the appointment is already checked out"


class NotFound(BusinessError):
    error_code = "AMD_NOT_FOUND"
    meaning = "AdvancedMD does not know this id (stale mapping)"


# --- permanent: give up and alert -------------------------------------------------------------
class PermanentError(AmdError):
    family = Family.PERMANENT
    error_code = "AMD_REJECTED"
    meaning = "AdvancedMD rejected the request permanently"


class AuthenticationFailed(PermanentError):
    error_code = "AMD_AUTH_FAILED"
    meaning = "AdvancedMD refused the username, password or office key"


class AccessDenied(PermanentError):
    error_code = "AMD_ACCESS_DENIED"
    meaning = "the AdvancedMD user or office key lacks a required permission"


class ClientBug(PermanentError):
    error_code = "AMD_BAD_REQUEST"
    meaning = "AdvancedMD could not process the request as sent"


_TRANSIENT_CODES = {3097: "AdvancedMD operation timed out"}
_PERMANENT_CODES: dict[int, tuple[type[PermanentError], str]] = {
    1024: (AuthenticationFailed, "AdvancedMD refused the username, password or office key"),
    1026: (AccessDenied, "this source IP is not allowed for the office key"),
    3085: (AccessDenied, "the API user lacks a privilege (needs API FULL/LIMITED role)"),
    4134: (AccessDenied, "the office key has no API access"),
    3088: (ClientBug, "AdvancedMD does not know this action/class"),
    3090: (ClientBug, "login was redirected twice"),
    400: (ClientBug, "AdvancedMD found the request body invalid"),
}
_CONFLICT_CODES = {4101, 4112, 4117, 4126, 4128, 4135, 4136, 4155, 4185, 4186}
_DUPLICATE_CODES = {4103, 4104, 4105}
_MALFORMED_CODES = range(2048, 2054)


def classify_fault(
    raw_code: str | int | None, description: str = "", http_status: int | None = None
) -> AmdError | None:
    """Map a `PPMDResults` fault to an exception; None = not a failure (redirect, overflow)."""
    code = normalise_code(raw_code)
    if code in (LOGIN_REDIRECT, OVERFLOW):
        return None
    if code == 429 or http_status == 429:
        return RateLimited(0.0, amd_code=code, http_status=http_status, from_server=True)
    if code == 1025 or (code == 2048 and "user context" in description.lower()):
        return SessionExpired(amd_code=code, http_status=http_status)
    return _classify_known(code, http_status) or PermanentError(
        "AdvancedMD returned an unrecognised fault", amd_code=code, http_status=http_status
    )


def _classify_known(code: int | None, http_status: int | None) -> AmdError | None:
    if code is None:
        return None
    if code in _TRANSIENT_CODES:
        return TransientError(_TRANSIENT_CODES[code], amd_code=code, http_status=http_status)
    if code in _PERMANENT_CODES:
        cls, meaning = _PERMANENT_CODES[code]
        return cls(meaning, amd_code=code, http_status=http_status)
    family = _family_of(code)
    return family(amd_code=code, http_status=http_status) if family else None


def _family_of(code: int) -> type[AmdError] | None:
    if code in _MALFORMED_CODES:
        return ClientBug
    if code in _CONFLICT_CODES:
        return AppointmentConflict
    if code in _DUPLICATE_CODES:
        return DuplicatePatient
    return _SINGLE_CODES.get(code)


_SINGLE_CODES: dict[int, type[AmdError]] = {
    4106: ConcurrentEdit,
    4110: AlreadyCheckedOut,
    4130: NotFound,
}


def classify_http(status: int, body: Any = None) -> AmdError | None:
    """Map a non-2xx REST/HTTP answer to an exception (None for success codes)."""
    if status < 400:
        return None
    by_status: dict[int, AmdError] = {
        401: SessionExpired(http_status=401),
        403: AccessDenied(http_status=403),
        404: NotFound(http_status=404),
        408: TimeoutError_(http_status=408),
        429: RateLimited(0.0, http_status=429, from_server=True),
    }
    if status in by_status:
        return by_status[status]
    if status == 409:
        return _conflict_from_body(body)
    if status >= 500:
        return ServerError(http_status=status)
    return ClientBug(http_status=status)


def _conflict_from_body(body: Any) -> AmdError:
    """ConflictResponse field names are undocumented (§3.16): scan every value for a 41xx code."""
    code = _find_41xx(body)
    known = _classify_known(code, 409) if code is not None else None
    if isinstance(known, BusinessError):
        return known
    return AppointmentConflict(amd_code=code, http_status=409)


def _find_41xx(value: Any) -> int | None:
    if isinstance(value, dict):
        for item in value.values():
            found = _find_41xx(item)
            if found is not None:
                return found
        return None
    if isinstance(value, list):
        for item in value:
            found = _find_41xx(item)
            if found is not None:
                return found
        return None
    return _as_41xx(value)


def _as_41xx(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        code = normalise_code(value)
        return code if code is not None and 4100 <= code < 4200 else None
    if isinstance(value, str):
        for token in value.replace(":", " ").replace(",", " ").split():
            code = normalise_code(token)
            if code is not None and 4100 <= code < 4200:
                return code
    return None

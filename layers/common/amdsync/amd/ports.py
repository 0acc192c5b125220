"""Ports the AMD client needs from the outside world (ARCHITECTURE §2).

`amd` defines them; `amdsync.store` implements them structurally (no import either way), and a
composition module wires the two. In-memory versions live in `amdsync.amd.memory`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # annotations only: every function imports this module at cold start
    from amdsync.domain.pacing import ClockOffset, PaceState
    from amdsync.domain.token_keys import TokenOwner


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class TokenRecord(Protocol):
    """What a token cache hands back; the token itself must never reach a log."""

    @property
    def token(self) -> str: ...
    @property
    def webserver(self) -> str: ...
    @property
    def issued_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime: ...


class TokenCache(Protocol):
    """One token per `TokenOwner` (login URL + office key + username), shared by every process,
    with a lease for single-flight login. Implementations key entries by `token_cache_key`."""

    def load(self, owner: TokenOwner) -> TokenRecord | None: ...

    def save(
        self,
        owner: TokenOwner,
        *,
        token: str,
        webserver: str,
        issued_at: datetime,
        expires_at: datetime,
    ) -> None: ...

    def discard(self, owner: TokenOwner, token: str) -> None:
        """Forget the token only if it is still the one given (a newer one must survive)."""
        ...

    def try_lease(self, owner: TokenOwner, holder: str, now: datetime, until: datetime) -> bool:
        """Take the login lease if free or expired (conditional write); True if `holder` has it."""
        ...

    def release_lease(self, owner: TokenOwner, holder: str) -> None: ...


class RateBuckets(Protocol):
    """One office key's pacing item (GCRA arrival time per budget + AMD clock estimate), shared
    by every process, plus informational per-minute call counts. Times are epoch seconds."""

    def advance(
        self,
        scope: str,
        spacing: Mapping[str, float],
        now: float,
        clock: ClockOffset | None = None,
    ) -> tuple[bool, PaceState]:
        """Atomically, all or none: if every named budget's arrival time is unset or <= `now`,
        set each to `now + spacing[name]` (and store `clock`, if given). Returns whether it
        did, and the item's state after (if it did) or as found (if not)."""
        ...

    def hold(self, scope: str, budgets: Sequence[str], until: float) -> None:
        """Move the named arrival times to at least `until` (AMD answered 429)."""
        ...

    def state(self, scope: str) -> PaceState: ...

    def count(self, scope: str, window: str, budgets: Sequence[str], expires_at: datetime) -> None:
        """Add one call to each budget's counter for `window` (display only, never a limit)."""
        ...

    def used(self, scope: str, window: str) -> Mapping[str, int]: ...


class LookupCache(Protocol):
    """Shared cache of lookup lists (profiles, facilities, ...), JSON-able rows per kind."""

    def get(self, scope: str, kind: str, now: datetime) -> list[dict[str, Any]] | None: ...

    def put(
        self, scope: str, kind: str, rows: list[dict[str, Any]], expires_at: datetime
    ) -> None: ...

    def invalidate(self, scope: str, kind: str) -> None: ...


class MetricsSink(Protocol):
    """Counts; `dimensions` are codes (e.g. the AMD tier of a call), never ids or PHI."""

    def count(self, name: str, value: int = 1, **dimensions: str) -> None: ...


class NullMetrics:
    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        return None

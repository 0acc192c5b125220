"""Time zones and local wall-clock resolution, including the DST edge cases.

AdvancedMD speaks practice-local wall time without offsets (PROTOCOL §4.4), so every conversion
from text to an instant needs a zone and a rule for the two DST anomalies:

- a *nonexistent* local time (spring-forward gap, e.g. 02:30 on 2026-03-08 in Denver) cannot be
  an appointment time; it raises `NonexistentLocalTimeError` instead of being shifted, because a
  shifted time would be booked silently at a time nobody asked for;
- an *ambiguous* local time (fall-back overlap, e.g. 01:30 on 2026-11-01 in Denver) happens
  twice; `FoldPolicy` says which occurrence is meant. The default is the earlier one (fold=0),
  matching PEP 495 and what a scheduler shows first.

Instants are returned in UTC: Python compares and subtracts datetimes that share a ZoneInfo by
wall clock, ignoring `fold`, which is wrong exactly in the overlap hour. UTC has no such trap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TzLike = ZoneInfo | str


class UnknownTimeZoneError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown IANA time zone {name!r}")
        self.name = name


class NaiveDatetimeError(ValueError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} must be timezone-aware (an instant), got a naive datetime")


class NonexistentLocalTimeError(ValueError):
    """The wall time falls in a DST gap: clocks skip it, so no instant has it."""

    def __init__(self, local: datetime, zone: ZoneInfo) -> None:
        super().__init__(
            f"local time {local.isoformat()} does not exist in {zone.key} (DST gap: clocks skip it)"
        )
        self.local = local
        self.zone = zone


class AmbiguousLocalTimeError(ValueError):
    """The wall time occurs twice (DST overlap) and the policy asked not to choose."""

    def __init__(self, local: datetime, zone: ZoneInfo) -> None:
        super().__init__(f"local time {local.isoformat()} occurs twice in {zone.key} (DST overlap)")
        self.local = local
        self.zone = zone


class FoldPolicy(StrEnum):
    """Which occurrence of an ambiguous wall time is meant."""

    EARLIER = "earlier"  # first occurrence, still on daylight time (fold=0)
    LATER = "later"  # second occurrence, after the clocks went back (fold=1)
    RAISE = "raise"  # refuse to guess


def zone_of(tz: TzLike) -> ZoneInfo:
    """A ZoneInfo from a ZoneInfo or an IANA name; UnknownTimeZoneError for anything else."""
    if isinstance(tz, ZoneInfo):
        return tz
    if not isinstance(tz, str) or not tz or tz != tz.strip():
        raise UnknownTimeZoneError(str(tz))
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        # ValueError covers malformed keys such as absolute or "../" paths.
        raise UnknownTimeZoneError(tz) from None


def require_aware(instant: datetime, what: str = "instant") -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise NaiveDatetimeError(what)
    return instant


def to_local_naive(instant: datetime, tz: TzLike) -> datetime:
    """The wall-clock reading of an instant in `tz`, without tzinfo."""
    return require_aware(instant).astimezone(zone_of(tz)).replace(tzinfo=None)


def _exists(candidate: datetime, naive: datetime, zone: ZoneInfo) -> bool:
    return candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def is_nonexistent(naive: datetime, tz: TzLike) -> bool:
    zone = zone_of(tz)
    naive = naive.replace(tzinfo=None)
    return not _exists(naive.replace(tzinfo=zone, fold=0), naive, zone)


def is_ambiguous(naive: datetime, tz: TzLike) -> bool:
    zone = zone_of(tz)
    naive = naive.replace(tzinfo=None)
    earlier = naive.replace(tzinfo=zone, fold=0)
    later = naive.replace(tzinfo=zone, fold=1)
    return earlier.utcoffset() != later.utcoffset() and _exists(earlier, naive, zone)


def localize(naive: datetime, tz: TzLike, fold_policy: FoldPolicy = FoldPolicy.EARLIER) -> datetime:
    """The instant (UTC) at which the wall clock in `tz` reads `naive`.

    Raises NonexistentLocalTimeError in a DST gap; resolves a DST overlap by `fold_policy`.
    """
    if naive.tzinfo is not None:
        raise ValueError("localize() takes a naive wall-clock time; got an aware datetime")
    zone = zone_of(tz)
    if is_nonexistent(naive, zone):
        raise NonexistentLocalTimeError(naive, zone)
    if is_ambiguous(naive, zone):
        if fold_policy is FoldPolicy.RAISE:
            raise AmbiguousLocalTimeError(naive, zone)
        fold = 1 if fold_policy is FoldPolicy.LATER else 0
        return naive.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def localize_or_shift_forward(naive: datetime, tz: TzLike) -> datetime:
    """Like `localize` (earlier occurrence in an overlap), but never raises for a DST gap.

    A wall time inside a gap is read with the pre-transition offset (PEP 495 fold=0), which
    puts it that far past the gap's start. For a skipped *midnight* (zones that change clocks
    at 00:00) that is exactly the transition, i.e. the first instant of the new day, which is
    what deadlines such as "next midnight" need.
    """
    zone = zone_of(tz)
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)

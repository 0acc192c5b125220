"""AdvancedMD date/time text formats (PROTOCOL §1.2, §3.14, §3.16, §4.3, §4.4, §6).

Formats:
- `msgtime`: "long VB" `M/D/YYYY h:mm:ss AM/PM`, no padding on month, day and hour;
- AMD dates: `MM/DD/YYYY` out; `M/D/YYYY` and ISO `YYYY-MM-DD[T00:00:00]` in;
- `servertime`: AMD's own clock, echoed verbatim as the next `datechanged` watermark;
- REST scheduler times: practice-local `YYYY-MM-DDTHH:MM:SS`, never an offset or `Z`.

This module is the public face of the time rules: DST resolution lives in `localtime`, the
text readers in `textparse`, and `ServerTime` in `servertime`; all are re-exported here.
Every function that produces an instant returns an aware datetime in UTC (see `localtime`).
Malformed text raises `TimeFormatError`; all errors here are ValueError subclasses.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from amdsync.domain.localtime import (
    AmbiguousLocalTimeError,
    FoldPolicy,
    NaiveDatetimeError,
    NonexistentLocalTimeError,
    TzLike,
    UnknownTimeZoneError,
    localize,
    localize_or_shift_forward,
    require_aware,
    to_local_naive,
    zone_of,
)
from amdsync.domain.servertime import ServerTime, parse_servertime
from amdsync.domain.textparse import (
    ISO_DATE,
    ISO_EXPECTED,
    US_DATE,
    VB_EXPECTED,
    TimeFormatError,
    parse_iso,
    parse_vb,
    require_text,
)

__all__ = [
    "PEAK_END",
    "PEAK_START",
    "PEAK_WEEKDAYS",
    "PEAK_ZONE",
    "AmbiguousLocalTimeError",
    "FoldPolicy",
    "NaiveDatetimeError",
    "NonexistentLocalTimeError",
    "ServerTime",
    "TimeFormatError",
    "TzLike",
    "UnknownTimeZoneError",
    "format_amd_date",
    "format_msgtime",
    "from_rest_local",
    "is_peak",
    "local_wall_time",
    "next_midnight",
    "normalize_local_iso",
    "parse_amd_date",
    "parse_msgtime",
    "parse_servertime",
    "to_rest_local",
    "zone_of",
]

# AMD judges peak hours in Mountain Time, Monday-Friday, 06:00 inclusive to 18:00 exclusive
# (PROTOCOL §6). DST handling is unstated there; America/Denver follows it.
PEAK_ZONE: Final[ZoneInfo] = ZoneInfo("America/Denver")
PEAK_START: Final[time] = time(6, 0)
PEAK_END: Final[time] = time(18, 0)
PEAK_WEEKDAYS: Final[frozenset[int]] = frozenset({0, 1, 2, 3, 4})  # date.weekday(): Mon=0


# --- msgtime -------------------------------------------------------------------------------


def format_msgtime(instant: datetime, tz: TzLike) -> str:
    """An instant as AMD's long VB `M/D/YYYY h:mm:ss AM/PM` wall time in `tz`."""
    local = to_local_naive(instant, tz)
    hour12 = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return (
        f"{local.month}/{local.day}/{local.year:04d} "
        f"{hour12}:{local.minute:02d}:{local.second:02d} {meridiem}"
    )


def parse_msgtime(text: str, tz: TzLike, fold_policy: FoldPolicy = FoldPolicy.EARLIER) -> datetime:
    """Inverse of `format_msgtime`; also takes zero-padded, 24-hour and ISO forms (§1.2).

    msgtime carries no offset, so an overlap-hour value is resolved by `fold_policy`.
    """
    text = require_text("msgtime", text, VB_EXPECTED)
    naive = parse_vb("msgtime", text) or parse_iso("msgtime", text)
    if naive is None:
        raise TimeFormatError("msgtime", text, VB_EXPECTED)
    return localize(naive, tz, fold_policy)


# --- dates ---------------------------------------------------------------------------------


def format_amd_date(d: date) -> str:
    """`MM/DD/YYYY`, the date form AMD documents for visit dates and dob."""
    return f"{d.month:02d}/{d.day:02d}/{d.year:04d}"


def parse_amd_date(text: str) -> date:
    """`M/D/YYYY`, `MM/DD/YYYY`, `YYYY-MM-DD` or REST's midnight-stamped `YYYY-MM-DDT00:00:00`."""
    expected = "MM/DD/YYYY, M/D/YYYY or YYYY-MM-DD[T00:00:00]"
    stripped = require_text("AMD date", text, expected).strip()
    parts: tuple[int, int, int]
    if (us := US_DATE.fullmatch(stripped)) is not None:
        parts = (int(us.group(3)), int(us.group(1)), int(us.group(2)))
    elif (iso := ISO_DATE.fullmatch(stripped)) is not None:
        parts = (int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    else:
        raise TimeFormatError("AMD date", text, expected, echo=False)
    try:
        return date(*parts)
    except ValueError:
        raise TimeFormatError("AMD date", text, expected, echo=False) from None


# --- REST scheduler local times ------------------------------------------------------------


def to_rest_local(instant: datetime, tz: TzLike) -> str:
    """An instant as practice-local `YYYY-MM-DDTHH:MM:SS`: no offset, no `Z` (§4.4)."""
    return to_local_naive(instant, tz).replace(microsecond=0).isoformat()


def _parse_rest_local(text: str) -> datetime:
    text = require_text("local time", text, ISO_EXPECTED)
    naive = parse_iso("local time", text)
    if naive is None:
        raise TimeFormatError("local time", text, ISO_EXPECTED)
    return naive


def from_rest_local(
    text: str, tz: TzLike, fold_policy: FoldPolicy = FoldPolicy.EARLIER
) -> datetime:
    """Practice-local `YYYY-MM-DDTHH:MM[:SS]` -> instant (UTC).

    A time in a DST gap raises NonexistentLocalTimeError; a time in a DST overlap is resolved
    by `fold_policy` (default: the earlier occurrence, fold=0).
    """
    return localize(_parse_rest_local(text), tz, fold_policy)


def local_wall_time(
    start_naive_iso: str, tz: TzLike, fold_policy: FoldPolicy = FoldPolicy.EARLIER
) -> datetime:
    """An EHR appointment's `start` + `timeZone` -> the instant it begins (UTC)."""
    return from_rest_local(start_naive_iso, tz, fold_policy)


def normalize_local_iso(text: str) -> str:
    """Canonical `YYYY-MM-DDTHH:MM:SS` for a naive local time given with or without seconds.

    Sub-second parts are rejected rather than dropped: appointment starts are whole seconds
    and a silently truncated value would compare unequal to what the EHR sent.
    """
    naive = _parse_rest_local(text)
    if naive.microsecond:
        raise TimeFormatError("local time", text, "whole seconds")
    return naive.isoformat()


# --- calendar rules ------------------------------------------------------------------------


def is_peak(instant: datetime) -> bool:
    """Whether AMD's peak-hour rate limits apply at `instant` (PEAK_* constants)."""
    local = require_aware(instant).astimezone(PEAK_ZONE)
    return local.weekday() in PEAK_WEEKDAYS and PEAK_START <= local.time() < PEAK_END


def next_midnight(instant: datetime, tz: TzLike) -> datetime:
    """The first instant (UTC) of the next calendar day in `tz`, strictly after `instant`.

    Used for token expiry. Days are 23 or 25 hours long across DST changes, so the answer is
    computed on the calendar, never by adding 24 hours.
    """
    local = to_local_naive(instant, tz)
    midnight = datetime.combine(local.date() + timedelta(days=1), time())
    return localize_or_shift_forward(midnight, zone_of(tz))

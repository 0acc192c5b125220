"""Lenient readers for the date/time spellings AdvancedMD uses (PROTOCOL §1.2, §4.3).

They return naive wall-clock readings (or None when the text is not in their family) and
leave zones to the callers; `TimeFormatError` names what was expected.
"""

from __future__ import annotations

import re
from datetime import datetime


class TimeFormatError(ValueError):
    """Malformed date/time text. Timestamps are protocol values and are echoed to help
    debugging; dates may be birth dates (PHI), so callers parsing them pass `echo=False`."""

    def __init__(self, kind: str, text: object, expected: str, *, echo: bool = True) -> None:
        shown = f" {text!r}" if echo else ""
        super().__init__(f"malformed {kind}{shown}: expected {expected}")
        self.kind = kind
        self.text = text if echo else None


# re.ASCII: \d must not match other scripts' digits, which int() would happily accept.
_VB = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AP]M))?",
    re.ASCII | re.IGNORECASE,
)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?",
    re.ASCII,
)
US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T00:00:00(?:\.0{1,7})?)?", re.ASCII)

VB_EXPECTED = "M/D/YYYY h:mm:ss AM/PM (or 24-hour H:mm:ss)"
ISO_EXPECTED = "YYYY-MM-DDTHH:MM[:SS[.fff]] without offset"


_Parts = tuple[int, int, int, int, int, int, int]  # year, month, day, h, m, s, µs


def _build(kind: str, text: str, parts: _Parts, expected: str) -> datetime:
    try:
        return datetime(*parts)
    except ValueError:
        raise TimeFormatError(kind, text, expected) from None


def parse_vb(kind: str, text: str) -> datetime | None:
    match = _VB.fullmatch(text.strip())
    if match is None:
        return None
    month, day, year, hour, minute = (int(g) for g in match.group(1, 2, 3, 4, 5))
    second = int(match.group(6) or 0)
    meridiem = match.group(7)
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise TimeFormatError(kind, text, VB_EXPECTED)
        hour = hour % 12 + (12 if meridiem.upper() == "PM" else 0)
    return _build(kind, text, (year, month, day, hour, minute, second, 0), VB_EXPECTED)


def parse_iso(kind: str, text: str) -> datetime | None:
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute = (int(g) for g in match.group(1, 2, 3, 4, 5))
    second = int(match.group(6) or 0)
    # .NET writes up to 7 fractional digits; datetime holds 6, and the 7th is below 1 µs.
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    return _build(kind, text, (year, month, day, hour, minute, second, micro), ISO_EXPECTED)


def require_text(kind: str, text: object, expected: str) -> str:
    if not isinstance(text, str):
        raise TimeFormatError(kind, text, expected)
    return text

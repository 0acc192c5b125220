"""Date and time formats AdvancedMD reads and writes (PROTOCOL §4.3), and zone conversion."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_VB_12H = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])$"
)
_VB_24H = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_ISO_NAIVE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$"
)
_SHORT_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T00:00:00(?:\.0+)?)?$")
SERVERTIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{1,2}:\d{2}:\d{2}\.\d{3}$")
REST_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$"
)

SENTINEL_XMLRPC = "1900-01-01T00:00:00"
SENTINEL_REST = "0001-01-01T00:00:00"


def _frac_us(frac: str | None) -> int:
    if not frac:
        return 0
    return int((frac + "000000")[:6])


def parse_vb_datetime(text: str) -> datetime:
    """Parse the request datetime forms AMD accepts (VB long 12/24 h, ISO without offset).

    Raises ValueError for anything else, notably JavaScript `...Z` strings and offsets."""
    s = text.strip()
    m = _VB_12H.match(s)
    if m:
        mo, d, y, h, mi, sec, ampm = m.groups()
        hour = int(h)
        if not 1 <= hour <= 12:
            raise ValueError("hour out of range for AM/PM time")
        hour = hour % 12 + (12 if ampm.upper() == "PM" else 0)
        return datetime(int(y), int(mo), int(d), hour, int(mi), int(sec or 0))
    m = _VB_24H.match(s)
    if m:
        mo, d, y, h, mi, sec = m.groups()
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0))
    m = _ISO_NAIVE.match(s)
    if m:
        y, mo, d, h, mi, sec, frac = m.groups()
        return datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0), _frac_us(frac))
    raise ValueError(f"unsupported datetime format: {text!r}")


def parse_date(text: str) -> date:
    """Short dates (`mm/dd/yyyy`, `M/D/YYYY`), ISO dates, or a VB long datetime's date."""
    s = text.strip()
    m = _SHORT_DATE.match(s)
    if m:
        mo, d, y = m.groups()
        return date(int(y), int(mo), int(d))
    m = _ISO_DATE.match(s)
    if m:
        y, mo, d = m.groups()
        return date(int(y), int(mo), int(d))
    return parse_vb_datetime(s).date()


def parse_datechanged(text: str, *, strict: bool) -> datetime:
    """`datechanged` must echo a `servertime`; strict mode accepts only that format."""
    s = text.strip()
    if strict and not SERVERTIME_RE.match(s):
        raise ValueError("datechanged is not in servertime format (YYYY-MM-DDThh:mm:ss.mmm)")
    return parse_vb_datetime(s)


def parse_rest_datetime(text: object) -> datetime:
    """REST scheduler datetimes: practice-local, naive, seconds optional; no `Z`, no offset."""
    if not isinstance(text, str):
        raise ValueError("datetime must be a string")
    m = REST_DATETIME_RE.match(text.strip())
    if not m:
        raise ValueError(f"invalid local datetime (no Z/offset allowed): {text!r}")
    y, mo, d, h, mi, sec, frac = m.groups()
    return datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0), _frac_us(frac))


def fmt_servertime(local: datetime) -> str:
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def fmt_iso(local: datetime | None, sentinel: str = SENTINEL_XMLRPC) -> str:
    return sentinel if local is None else local.strftime("%Y-%m-%dT%H:%M:%S")


def fmt_vb_long(local: datetime) -> str:
    hour = local.hour % 12 or 12
    ampm = "AM" if local.hour < 12 else "PM"
    clock = f"{hour}:{local.minute:02d}:{local.second:02d}"
    return f"{local.month}/{local.day}/{local.year} {clock} {ampm}"


def fmt_mdy(d: date) -> str:
    return f"{d.month:02d}/{d.day:02d}/{d.year:04d}"


def fmt_clock_12h(local: datetime) -> str:
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def end_of_second(local: datetime) -> datetime:
    return local.replace(microsecond=0) + timedelta(microseconds=999_999)

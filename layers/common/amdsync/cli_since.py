"""`amdsync pull --since`: an operator's date or time, or a raw AMD servertime.

AMD's change feed takes the previous reply's `servertime` verbatim (PROTOCOL §3.14). An operator
more often knows a date ("since Monday") in the practice's zone: that is converted to the wall
time on AMD's clock (the zone the client sends `msgtime` in) and written the way AMD writes a
servertime. A value with milliseconds, or AMD's VB long form, is a servertime copied from an
earlier reply and is sent exactly as given.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from amdsync.domain.servertime import ServerTime, format_servertime

SINCE_HELP = (
    "a date or time in the practice's zone (2025-03-12, 2025-03-12T08:30, '2025-03-12 08:30'), "
    "or a servertime copied from an earlier pull (2025-03-12T08:30:00.123), sent verbatim"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Minutes or seconds, optionally an explicit offset; no fraction (a fraction marks a servertime).
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?")


def since_servertime(text: str, practice_zone: ZoneInfo, amd_zone: ZoneInfo) -> str:
    """The `datechanged` to send for `--since text`; ValueError (plain words) if unreadable."""
    value = text.strip()
    try:
        if _DATE.fullmatch(value):
            midnight = datetime.combine(date.fromisoformat(value), time())
            return _on_amd_clock(midnight, practice_zone, amd_zone)
        if _DATETIME.fullmatch(value):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return _on_amd_clock(moment, practice_zone, amd_zone)
        return ServerTime(value).raw  # validated, kept verbatim
    except ValueError:
        expected = f"--since: not a date, time or servertime; expected {SINCE_HELP}"
        raise ValueError(expected) from None


def _on_amd_clock(moment: datetime, practice_zone: ZoneInfo, amd_zone: ZoneInfo) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=practice_zone)
    return format_servertime(aware.astimezone(amd_zone).replace(tzinfo=None))

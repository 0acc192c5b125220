"""EventBridge Scheduler expressions: `rate(value unit)` and six-field AWS `cron(...)`.

croniter is not installed (and speaks five-field Unix cron, where day-of-week 0 is Sunday; AWS
has a year field, `?`, and 1 = SUN), so this is a small parser for what AWS documents, minus the
`L`, `W` and `#` forms, which raise. Cron fields are practice-local wall times in the schedule's
ScheduleExpressionTimezone: a time that does not exist on a spring-forward day is skipped, and an
ambiguous fall-back time fires once, at its first occurrence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_DAYS = {
    name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)
}
_SEARCH_DAYS = 366 * 8


class ScheduleExpressionError(ValueError):
    """The expression is malformed or uses a form this parser does not support."""


@dataclass(frozen=True)
class RateExpression:
    interval: timedelta

    def next_after(self, after: datetime, anchor: datetime) -> datetime:
        """The first tick anchor + k·interval (k ≥ 1) strictly after `after`."""
        elapsed = (after - anchor).total_seconds()
        step = self.interval.total_seconds()
        ticks = max(1, int(elapsed // step) + 1)
        return anchor + timedelta(seconds=ticks * step)


@dataclass(frozen=True)
class CronExpression:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None  # None = `?`
    months: frozenset[int]
    days_of_week: frozenset[int] | None  # AWS numbering: 1 = SUN ... 7 = SAT; None = `?`
    years: frozenset[int]
    timezone: ZoneInfo

    def next_after(self, after: datetime, anchor: datetime | None = None) -> datetime:
        """The first matching instant strictly after `after` (anchor is unused for cron)."""
        del anchor
        local_start = after.astimezone(self.timezone).date()
        for offset in range(_SEARCH_DAYS):
            day = local_start + timedelta(days=offset)
            if not self._day_matches(day):
                continue
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    instant = self._existing_instant(day, hour, minute)
                    if instant is not None and instant > after:
                        return instant
        raise ScheduleExpressionError("no matching time in the next eight years")

    def _day_matches(self, day: date) -> bool:
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days_of_month is not None and day.day not in self.days_of_month:
            return False
        aws_weekday = (day.isoweekday() % 7) + 1  # Monday=1 ISO -> MON=2 AWS; Sunday -> 1
        return self.days_of_week is None or aws_weekday in self.days_of_week

    def _existing_instant(self, day: date, hour: int, minute: int) -> datetime | None:
        wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.timezone)
        instant = wall.astimezone(UTC)
        round_trip = instant.astimezone(self.timezone)
        if (round_trip.hour, round_trip.minute) != (hour, minute):
            return None  # skipped by a spring-forward transition
        return instant


ScheduleExpression = RateExpression | CronExpression


def parse_expression(expression: str, timezone: str = "UTC") -> ScheduleExpression:
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        if value < 1:
            raise ScheduleExpressionError(f"rate must be positive: {expression}")
        return RateExpression(timedelta(seconds=value * _UNIT_SECONDS[unit]))
    cron = _CRON.match(text)
    if not cron:
        raise ScheduleExpressionError(f"not a rate() or cron() expression: {expression}")
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ScheduleExpressionError(f"cron needs six fields: {expression}")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError("exactly one of day-of-month and day-of-week must be '?'")
    return CronExpression(
        minutes=_field(minute, 0, 59, {}),
        hours=_field(hour, 0, 23, {}),
        days_of_month=None if dom == "?" else _field(dom, 1, 31, {}),
        months=_field(month, 1, 12, _MONTHS),
        days_of_week=None if dow == "?" else _field(dow, 1, 7, _DAYS),
        years=_field(year, 1970, 2199, {}),
        timezone=ZoneInfo(timezone),
    )


def _field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.upper().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in {"*", "?"}:
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _value(first, names), _value(last, names)
        else:
            start = _value(base, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ScheduleExpressionError(f"cron value out of range: {part!r}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ScheduleExpressionError(f"unsupported cron value {text!r} (L, W and # are not)")
    return int(text)

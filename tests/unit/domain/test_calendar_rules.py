"""Peak hours (PROTOCOL §6) and next midnight for token expiry (§2.5), across DST."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings

from amdsync.domain.localtime import NaiveDatetimeError
from amdsync.domain.timefmt import PEAK_END, PEAK_START, PEAK_ZONE, is_peak, next_midnight

from .strategies import instants, zones

DENVER = ZoneInfo("America/Denver")


def denver(*args: int) -> datetime:
    return datetime(*args, tzinfo=DENVER)


def test_peak_window_is_data():
    assert PEAK_ZONE.key == "America/Denver"
    assert (PEAK_START.hour, PEAK_END.hour) == (6, 18)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (denver(2026, 3, 11, 5, 59, 59), False),  # Wednesday
        (denver(2026, 3, 11, 6, 0, 0), True),
        (denver(2026, 3, 11, 12, 0, 0), True),
        (denver(2026, 3, 11, 17, 59, 59), True),
        (denver(2026, 3, 11, 18, 0, 0), False),
        (denver(2026, 3, 13, 17, 59, 59), True),  # Friday
        (denver(2026, 3, 14, 12, 0, 0), False),  # Saturday
        (denver(2026, 3, 15, 12, 0, 0), False),  # Sunday
        (denver(2026, 3, 16, 6, 0, 0), True),  # Monday
        (denver(2026, 12, 16, 6, 0, 0), True),  # winter (MST)
        (denver(2026, 12, 16, 5, 59, 59), False),
    ],
)
def test_peak_boundaries_in_denver(local, expected):
    assert is_peak(local) is expected
    assert is_peak(local.astimezone(UTC)) is expected  # same instant, any representation


def test_peak_follows_denver_dst_not_a_fixed_utc_offset():
    # 12:30 UTC is 05:30 MST on Friday 2026-03-06 but 06:30 MDT on Monday 2026-03-09.
    assert not is_peak(datetime(2026, 3, 6, 12, 30, tzinfo=UTC))
    assert is_peak(datetime(2026, 3, 9, 12, 30, tzinfo=UTC))
    # And back: 12:30 UTC is 06:30 MDT on Friday 2026-10-30 but 05:30 MST on Monday 2026-11-02.
    assert is_peak(datetime(2026, 10, 30, 12, 30, tzinfo=UTC))
    assert not is_peak(datetime(2026, 11, 2, 12, 30, tzinfo=UTC))


def test_dst_change_days_are_sundays_and_never_peak():
    for day in (denver(2026, 3, 8, 0, 0, 0), denver(2026, 11, 1, 0, 0, 0)):
        hours = [day.astimezone(UTC) + timedelta(minutes=30 * n) for n in range(52)]
        assert not any(is_peak(h) for h in hours)


def test_peak_for_an_instant_given_in_another_zone():
    new_york_8am = datetime(2026, 3, 11, 8, 0, tzinfo=ZoneInfo("America/New_York"))  # 06:00 MDT
    assert is_peak(new_york_8am)
    assert not is_peak(new_york_8am - timedelta(seconds=1))


def test_is_peak_requires_an_aware_instant():
    with pytest.raises(NaiveDatetimeError):
        is_peak(datetime(2026, 3, 11, 12, 0))


@pytest.mark.parametrize(
    ("instant", "expected_local", "day_hours"),
    [
        # Saturday before spring-forward: the next day (Sunday) is 23 hours long.
        (denver(2026, 3, 7, 12, 0, 0), denver(2026, 3, 8, 0, 0, 0), 23),
        (denver(2026, 3, 8, 12, 0, 0), denver(2026, 3, 9, 0, 0, 0), 24),
        # Saturday before fall-back: Sunday is 25 hours long.
        (denver(2026, 10, 31, 23, 59, 59), denver(2026, 11, 1, 0, 0, 0), 25),
        # Inside the repeated hour (second pass, fold=1) midnight is still the next one.
        (datetime(2026, 11, 1, 8, 30, tzinfo=UTC), denver(2026, 11, 2, 0, 0, 0), 24),
    ],
)
def test_next_midnight_across_dst(instant, expected_local, day_hours):
    midnight = next_midnight(instant, DENVER)
    assert midnight == expected_local
    assert midnight.tzinfo is UTC
    assert next_midnight(midnight, DENVER) - midnight == timedelta(hours=day_hours)


def test_next_midnight_is_strictly_after_an_exact_midnight():
    midnight = denver(2026, 6, 1, 0, 0, 0)
    assert next_midnight(midnight, "America/Denver") == denver(2026, 6, 2, 0, 0, 0)


def test_next_midnight_pacific_for_token_expiry():
    instant = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)  # 01:00 PST
    assert next_midnight(instant, "America/Los_Angeles") == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)


def test_next_midnight_when_the_clock_skips_midnight():
    # Chile springs forward at 00:00 (to 01:00) on 2026-09-06: the day starts at 01:00.
    santiago = ZoneInfo("America/Santiago")
    instant = datetime(2026, 9, 5, 12, 0, tzinfo=santiago)
    midnight = next_midnight(instant, santiago)
    assert midnight.astimezone(santiago).replace(tzinfo=None) == datetime(2026, 9, 6, 1, 0)
    local_before = (midnight - timedelta(microseconds=1)).astimezone(santiago)
    assert local_before.date() == datetime(2026, 9, 5).date()


@settings(deadline=None)
@given(instants, zones)
def test_next_midnight_properties(instant, zone):
    midnight = next_midnight(instant, zone)
    local = midnight.astimezone(ZoneInfo(zone))
    assert midnight > instant
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    assert local.date() == instant.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    assert midnight - instant <= timedelta(hours=25)

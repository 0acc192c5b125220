"""When the every-minute pull tick actually pulls: realtime / hourly / daily / manual, never more
than once a minute (GETUPDATEDVISITS' cap), daily at the practice-local hour across DST; and
when the pull counts as stale (three missed intervals)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amdsync.domain.settings import Settings
from amdsync.sync.schedule import MIN_INTERVAL, pull_due, pull_stale

DENVER = ZoneInfo("America/Denver")
NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)  # 10:00 in Denver


def _settings(frequency: str, daily_hour: int = 2) -> Settings:
    return Settings.model_validate({"syncFrequency": frequency, "dailyHour": daily_hour})


def _local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=DENVER).astimezone(UTC)


@pytest.mark.parametrize("frequency", ["realtime", "hourly", "daily"])
def test_first_run_pulls_at_once(frequency: str) -> None:
    assert pull_due(_settings(frequency), None, NOW, DENVER)


@pytest.mark.parametrize("last", [None, NOW - timedelta(days=30)])
def test_manual_never_pulls_on_schedule(last: datetime | None) -> None:
    assert not pull_due(_settings("manual"), last, NOW, DENVER)


@pytest.mark.parametrize(
    ("ago", "due"),
    [(0, False), (29, False), (30, True), (55, True), (59, True), (60, True), (3600, True)],
)
def test_realtime_pulls_at_most_once_per_tick(ago: int, due: bool) -> None:
    # The feed's own 60 s + margin rule lives in the shared limiter; this only keeps a tick
    # from pulling twice.
    assert pull_due(_settings("realtime"), NOW - timedelta(seconds=ago), NOW, DENVER) is due


def test_realtime_tick_after_a_pull_that_took_seconds_still_pulls() -> None:
    """The previous tick's pull finished 5 s after its tick (it waited for the feed, then
    applied changes): the next tick, 60 s after the previous one, pulls again. Every minute,
    not every two (SPEC 9.3)."""
    tick = NOW
    finished = tick + timedelta(seconds=5)
    assert pull_due(_settings("realtime"), finished, tick + timedelta(seconds=60), DENVER)


@pytest.mark.parametrize(
    ("ago", "due"),
    [(60, False), (30 * 60, False), (59 * 60, False), (59 * 60 + 30, True), (2 * 3600, True)],
)
def test_hourly(ago: int, due: bool) -> None:
    # 30 s of slack: a tick that fires a little early does not skip a whole hour.
    assert pull_due(_settings("hourly"), NOW - timedelta(seconds=ago), NOW, DENVER) is due


@pytest.mark.parametrize(
    ("last", "now", "due"),
    [
        (_local(2026, 11, 24, 2, 1), _local(2026, 11, 25, 1, 59), False),  # before today's hour
        (_local(2026, 11, 24, 2, 1), _local(2026, 11, 25, 2, 0), True),  # at the hour
        (_local(2026, 11, 24, 2, 1), _local(2026, 11, 25, 9, 0), True),  # missed: catch up
        (_local(2026, 11, 25, 2, 0), _local(2026, 11, 25, 2, 5), False),  # already pulled today
        (_local(2026, 11, 25, 2, 0), _local(2026, 11, 25, 23, 59), False),
        # Across the DST change (1 Nov 2026): still 02:00 local, not 01:00 or 03:00.
        (_local(2026, 10, 31, 2, 0), _local(2026, 11, 1, 1, 30), False),
        (_local(2026, 10, 31, 2, 0), _local(2026, 11, 1, 2, 0), True),
        (_local(2026, 3, 7, 2, 0), _local(2026, 3, 8, 3, 0), True),  # 02:00 does not exist
    ],
)
def test_daily_at_the_practice_local_hour(last: datetime, now: datetime, due: bool) -> None:
    assert pull_due(_settings("daily", daily_hour=2), last, now, DENVER) is due


@given(
    frequency=st.sampled_from(["realtime", "hourly", "daily", "manual"]),
    hour=st.integers(0, 23),
    start=st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),
    ticks=st.integers(1, 600),
)
def test_never_more_than_once_a_minute(
    frequency: str, hour: int, start: datetime, ticks: int
) -> None:
    """Simulated ticks every 20 s: successive pulls are always >= MIN_INTERVAL apart."""
    settings = _settings(frequency, hour)
    last: datetime | None = None
    pulls: list[datetime] = []
    for n in range(ticks):
        now = start + timedelta(seconds=20 * n)
        if pull_due(settings, last, now, DENVER):
            pulls.append(now)
            last = now
    gaps = [b - a for a, b in itertools.pairwise(pulls)]
    assert all(gap >= MIN_INTERVAL for gap in gaps)
    if frequency == "manual":
        assert pulls == []


def test_realtime_keeps_pulling_every_minute() -> None:
    """One tick a minute for an hour, each pull finishing 8 s after its tick: 60 pulls."""
    settings, last = _settings("realtime"), NOW
    pulls = 0
    for minute in range(1, 61):
        now = NOW + timedelta(minutes=minute)
        if pull_due(settings, last, now, DENVER):
            pulls, last = pulls + 1, now + timedelta(seconds=8)
    assert pulls == 60


@pytest.mark.parametrize(
    ("frequency", "ago", "stale"),
    [
        ("realtime", timedelta(minutes=3), False),
        ("realtime", timedelta(minutes=3, seconds=1), True),
        ("hourly", timedelta(hours=3), False),
        ("hourly", timedelta(hours=3, minutes=1), True),
        ("daily", timedelta(days=3), False),
        ("daily", timedelta(days=3, minutes=1), True),
        ("manual", timedelta(days=300), False),
    ],
)
def test_stale_after_three_intervals(frequency: str, ago: timedelta, stale: bool) -> None:
    assert pull_stale(_settings(frequency), NOW - ago, NOW) is stale


def test_never_pulled_is_not_stale_yet() -> None:
    assert not pull_stale(_settings("realtime"), None, NOW)

"""msgtime (long VB) and AMD date formats (PROTOCOL §1.2, §4.3)."""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from amdsync.domain.localtime import FoldPolicy, NaiveDatetimeError, UnknownTimeZoneError
from amdsync.domain.timefmt import (
    TimeFormatError,
    format_amd_date,
    format_msgtime,
    parse_amd_date,
    parse_msgtime,
)

from .strategies import instants, local_fold, whole_second_instants, zones

DENVER = "America/Denver"
LONG_VB = re.compile(r"[1-9]\d?/[1-9]\d?/\d{4} (1[0-2]|[1-9]):[0-5]\d:[0-5]\d (AM|PM)")


def test_protocol_example():
    instant = datetime(2025, 3, 14, 15, 5, tzinfo=UTC)  # 09:05 MDT
    assert format_msgtime(instant, DENVER) == "3/14/2025 9:05:00 AM"
    assert format_msgtime(instant, ZoneInfo(DENVER)) == "3/14/2025 9:05:00 AM"


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (datetime(2025, 1, 5, 0, 0, 0), "1/5/2025 12:00:00 AM"),
        (datetime(2025, 1, 5, 0, 59, 9), "1/5/2025 12:59:09 AM"),
        (datetime(2025, 1, 5, 12, 0, 0), "1/5/2025 12:00:00 PM"),
        (datetime(2025, 12, 31, 23, 59, 59), "12/31/2025 11:59:59 PM"),
        (datetime(2025, 10, 10, 13, 7, 0), "10/10/2025 1:07:00 PM"),
    ],
)
def test_twelve_hour_clock_edges(local, expected):
    instant = local.replace(tzinfo=ZoneInfo(DENVER))
    assert format_msgtime(instant, DENVER) == expected


@settings(deadline=None)
@given(whole_second_instants, zones)
@example(datetime(2026, 11, 1, 7, 30, tzinfo=UTC), DENVER)  # 01:30 MDT, first pass
@example(datetime(2026, 11, 1, 8, 30, tzinfo=UTC), DENVER)  # 01:30 MST, second pass
@example(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "America/New_York")  # 01:30 EST, second
def test_msgtime_round_trips_to_the_second(instant, zone):
    text = format_msgtime(instant, zone)
    assert LONG_VB.fullmatch(text), text
    policy = FoldPolicy.LATER if local_fold(instant, zone) else FoldPolicy.EARLIER
    assert parse_msgtime(text, zone, policy) == instant


@settings(deadline=None)
@given(instants, zones)
@example(datetime(2026, 11, 1, 8, 30, 15, 500, tzinfo=UTC), DENVER)
def test_msgtime_drops_sub_seconds_and_default_policy_picks_the_earlier_occurrence(instant, zone):
    back = parse_msgtime(format_msgtime(instant, zone), zone)
    truncated = instant.replace(microsecond=0)
    if local_fold(instant, zone):
        assert (truncated - back).total_seconds() == 3600  # the overlap hour, read as the first
    else:
        assert back == truncated
    assert back.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "3/14/2025 9:05:00 AM",
        "03/14/2025 09:05:00 AM",
        "3/14/2025 09:05:00 am",
        "3/14/2025 9:05:00AM",
        "3/14/2025 9:05 AM",
        "3/14/2025 09:05:00",
        "2025-03-14 09:05:00",
        "2025-03-14T09:05:00",
        "  3/14/2025 9:05:00 AM ",
    ],
)
def test_parse_msgtime_accepts_padded_24_hour_and_iso_variants(text):
    assert parse_msgtime(text, DENVER) == datetime(2025, 3, 14, 15, 5, tzinfo=UTC)


def test_parse_msgtime_pm_and_midnight():
    assert parse_msgtime("4/2/2021 2:07:00 PM", DENVER) == datetime(2021, 4, 2, 20, 7, tzinfo=UTC)
    assert parse_msgtime("4/2/2021 12:00:00 AM", "UTC") == datetime(2021, 4, 2, tzinfo=UTC)
    assert parse_msgtime("4/2/2021 12:00:00 PM", "UTC") == datetime(2021, 4, 2, 12, tzinfo=UTC)
    assert parse_msgtime("4/2/2021 14:07:00", "UTC") == datetime(2021, 4, 2, 14, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "13/14/2025 9:05:00 AM",
        "2/30/2025 9:05:00 AM",
        "3/14/2025 13:05:00 PM",
        "3/14/2025 0:05:00 AM",
        "3/14/2025 24:00:00",
        "3/14/2025 9:65:00 AM",
        "3/14/25 9:05:00 AM",
        "2025-03-14T09:05:00Z",
        "2025-03-14T09:05:00-06:00",
        "3/14/2025",
        "\uff13/14/2025 9:05:00 AM",
    ],
)
def test_parse_msgtime_rejects_malformed_text(text):
    with pytest.raises(TimeFormatError) as info:
        parse_msgtime(text, DENVER)
    assert isinstance(info.value, ValueError)
    assert "msgtime" in str(info.value)


def test_naive_instants_and_unknown_zones_are_rejected():
    with pytest.raises(NaiveDatetimeError):
        format_msgtime(datetime(2025, 3, 14, 9, 5), DENVER)
    with pytest.raises(UnknownTimeZoneError):
        format_msgtime(datetime(2025, 3, 14, tzinfo=UTC), "Mars/Olympus_Mons")
    with pytest.raises(UnknownTimeZoneError):
        parse_msgtime("3/14/2025 9:05:00 AM", "../../etc/passwd")
    with pytest.raises(TimeFormatError):
        parse_msgtime(None, DENVER)  # type: ignore[arg-type]


def test_amd_date_formats():
    assert format_amd_date(date(1980, 4, 2)) == "04/02/1980"
    assert format_amd_date(date(2025, 12, 31)) == "12/31/2025"


@pytest.mark.parametrize(
    "text",
    [
        "04/02/1980",
        "4/2/1980",
        "1980-04-02",
        "1980-04-02T00:00:00",
        "1980-04-02T00:00:00.000",
        " 4/2/1980 ",
    ],
)
def test_parse_amd_date_variants(text):
    assert parse_amd_date(text) == date(1980, 4, 2)


@pytest.mark.parametrize(
    "text",
    ["", "1980-02-30", "02/30/1980", "13/01/1980", "1980-04-02T10:00:00", "4-2-1980", "80-04-02"],
)
def test_parse_amd_date_rejects_malformed_or_non_midnight(text):
    with pytest.raises(TimeFormatError):
        parse_amd_date(text)


def test_malformed_date_errors_do_not_echo_the_value():
    # Dates parsed here include birth dates, which are PHI.
    with pytest.raises(TimeFormatError) as info:
        parse_amd_date("02/30/1980")
    assert "1980" not in str(info.value)
    assert info.value.text is None


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_amd_date_round_trip(d):
    text = format_amd_date(d)
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", text)
    assert parse_amd_date(text) == d

"""The EHR's zone <-> AMD's practice-local wall time (SPEC §9.2), including both DST edges."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings

from amdsync.domain.localtime import is_nonexistent
from amdsync.domain.practice_time import PracticeTime, rezone
from amdsync.domain.timefmt import local_wall_time

from .strategies import instants, zones

DENVER = PracticeTime(ZoneInfo("America/Denver"))


def test_new_york_one_pm_is_eleven_in_a_denver_practice_and_back():
    assert DENVER.to_amd("2026-12-01T13:00:00", "America/New_York") == "2026-12-01T11:00:00"
    assert DENVER.from_amd("2026-12-01T11:00:00", "America/New_York") == "2026-12-01T13:00:00"


def test_the_practice_zone_itself_is_unchanged():
    assert DENVER.to_amd("2026-12-01T13:00:00", "America/Denver") == "2026-12-01T13:00:00"


def test_a_zone_that_crosses_midnight_changes_the_date():
    assert DENVER.to_amd("2026-12-02T00:30:00", "Pacific/Auckland") == "2026-12-01T04:30:00"


def test_repeated_hour_in_the_practice_zone_reads_back_as_the_occurrence_we_booked():
    # 03:30 EST in New York on 2026-11-01 is 08:30 UTC: 01:30 MST, the *second* 01:30 in Denver.
    booked = DENVER.to_amd("2026-11-01T03:30:00", "America/New_York")
    assert booked == "2026-11-01T01:30:00"
    back = DENVER.from_amd(booked, "America/New_York", expected="2026-11-01T03:30:00")
    assert back == "2026-11-01T03:30:00"
    # Without a hint: the earlier occurrence, 01:30 MDT = 07:30 UTC = 02:30 EST in New York.
    assert DENVER.from_amd(booked, "America/New_York") == "2026-11-01T02:30:00"


def test_repeated_hour_in_the_ehr_zone_round_trips():
    # 01:30 in Denver happens twice; the EHR's naive text means the first (PEP 495 fold=0).
    booked = DENVER.to_amd("2026-11-01T01:30:00", "America/Denver")
    assert booked == "2026-11-01T01:30:00"
    assert DENVER.from_amd(booked, "America/Denver", "2026-11-01T01:30:00") == booked


def test_skipped_hour_in_the_practice_zone():
    # 05:30 EDT in New York on 2026-03-08 is 09:30 UTC, half an hour after Denver skipped
    # 02:00-03:00: 03:30 MDT.
    assert DENVER.to_amd("2026-03-08T05:30:00", "America/New_York") == "2026-03-08T03:30:00"
    # A front-desk time inside the gap is AMD's data: read shifted forward, never an error.
    assert DENVER.from_amd("2026-03-08T02:30:00", "America/Denver") == "2026-03-08T03:30:00"


def test_rezone_keeps_the_instant():
    assert rezone("2026-12-01T13:00:00", "America/New_York", "America/Denver") == (
        "2026-12-01T11:00:00"
    )
    assert rezone("2026-12-01T13:00:00", "UTC", "UTC") == "2026-12-01T13:00:00"


@settings(deadline=None, max_examples=200)
@given(instants, zones, zones)
@example(datetime(2026, 11, 1, 8, 30, tzinfo=UTC), "America/New_York", "America/Denver")
@example(datetime(2026, 3, 8, 9, 30, tzinfo=UTC), "America/Denver", "America/Denver")
def test_any_instant_survives_the_round_trip(instant, ehr_zone, practice_zone):
    practice = PracticeTime(ZoneInfo(practice_zone))
    ehr_start = instant.astimezone(ZoneInfo(ehr_zone)).replace(tzinfo=None, microsecond=0)
    if is_nonexistent(ehr_start, ehr_zone):
        return  # cannot be registered (rejected at the API)
    text = ehr_start.isoformat(timespec="seconds")
    sent = practice.to_amd(text, ehr_zone)
    back = practice.from_amd(sent, ehr_zone, expected=text)
    assert local_wall_time(back, ehr_zone) == local_wall_time(text, ehr_zone)

"""REST scheduler local times and DST rules (PROTOCOL §3.16, §4.4)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings

from amdsync.domain.localtime import (
    AmbiguousLocalTimeError,
    FoldPolicy,
    NonexistentLocalTimeError,
    is_ambiguous,
    is_nonexistent,
    localize,
)
from amdsync.domain.timefmt import (
    TimeFormatError,
    from_rest_local,
    local_wall_time,
    normalize_local_iso,
    to_rest_local,
)

from .strategies import instants, local_fold, naive_local_times, zones

DENVER = "America/Denver"
REST_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def test_to_rest_local_is_naive_practice_time_without_offset():
    instant = datetime(2025, 3, 20, 16, 0, 0, 999_999, tzinfo=UTC)
    assert to_rest_local(instant, DENVER) == "2025-03-20T10:00:00"
    assert to_rest_local(instant, "Pacific/Honolulu") == "2025-03-20T06:00:00"


@settings(deadline=None)
@given(instants, zones)
@example(datetime(2026, 11, 1, 8, 30, tzinfo=UTC), DENVER)
def test_rest_local_round_trip(instant, zone):
    text = to_rest_local(instant, zone)
    assert REST_LOCAL.fullmatch(text), text
    policy = FoldPolicy.LATER if local_fold(instant, zone) else FoldPolicy.EARLIER
    assert from_rest_local(text, zone, policy) == instant.replace(microsecond=0)


@settings(deadline=None)
@given(naive_local_times, zones)
@example(datetime(2026, 3, 8, 2, 30), DENVER)
@example(datetime(2026, 11, 1, 1, 30), DENVER)
def test_every_wall_time_is_either_a_gap_or_reads_back_unchanged(naive, zone):
    text = naive.isoformat()
    if is_nonexistent(naive, zone):
        with pytest.raises(NonexistentLocalTimeError):
            from_rest_local(text, zone)
        return
    for policy in (FoldPolicy.EARLIER, FoldPolicy.LATER):
        assert to_rest_local(from_rest_local(text, zone, policy), zone) == text
    if not is_ambiguous(naive, zone):
        with_raise = from_rest_local(text, zone, FoldPolicy.RAISE)
        assert with_raise == from_rest_local(text, zone)


@pytest.mark.parametrize(
    ("zone", "text"),
    [
        (DENVER, "2026-03-08T02:30:00"),
        (DENVER, "2026-03-08T02:00"),
        (DENVER, "2026-03-08T02:59:59"),
        ("America/New_York", "2026-03-08T02:15:00"),
    ],
)
def test_spring_forward_gap_raises(zone, text):
    with pytest.raises(NonexistentLocalTimeError) as info:
        from_rest_local(text, zone)
    assert isinstance(info.value, ValueError)
    assert "does not exist" in str(info.value)


def test_gap_edges_exist():
    assert from_rest_local("2026-03-08T01:59:59", DENVER) == datetime(
        2026, 3, 8, 8, 59, 59, tzinfo=UTC
    )
    assert from_rest_local("2026-03-08T03:00:00", DENVER) == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


def test_zones_without_dst_have_no_gap():
    assert from_rest_local("2026-03-08T02:30:00", "America/Phoenix") == datetime(
        2026, 3, 8, 9, 30, tzinfo=UTC
    )
    assert not is_ambiguous(datetime(2026, 11, 1, 1, 30), "Pacific/Honolulu")


def test_fall_back_overlap_resolves_by_policy():
    text = "2026-11-01T01:30:00"
    earlier = from_rest_local(text, DENVER)
    assert earlier == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)  # still MDT
    assert from_rest_local(text, DENVER, FoldPolicy.EARLIER) == earlier
    assert from_rest_local(text, DENVER, FoldPolicy.LATER) == earlier + timedelta(hours=1)
    with pytest.raises(AmbiguousLocalTimeError):
        from_rest_local(text, DENVER, FoldPolicy.RAISE)


def test_overlap_edges():
    assert is_ambiguous(datetime(2026, 11, 1, 1, 0), DENVER)
    assert is_ambiguous(datetime(2026, 11, 1, 1, 59, 59), DENVER)
    assert not is_ambiguous(datetime(2026, 11, 1, 0, 59, 59), DENVER)
    assert not is_ambiguous(datetime(2026, 11, 1, 2, 0), DENVER)


def test_results_are_utc_so_overlap_instants_compare_correctly():
    first = from_rest_local("2026-11-01T01:30:00", DENVER, FoldPolicy.EARLIER)
    second = from_rest_local("2026-11-01T01:30:00", DENVER, FoldPolicy.LATER)
    assert first.tzinfo is UTC
    assert first != second
    assert first < second


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01T10:00:00Z",
        "2026-12-01T10:00:00+00:00",
        "2026-12-01",
        "2026-12-01T25:00:00",
        "12/01/2026 10:00:00 AM",
        "",
        "2026-12-01T10",
    ],
)
def test_from_rest_local_rejects_offsets_and_malformed_text(text):
    with pytest.raises(TimeFormatError):
        from_rest_local(text, DENVER)


def test_from_rest_local_accepts_missing_seconds_and_fractional_seconds():
    expected = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert from_rest_local("2026-12-01T10:00", DENVER) == expected
    assert from_rest_local("2026-12-01T10:00:00.000", DENVER) == expected
    assert local_wall_time("2026-12-01T10:00:00", DENVER) == expected


def test_normalize_local_iso():
    assert normalize_local_iso("2026-12-01T10:00") == "2026-12-01T10:00:00"
    assert normalize_local_iso("2026-12-01 9:05:07") == "2026-12-01T09:05:07"
    with pytest.raises(TimeFormatError):
        normalize_local_iso("2026-12-01T10:00:00.250")


def test_localize_refuses_an_aware_datetime():
    with pytest.raises(ValueError, match="naive"):
        localize(datetime(2026, 1, 1, tzinfo=UTC), DENVER)

"""AMD's clock, estimated from its replies (issue 14 item 5), and peak pacing judged on that
estimate in America/Denver, on both DST transition days and the weekdays around them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from amdsync.amd.amdclock import AmdClock, reading
from amdsync.amd.memory import ManualClock, MemoryRateBuckets
from amdsync.amd.ratelimit import Permit, RateLimiter, Wait
from amdsync.amd.tiers import Budget, LimitTable
from amdsync.domain.pacing import ClockOffset, PaceState

from .fake_amd import FakeAmd, envelope, make_amd

DENVER = ZoneInfo("America/Denver")
PLAUSIBLE = 600.0


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=DENVER).astimezone(UTC)


# --- reading one stamp ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "ours", "offset"),
    [
        ("3/14/2025 9:05:18 AM", "2025-03-14T09:05:01", 17),  # VB long (PROTOCOL §1.4)
        ("8/26/2022 10:59:06 PM", "2022-08-26T22:59:36", -30),
        ("04/28/2025 04:57:33", "2025-04-28T04:57:30", 3),  # 24-hour, early morning
        ("04/28/2025 04:57:33", "2025-04-28T16:57:30", 3),  # same text, afternoon: no AM/PM
        ("2025-03-14T09:11:00.987", "2025-03-14T09:10:43.987", 17),  # servertime, ms
        ("2015-03-24T8:25:28.730", "2015-03-24T08:25:28.730", 0),  # unpadded hour
    ],
)
def test_a_stamp_bounds_the_offset(text: str, ours: str, offset: float) -> None:
    now = at(ours)
    found = reading(text, now, now, DENVER, PLAUSIBLE)
    assert found is not None
    assert found.lo <= offset <= found.hi
    assert found.width <= 1.5


def test_milliseconds_narrow_the_reading() -> None:
    now = at("2025-03-14T09:10:43.987")
    found = reading("2025-03-14T09:11:00.987", now, now, DENVER, PLAUSIBLE)
    assert found is not None and found.width <= 0.002


def test_the_round_trip_widens_the_reading() -> None:
    sent = at("2025-03-14T09:05:00")
    found = reading("3/14/2025 9:05:18 AM", sent, sent + timedelta(seconds=2), DENVER, PLAUSIBLE)
    assert found is not None and 3.4 <= found.width <= 3.6


@pytest.mark.parametrize(
    "text",
    ["", "soon", "13/45/2025 9:05:18 AM", "3/14/2025 9:05:18 AM"],  # the last: 3 h off
)
def test_unreadable_or_implausible_stamps_are_ignored(text: str) -> None:
    now = at("2025-03-14T12:05:00")
    assert reading(text, now, now, DENVER, PLAUSIBLE) is None


def test_the_repeated_fall_back_hour_takes_the_occurrence_nearest_our_clock() -> None:
    # 2025-11-02 01:30 happens twice in Denver (MDT, then MST). Our clock is in the second.
    second = datetime(2025, 11, 2, 8, 30, tzinfo=UTC)  # 01:30 MST
    found = reading("11/2/2025 1:30:05 AM", second, second, DENVER, PLAUSIBLE)
    assert found is not None and found.lo <= 5 <= found.hi
    first = datetime(2025, 11, 2, 7, 30, tzinfo=UTC)  # 01:30 MDT
    found = reading("11/2/2025 1:30:05 AM", first, first, DENVER, PLAUSIBLE)
    assert found is not None and found.lo <= 5 <= found.hi


def test_the_skipped_spring_forward_hour_does_not_break_reading() -> None:
    # 2025-03-09 02:00-03:00 does not exist in Denver; 03:00:10 MDT is 09:00:10 UTC.
    now = datetime(2025, 3, 9, 9, 0, 0, tzinfo=UTC)
    found = reading("3/9/2025 3:00:10 AM", now, now, DENVER, PLAUSIBLE)
    assert found is not None and found.lo <= 10 <= found.hi


# --- the estimate -----------------------------------------------------------------------------
def test_unknown_offset_assumes_thirty_seconds_either_way() -> None:
    assert AmdClock().bounds(datetime(2025, 3, 14, tzinfo=UTC)) == (-30.0, 30.0)


def test_readings_intersect_and_a_stepped_clock_replaces_the_estimate() -> None:
    clock = AmdClock(DENVER)
    t0 = at("2025-03-14T09:05:00.300")
    assert clock.observe("3/14/2025 9:05:17 AM", t0, t0)  # 17 s ahead, +/- a second
    t1 = at("2025-03-14T09:06:00.900")
    assert clock.observe("3/14/2025 9:06:17 AM", t1, t1)
    estimate = clock.estimate
    assert estimate is not None and estimate.lo <= 17 <= estimate.hi
    assert estimate.width < 1.0  # two readings at different sub-second phases narrow it
    t2 = at("2025-03-14T09:07:00")
    assert clock.observe("2025-03-14T09:07:45.000", t2, t2)  # AMD's clock was stepped
    estimate = clock.estimate
    assert estimate is not None and abs(estimate.mid - 45) < 0.01


def test_an_implausible_stamp_leaves_the_estimate_alone() -> None:
    clock = AmdClock(DENVER)
    now = at("2025-03-14T09:05:00")
    assert not clock.observe("3/14/2025 11:05:00 AM", now, now)  # Eastern? Not trusted.
    assert clock.estimate is None


def test_the_client_learns_amds_clock_from_every_reply() -> None:
    fake = FakeAmd()
    ours = datetime(2025, 3, 14, 16, 0, 0, tzinfo=UTC)  # 10:00 MDT
    clock = ManualClock(ours)

    def stamp() -> str:  # AMD's clock runs 17 s ahead of ours
        amd_time = clock.now() + timedelta(seconds=17)
        return amd_time.astimezone(DENVER).strftime("%-m/%-d/%Y %-I:%M:%S %p")

    fake.xmlrpc["lookupprofile"] = lambda msg: envelope({"@success": "1"}, **{"@lst": stamp()})
    amd = make_amd(fake, clock=clock)
    amd.client.xmlrpc("lookupprofile", "api", {"exactmatch": "-1", "name": ""})
    lo, hi = amd.client.limiter.amd_clock.bounds(clock.now())
    assert lo <= 17 <= hi and hi - lo <= 1.5


def test_the_estimate_is_shared_through_the_rate_item() -> None:
    buckets = MemoryRateBuckets()
    clock = ManualClock(datetime(2025, 3, 14, 16, 0, tzinfo=UTC))
    teacher = RateLimiter(buckets, "999999", clock, LimitTable.default(), amd_clock=AmdClock())
    now = clock.now()
    teacher.amd_clock.learn(ClockOffset(16.8, 17.2, now.timestamp()))
    assert isinstance(teacher.acquire(Budget.TIER3), Permit)  # publishes with its write
    newcomer = RateLimiter(buckets, "999999", clock, LimitTable.default(), amd_clock=AmdClock())
    clock.advance(10)
    newcomer.acquire(Budget.TIER3)
    assert newcomer.amd_clock.estimate is not None
    lo, hi = newcomer.amd_clock.bounds(clock.now())
    assert 16.7 < lo <= 17 <= hi < 17.3


# --- peak pacing on AMD's clock -----------------------------------------------------------------
def paced_at_peak(instant: datetime, offset: ClockOffset | None = None) -> bool:
    amd_clock = AmdClock()
    if offset is not None:
        amd_clock.learn(offset)
    lim = RateLimiter(
        MemoryRateBuckets(), "k", ManualClock(instant), LimitTable.default(), amd_clock=amd_clock
    )
    return lim.peak_pacing(instant)


def first_and_last_peak_paced(day: str) -> tuple[datetime, datetime] | None:
    """Scan a Denver calendar day second by second near the edges (minute by minute elsewhere)."""
    start = datetime.fromisoformat(day).replace(tzinfo=DENVER).astimezone(UTC)
    end = (datetime.fromisoformat(day) + timedelta(days=1)).replace(tzinfo=DENVER)
    paced = []
    t = start
    while t < end.astimezone(UTC):
        if paced_at_peak(t):
            paced.append(t)
        t += timedelta(seconds=1 if t.astimezone(DENVER).minute in (57, 58, 59, 0) else 60)
    return (paced[0], paced[-1]) if paced else None


@pytest.mark.parametrize(
    ("day", "first", "last"),
    [
        # Friday before spring forward (MST, UTC-7) and the Monday after (MDT, UTC-6).
        ("2025-03-07", "2025-03-07T05:58:28", "2025-03-07T18:00:30"),
        ("2025-03-10", "2025-03-10T05:58:28", "2025-03-10T18:00:30"),
        # Friday before fall back (MDT) and the Monday after (MST).
        ("2025-10-31", "2025-10-31T05:58:28", "2025-10-31T18:00:30"),
        ("2025-11-03", "2025-11-03T05:58:28", "2025-11-03T18:00:30"),
    ],
)
def test_peak_pacing_covers_every_span_amd_may_judge_peak(day: str, first: str, last: str) -> None:
    """Unlearned offset (+/- 30 s), 2 s margin: from 06:00 - 60 s - 30 s - 2 s to 18:00 + 30 s,
    Denver wall time, whatever the UTC offset that day."""
    found = first_and_last_peak_paced(day)
    assert found is not None
    assert found[0] == at(first)
    assert found[1] == at(last) - timedelta(seconds=1)  # [first, last)


@pytest.mark.parametrize("day", ["2025-03-09", "2025-11-02"])  # the DST transition Sundays
def test_no_peak_pacing_on_the_dst_sundays(day: str) -> None:
    # The 23- and 25-hour days themselves: weekend, off-peak all day (the Monday edge aside,
    # which begins at 05:58:28 on Monday).
    assert first_and_last_peak_paced(day) is None


def test_peak_pacing_ends_at_18_00_on_amds_clock_when_it_runs_17_s_ahead() -> None:
    learned = ClockOffset(16.5, 17.5, datetime(2025, 3, 14, 23, 0, tzinfo=UTC).timestamp())
    our_1759_41 = at("2025-03-14T17:59:41")  # AMD: 17:59:58
    our_1759_44 = at("2025-03-14T17:59:44")  # AMD: 18:00:01
    assert paced_at_peak(our_1759_41, learned)
    assert not paced_at_peak(our_1759_44, learned)
    # Without the estimate we would keep peak pacing until our 18:00:30.
    assert paced_at_peak(our_1759_44) and paced_at_peak(at("2025-03-14T18:00:29"))
    # 06:00 on AMD's clock is 05:59:43 ours: peak pacing from 60 s + 2 s margin + 0.5 s
    # uncertainty before that (05:58:40.5 ours).
    assert not paced_at_peak(at("2025-03-14T05:58:40"), learned)
    assert paced_at_peak(at("2025-03-14T05:58:41"), learned)


def test_a_tier_paced_at_peak_keeps_peak_spacing_until_amds_peak_is_over() -> None:
    learned = ClockOffset(16.5, 17.5, datetime(2025, 3, 14, 23, 0, tzinfo=UTC).timestamp())
    amd_clock = AmdClock()
    amd_clock.learn(learned)
    clock = ManualClock(at("2025-03-14T17:59:30"))
    lim = RateLimiter(MemoryRateBuckets(), "k", clock, LimitTable.default(), amd_clock=amd_clock)
    first = lim.acquire(Budget.TIER2)
    assert isinstance(first, Permit) and first.peak
    wait = lim.acquire(Budget.TIER2)
    assert isinstance(wait, Wait) and wait.seconds > 5
    clock.advance(15)  # our 17:59:45 = AMD 18:00:02: off-peak spacing from now on
    assert isinstance(lim.acquire(Budget.TIER2), Permit)
    nxt = lim.acquire(Budget.TIER2)
    assert isinstance(nxt, Wait) and nxt.seconds < 0.6


def test_pace_state_defaults() -> None:
    assert PaceState().arrivals == {} and PaceState().clock is None

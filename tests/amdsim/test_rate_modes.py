"""Rate-window modes (calendar | sliding | bucket), AMD's clock offset, per-tier limits, the feed
cap and login invalidation (issue 14). Every test runs on the frozen simulated clock."""

import email.utils
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from local.amdsim.config import STRICT_RATE_SWITCHES
from local.amdsim.handle import AdminError, SimHandle
from local.amdsim.pytest_plugin import FIXTURE_EPOCH
from local.amdsim.timefmt import fmt_vb_long
from tests.amdsim.helpers import DENVER, Amd, denver, fault_code, ppmd

MODES = ("calendar", "sliding", "bucket")
SMALL = {"seed": 1, "patients": 20, "appointments": 10}


def client_at(amd_sim: SimHandle, http: httpx.Client, instant: datetime, **switches) -> Amd:
    """Fresh simulator with `switches`; logged in 60 s before `instant` (product clock), then
    the frozen clock is set to `instant`. The two login steps (Tier 3) are out of every window
    by then: the sliding window is (now - 60 s, now] and a bucket refills within 60 s."""
    amd_sim.admin.reset(
        clock=instant - timedelta(seconds=60), frozen=True, config=switches, **SMALL
    )
    client = Amd(amd_sim, http)
    client.login()
    amd_sim.admin.set_clock(instant, frozen=True)
    return client


def lookups(amd: Amd, n: int) -> list[int]:
    return [amd.raw("lookupprofile", name="").status_code for _ in range(n)]


def allowed(amd: Amd, most: int) -> int:
    """How many lookups pass before the first 429 (tries most + 1)."""
    codes = lookups(amd, most + 1)
    return codes.index(429) if 429 in codes else len(codes)


def retry_seconds(resp: httpx.Response) -> int:
    assert resp.status_code == 429
    text = ppmd(resp)["Error"]["Fault"]["detail"]["description"]
    found = re.search(r"Try again in (\d+) seconds", text)
    assert found, text
    return int(found.group(1))


# ------------------------------------------------------------------ every mode, same contract


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("local", "limit"),
    [("2025-03-12 10:00:10", 24), ("2025-03-12 19:00:10", 120)],  # Tier 3 peak, off-peak
)
def test_exactly_at_limit_passes_one_more_429s(
    amd_sim: SimHandle, http: httpx.Client, mode, local, limit
):
    amd = client_at(amd_sim, http, denver(local), rate_window=mode)
    assert lookups(amd, limit) == [200] * limit
    resp = amd.raw("lookupprofile", name="")
    assert resp.status_code == 429
    fault = ppmd(resp)["Error"]["Fault"]
    assert fault["detail"]["code"] == "429"
    assert "Too Many Requests" in fault["detail"]["description"]
    report = amd.report()
    assert report["rate_limited"] == {
        "total": 1,
        "by_tier": {"3": 1},
        "by_action": {"lookupprofile": 1},
    }
    assert report["http_429"] == 1 and report["excess_call_cents"] == 1
    assert report["rate_mode"]["rate_window"] == mode


@pytest.mark.parametrize("mode", MODES)
def test_tier2_xmlrpc_and_rest_share_the_budget_in_every_mode(
    amd_sim: SimHandle, http: httpx.Client, mode
):
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:10"), rate_window=mode)
    codes = [amd.raw("getdemographic", patientid="1001").status_code for _ in range(6)]
    codes += [amd.rest("GET", "/scheduler/Appointments/5001").status_code for _ in range(6)]
    assert codes == [200] * 12
    rest = amd.rest("GET", "/scheduler/Appointments/5001")
    assert rest.status_code == 429
    assert rest.json()["PPMDResults"]["Error"]["Fault"]["detail"]["code"] == "429"
    assert amd.raw("getdemographic", patientid="1001").status_code == 429
    assert amd.raw("lookupprofile", name="").status_code == 200  # Tier 3 is its own budget
    report = amd.report()
    assert report["rate_limited"]["by_tier"] == {"2": 2}
    assert report["rate_limited"]["by_action"] == {"appointments.get": 1, "getdemographic": 1}
    assert report["http_429"] == 2 and report["excess_call_cents"] == 2


@pytest.mark.parametrize("mode", MODES)
def test_configured_per_tier_limits_apply_in_every_mode(
    amd_sim: SimHandle, http: httpx.Client, mode
):
    amd = client_at(
        amd_sim,
        http,
        denver("2025-03-12 10:00:10"),
        rate_window=mode,
        peak_limits={"2": 3, "3": 5},
        offpeak_limits={"3": 7},
    )
    assert allowed(amd, 5) == 5
    codes = [amd.raw("getdemographic", patientid="1001").status_code for _ in range(4)]
    assert codes == [200] * 3 + [429]
    mode_view = amd.report()["rate_mode"]
    assert mode_view["peak_limits"] == {"1": 1, "2": 3, "3": 5}  # tier 1 left at PROTOCOL §6
    assert mode_view["offpeak_limits"] == {"1": 60, "2": 120, "3": 7}
    amd_sim.admin.set_clock(denver("2025-03-12 18:30:00"), frozen=True)
    assert allowed(amd, 7) == 7


# ------------------------------------------------------------------ how each mode counts


@pytest.mark.parametrize(
    ("mode", "second_burst"), [("calendar", 24), ("sliding", 0), ("bucket", 0)]
)
def test_burst_straddling_a_calendar_minute(
    amd_sim: SimHandle, http: httpx.Client, mode, second_burst
):
    """24 calls at 10:00:59.5 and 24 at 10:01:00.5: 48 in one second. Calendar minutes see two
    minutes of 24; a sliding window (or a bucket) sees 48 in 60 s."""
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:59.500"), rate_window=mode)
    assert allowed(amd, 24) == 24
    amd_sim.admin.advance(1)
    codes = lookups(amd, 24)
    assert codes.count(200) == second_burst
    assert amd.report()["rate_limited"]["total"] == 1 + 24 - second_burst


def test_sliding_window_frees_room_exactly_60_s_after_each_call(
    amd_sim: SimHandle, http: httpx.Client
):
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:10"), rate_window="sliding")
    assert lookups(amd, 12) == [200] * 12
    amd_sim.admin.advance(20)  # 10:00:30
    assert lookups(amd, 12) == [200] * 12
    assert retry_seconds(amd.raw("lookupprofile", name="")) == 40  # first 12 leave at 10:01:10
    amd_sim.admin.advance(39.999)  # 10:01:09.999: the 10:00:10 calls are still inside
    assert amd.raw("lookupprofile", name="").status_code == 429
    amd_sim.admin.advance(0.001)  # 10:01:10.000: (10:00:10, 10:01:10] leaves them out
    assert allowed(amd, 12) == 12
    assert retry_seconds(amd.raw("lookupprofile", name="")) == 20


def test_calendar_retry_hint_is_the_rest_of_the_minute(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:10"), rate_window="calendar")
    assert allowed(amd, 24) == 24
    amd_sim.admin.advance(20)
    assert retry_seconds(amd.raw("lookupprofile", name="")) == 30


def test_bucket_refills_continuously_at_limit_per_minute(amd_sim: SimHandle, http: httpx.Client):
    """Tier 3 at peak: capacity 24, one token every 2.5 s."""
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:10"), rate_window="bucket")
    assert allowed(amd, 24) == 24
    assert retry_seconds(amd.raw("lookupprofile", name="")) == 3  # 2.5 s, rounded up
    amd_sim.admin.advance(2.499)
    assert amd.raw("lookupprofile", name="").status_code == 429
    amd_sim.admin.advance(0.001)
    assert allowed(amd, 1) == 1
    amd_sim.admin.advance(25)  # 10 tokens
    assert allowed(amd, 24) == 10
    amd_sim.admin.advance(600)  # idle: refills to capacity, no further
    assert allowed(amd, 30) == 24


def test_bucket_capacity_follows_the_peak_limit(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 05:59:59"), rate_window="bucket")
    assert lookups(amd, 50) == [200] * 50  # off-peak: 120 in the bucket, 70 left
    amd_sim.admin.advance(1)  # 06:00:00 peak: capacity drops to 24
    assert allowed(amd, 24) == 24
    amd_sim.admin.set_clock(denver("2025-03-12 18:00:00"), frozen=True)
    assert allowed(amd, 120) == 120  # off-peak again: capacity 120, refilled by now


def test_rejected_calls_consume_nothing(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:10"), rate_window="sliding")
    assert allowed(amd, 24) == 24
    amd_sim.admin.advance(30)
    assert lookups(amd, 50) == [429] * 50
    amd_sim.admin.advance(30)  # 10:01:10: only the 24 accepted calls counted, all gone now
    assert allowed(amd, 24) == 24


# ------------------------------------------------------------------ the feed cap


def feed(amd: Amd, since: str, action: str = "getupdatedvisits") -> httpx.Response:
    return amd.raw(action, datechanged=since)


@pytest.mark.parametrize("mode", ("sliding", "bucket"))
def test_feed_cap_is_one_per_60_s_span_in_strict_modes(
    amd_sim: SimHandle, http: httpx.Client, mode
):
    """Saturday (off-peak, Tier 1 = 60/min): the 1-per-minute feed cap alone binds."""
    amd = client_at(amd_sim, http, denver("2025-03-15 12:00:30"), rate_window=mode)
    since = amd.ok("getdatevisits", visitdate="1/1/2025")["@servertime"]
    assert feed(amd, since).status_code == 200
    amd_sim.admin.set_clock(denver("2025-03-15 12:01:00"), frozen=True)  # new calendar minute
    resp = feed(amd, since)
    assert retry_seconds(resp) == 30
    assert feed(amd, since, "getupdatedpatients").status_code == 200  # its own cap
    amd_sim.admin.set_clock(denver("2025-03-15 12:01:29.999"), frozen=True)
    assert feed(amd, since).status_code == 429
    amd_sim.admin.set_clock(denver("2025-03-15 12:01:30"), frozen=True)
    assert feed(amd, since).status_code == 200
    report = amd.report()
    assert report["rate_limited"]["by_tier"] == {"1": 2}
    assert report["rate_limited"]["by_action"] == {"getupdatedvisits": 2}


def test_feed_cap_in_calendar_mode_is_per_calendar_minute(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-15 12:00:30"), rate_window="calendar")
    since = amd.ok("getdatevisits", visitdate="1/1/2025")["@servertime"]
    assert feed(amd, since).status_code == 200
    assert retry_seconds(feed(amd, since)) == 30
    amd_sim.admin.set_clock(denver("2025-03-15 12:01:00"), frozen=True)
    assert feed(amd, since).status_code == 200  # 30 s later: calendar mode lets it through


@pytest.mark.parametrize("mode", MODES)
def test_feed_cap_switch_in_every_mode(amd_sim: SimHandle, http: httpx.Client, mode):
    amd = client_at(
        amd_sim, http, denver("2025-03-15 12:00:30"), rate_window=mode, updated_cap_per_minute=3
    )
    since = amd.ok("getdatevisits", visitdate="1/1/2025")["@servertime"]
    assert [feed(amd, since).status_code for _ in range(4)] == [200, 200, 200, 429]


# ------------------------------------------------------------------ AMD's clock offset


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("product_local", "offset", "limit"),
    [
        ("2025-03-12 05:59:50", 17, 24),  # AMD 06:00:07: peak already
        ("2025-03-12 05:59:50", 0, 120),
        ("2025-03-12 06:00:10", -17, 120),  # AMD 05:59:53: still off-peak
        ("2025-03-12 17:59:50", 17, 120),  # AMD 18:00:07: peak over
        ("2025-03-12 18:00:05", -17, 24),  # AMD 17:59:48: still peak
    ],
)
def test_offset_shifts_the_peak_boundary(
    amd_sim: SimHandle, http: httpx.Client, mode, product_local, offset, limit
):
    amd = client_at(
        amd_sim, http, denver(product_local), rate_window=mode, clock_offset_seconds=offset
    )
    assert allowed(amd, limit) == limit


def test_offset_moves_calendar_minute_boundaries(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(
        amd_sim,
        http,
        denver("2025-03-12 10:00:40"),
        rate_window="calendar",
        clock_offset_seconds=17,
    )
    assert allowed(amd, 24) == 24
    assert retry_seconds(amd.raw("lookupprofile", name="")) == 3  # AMD 10:00:57
    amd_sim.admin.advance(3)  # our 10:00:43 is AMD's 10:01:00: a new calendar minute
    assert allowed(amd, 24) == 24


def test_offset_shows_in_servertime_lst_date_header_and_admin_views(
    amd_sim: SimHandle, http: httpx.Client
):
    product = denver("2025-03-12 10:00:00")
    amd = client_at(amd_sim, http, product, clock_offset_seconds=17.25)
    amd_time = product + timedelta(seconds=17.25)
    resp = amd.raw("getdatevisits", visitdate="1/1/2025")
    reply = ppmd(resp)
    assert reply["@lst"] == fmt_vb_long(amd_time.astimezone(DENVER))  # 10:00:17 AM
    assert reply["Results"]["@servertime"] == "2025-03-12T10:00:17.250"
    assert email.utils.parsedate_to_datetime(resp.headers["date"]) == amd_time.replace(
        microsecond=0
    )
    view = amd_sim.admin.clock()
    assert view["now"].startswith("2025-03-12T16:00:00")  # our clock
    assert view["amd"]["now"].startswith("2025-03-12T16:00:17.250")
    assert view["amd"]["local"].startswith("2025-03-12T10:00:17.25")
    assert view["amd"]["local"].endswith("-06:00")
    assert view["amd"]["clock_offset_seconds"] == 17.25
    assert amd.report()["clock"]["amd"]["clock_offset_seconds"] == 17.25
    amd_sim.admin.config(clock_offset_seconds=-5)  # run-time switch, takes effect at once
    assert ppmd(amd.raw("lookupprofile", name=""))["@lst"] == "3/12/2025 9:59:55 AM"


def test_offset_moves_token_expiry(amd_sim: SimHandle, http: httpx.Client):
    """Tokens expire on AMD's clock: with midnight expiry and AMD 30 s ahead, ours die at
    23:59:30 of our clock."""
    amd = client_at(
        amd_sim,
        http,
        denver("2025-03-12 23:58:00"),
        clock_offset_seconds=30,
        token_midnight_expiry=True,
    )
    amd_sim.admin.set_clock(denver("2025-03-12 23:59:29.999"), frozen=True)
    assert fault_code(amd.call("lookupprofile", name="")) is None
    amd_sim.admin.set_clock(denver("2025-03-12 23:59:30"), frozen=True)
    assert fault_code(amd.call("lookupprofile", name="")) == "-2147220479"
    assert amd.report()["expired_token_uses"] == 1


# ------------------------------------------------------------------ DST on AMD's clock


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2025-03-09T08:59:30+00:00", "2025-03-09T09:00:10+00:00"),  # 01:59:30 MST -> 03:00:10 MDT
        ("2025-11-02T07:59:50+00:00", "2025-11-02T08:00:05+00:00"),  # 01:59:50 MDT -> 01:00:05 MST
    ],
)
def test_dst_transition_days_are_off_peak_and_windows_count_real_seconds(
    amd_sim: SimHandle, http: httpx.Client, first, second
):
    amd = client_at(amd_sim, http, datetime.fromisoformat(first), **STRICT_RATE_SWITCHES)
    assert allowed(amd, 120) == 120  # Sunday: off-peak all day
    amd_sim.admin.set_clock(datetime.fromisoformat(second), frozen=True)
    assert amd.raw("lookupprofile", name="").status_code == 429  # < 60 real seconds later


@pytest.mark.parametrize("day", ["2025-03-10", "2025-11-03"])  # Mondays after each change
@pytest.mark.parametrize("offset", [17, -17])
def test_peak_starts_at_0600_denver_on_amds_clock_after_dst_changes(
    amd_sim: SimHandle, http: httpx.Client, day, offset
):
    amd_six = denver(f"{day} 06:00:00")  # the UTC hour differs between the two Mondays
    start = amd_six - timedelta(seconds=offset)  # our clock when AMD's reads 06:00:00
    amd = client_at(
        amd_sim,
        http,
        start - timedelta(seconds=1),
        rate_window="sliding",
        clock_offset_seconds=offset,
    )
    assert allowed(amd, 30) == 31  # AMD 05:59:59: off-peak
    amd_sim.admin.reset(
        clock=start - timedelta(seconds=60),
        frozen=True,
        config={"rate_window": "sliding", "clock_offset_seconds": offset},
        **SMALL,
    )
    amd.login()
    amd_sim.admin.set_clock(start, frozen=True)
    assert allowed(amd, 24) == 24  # AMD 06:00:00: peak


# ------------------------------------------------------------------ logins and tokens


def test_login_invalidates_old_tokens_on(amd: Amd):
    old = amd.token
    amd.h.admin.advance(61)
    amd.login()
    new, amd.token = amd.token, old
    assert fault_code(amd.call("lookupprofile", name="")) == "-2147220479"  # answers as expired
    assert amd.rest("GET", "/scheduler/Appointments/5001").status_code == 401
    report = amd.report()
    assert report["superseded_token_uses"] == 2 and report["expired_token_uses"] == 2
    assert amd.violations().count("stale token (superseded)") == 2
    amd.token = new
    assert fault_code(amd.call("lookupprofile", name="")) is None


def test_login_invalidates_old_tokens_off(amd_sim: SimHandle, http: httpx.Client):
    amd_sim.admin.reset(
        clock=FIXTURE_EPOCH, frozen=True, config={"login_invalidates_old_tokens": False}
    )
    amd = Amd(amd_sim, http)
    old = amd.login()
    amd_sim.admin.advance(61)
    amd.login()
    amd.token = old
    assert fault_code(amd.call("lookupprofile", name="")) is None
    assert amd.rest("GET", "/scheduler/Appointments/5001").status_code == 200
    report = amd.report()
    assert report["superseded_token_uses"] == 0 and report["violations"]["count"] == 0
    assert report["rate_mode"]["login_invalidates_old_tokens"] is False


# ------------------------------------------------------------------ switches and admin


def test_defaults_and_strict_helpers(amd_sim: SimHandle):
    mode = amd_sim.admin.rate_mode()
    assert mode["rate_window"] == "calendar" and mode["clock_offset_seconds"] == 0
    assert mode["login_invalidates_old_tokens"] is True
    strict = amd_sim.admin.strict_rate_mode()
    assert strict["rate_window"] == "sliding" and strict["clock_offset_seconds"] == 17
    assert amd_sim.admin.rate_mode("bucket", -30)["clock_offset_seconds"] == -30
    amd_sim.admin.reset()
    assert amd_sim.admin.rate_mode()["rate_window"] == "calendar"  # reset restores defaults


def test_amd_sim_strict_fixture(amd_sim_strict: SimHandle):
    mode = amd_sim_strict.admin.rate_mode()
    assert (mode["rate_window"], mode["clock_offset_seconds"]) == ("sliding", 17)


@pytest.mark.parametrize(
    "bad",
    [
        {"rate_window": "hourly"},
        {"clock_offset_seconds": "soon"},
        {"clock_offset_seconds": None},
        {"rate_window": None},
        {"updated_cap_per_minute": None},
        {"peak_limits": {"4": 1}},
        {"offpeak_limits": {"2": -1}},
        {"peak_limits": [1, 2, 3]},
        {"updated_cap_per_minute": -1},
    ],
)
def test_invalid_switches_change_nothing(amd_sim: SimHandle, bad):
    before = amd_sim.admin.config()
    with pytest.raises(AdminError) as err:
        amd_sim.admin.config(rate_limits_enabled=False, **bad)
    assert err.value.status == 400
    assert amd_sim.admin.config() == before
    with pytest.raises(AdminError):
        amd_sim.admin.reset(config=bad)


def test_stamps_stay_ordered_when_the_offset_changes(amd_sim: SimHandle):
    sim = amd_sim.sim
    amd_sim.admin.set_clock(datetime(2025, 3, 12, 16, 0, tzinfo=UTC), frozen=True)
    amd_sim.admin.config(clock_offset_seconds=20)
    first = sim.amd_clock.stamp()
    amd_sim.admin.config(clock_offset_seconds=0)
    assert sim.amd_clock.stamp() > first
    assert sim.amd_clock.now() == datetime(2025, 3, 12, 16, 0, tzinfo=UTC)

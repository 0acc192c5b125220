"""Rate limits per office key, tier and calendar minute (the `calendar` window mode, set
explicitly); peak hours in America/Denver. Other modes: test_rate_modes.py."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from local.amdsim.handle import SimHandle
from local.amdsim.ratelimit import is_peak, tier_of
from tests.amdsim.helpers import DENVER, Amd, denver, fault_code, ppmd


def client_at(amd_sim: SimHandle, http: httpx.Client, instant: datetime) -> Amd:
    """A fresh simulator whose frozen clock stands at `instant`, logged in a minute earlier."""
    amd_sim.admin.reset(
        clock=instant - timedelta(seconds=60), frozen=True, config={"rate_window": "calendar"}
    )
    client = Amd(amd_sim, http)
    client.login()
    amd_sim.admin.set_clock(instant, frozen=True)
    return client


def burst(amd: Amd, n: int, action: str = "lookupprofile", cls: str = "api", **fields) -> list[int]:
    return [amd.raw(action, cls, **fields).status_code for _ in range(n)]


def lookups_allowed(amd: Amd, limit_guess: int) -> int:
    codes = burst(amd, limit_guess + 1, name="PROVIDER")
    return codes.index(429) if 429 in codes else len(codes)


def test_peak_tier3_limit_and_429_body(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:05"))
    assert burst(amd, 24, name="PROVIDER") == [200] * 24
    resp = amd.raw("lookupprofile", name="PROVIDER")
    assert resp.status_code == 429
    fault = ppmd(resp)["Error"]["Fault"]
    assert fault["detail"]["code"] == "429"
    assert "Too Many Requests" in fault["detail"]["description"]
    report = amd.report()
    assert report["rate_limited"]["by_tier"] == {"3": 1}
    assert report["http_429"] == 1 and report["excess_call_cents"] == 1
    amd_sim.admin.advance(55)  # 10:01:00 is a new calendar minute
    assert amd.raw("lookupprofile", name="PROVIDER").status_code == 200


def test_calendar_minute_not_sliding(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:59"))
    assert lookups_allowed(amd, 24) == 24
    amd_sim.admin.advance(1)
    assert lookups_allowed(amd, 24) == 24


def test_off_peak_tier3_limit(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 05:58:00"))
    assert lookups_allowed(amd, 120) == 120


@pytest.mark.parametrize(
    ("before", "after", "limits"),
    [
        ("2025-03-12 05:59:00", "2025-03-12 06:00:00", (120, 24)),  # peak starts
        ("2025-03-12 17:59:00", "2025-03-12 18:00:00", (24, 120)),  # peak ends
        ("2025-03-14 17:59:00", "2025-03-15 06:00:00", (24, 120)),  # Saturday is off-peak
    ],
)
def test_both_sides_of_the_peak_boundary(
    amd_sim: SimHandle, http: httpx.Client, before, after, limits
):
    amd = client_at(amd_sim, http, denver(before))
    assert lookups_allowed(amd, limits[0]) == limits[0]
    amd_sim.admin.set_clock(denver(after), frozen=True)
    assert lookups_allowed(amd, limits[1]) == limits[1]


def test_dst_spring_forward_moves_the_peak_in_utc(amd_sim: SimHandle, http: httpx.Client):
    friday = datetime(2025, 3, 7, 12, 30, tzinfo=UTC)  # 05:30 MST: off-peak
    monday = datetime(2025, 3, 10, 12, 30, tzinfo=UTC)  # 06:30 MDT: peak
    amd = client_at(amd_sim, http, friday)
    assert lookups_allowed(amd, 30) == 31
    amd = client_at(amd_sim, http, monday)
    assert lookups_allowed(amd, 24) == 24


def test_dst_fall_back(amd_sim: SimHandle, http: httpx.Client):
    friday = datetime(2025, 10, 31, 12, 30, tzinfo=UTC)  # 06:30 MDT: peak
    monday = datetime(2025, 11, 3, 12, 30, tzinfo=UTC)  # 05:30 MST: off-peak
    amd = client_at(amd_sim, http, friday)
    assert lookups_allowed(amd, 24) == 24
    amd = client_at(amd_sim, http, monday)
    assert lookups_allowed(amd, 30) == 31


def test_is_peak_unit():
    assert is_peak(datetime(2025, 3, 10, 12, 0, tzinfo=UTC), DENVER)  # 06:00 MDT
    assert not is_peak(datetime(2025, 3, 7, 12, 59, tzinfo=UTC), DENVER)  # 05:59 MST
    assert not is_peak(datetime(2025, 3, 9, 18, 0, tzinfo=UTC), DENVER)  # Sunday
    assert tier_of("GetUpdatedVisits") == 1 and tier_of("getdemographic") == 2
    assert tier_of("lookuppatient") == 3 and tier_of("addpatient") == 3


def test_tier2_peak_and_tiers_are_separate(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:00"))
    assert burst(amd, 13, "getdemographic", patientid="1001") == [200] * 12 + [429]
    assert amd.raw("lookupprofile", name="").status_code == 200
    assert amd.report()["rate_limited"]["by_action"] == {"getdemographic": 1}


def test_rest_counts_as_tier2(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:00"))
    codes = [amd.rest("GET", "/scheduler/Appointments/5001").status_code for _ in range(13)]
    assert codes == [200] * 12 + [429]
    resp = amd.rest("GET", "/scheduler/Appointments/5001")
    assert resp.json()["PPMDResults"]["Error"]["Fault"]["detail"]["code"] == "429"
    assert amd.raw("getdemographic", patientid="1001").status_code == 429  # shared Tier-2 bucket
    amd_sim.admin.config(rest_tier=3)
    assert amd.rest("GET", "/scheduler/Appointments/5001").status_code == 200


def test_getupdatedvisits_once_per_minute_even_off_peak(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-15 12:00:00"))
    since = amd.ok("getdatevisits", visitdate="1/1/2025")["@servertime"]
    first = amd.raw("getupdatedvisits", datechanged=since)
    second = amd.raw("getupdatedvisits", datechanged=since)
    assert (first.status_code, second.status_code) == (200, 429)
    assert amd.raw("getupdatedpatients", datechanged=since).status_code == 200
    amd_sim.admin.advance(60)
    assert amd.raw("getupdatedvisits", datechanged=since).status_code == 200


def test_peak_tier1(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 09:00:00"))
    since = amd.ok("getdatevisits", visitdate="1/1/2025")["@servertime"]
    assert amd.raw("getupdatedvisits", datechanged=since).status_code == 200
    assert amd.raw("getupdatedpatients", datechanged=since).status_code == 429  # Tier 1 = 1/min


def test_login_counts_in_tier3_and_switch(amd_sim: SimHandle, http: httpx.Client):
    amd = client_at(amd_sim, http, denver("2025-03-12 10:00:00"))
    assert amd.report()["calls"]["by_tier"]["3"] == 2
    amd_sim.admin.config(rate_limits_enabled=False)
    assert lookups_allowed(amd, 200) == 201
    assert fault_code(amd.call("lookupprofile", name="")) is None

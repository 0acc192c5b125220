"""The AMD ports' DynamoDB adapters against moto: token cache + lease, pacing item, lookups."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from amdsync.amd.auth import TokenManager
from amdsync.amd.memory import ManualClock
from amdsync.amd.ratelimit import Permit, RateLimiter
from amdsync.amd.tiers import Budget, LimitTable
from amdsync.domain.pacing import ClockOffset
from amdsync.domain.token_keys import TokenOwner, token_cache_key
from amdsync.store.lookup_cache import DynamoLookupCache
from amdsync.store.rate_buckets import DynamoRateBuckets
from amdsync.store.token_cache import DynamoTokenCache
from tests.moto_tables import pk_sk_table

T0 = datetime(2025, 3, 14, 18, 0, 5, tzinfo=UTC)  # Friday noon MDT: peak
OWNER = TokenOwner(login_url="https://partner.test/login", office_key="999999", username="DEMO")
OTHER_OFFICE = TokenOwner(login_url=OWNER.login_url, office_key="111111", username="DEMO")


@pytest.fixture
def table(monkeypatch):
    yield from pk_sk_table(monkeypatch, "control")


def test_token_round_trip_and_conditional_discard(table):
    cache = DynamoTokenCache(table)
    assert cache.load(OWNER) is None
    cache.save(
        OWNER,
        token="T1",
        webserver="https://w/processrequest/a/APP",
        issued_at=T0,
        expires_at=T0 + timedelta(hours=6),
    )
    stored = cache.load(OWNER)
    assert (
        stored is not None and stored.token == "T1" and stored.expires_at == T0 + timedelta(hours=6)
    )
    assert "T1" not in repr(stored)
    pk = f"AMD#{token_cache_key(OWNER)}"  # the username never appears in the key
    assert pk.startswith("AMD#") and "999999" not in pk and "DEMO" not in pk
    item = table.get_item(Key={"pk": pk, "sk": "TOKEN"})["Item"]
    assert int(item["expiresAt"]) > int(T0.timestamp())
    cache.discard(OWNER, "OLD")  # someone else's stale token: the newer one survives
    assert cache.load(OWNER) is not None
    cache.discard(OWNER, "T1")
    assert cache.load(OWNER) is None


def test_lease_is_exclusive_until_released_or_expired(table):
    cache = DynamoTokenCache(table)
    assert cache.try_lease(OWNER, "a", T0, T0 + timedelta(seconds=30))
    assert not cache.try_lease(OWNER, "b", T0, T0 + timedelta(seconds=30))
    assert cache.try_lease(OWNER, "a", T0, T0 + timedelta(seconds=30))  # re-entrant
    assert cache.try_lease(OTHER_OFFICE, "b", T0, T0 + timedelta(seconds=30))  # other office
    later = T0 + timedelta(seconds=31)
    assert cache.try_lease(OWNER, "b", later, later + timedelta(seconds=30))
    cache.release_lease(OWNER, "a")  # not the holder: no effect
    assert not cache.try_lease(OWNER, "c", later, later + timedelta(seconds=30))
    cache.release_lease(OWNER, "b")
    assert cache.try_lease(OWNER, "c", later, later + timedelta(seconds=30))


def test_single_flight_login_with_the_dynamo_lease(table):
    logins = []
    lock = threading.Lock()

    class SlowAuth:
        def login(self):
            with lock:
                logins.append(1)
            threading.Event().wait(0.2)
            return "TOKEN-abc", "https://w/processrequest/api-1/APP"

    clock = ManualClock(T0)
    managers = [TokenManager(OWNER, SlowAuth(), DynamoTokenCache(table), clock) for _ in range(8)]
    tokens = []
    threads = [
        threading.Thread(target=lambda m=m: tokens.append(m.session().token)) for m in managers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(logins) == 1
    assert tokens == ["TOKEN-abc"] * 8


def test_pacing_item_takes_a_slot_with_one_conditional_write_all_or_none(table):
    buckets = DynamoRateBuckets(table)
    now = T0.timestamp()
    taken, state = buckets.advance("999999", {"T2": 5.0}, now)
    assert taken and state.arrivals == {"T2": pytest.approx(now + 5)}
    # Many adapter instances at the same instant: the condition lets none of them through.
    refused = [DynamoRateBuckets(table).advance("999999", {"T2": 5.0}, now + 1) for _ in range(5)]
    assert [t for t, _ in refused] == [False] * 5
    assert refused[0][1].arrivals["T2"] == pytest.approx(now + 5)  # ALL_OLD: how long to wait
    # All or none: FEED is free, T2 is not, so FEED stays untouched.
    taken, _ = buckets.advance("999999", {"FEED": 62.0, "T2": 5.0}, now + 2)
    assert not taken and "FEED" not in buckets.state("999999").arrivals
    taken, state = buckets.advance("999999", {"FEED": 62.0, "T2": 5.0}, now + 5)
    assert taken and state.arrivals == {
        "T2": pytest.approx(now + 10),
        "FEED": pytest.approx(now + 67),
    }
    assert buckets.advance("111111", {"T2": 5.0}, now + 5)[0]  # another office key


def test_pacing_item_holds_after_a_429_and_shares_the_clock_estimate(table):
    buckets = DynamoRateBuckets(table)
    now = T0.timestamp()
    estimate = ClockOffset(16.5, 17.5, now)
    assert buckets.advance("999999", {"T3": 2.5}, now, estimate)[0]
    buckets.hold("999999", ["T3", "T2"], now + 62)
    buckets.hold("999999", ["T3"], now + 10)  # never shortens a hold
    state = buckets.state("999999")
    assert state.arrivals == {"T3": pytest.approx(now + 62), "T2": pytest.approx(now + 62)}
    assert state.clock == estimate
    taken, seen = buckets.advance("999999", {"T3": 2.5}, now + 30)
    assert not taken and seen.clock == estimate


def test_limiter_over_dynamo_buckets(table):
    clock = ManualClock(T0)
    lim = RateLimiter(DynamoRateBuckets(table), "main", clock, LimitTable.default())
    results = [lim.acquire(Budget.TIER2) for _ in range(3)]
    assert [isinstance(r, Permit) for r in results] == [True, False, False]
    clock.advance(62 / 12)
    assert isinstance(lim.acquire(Budget.TIER2), Permit)
    states = {s.budget: s for s in lim.snapshot()}
    assert states[Budget.TIER2].used == 2 and states[Budget.TIER2].limit == 12
    assert states[Budget.TIER2].next_in == pytest.approx(62 / 12)
    item = table.get_item(Key={"pk": "AMD#main", "sk": "RATE#USE#2025-03-14T18:00"})["Item"]
    assert int(item["T2"]) == 2 and int(item["expiresAt"]) > T0.timestamp()


def test_lookup_cache_expiry_and_invalidation(table):
    cache = DynamoLookupCache(table)
    rows = [{"id": "101", "code": "DOE", "inactive": False}]
    cache.put("999999", "profiles", rows, T0 + timedelta(hours=1))
    assert cache.get("999999", "profiles", T0) == rows
    assert cache.get("111111", "profiles", T0) is None
    assert cache.get("999999", "profiles", T0 + timedelta(hours=1, seconds=1)) is None
    cache.invalidate("999999", "profiles")
    assert cache.get("999999", "profiles", T0) is None

import json
import logging
import threading
from datetime import UTC, date, datetime

import httpx
import pytest

from amdsync.amd.errors import (
    AppointmentConflict,
    AuthenticationFailed,
    ConnectionFailed,
    RateLimited,
    ServerError,
    TimeoutError_,
)
from amdsync.amd.memory import CountingMetrics, ManualClock, MemoryTokenCache
from amdsync.amd.models import BookingRequest

from .fake_amd import PASSWORD, FakeAmd, envelope, make_amd

PROFILES = envelope(
    {
        "profilelist": {
            "@itemcount": "2",
            "profile": [
                {"@id": "prof101", "@code": "DOE   ", "@name": "DOE,JANE"},
                {"@id": "prof102", "@code": "ROE", "@name": "ROE,RICHARD"},
            ],
        }
    }
)


@pytest.fixture
def fake():
    f = FakeAmd()
    f.xmlrpc["lookupprofile"] = lambda msg: PROFILES
    return f


def test_two_step_login_then_token_reused(fake):
    amd = make_amd(fake)
    assert [p.id for p in amd.lookups.profiles()] == ["101", "102"]
    amd.lookups.invalidate("profiles")
    amd.lookups.profiles()
    assert fake.logins == 1
    assert fake.calls.count("login") == 2  # partner host + redirected host
    session = amd.client.session()
    assert (
        session.xmlrpc_url
        == "https://amd.test/processrequest/api-042/TEMP/xmlrpc/processrequest.aspx"
    )
    assert session.rest_base == "https://amd.test/api/api-042/TEMP"


def test_wrong_password_is_permanent_and_not_retried(fake):
    amd = make_amd(fake, password="wrong")
    with pytest.raises(AuthenticationFailed) as info:
        amd.test_connection()
    assert fake.calls.count("login") == 1
    assert "wrong" not in str(info.value) and PASSWORD not in str(info.value)


def test_concurrent_threads_share_one_login(fake):
    cache = MemoryTokenCache()
    clock = ManualClock()
    clients = [make_amd(fake, token_cache=cache, clock=clock) for _ in range(5)]
    errors = []

    def work(amd):
        try:
            for _ in range(4):
                amd.client.xmlrpc("lookupprofile", "api", {"name": ""})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert fake.logins == 1


def test_expired_session_costs_one_relogin_and_one_resend(fake):
    metrics = CountingMetrics()
    amd = make_amd(fake, metrics=metrics)
    amd.client.xmlrpc("lookupprofile", "api")
    fake.expire_all()
    reply = amd.client.xmlrpc("lookupprofile", "api")
    assert reply.results["profilelist"]["@itemcount"] == "2"
    assert fake.logins == 2
    assert metrics.counts["SessionExpired"] == 1


def test_expiry_right_after_relogin_is_not_looped(fake):
    amd = make_amd(fake)
    amd.client.session()
    fake.xmlrpc["lookupprofile"] = lambda msg: envelope(None, "-2147220479")
    with pytest.raises(Exception, match="session expired"):
        amd.client.xmlrpc("lookupprofile", "api")
    assert fake.logins == 2


def test_rest_401_triggers_one_relogin(fake):
    fake.rest[("GET", "/scheduler/Appointments/5001")] = lambda r: httpx.Response(
        200, json={"id": 5001, "status": 1, "startdatetime": "2025-03-20T10:00:00"}
    )
    amd = make_amd(fake)
    amd.client.session()
    fake.expire_all()
    appt = amd.scheduler.get("5001")
    assert appt.id == "5001" and appt.status == 1
    assert fake.logins == 2


def test_token_cached_until_next_midnight_when_earlier_than_24h(fake):
    clock = ManualClock(datetime(2025, 3, 15, 18, 0, tzinfo=UTC))  # 12:00 MDT
    amd = make_amd(fake, clock=clock)
    session = amd.client.session()
    assert session.expires_at == datetime(2025, 3, 16, 6, 0, tzinfo=UTC)  # Denver midnight
    clock.advance(11 * 3600)
    amd.client.session()
    assert fake.logins == 1
    clock.advance(3600)
    amd.client.session()
    assert fake.logins == 2


def test_server_429_holds_the_budget_a_full_window_and_counts_a_hit(fake):
    metrics = CountingMetrics()
    clock = ManualClock(datetime(2025, 3, 15, 18, 0, 20, tzinfo=UTC))
    amd = make_amd(fake, metrics=metrics, clock=clock)
    amd.client.session()
    fake.queued.append(httpx.Response(429, json=envelope(None, "429")))
    amd.client.xmlrpc("lookupprofile", "api")
    assert metrics.counts["RateLimitHits"] == 1
    # Whatever window AMD counts in, 60 s (+ the 2 s margin) clears it.
    assert clock.slept and 60 < clock.slept[-1] <= 62.01


def test_server_429_without_wait_budget_raises_rate_limited(fake):
    amd = make_amd(fake, max_rate_wait=0)
    amd.client.session()
    fake.queued.append(httpx.Response(429))
    with pytest.raises(RateLimited) as info:
        amd.client.xmlrpc("lookupprofile", "api")
    assert info.value.from_server and info.value.retry_after > 0


def test_pacing_waits_are_slept_and_longer_waits_deferred_when_asked(fake):
    clock = ManualClock(datetime(2025, 3, 14, 18, 0, 10, tzinfo=UTC))  # Friday peak
    amd = make_amd(fake, max_rate_wait=0, clock=clock)
    fake.xmlrpc["getdatevisits"] = lambda msg: envelope({"@servertime": "2025-03-14T12:00:00.1"})
    fake.xmlrpc["getupdatedvisits"] = fake.xmlrpc["getdatevisits"]
    for _ in range(12):  # Tier 2 at peak: one call per (60 + 2) / 12 s, slept in between
        amd.visits.on_date(date(2025, 3, 14))
    assert fake.calls.count("getdatevisits") == 12
    assert clock.slept and max(clock.slept) < 5.2
    feed = {"datechanged": "2025-03-14T12:00:00.1"}
    amd.client.xmlrpc("getupdatedvisits", "api", feed)
    with pytest.raises(RateLimited) as info:  # the feed's next turn is a minute away: defer
        amd.client.xmlrpc("getupdatedvisits", "api", feed)
    assert not info.value.from_server and info.value.budget == "FEED"
    assert 55 < info.value.retry_after <= 62.01
    assert fake.calls.count("getupdatedvisits") == 1


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(500), httpx.Response(503), httpx.ReadTimeout("slow"), httpx.ConnectError("x")],
)
def test_transient_failures_are_retried(fake, failure):
    amd = make_amd(fake)
    amd.client.session()
    fake.queued.append(failure)
    amd.client.xmlrpc("lookupprofile", "api")
    assert fake.calls[-1] == "lookupprofile"


def test_transport_failures_map_to_transient_families(fake):
    amd = make_amd(fake)
    amd.client.session()
    fake.queued.extend([httpx.ReadTimeout("slow")] * 4)
    with pytest.raises(TimeoutError_) as info:
        amd.client.xmlrpc("lookupprofile", "api")
    assert info.value.maybe_committed
    fake.down_hosts.add("amd.test")  # refuses every connection, the re-login's step 2 too
    with pytest.raises(ConnectionFailed):
        amd.client.xmlrpc("lookupprofile", "api")
    fake.down_hosts.clear()
    fake.queued.extend([httpx.Response(502)] * 4)
    with pytest.raises(ServerError):
        amd.client.xmlrpc("lookupprofile", "api")


MOVED = "https://amd-moved.test/processrequest/api-042/TEMP"


def test_moved_office_key_costs_one_login_then_the_call_reaches_the_new_server(fake):
    fake.rest[("GET", "/scheduler/Appointments/5001")] = lambda r: httpx.Response(
        200, json={"id": 5001, "status": 1, "startdatetime": "2025-03-20T10:00:00"}
    )
    amd = make_amd(fake)
    amd.client.session()
    fake.webserver = MOVED  # AMD moved the office key; the cached server refuses connections
    fake.down_hosts.add("amd.test")
    reply = amd.client.xmlrpc("lookupprofile", "api")
    assert reply.results["profilelist"]["@itemcount"] == "2"
    assert amd.scheduler.get("5001").id == "5001"
    assert fake.logins == 2
    assert amd.client.session().webserver == MOVED


def test_a_move_seen_by_two_clients_costs_one_login_in_total(fake):
    cache = MemoryTokenCache()
    first, second = (make_amd(fake, token_cache=cache) for _ in range(2))
    first.client.session()
    second.client.session()
    fake.webserver = MOVED
    fake.down_hosts.add("amd.test")
    first.client.xmlrpc("lookupprofile", "api")
    second.client.xmlrpc("lookupprofile", "api")  # finds the token the first one fetched
    assert fake.logins == 2


def test_an_outage_of_the_current_webserver_costs_one_login_then_none(fake):
    metrics = CountingMetrics()
    amd = make_amd(fake, metrics=metrics)
    amd.client.session()
    fake.down_hosts.add("amd.test")  # login keeps naming it: an outage, not a move
    with pytest.raises(ConnectionFailed):
        amd.client.xmlrpc("lookupprofile", "api")
    assert fake.calls.count("login") == 3  # one fresh step 1 for the whole call, retries included
    with pytest.raises(ConnectionFailed):
        amd.client.xmlrpc("lookupprofile", "api")
    assert fake.calls.count("login") == 3  # the next call does not log in again
    fake.down_hosts.clear()
    amd.client.xmlrpc("lookupprofile", "api")
    assert fake.logins == 1


def test_a_read_timeout_after_sending_never_costs_a_login(fake):
    amd = make_amd(fake)
    amd.client.session()
    fake.queued.extend([httpx.ReadTimeout("slow")] * 2)
    amd.client.xmlrpc("lookupprofile", "api")
    assert fake.calls.count("login") == 2


def booking(ref=None):
    return BookingRequest(
        patient_id=1001,
        column_id=147,
        profile_id=101,
        start=datetime(2025, 3, 20, 10, 0),
        duration_minutes=50,
        type_ids=(13,),
        reference_id=ref,
    )


def test_booking_conflict_4101_is_not_retried(fake):
    posts = []

    def post(request):
        posts.append(request)
        return httpx.Response(409, json={"code": 4101, "message": "Overlaps"})

    fake.rest[("POST", "/scheduler/Appointments")] = post
    amd = make_amd(fake)
    with pytest.raises(AppointmentConflict) as info:
        amd.scheduler.book(booking())
    assert info.value.amd_code == 4101
    assert len(posts) == 1


def test_booking_sends_local_wall_time_without_zone(fake):
    bodies = []

    def post(request):
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"id": 5001, "status": 0}, headers={"Location": "/x"})

    fake.rest[("POST", "/scheduler/Appointments")] = post
    appt = make_amd(fake).scheduler.book(booking())
    assert appt.id == "5001"
    assert bodies[0]["startdatetime"] == "2025-03-20T10:00:00"
    assert not bodies[0]["clientdatetime"].endswith("Z")
    assert bodies[0]["type"] == [{"id": 13}] and bodies[0]["duration"] == 50


def test_booking_with_reference_adopts_after_a_timeout(fake):
    state = {"booked": False}

    def refid(msg):
        visit = {"@referenceid": "EHR-1"}
        if state["booked"]:
            visit["@id"] = "5001"
        return envelope({"visitlist": {"visit": visit}})

    def post(request):
        state["booked"] = True
        raise httpx.ReadTimeout("lost answer")

    fake.xmlrpc["getvisitidbyrefid"] = refid
    fake.rest[("POST", "/scheduler/Appointments")] = post
    fake.rest[("GET", "/scheduler/Appointments/5001")] = lambda r: httpx.Response(
        200, json={"id": 5001, "status": 0}
    )
    appt = make_amd(fake).scheduler.book(booking("EHR-1"))
    assert appt.id == "5001"
    assert fake.calls.count("POST /api/api-042/TEMP/scheduler/Appointments") == 1


def test_checkout_already_done_is_treated_as_done(fake):
    fake.rest[("PUT", "/scheduler/Appointments/5001/checkout")] = lambda r: httpx.Response(
        409, json={"code": "-2147217394"}
    )
    fake.rest[("GET", "/scheduler/Appointments/5001")] = lambda r: httpx.Response(
        200, json={"id": 5001, "status": 3}
    )
    assert make_amd(fake).scheduler.checkout("5001").status == 3


def test_change_feed_overflow_is_chunked_by_500(fake):
    ids = [str(5000 + n) for n in range(2300)]
    seen_chunks = []

    def updated(msg):
        listed = msg.get("visitlist")
        if listed is None:
            rows = [{"@id": f"vst{i}"} for i in ids]
            return envelope({"visitlist": {"visit": rows}}, "-2147217350")
        chunk = [v["@id"] for v in listed["visit"]]
        seen_chunks.append(len(chunk))
        rows = [
            {"@id": i, "@updatestatus": "C", "@status": "0", "@start": "2025-03-14T9:00:00"}
            for i in chunk
        ]
        return envelope(
            {"@servertime": f"2025-03-14T09:1{len(seen_chunks)}:00.5", "visitlist": {"visit": rows}}
        )

    fake.xmlrpc["getupdatedvisits"] = updated
    changes = make_amd(fake).visits.changes_since("2025-03-14T09:01:00.450")
    assert changes.calls == 6
    assert seen_chunks == [500, 500, 500, 500, 300]
    assert len(changes.visits) == 2300
    assert changes.servertime is not None and changes.servertime.raw == "2025-03-14T09:11:00.5"
    assert changes.visits[0].start == datetime(2025, 3, 14, 9, 0)


def test_date_range_is_one_call_per_day(fake):
    fake.xmlrpc["getdatevisits"] = lambda msg: envelope(
        {
            "@servertime": "2025-03-14T09:07:01.123",
            "visitlist": {
                "visit": {
                    "@id": "5001",
                    "@start": "2025-03-14T10:00:00",
                    "@status": "0",
                    "patient": {"@id": "pat1001"},
                }
            },
        }
    )
    days = make_amd(fake).visits.in_range(date(2025, 3, 14), date(2025, 3, 16))
    assert len(days) == 3 and fake.calls.count("getdatevisits") == 3
    assert days[0].visits[0].patient_id == "1001"


def test_logs_never_carry_token_password_or_full_office_key(fake, caplog):
    caplog.set_level(logging.DEBUG)
    amd = make_amd(fake)
    amd.client.xmlrpc("lookupprofile", "api")
    fake.expire_all()
    amd.client.xmlrpc("lookupprofile", "api")
    with pytest.raises(AuthenticationFailed):
        make_amd(fake, password="wrong").client.session()
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "logged in" in text
    for secret in (PASSWORD, "TOKEN-0001", "TOKEN-0002", "999999", "wrong"):
        assert secret not in text


def test_amd_calls_are_counted_by_tier(fake):
    """SPEC §7: AMD calls by tier. lookupprofile is Tier 3, getdatevisits Tier 2."""
    fake.xmlrpc["getdatevisits"] = lambda msg: envelope(
        {"@servertime": "2025-03-14T09:07:01.123", "visitlist": {}}
    )
    metrics = CountingMetrics()
    amd = make_amd(fake, metrics=metrics)
    amd.client.xmlrpc("lookupprofile", "api")
    amd.visits.in_range(date(2025, 3, 14), date(2025, 3, 15))
    assert metrics.by_dimensions[("AmdCalls", (("tier", "T3"),))] == 1
    assert metrics.by_dimensions[("AmdCalls", (("tier", "T2"),))] == 2
    assert metrics.counts["AmdCalls"] == 3  # and the total, for the alarms and the journal

"""The AMD client against the simulator: login sharing, expiry, faults, overflow chunking."""

import multiprocessing
import socket
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest

from amdsync.amd.errors import (
    AccessDenied,
    AppointmentConflict,
    AuthenticationFailed,
    ConnectionFailed,
    RateLimited,
    ServerError,
    SessionExpired,
    TimeoutError_,
)
from amdsync.amd.memory import CountingMetrics, MemoryRateBuckets, MemoryTokenCache
from amdsync.amd.models import BookingRequest
from amdsync.amd.tiers import Budget, Limit, LimitTable
from amdsync.amd.transport import Timeouts, Transport
from amdsync.store.local_files import FileLookupCache, FileRateBuckets, FileTokenCache
from amdsync.store.rate_buckets import DynamoRateBuckets
from amdsync.store.token_cache import DynamoTokenCache
from local.amdsim import admin_edits
from tests.moto_tables import pk_sk_table

from .simtools import AtomicTable, SimTime, VirtualTime, credentials, make_client

pytest_plugins = ["local.amdsim.pytest_plugin"]

DAY = date(2025, 3, 12)


def report(sim):
    return sim.admin.report()


def assert_clean(sim, logins=1):
    data = report(sim)
    assert data["logins"] == logins
    assert data["violations"]["count"] == 0, data["violations"]["items"][:3]
    assert data["http_429"] == 0
    return data


def mixed_calls(amd, n):
    for i in range(n):
        if i % 2:
            amd.client.xmlrpc("lookupprofile", "api", {"exactmatch": "-1", "name": ""})
        else:
            amd.visits.on_date(DAY)


@pytest.fixture
def dynamo_table(monkeypatch):
    yield from pk_sk_table(monkeypatch, "control")


def _ports(kind, tmp_path, clock, dynamo):
    if kind == "memory":
        return MemoryTokenCache(), MemoryRateBuckets()
    if kind == "files":
        return (
            FileTokenCache(tmp_path / "token.json", now=clock.now),
            FileRateBuckets(tmp_path / "rate.json"),
        )
    table = AtomicTable(dynamo)
    return DynamoTokenCache(table), DynamoRateBuckets(table)


@pytest.mark.parametrize("kind", ["dynamodb", "files"])
def test_20_threads_200_calls_one_login_no_violations(amd_sim, dynamo_table, tmp_path, kind):
    amd_sim.sim.clock.freeze()
    # Log in first: the login's paced second step would otherwise wait (virtually) for the
    # other workers, which poll the login lease in real time.
    tokens, buckets = _ports(kind, tmp_path, SimTime(amd_sim), dynamo_table)
    make_client(amd_sim, token_cache=tokens, buckets=buckets).client.session()
    clock = VirtualTime(amd_sim, workers=20)  # a pacing wait lets the others run first
    errors = []

    def worker():
        # Separate clients (own TokenManager and in-process lock) sharing only the ports.
        tokens, buckets = _ports(kind, tmp_path, clock, dynamo_table)
        amd = make_client(amd_sim, clock=clock, token_cache=tokens, buckets=buckets)
        try:
            mixed_calls(amd, 10)
        except Exception as exc:  # pragma: no cover - asserted below
            errors.append(repr(exc))
        finally:
            clock.finished()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    data = assert_clean(amd_sim)
    assert data["calls"]["by_action"]["getdatevisits"] == 100
    assert data["calls"]["by_action"]["lookupprofile"] == 100


# Real time here: pace fast enough for 20 processes x 10 calls to take seconds, and stay
# under the simulator's off-peak limits (100 Tier-2 and ~100 Tier-3 calls in all).
FAST = LimitTable(
    limits={b: Limit(peak=6000, off_peak=6000) for b in Budget}, is_peak=lambda _at: False
)


def _process_worker(sim, state_dir, offset_seconds, queue):
    class ShiftedClock:  # the simulator's clock, seen from another process
        def now(self):
            return datetime.now(UTC) + timedelta(seconds=offset_seconds)

        def sleep(self, seconds):
            time.sleep(seconds)

    clock = ShiftedClock()
    try:
        amd = make_client(
            sim,
            clock=clock,
            token_cache=FileTokenCache(state_dir / "token.json", now=clock.now),
            buckets=FileRateBuckets(state_dir / "rate.json"),
            lookup_cache=FileLookupCache(state_dir / "lookups.json"),
            max_rate_wait=0,
            limits=FAST,
        )
        mixed_calls(amd, 10)
        queue.put("ok")
    except Exception as exc:  # pragma: no cover - reported to the parent
        queue.put(repr(exc))


def test_20_processes_200_calls_one_login_no_violations(amd_sim, tmp_path):
    offset = float(amd_sim.admin.clock()["offset_seconds"])
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_process_worker, args=(amd_sim, tmp_path, offset, queue))
        for _ in range(20)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    assert results == ["ok"] * 20
    data = assert_clean(amd_sim)
    assert data["calls"]["total"] >= 200


def test_token_expiry_mid_run_costs_one_relogin_and_no_failure(amd_sim):
    metrics = CountingMetrics()
    amd = make_client(amd_sim, metrics=metrics)
    mixed_calls(amd, 6)
    amd_sim.admin.expire_tokens()  # AMD ends the session early: we learn it from a fault
    mixed_calls(amd, 6)
    data = report(amd_sim)
    assert data["logins"] == 2
    assert metrics.counts["SessionExpired"] == 1
    # The one call that discovered the expiry presented the token AMD had ended early: counted
    # as a use of an expired token, but not a violation (nothing could have told us sooner).
    assert data["expired_token_uses"] == 1
    assert data["violations"]["count"] == 0


def test_token_lifetime_is_known_and_renewed_before_use(amd_sim):
    metrics = CountingMetrics()
    clock = SimTime(amd_sim)
    amd = make_client(amd_sim, clock=clock, metrics=metrics)
    mixed_calls(amd, 4)
    clock.sleep(24 * 3600 - 60)  # inside the refresh margin of the 24-hour lifetime
    mixed_calls(amd, 4)
    assert_clean(amd_sim, logins=2)
    assert "SessionExpired" not in metrics.counts


def test_lapse_variant_also_relogs_once(amd_sim):
    amd = make_client(amd_sim)
    amd.client.session()
    amd_sim.admin.faults("lapse", action="getdatevisits")
    assert amd.visits.on_date(DAY).servertime is not None
    assert_clean(amd_sim, logins=2)


def _closed_loopback_webserver(amd_sim):
    """A webserver URL on a loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/processrequest/{amd_sim.api_host}/{amd_sim.appname}"


@pytest.mark.parametrize("kind", ["dynamodb", "files"])
def test_unreachable_cached_webserver_costs_one_fresh_login(amd_sim, dynamo_table, tmp_path, kind):
    clock = SimTime(amd_sim)
    tokens, buckets = _ports(kind, tmp_path, clock, dynamo_table)
    valid = make_client(amd_sim, clock=clock, token_cache=tokens, buckets=buckets).client.session()
    # A valid token whose cached webserver no longer answers (AMD moved the office key).
    tokens.save(
        credentials(amd_sim).token_owner,
        token=valid.token,
        webserver=_closed_loopback_webserver(amd_sim),
        issued_at=valid.issued_at,
        expires_at=valid.expires_at,
    )
    metrics = CountingMetrics()
    amd = make_client(amd_sim, clock=clock, token_cache=tokens, buckets=buckets, metrics=metrics)
    assert amd.visits.on_date(DAY).servertime is not None
    assert_clean(amd_sim, logins=2)  # the seeding login + exactly one fresh login
    assert metrics.counts["Logins"] == 1
    assert amd.client.session().webserver == amd_sim.webserver


@pytest.mark.parametrize("kind", ["memory", "dynamodb", "files"])
def test_a_cached_token_serves_only_its_own_user(amd_sim, dynamo_table, tmp_path, kind):
    clock = SimTime(amd_sim)
    tokens, buckets = _ports(kind, tmp_path, clock, dynamo_table)
    make_client(amd_sim, clock=clock, token_cache=tokens, buckets=buckets).client.session()
    other_user = make_client(
        amd_sim, clock=clock, token_cache=tokens, buckets=buckets, username="SOMEONE"
    )
    with pytest.raises(AuthenticationFailed):  # it logs in for itself, and AMD refuses it
        other_user.client.session()
    assert report(amd_sim)["logins"] == 1


@pytest.mark.parametrize("kind", ["memory", "dynamodb", "files"])
def test_a_cached_token_serves_only_its_own_login_url(amd_sim, dynamo_table, tmp_path, kind):
    clock = SimTime(amd_sim)
    tokens, buckets = _ports(kind, tmp_path, clock, dynamo_table)
    make_client(amd_sim, clock=clock, token_cache=tokens, buckets=buckets).client.session()
    other_environment = make_client(
        amd_sim,
        clock=clock,
        token_cache=tokens,
        buckets=buckets,
        partner_login_url=_closed_loopback_webserver(amd_sim) + "/xmlrpc/processrequest.aspx",
    )
    with pytest.raises(ConnectionFailed):  # it logs in at its own (here dead) login URL
        other_environment.client.session()
    assert report(amd_sim)["logins"] == 1


@pytest.mark.parametrize("kind", ["http500", "timeout", "malformed"])
def test_transient_faults_are_retried_and_succeed(amd_sim, kind):
    amd = make_client(amd_sim)
    amd.client.session()
    amd_sim.admin.faults(kind, action="getdatevisits", delay_ms=10)
    metrics_before = report(amd_sim)["calls"]["by_action"].get("getdatevisits", 0)
    assert amd.visits.on_date(DAY).servertime is not None
    data = report(amd_sim)
    assert data["faults_injected"][kind] == 1
    assert data["calls"]["by_action"]["getdatevisits"] - metrics_before >= 1


@pytest.mark.parametrize(
    ("kind", "family"),
    [("http500", ServerError), ("timeout", ConnectionFailed), ("malformed", ServerError)],
)
def test_persistent_transient_faults_surface_as_transient_family(amd_sim, kind, family):
    amd = make_client(amd_sim)
    amd.client.session()
    amd_sim.admin.faults(kind, count=10, action="getdatevisits", delay_ms=10)
    with pytest.raises(family) as info:
        amd.visits.on_date(DAY)
    assert info.value.retryable
    assert report(amd_sim)["faults_injected"][kind] == 4  # bounded: max_attempts


def test_slow_answer_past_the_read_timeout_is_a_retried_timeout(amd_sim):
    transport = Transport(timeouts=Timeouts(connect=2, read=0.2, write=2, pool=2))
    amd = make_client(amd_sim, transport=transport)
    amd.client.session()
    amd_sim.admin.faults("delay", count=1, action="getdatevisits", delay_ms=600)
    assert amd.visits.on_date(DAY).servertime is not None  # second attempt answers in time
    amd_sim.admin.faults("delay", count=10, action="getdatevisits", delay_ms=600)
    with pytest.raises(TimeoutError_) as info:
        amd.visits.on_date(DAY)
    assert info.value.retryable and info.value.maybe_committed
    # The simulator still finishes the abandoned requests; let them land before the next
    # test's reset, or they arrive there with a token it no longer knows.
    time.sleep(0.8)


def test_privilege_fault_is_permanent_and_not_retried(amd_sim):
    amd = make_client(amd_sim)
    amd.client.session()
    amd_sim.admin.faults("privilege", count=5, action="getdatevisits")
    with pytest.raises(AccessDenied) as info:
        amd.visits.on_date(DAY)
    assert info.value.amd_code == 3085
    assert report(amd_sim)["faults_injected"]["privilege"] == 1


def test_expired_fault_relogs_once_then_succeeds(amd_sim):
    amd = make_client(amd_sim)
    amd.client.session()
    amd_sim.admin.faults("expired", action="getdatevisits")
    amd.visits.on_date(DAY)
    assert report(amd_sim)["logins"] == 2


def test_repeated_expiry_surfaces_session_expired(amd_sim):
    amd = make_client(amd_sim)
    amd.client.session()
    amd_sim.admin.faults("expired", count=5, action="getdatevisits")
    with pytest.raises(SessionExpired):
        amd.visits.on_date(DAY)
    assert report(amd_sim)["logins"] == 2  # exactly one re-login, not a loop


def test_server_429_waits_for_next_minute_and_counts(amd_sim):
    metrics = CountingMetrics()
    clock = SimTime(amd_sim)
    amd = make_client(amd_sim, clock=clock, metrics=metrics)
    amd.client.session()
    amd_sim.admin.faults("429", action="getdatevisits")
    amd.visits.on_date(DAY)
    assert metrics.counts["RateLimitHits"] == 1
    assert any(0 < s <= 60.01 for s in clock.slept)


def test_server_429_without_wait_budget_defers(amd_sim):
    amd = make_client(amd_sim, max_rate_wait=0)
    amd.client.session()
    amd_sim.admin.faults("429", action="getdatevisits")
    with pytest.raises(RateLimited) as info:
        amd.visits.on_date(DAY)
    assert info.value.from_server and 0 < info.value.retry_after <= 62.01


def _a_free_slot(amd):
    setup = amd.lookups.scheduler_setup()
    column = next(c for c in setup.columns if c.profile_id)
    types = [t for t in amd.lookups.appointment_types() if not t.deleted]
    return column, types[0]


def test_overlap_4101_is_a_conflict_and_not_retried(amd_sim):
    amd = make_client(amd_sim)
    column, appt_type = _a_free_slot(amd)
    patient = amd_sim.admin.patients()[0]["id"]
    request = BookingRequest(
        patient_id=int(str(patient).lstrip("pat")),
        column_id=int(column.id),
        profile_id=int(column.profile_id),
        start=datetime(2025, 3, 20, 10, 0),
        duration_minutes=30,
        type_ids=(int(appt_type.id),),
    )
    first = amd.scheduler.book(request)
    posts_before = report(amd_sim)["calls"]["by_action"]
    overlapping = request.model_copy(update={"start": datetime(2025, 3, 20, 10, 15)})
    with pytest.raises(AppointmentConflict) as info:
        amd.scheduler.book(overlapping)
    assert info.value.amd_code == 4101 and not info.value.retryable
    after = report(amd_sim)["calls"]["by_action"]
    posted = {
        k: after[k] - posts_before.get(k, 0) for k in after if after[k] != posts_before.get(k, 0)
    }
    assert sum(posted.values()) == 1, posted
    assert first.id


def test_dropped_create_with_reference_is_adopted_not_duplicated(amd_sim):
    amd = make_client(amd_sim)
    column, appt_type = _a_free_slot(amd)
    patient = amd_sim.admin.patients()[1]["id"]
    request = BookingRequest(
        patient_id=int(str(patient).lstrip("pat")),
        column_id=int(column.id),
        profile_id=int(column.profile_id),
        start=datetime(2025, 3, 21, 11, 0),
        duration_minutes=30,
        type_ids=(int(appt_type.id),),
        reference_id="EHR-APPT-77",
    )
    amd_sim.admin.faults("drop", path="/scheduler/Appointments")
    booked = amd.scheduler.book(request)
    assert booked.id
    assert report(amd_sim)["duplicate_appointments"] == 0
    again = amd.scheduler.book(request)
    assert again.id == booked.id


def test_overflow_of_2300_changes_is_read_in_1_plus_5_calls(amd_sim):
    clock = SimTime(amd_sim)
    amd = make_client(amd_sim, clock=clock)
    since = amd.visits.updated("2025-03-12T04:00:00.000").servertime  # a fresh watermark
    assert since is not None
    created = _create_changes(amd_sim, 2300)
    changes = amd.visits.changes_since(since)
    assert changes.calls == 6
    assert len({v.id for v in changes.visits}) == created == 2300
    data = assert_clean(amd_sim)
    assert data["calls"]["by_action"]["getupdatedvisits"] == 7  # the watermark call + 1 + 5


def _create_changes(amd_sim, count):
    """Book `count` new appointments through the simulator's own (in-process) admin code."""
    sim = amd_sim.sim
    with sim.state.lock:
        column = next(iter(sim.state.columns.values()))
        patient = next(iter(sim.state.patients))
        for n in range(count):
            start = datetime(2025, 4, 1, 8, 0) + timedelta(days=n // 40, minutes=15 * (n % 40))
            admin_edits.create_appointment(
                sim,
                {
                    "columnid": column.id,
                    "patientid": patient,
                    "start": start.isoformat(),
                    "duration": 15,
                    "force": True,
                },
            )
    return count

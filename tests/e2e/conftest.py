"""One local stack per test process (moto is process-global): runner + simulator on free ports,
driven only through HTTP (the product's API with dev tokens, the simulator's `/_sim/` API).

Speed without lying about limits: the product's limiter runs on the real clock, so the stack
gives the functions a generous `AMD_RATE_LIMITS_JSON`, and the simulator gets the same limits
(its rate-limit checker stays on, so a product that overshot would still be caught as a 429).
Schedules run on a 20x clock (the pull schedule fires every 3 s); pulls are `manual` by default
so a test's `POST /pull-updates` sees its own changes, and the scheduled-pull test turns
`realtime` on for itself.

Robust on a busy machine: every test owns its data (ids with a prefix of its own, practice days
and providers no other test uses), starts only once the stack is idle (empty queue, no bulk job
running) and leaves it idle (its unfinished bulk jobs cancelled, its queue drained; "idle" is
read from the local SQS queue itself). Every wait polls for a condition; the ceilings only turn
a hang into a failure and assume nothing about how fast the machine is, and the functions'
deadlines are stretched (`FUNCTION_TIMEOUT_SCALE`) because emulated AWS is what slows down.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import multiprocessing
import threading
import time as time_module
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from local.runner.api_client import AmdsyncApi, SimAdmin, wait_for
from local.runner.clock import ScaledClock
from local.runner.seed import ProviderSlot, api_for, confirm_mappings
from local.runner.stack import LocalStack, StackConfig
from tests.shared_stack import shared

FAST = 6000  # calls per minute, every tier, peak and off-peak
E2E_LIMITS = {
    budget: {"peak": FAST, "off_peak": FAST} for budget in ("T1", "T2", "T3", "FEED", "LOGIN")
}
SIM_SWITCHES = {
    "peak_limits": {"1": FAST, "2": FAST, "3": FAST},
    "offpeak_limits": {"1": FAST, "2": FAST, "3": FAST},
    "updated_cap_per_minute": FAST,
}
ZONE = "America/Denver"
# Ceilings, not budgets: each wait returns as soon as its condition holds.
SYNC_CEILING = 300.0  # one appointment (or AMD-side effect) synced
PULL_CEILING = 300.0  # a manual pull, or the scheduled one (60 s GETUPDATEDVISITS spacing)
BULK_STALL = 300.0  # a bulk job whose `done` has not moved for this long has stalled
SETTLE_CEILING = 600.0  # the queue drains and bulk jobs end between tests
# The emulated AWS (moto, in this process) is far slower than AWS, and slower still on a busy
# machine: the functions' deadlines are stretched by this factor rather than assumed to hold.
# 4 keeps the worker's (60 s -> 240 s) under the sync queue's 360 s visibility timeout.
FUNCTION_TIMEOUT_SCALE = 4.0
# One HTTP request: past the API function's stretched timeout (a 503 from the stack is an answer).
HTTP_CEILING = 30 * FUNCTION_TIMEOUT_SCALE + 30
POLL_SECONDS = 0.5  # how often a wait looks again (each look is work for the busy stack too)
# pytest-timeout per e2e test (the suite default is 120 s): a hang guard only.
TEST_CEILING = 1800
FIRST_DAY_AHEAD = 7  # tests book from a week ahead (practice time), one fresh day after another
COUNTERS = ("logins", "http_429", "expired_token_uses")


@dataclass
class E2E:
    stack: LocalStack
    api: AmdsyncApi
    sim: SimAdmin
    providers: list[ProviderSlot]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _tests: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _prefix: str = "T00"  # the running test's id prefix (tests in a module run one by one)
    _next_provider: int = 0
    _next_day: date = field(
        default_factory=lambda: (
            datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=FIRST_DAY_AHEAD)
        )
    )
    _bulk_jobs: list[str] = field(default_factory=list)  # started by the running test
    _sqs_client: Any = None
    # After the token-expiry test, each worker instance still holding the token AMD expired
    # early uses it once, whenever it next runs (maybe in a later test): tolerated once each.
    stale_token_allowance: int = 0

    def begin_test(self) -> str:
        """A fresh id prefix for the test about to run: its records are told apart by it."""
        with self._lock:
            self._prefix = f"T{next(self._tests):02d}"
            self._bulk_jobs = []
            return self._prefix

    def new_id(self, kind: str) -> str:
        # The number is unique in the module too: patient names are built from it.
        with self._lock:
            return f"E2E-{self._prefix}-{kind}-{next(self._ids):05d}"

    def take_providers(self, count: int = 1) -> list[ProviderSlot]:
        """Providers (columns) no other test books, so tests never collide in AMD."""
        with self._lock:
            taken = self.providers[self._next_provider : self._next_provider + count]
            self._next_provider += count
        assert len(taken) == count, "out of e2e providers: map more or share"
        return taken

    def take_days(self, count: int = 1) -> list[date]:
        """`count` Monday-Friday practice dates no other test books on, whatever today is."""
        with self._lock:
            found = workdays_from(self._next_day, count)
            self._next_day = found[-1] + timedelta(days=1)
        return found

    def patient(self, **overrides: Any) -> str:
        patient_id = self.new_id("P")
        number = int(patient_id.rsplit("-", 1)[1])
        body = {
            "firstName": "Testperson",
            "lastName": f"Efake{number:05d}",
            "dateOfBirth": "1980-04-02",
            "sex": "F",
            "phone": "5555550100",
            "address": {
                "line1": "1 Example St",
                "city": "Testville",
                "state": "UT",
                "zip": "84101",
            },
            "ehrVersion": 1,
            **overrides,
        }
        self.api.put("ehr", f"/patients/{patient_id}", body)
        return patient_id

    def appointment_body(
        self, patient_id: str, slot: ProviderSlot, start: datetime, **overrides: Any
    ) -> dict[str, Any]:
        return {
            "patientId": patient_id,
            "providerId": slot.ehr_id,
            "facilityId": slot.facility_ehr_id,
            "appointmentType": "MED_MGMT_30",
            "start": start.isoformat(timespec="seconds"),
            "timeZone": ZONE,
            "durationMinutes": 30,
            "status": "SCHEDULED",
            "ehrVersion": 1,
            **overrides,
        }

    def book(self, patient_id: str, slot: ProviderSlot, start: datetime, **overrides: Any) -> str:
        appointment_id = self.new_id("A")
        body = self.appointment_body(patient_id, slot, start, **overrides)
        self.api.put("ehr", f"/appointments/{appointment_id}", body)
        return appointment_id

    def status(self, appointment_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.api.get(
            "provider", f"/appointments/{appointment_id}/sync-status"
        )
        return result

    def wait_synced(self, appointment_id: str, timeout: float = SYNC_CEILING) -> dict[str, Any]:
        def synced() -> dict[str, Any] | None:
            record = self.status(appointment_id)
            assert record["amdSyncStatus"] != "error", record
            return record if record["amdSyncStatus"] == "synced" else None

        result: dict[str, Any] = wait_for(
            synced, timeout, POLL_SECONDS, what=f"{appointment_id} synced"
        )
        return result

    def settings(self, **changes: Any) -> None:
        current = self.api.get("admin", "/settings")["settings"]
        self.api.put("admin", "/settings", {**current, **changes})

    def pull(self) -> dict[str, Any]:
        """Press "pull now" (202 {pullId}) and poll its GET until done: its summary."""
        started: dict[str, Any] = self.api.call(
            "billing", "POST", "/appointments/pull-updates", {}
        ).expect(202)
        path = f"/appointments/pull-updates/{started['pullId']}"

        def finished() -> dict[str, Any] | None:
            pull: dict[str, Any] = self.api.get("billing", path)
            return pull if pull["state"] in ("done", "failed") else None

        result: dict[str, Any] = wait_for(finished, PULL_CEILING, 0.5, "a pull")
        assert result["state"] == "done", result
        summary: dict[str, Any] = result["summary"]
        return summary

    def start_bulk(self, days: list[date]) -> dict[str, Any]:
        body = {"from": days[0].isoformat(), "to": days[-1].isoformat()}
        job: dict[str, Any] = self.api.post("billing", "/appointments/bulk-sync", body)
        with self._lock:
            self._bulk_jobs.append(job["jobId"])
        return job

    def bulk_job(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.api.get("billing", f"/appointments/bulk-sync/{job_id}")
        return result

    def wait_bulk_finished(self, job_id: str) -> tuple[dict[str, Any], list[int]]:
        """The job once it stops running, and every `done` seen on the way. Fails only if the
        job stops making progress: a slow machine makes it slower, not stuck."""
        seen: list[int] = []

        def finished() -> dict[str, Any] | None:
            progress = self.bulk_job(job_id)
            seen.append(progress["done"])
            return progress if progress["state"] not in ("planning", "running") else None

        final = wait_for_progress(finished, lambda: seen[-1] if seen else None, BULK_STALL,
                                  "the bulk job to finish", interval=1.0)  # fmt: skip
        return final, seen

    def queue_depth(self) -> int:
        """Messages waiting or being handled, as SQS counts them. Read from the queue itself:
        the product's `/sync/stats` has the same number but reads a day of logs per look."""
        assert self.stack.resources is not None
        attributes = self._sqs().get_queue_attributes(
            QueueUrl=self.stack.resources.queues["SyncQueue"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def _sqs(self) -> Any:
        with self._lock:
            if self._sqs_client is None:
                assert self.stack.moto is not None
                self._sqs_client = self.stack.moto.client("sqs")
            return self._sqs_client

    def settle(self) -> None:
        """Wait until no sync work is left: this test's bulk jobs ended, the queue empty twice
        in a row (a job being handled is in flight, so it counts until it is done)."""
        for job_id in list(self._bulk_jobs):
            wait_for(lambda job_id=job_id: self.bulk_job(job_id)["state"] in ("done", "cancelled"),
                     SETTLE_CEILING, 1.0, f"bulk job {job_id} to end")  # fmt: skip
        quiet: list[bool] = []

        def idle() -> bool:
            quiet.append(self.queue_depth() == 0)
            return quiet[-2:] == [True, True]

        wait_for(idle, SETTLE_CEILING, 1.0, "the sync queue to drain")

    def cancel_running_bulk_jobs(self) -> None:
        """A test that stopped early (failed) must not leave its bulk work to the next one."""
        for job_id in list(self._bulk_jobs):
            if self.bulk_job(job_id)["state"] in ("planning", "running"):
                self.api.post("billing", f"/appointments/bulk-sync/{job_id}/cancel")

    def changes_for(self, appointment_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = ""
        while True:
            page = self.api.get("ehr", f"/changes?limit=100{'&cursor=' + cursor if cursor else ''}")
            items += [i for i in page["items"] if i.get("appointmentId") == appointment_id]
            if not page["items"]:
                return items
            cursor = page["nextCursor"]

    def amd_visits(self, **query: str) -> list[dict[str, Any]]:
        return self.sim.appointments(**query)


def workdays_from(first: date, count: int) -> list[date]:
    """The first `count` Monday-Friday dates on or after `first`."""
    day = first
    found: list[date] = []
    while len(found) < count:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


def wait_for_progress(
    condition: Any, progress: Any, stall: float, what: str, interval: float = 0.5
) -> Any:
    """Poll `condition()` until truthy; give up only when `progress()` has not changed for
    `stall` seconds (a wall-clock budget for the whole wait would assume an idle machine)."""
    last = progress()
    moved_at = time_module.monotonic()
    while True:
        value = condition()
        if value:
            return value
        now, current = time_module.monotonic(), progress()
        if current != last:
            last, moved_at = current, now
        elif now - moved_at >= stall:
            raise TimeoutError(f"no progress for {stall:.0f}s waiting for {what} (at {last})")
        time_module.sleep(interval)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


class Counters:
    """Simulator counters at the start of a test; `delta()` is what the test caused."""

    def __init__(self, sim: SimAdmin, e2e: E2E | None = None) -> None:
        self.sim = sim
        self.e2e = e2e
        self.before = sim.report()

    def delta(self) -> dict[str, Any]:
        now = self.sim.report()
        found = {name: now[name] - self.before[name] for name in COUNTERS}
        found["violations"] = now["violations"]["count"] - self.before["violations"]["count"]
        found["duplicate_appointments"] = _count(now["duplicate_appointments"]) - _count(
            self.before["duplicate_appointments"]
        )
        found["duplicate_patients"] = _count(now["duplicate_patients"]) - _count(
            self.before["duplicate_patients"]
        )
        found["report"] = now
        return found

    def assert_clean(
        self, *, logins: int | None = 0, http_429: int = 0, violations: list[str] | None = None
    ) -> dict[str, Any]:
        """No duplicates, no violations (but the `violations` reasons named, once each), the
        429s and logins expected."""
        found = self.delta()
        report = found["report"]
        new = report["violations"]["items"][len(self.before["violations"]["items"]) :]
        new = self._without_expiry_fallout(new)
        problems = {
            "duplicate_appointments": found["duplicate_appointments"],
            "duplicate_patients": found["duplicate_patients"],
            "violations": sorted(v["reason"] for v in new),
            "http_429": found["http_429"],
        }
        expected = {
            "duplicate_appointments": 0,
            "duplicate_patients": 0,
            "violations": sorted(violations or []),
            "http_429": http_429,
        }
        assert problems == expected, json.dumps(report["violations"])[:2000]
        if logins is not None:
            assert found["logins"] == logins, found
        return found

    def _without_expiry_fallout(self, items: list[dict[str, str]]) -> list[dict[str, str]]:
        kept = []
        for item in items:
            if (
                self.e2e
                and self.e2e.stale_token_allowance
                and item["reason"].startswith("stale token")
            ):
                self.e2e.stale_token_allowance -= 1
                continue
            kept.append(item)
        return kept


def _count(value: Any) -> int:
    if isinstance(value, dict):
        return int(value.get("count", 0))
    return int(value or 0)


def _start_e2e() -> E2E:
    config = StackConfig(
        api_port=0,
        moto_port=0,
        sim_port=0,
        clock=ScaledClock(20),
        function_environment={
            "AMD_RATE_LIMITS_JSON": json.dumps(E2E_LIMITS),
            # Retry backoff from 1 s instead of 10 s: a persistent AMD failure spends the
            # worker's retry budget and reaches Failed work in seconds, not minutes.
            "SYNC_RETRY_BASE_SECONDS": "0.5",
        },
        function_timeout_scale=FUNCTION_TIMEOUT_SCALE,
    )
    stack = LocalStack(config).start()
    try:
        assert stack.simulator is not None, "the e2e suite needs local.amdsim"
        sim = SimAdmin(stack.simulator.url, timeout=HTTP_CEILING)
        sim.call("POST", "/reset", {"seed": 3, "patients": 20, "appointments": 0})
        sim.config(**SIM_SWITCHES)
        api = dataclasses.replace(api_for(stack), timeout=HTTP_CEILING)
        providers = confirm_mappings(api, providers=22)
        harness = E2E(stack, api, sim, providers)
        harness.settings(syncFrequency="manual")
    except BaseException:
        stack.stop()
        raise
    return harness


def _stop_e2e(harness: E2E) -> None:
    harness.stack.stop()
    assert multiprocessing.active_children() == [], "the e2e stack left processes behind"


# One stack per process for every e2e module (tests/shared_stack.py): each test owns its data
# (id prefix, providers, days) and leaves the stack idle, so no module needs a fresh one. It
# is stopped before a test of another suite runs (moto allows one stack per process).
@pytest.fixture(scope="module")
def e2e() -> E2E:
    return shared("e2e", _start_e2e, _stop_e2e)


@pytest.fixture(autouse=True)
def own_data(e2e: E2E) -> Iterator[str]:
    """Each test starts on an idle stack with an id prefix of its own, and leaves it idle."""
    e2e.settle()
    prefix = e2e.begin_test()
    yield prefix
    e2e.cancel_running_bulk_jobs()
    e2e.settle()


@pytest.fixture
def counters(e2e: E2E, own_data: str) -> Counters:
    e2e.sim.clear_faults()
    return Counters(e2e.sim, e2e)

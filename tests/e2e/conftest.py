"""One local stack per test process (moto is process-global): runner + simulator on free ports,
driven only through HTTP (the product's API with dev tokens, the simulator's `/_sim/` API).

Speed without lying about limits: the product's limiter runs on the real clock, so the stack
gives the functions a generous `AMD_RATE_LIMITS_JSON`, and the simulator gets the same limits
(its rate-limit checker stays on, so a product that overshot would still be caught as a 429).
Schedules run on a 20x clock (the pull schedule fires every 3 s); pulls are `manual` by default
so a test's `POST /pull-updates` sees its own changes, and the scheduled-pull test turns
`realtime` on for itself.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import threading
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
SYNC_TIMEOUT = 30.0
COUNTERS = ("logins", "http_429", "expired_token_uses")


@dataclass
class E2E:
    stack: LocalStack
    api: AmdsyncApi
    sim: SimAdmin
    providers: list[ProviderSlot]
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _next_provider: int = 0
    # After the token-expiry test, each worker instance still holding the token AMD expired
    # early uses it once, whenever it next runs (maybe in a later test): tolerated once each.
    stale_token_allowance: int = 0

    def new_id(self, kind: str) -> str:
        with self._lock:
            return f"E2E-{kind}-{next(self._ids):05d}"

    def take_providers(self, count: int = 1) -> list[ProviderSlot]:
        """Providers (columns) no other test books, so tests never collide in AMD."""
        with self._lock:
            taken = self.providers[self._next_provider : self._next_provider + count]
            self._next_provider += count
        assert len(taken) == count, "out of e2e providers: map more or share"
        return taken

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

    def wait_synced(self, appointment_id: str, timeout: float = SYNC_TIMEOUT) -> dict[str, Any]:
        def synced() -> dict[str, Any] | None:
            record = self.status(appointment_id)
            assert record["amdSyncStatus"] != "error", record
            return record if record["amdSyncStatus"] == "synced" else None

        result: dict[str, Any] = wait_for(synced, timeout, what=f"{appointment_id} synced")
        return result

    def settings(self, **changes: Any) -> None:
        current = self.api.get("admin", "/settings")["settings"]
        self.api.put("admin", "/settings", {**current, **changes})

    def pull(self) -> dict[str, Any]:
        def attempt() -> dict[str, Any] | None:
            reply = self.api.call("billing", "POST", "/appointments/pull-updates", {})
            if reply.status == 409:  # a scheduled pull holds the lease; it ends in a moment
                return None
            result: dict[str, Any] = reply.expect(200)
            return result

        result: dict[str, Any] = wait_for(attempt, 30, 0.5, "a pull")
        return result

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


def workdays(count: int, skip: int = 7) -> list[date]:
    """`count` Monday-Friday dates starting `skip` days from today (practice time)."""
    day = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=skip)
    found: list[date] = []
    while len(found) < count:
        if day.weekday() < 5:
            found.append(day)
        day += timedelta(days=1)
    return found


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


# Module scope, not session: moto's state is process-global, so one stack per process at a
# time; other suites (UI, fuzz, reliability) start their own stacks in the same xdist worker.
@pytest.fixture(scope="module")
def e2e() -> Iterator[E2E]:
    config = StackConfig(
        api_port=0,
        moto_port=0,
        sim_port=0,
        clock=ScaledClock(20),
        function_environment={"AMD_RATE_LIMITS_JSON": json.dumps(E2E_LIMITS)},
    )
    stack = LocalStack(config).start()
    try:
        assert stack.simulator is not None, "the e2e suite needs local.amdsim"
        sim = SimAdmin(stack.simulator.url)
        sim.call("POST", "/reset", {"seed": 3, "patients": 20, "appointments": 0})
        sim.config(**SIM_SWITCHES)
        api = api_for(stack)
        providers = confirm_mappings(api, providers=22)
        harness = E2E(stack, api, sim, providers)
        harness.settings(syncFrequency="manual")
        yield harness
    finally:
        stack.stop()
    assert multiprocessing.active_children() == []


@pytest.fixture
def counters(e2e: E2E) -> Counters:
    e2e.sim.clear_faults()
    return Counters(e2e.sim, e2e)

"""The UI suite's world: one local stack (moto, the AMD simulator, the real handlers in their own
processes) with a little data registered through the API, and Debian's chromium via Playwright.

Data, registered as the EHR would (PUT /patients, PUT /appointments) after an admin confirmed the
mappings and switched auto-sync off (so appointments wait for a manual or bulk sync):

- P-UI-1, P-UI-2: patients, synced to AMD by their registration.
- A-UI-1 (next business day, P-UI-1): pending; the widget test syncs it by clicking.
- A-UI-2, A-UI-3 (the business day after, P-UI-2): pending; the bulk test syncs that day.
- A-UI-ERR (next business day, provider DR-NEW, not mapped): error PROVIDER_NOT_MAPPED.
- A-UI-C (the third business day, P-UI-1): synced, then moved on both sides: an open conflict.

AMD calls are few (about a dozen); the simulator's own rate limits are off, the product's limiter
runs on the real clock with widened limits (`UI_LIMITS`).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from local.runner.stack import LocalStack, StackConfig
from tests.lambda_support import REPO

UI_LIMITS = {
    "T1": {"peak": 600, "off_peak": 600},
    "T2": {"peak": 1200, "off_peak": 1200},
    "T3": {"peak": 1200, "off_peak": 1200},
    "LOGIN": {"peak": 60, "off_peak": 60},
}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# A test run writes its screenshots under .local/ (git-ignored); `make screenshots` points this
# at docs/screenshots to refresh the README's pictures on purpose.
SCREENSHOTS = Path(os.environ.get("AMDSYNC_SCREENSHOTS_DIR", REPO / ".local" / "screenshots"))
TOKEN_KEY = "amdsync.token"

PATIENT: dict[str, Any] = {
    "firstName": "Ada",
    "lastName": "Sample",
    "dateOfBirth": "1980-04-02",
    "sex": "F",
    "phone": "5555550100",
    "address": {"line1": "1 Main St", "city": "Salt Lake City", "state": "UT", "zip": "84101"},
    "ehrVersion": 1,
}


def appointment(patient: str, day: date, hour: int, provider: str = "DR-UI") -> dict[str, Any]:
    return {
        "patientId": patient,
        "providerId": provider,
        "facilityId": "MAIN",
        "appointmentType": "THERAPY_50",
        "start": f"{day.isoformat()}T{hour:02d}:00:00",
        "timeZone": "America/Denver",
        "durationMinutes": 50,
        "status": "SCHEDULED",
        "ehrVersion": 1,
    }


def business_days(after: date, count: int) -> list[date]:
    """The next `count` weekdays after `after` (the simulated office is closed at weekends)."""
    found: list[date] = []
    day = after
    while len(found) < count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            found.append(day)
    return found


class ApiFailure(AssertionError):
    pass


@dataclass
class UiWorld:
    stack: LocalStack
    tokens: dict[str, str]
    days: dict[str, date] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.stack.api_base_url

    @property
    def sim_url(self) -> str:
        assert self.stack.simulator is not None
        return self.stack.simulator.url

    def url(self, path: str) -> str:
        return self.base + path

    def http(
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    def api(self, method: str, path: str, role: str = "admin", body: Any = None) -> Any:
        auth = {"Authorization": f"Bearer {self.tokens[role]}"}
        status, _, raw = self.http(method, self.url(path), body, auth)
        if status >= 300:
            raise ApiFailure(f"{method} {path} as {role}: {status} {raw[:300]!r}")
        return json.loads(raw or b"null")

    def sim(self, method: str, path: str, body: Any = None) -> Any:
        status, _, raw = self.http(method, f"{self.sim_url}/_sim/{path}", body)
        assert status == 200, (path, status, raw[:300])
        return json.loads(raw or b"null")

    def status_of(self, kind: str, entity: str) -> dict[str, Any]:
        record: dict[str, Any] = self.api("GET", f"/{kind}/{entity}/sync-status")
        return record

    def wait_for_status(
        self, kind: str, entity: str, wanted: set[str], timeout: float = 45.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            record = self.status_of(kind, entity)
            if record["amdSyncStatus"] in wanted:
                return record
            if time.monotonic() > deadline:
                raise AssertionError(f"{kind} {entity} stayed {record['amdSyncStatus']}")
            time.sleep(0.25)


def _seed(world: UiWorld) -> None:
    coming = business_days(date.today(), 3)
    world.days = {"next": coming[0], "bulk": coming[1], "conflict": coming[2]}
    world.sim("POST", "config", {"rate_limits_enabled": False})
    # An empty schedule: nothing to overlap with, and a cheap first pull.
    world.sim("POST", "seed", {"appointments": 0})
    mappings = {
        "providers/DR-UI": {"amdId": "101", "amdColumnId": "201", "confirmed": True},
        "facilities/MAIN": {"amdId": "1", "confirmed": True},
        "appointment-types/THERAPY_50": {"amdId": "11", "confirmed": True},
    }
    for path, body in mappings.items():
        world.api("PUT", f"/mappings/{path}", body=body)
    settings = world.api("GET", "/settings")["settings"]
    world.api("PUT", "/settings", body={**settings, "autoSyncAppointments": False})
    for patient in ("P-UI-1", "P-UI-2"):
        world.api("PUT", f"/patients/{patient}", role="ehr", body=PATIENT)
    # The first pull bootstraps day by day (Tier 2); the UI's pull is then an incremental one.
    world.stack.invoke("PullFunction", {"source": "ui-tests"})
    for patient in ("P-UI-1", "P-UI-2"):
        world.wait_for_status("patients", patient, {"synced"})

    days = world.days
    bookings = {
        "A-UI-1": appointment("P-UI-1", days["next"], 9),
        "A-UI-ERR": appointment("P-UI-1", days["next"], 11, provider="DR-NEW"),
        "A-UI-2": appointment("P-UI-2", days["bulk"], 9),
        "A-UI-3": appointment("P-UI-2", days["bulk"], 10),
        "A-UI-C": appointment("P-UI-1", days["conflict"], 9),
    }
    for appointment_id, body in bookings.items():
        world.api("PUT", f"/appointments/{appointment_id}", role="ehr", body=body)
    world.api("POST", "/appointments/A-UI-ERR/sync", role="ehr")
    world.api("POST", "/appointments/A-UI-C/sync", role="ehr")
    world.wait_for_status("appointments", "A-UI-ERR", {"error"})
    synced = world.wait_for_status("appointments", "A-UI-C", {"synced"})
    # Both sides move A-UI-C (to different times) before the next sync: a conflict.
    world.sim(
        "POST",
        f"appointments/{synced['advancedMDVisitId']}",
        {"start": f"{days['conflict']}T14:00"},
    )
    moved = {**bookings["A-UI-C"], "start": f"{days['conflict']}T15:00:00", "ehrVersion": 2}
    world.api("PUT", "/appointments/A-UI-C", role="ehr", body=moved)
    world.api("POST", "/appointments/A-UI-C/sync", role="ehr")
    world.wait_for_status("appointments", "A-UI-C", {"conflict"})


@pytest.fixture(scope="module")
def world() -> Iterator[UiWorld]:
    config = StackConfig(
        api_port=0,
        moto_port=0,
        sim_port=0,
        run_scheduler=False,
        api_concurrency=3,
        # The wrong-password test logs in again right after other tests did: AMD allows one
        # login a minute, which would make the API wait past its timeout. The tiers get ten
        # times AMD's off-peak limits at every hour: the seed's first pull (a Tier-2 call per
        # day) spent 10 s of every module's set-up in the limiter's spacing, more at peak.
        # The pages show whatever limits apply; pacing itself is tests/integration/amd's.
        function_environment={
            "AMD_RATE_LIMITS_JSON": json.dumps(UI_LIMITS),
            "UI_TOKEN_PASTE": "true",  # the paste tests; the issuer walk uses the issuer
        },
    )
    stack = LocalStack(config).start()
    try:
        ui = UiWorld(stack, stack.tokens)
        _seed(ui)
        yield ui
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Opened:
    page: Page
    problems: list[str]  # console errors and uncaught exceptions
    responses: list[tuple[int, str]]  # (status, url) of the API calls the page made

    def assert_clean(self, allowed_statuses: frozenset[int] = frozenset()) -> None:
        failed = [f"{status} {url}" for status, url in self.responses if status >= 400]
        unexpected = [f for f in failed if int(f.split()[0]) not in allowed_statuses]
        noise = [p for p in self.problems if "Failed to load resource" not in p]
        assert not noise, noise
        assert not unexpected, unexpected


@pytest.fixture
def open_page(browser: Browser, world: UiWorld) -> Iterator[Callable[..., Opened]]:
    contexts = []

    def open_(
        path: str, role: str | None = "admin", width: int = 1280, height: int = 900
    ) -> Opened:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        if role is not None:
            token = json.dumps(world.tokens[role])
            context.add_init_script(
                f"try {{ sessionStorage.setItem('{TOKEN_KEY}', {token}); }} catch (e) {{}}"
            )
        page = context.new_page()
        opened = Opened(page, [], [])

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                opened.problems.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda error: opened.problems.append(f"pageerror: {error}"))
        page.on(
            "response",
            lambda response: (
                opened.responses.append((response.status, response.url))
                if "/api/advancedmd/" in response.url and "/ui/" not in response.url
                else None
            ),
        )
        page.goto(world.url(path))
        return opened

    yield open_
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / name
    page.screenshot(path=str(target), full_page=full_page)
    return target

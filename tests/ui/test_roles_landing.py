"""Every role lands somewhere useful (issue 18 item 4): signing in with the issuer as a provider,
billing user or admin opens that role's page with no error box, the nav lists only the pages the
role may use, and the pages speak plain words in the practice's local time (no ISO strings, no
raw codes such as `CHECKED_OUT`). A cancelled appointment's badge says so.

Own data on top of the suite's world: A-UI-X (next business day, 13:00) synced and then
cancelled by the EHR.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.ui.conftest import Opened, UiWorld, appointment, screenshot
from tests.ui.test_ui import assert_accessible

OpenPage = Callable[..., Opened]

LANDING = {"provider": "my-day", "billing": "sync-status", "admin": "dashboard"}
NAV = {
    "provider": ["My day"],
    "billing": ["My day", "Sync status", "Failed work"],
    "admin": [
        "My day",
        "Sync status",
        "Failed work",
        "Dashboard",
        "Conflicts",
        "Mappings",
        "Settings",
        "Webhooks",
        "Audit trail",
    ],
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
RAW_CODE = re.compile(r"\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b")
ERROR_BOXES = ".message.bad, .message.warn, [role=alert]"


def assert_plain_words(page: Page, where: str) -> None:
    """No ISO timestamps or dates and no UPPER_SNAKE codes in what the page shows."""
    text = page.locator("body").inner_text()
    for frame in page.frames[1:]:
        text += "\n" + frame.locator("body").inner_text()
    assert not ISO_DATE.findall(text), (where, ISO_DATE.findall(text))
    assert not RAW_CODE.findall(text), (where, RAW_CODE.findall(text))


def assert_no_error_box(page: Page) -> None:
    boxes = page.locator(ERROR_BOXES)
    visible = [boxes.nth(i).inner_text() for i in range(boxes.count()) if boxes.nth(i).is_visible()]
    assert not visible, visible


def assert_loaded(page: Page) -> None:
    """Every part of the page has its data (a busy machine may take a while to answer)."""
    busy = page.locator("[aria-busy=true], .loading")
    try:
        expect(busy).to_have_count(0, timeout=30_000)
    except AssertionError as error:
        still = busy.evaluate_all("nodes => nodes.map(n => n.id || n.className)")
        raise AssertionError(f"still loading: {still}") from error


def assert_nav(page: Page, role: str) -> None:
    expect(page.locator("header nav a")).to_have_text(NAV[role])


@pytest.fixture(scope="module")
def cancelled(world: UiWorld) -> str:
    """A-UI-X: booked in AMD, then cancelled by the EHR (the reason mapped first)."""
    reasons = world.api("GET", "/mappings/reasons")["amdOptions"]
    world.api(
        "PUT",
        "/mappings/reasons/PATIENT_REQUEST",
        body={"amdId": reasons[0]["amdId"], "confirmed": True},
    )
    body = appointment("P-UI-2", world.days["next"], 13)
    world.api("PUT", "/appointments/A-UI-X", role="ehr", body=body)
    world.api("POST", "/appointments/A-UI-X/sync", role="ehr")
    world.wait_for_status("appointments", "A-UI-X", {"synced"})
    change = {"status": "CANCELLED", "reason": "PATIENT_REQUEST", "ehrVersion": 2}
    world.api("POST", "/appointments/A-UI-X/status", role="ehr", body=change)
    world.api("POST", "/appointments/A-UI-X/sync", role="ehr")  # auto-sync is off here
    record = world.wait_for_status("appointments", "A-UI-X", {"synced", "error"})
    assert (record["status"], record["amdSyncStatus"]) == ("CANCELLED", "synced"), record
    return "A-UI-X"


def sign_in_with_issuer(browser: Browser, world: UiWorld, role: str) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(f"pageerror: {error}"))
    page.on(
        "response",
        lambda response: (
            failures.append(f"{response.status} {response.url}")
            if response.status >= 400 and "/api/advancedmd/" in response.url
            else None
        ),
    )
    page.goto(world.url("/ui/sign-in"))
    page.locator("#issuer-sign-in").click()
    page.get_by_role("button", name=f"dev-{role}").click()
    page.wait_for_url(re.compile(rf"/ui/{LANDING[role]}$"))
    return page, failures


@pytest.mark.parametrize("role", ["provider", "billing", "admin"])
def test_each_role_signs_in_to_its_own_page_with_no_error_box(
    world: UiWorld, browser: Browser, role: str
) -> None:
    page, failures = sign_in_with_issuer(browser, world, role)
    try:
        expect(page.locator("#whoami")).to_contain_text(f"dev-{role} ({role})")
        assert_nav(page, role)
        content = {
            "provider": "#day-list",
            "billing": "article[aria-label=Queue]",
            "admin": "article[aria-label=Appointments]",
        }[role]
        expect(page.locator(content)).to_be_visible()
        assert_loaded(page)
        assert_no_error_box(page)
        assert_plain_words(page, role)
        assert_accessible(page)
        screenshot(page, f"landing-{role}.png", full_page=False)
        assert not failures, failures
    finally:
        page.context.close()


def test_billing_sees_the_queue_its_wait_and_the_sync_buttons(open_page: OpenPage) -> None:
    opened = open_page("/ui/sync-status", role="billing")
    page = opened.page
    queue = page.locator("article[aria-label=Queue]")
    expect(queue).to_contain_text("Sync jobs waiting")
    expect(queue).to_contain_text("Estimated wait")
    expect(page.locator("article[aria-label=Appointments]")).to_contain_text("Errors")
    expect(page.get_by_role("button", name="Sync all patients")).to_be_visible()
    expect(page.get_by_role("button", name="Pull updates from AdvancedMD")).to_be_visible()
    assert_no_error_box(page)
    assert_plain_words(page, "sync-status")
    opened.assert_clean()


def test_provider_day_shows_plain_badges_and_local_times(
    world: UiWorld, open_page: OpenPage, cancelled: str
) -> None:
    opened = open_page(f"/ui/my-day?date={world.days['next'].isoformat()}", role="provider")
    page = opened.page
    rows = page.locator("#day-list li[data-appointment-id]")
    expect(rows).to_have_count(3)  # A-UI-1 (9:00), A-UI-ERR (11:00), A-UI-X (13:00)
    first = page.locator("li[data-appointment-id=A-UI-1]")
    expect(first.locator(".time")).to_have_text("9:00 AM")
    expect(first).to_contain_text("Scheduled")
    error = page.locator("li[data-appointment-id=A-UI-ERR]")
    expect(error.locator(".status")).to_contain_text("Error")
    expect(error).to_contain_text("provider is not matched to AdvancedMD")
    gone = page.locator(f"li[data-appointment-id={cancelled}]")
    expect(gone.locator(".status")).to_have_text(re.compile("Cancelled in AdvancedMD"))
    expect(gone.locator(".status")).not_to_contain_text("Synced")
    assert_no_error_box(page)
    assert_plain_words(page, "my-day")
    assert_accessible(page)
    screenshot(page, "my-day-provider.png")
    opened.assert_clean()


def test_cancelled_badge_and_card_say_cancelled_in_advancedmd(
    world: UiWorld, open_page: OpenPage, cancelled: str
) -> None:
    badge = open_page(f"/widgets/badge?appointmentId={cancelled}", role="provider")
    status = badge.page.locator("#sync-status")
    expect(status).to_have_text(re.compile("^.?Cancelled in AdvancedMD"))
    expect(status).not_to_contain_text("Synced")
    badge.assert_clean()
    card = open_page(f"/widgets/appointment?appointmentId={cancelled}", role="provider")
    page = card.page
    expect(page.locator("#sync-status")).to_contain_text("Cancelled in AdvancedMD")
    visit = world.status_of("appointments", cancelled)["advancedMDVisitId"]
    # No link AdvancedMD does not document: the visit id to copy instead.
    expect(page.locator("a[href^='advancedmd:']")).to_have_count(0)
    expect(page.get_by_role("link", name="View in AdvancedMD")).to_have_count(0)
    expect(page.locator("#visit-id")).to_have_text(visit)
    expect(page.get_by_role("button", name="Copy visit id")).to_be_visible()
    expect(page.locator(".widget-body")).to_contain_text("Cancelled")
    assert_plain_words(page, "widget-appointment")
    card.assert_clean()


@pytest.mark.parametrize(
    "path",
    [
        "/ui/dashboard",
        "/ui/conflicts",
        "/widgets/appointment?appointmentId=A-UI-ERR",
        "/widgets/patient?patientId=P-UI-1",
        "/widgets/badge?appointmentId=A-UI-ERR",
    ],
)
def test_pages_show_no_iso_strings_or_raw_codes(open_page: OpenPage, path: str) -> None:
    opened = open_page(path)
    page = opened.page
    assert_loaded(page)
    assert_plain_words(page, path)
    opened.assert_clean()


def test_provider_nav_hides_admin_pages_even_on_an_admin_address(open_page: OpenPage) -> None:
    opened = open_page("/ui/dashboard", role="provider")
    page = opened.page
    assert_nav(page, "provider")
    expect(page.locator("#page-message")).to_contain_text("My day")
    expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
    opened.assert_clean()


def test_mass_change_guard_ratio_is_editable_in_settings(
    world: UiWorld, open_page: OpenPage
) -> None:
    opened = open_page("/ui/settings")
    page = opened.page
    field = page.get_by_label(re.compile("^Stop a pull that would cancel more than"))
    expect(field).to_have_value("20")
    field.fill("15")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-result")).to_contain_text("Settings saved")
    assert world.api("GET", "/settings")["settings"]["massChangeGuardRatio"] == 0.15
    field.fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-result")).to_contain_text("from 0.1 to 100")
    opened.assert_clean()

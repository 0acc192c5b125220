"""The Failed work and Audit trail pages in Debian's chromium against the local stack.

Failed jobs are written into the stack's table as the worker writes them (DynamoFailedWork on
the moto endpoint): the worker's real path to them is the e2e suite's business
(tests/e2e/test_failed_work.py); here the page is what is under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from playwright.sync_api import expect

from amdsync.domain.journal import AuditEntry
from amdsync.failed_jobs import FailedJob
from amdsync.jobs import SyncJob
from amdsync.store.failed_work import DynamoFailedWork
from amdsync.store.journal import DynamoAuditTrail
from local.runner.moto_endpoint import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY
from tests.ui.conftest import Opened, UiWorld, screenshot
from tests.ui.test_ui import assert_accessible

OpenPage = Callable[..., Opened]
PRACTICE = "main"


class _Now:
    def now(self) -> datetime:
        return datetime.now(UTC)


def _resource(world: UiWorld) -> Any:
    moto = world.stack.moto
    return boto3.session.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        region_name=moto.region,
    ).resource("dynamodb", endpoint_url=moto.url)


def failed_store(world: UiWorld) -> DynamoFailedWork:
    table = _resource(world).Table(world.stack.resources.tables["SyncStateTable"])
    return DynamoFailedWork(table, PRACTICE, _Now())


def add_failed(store: DynamoFailedWork, entity_id: str, kind: str = "appointment") -> FailedJob:
    job = SyncJob.model_validate(
        {"kind": kind, "entityId": entity_id, "version": 1, "practice": PRACTICE}
    )
    failed = FailedJob.from_job(job, "AMD_UNAVAILABLE", 6, datetime.now(UTC))
    store.put(failed)
    return failed


@pytest.fixture
def store(world: UiWorld) -> Any:
    made = failed_store(world)
    yield made
    for job in made.page(None, 200)[0]:  # leave no failed work for other tests
        made.remove(job.job_id)


def test_failed_work_lists_retries_and_discards_with_a_reason_as_admin(
    world: UiWorld, open_page: OpenPage, store: DynamoFailedWork
) -> None:
    retried = add_failed(store, "A-UI-1")
    discarded = add_failed(store, "P-UI-2", kind="patient")
    opened = open_page("/ui/failed-work")
    page = opened.page
    retry_row = page.locator(f"tr[data-job='{retried.job_id}']")
    expect(retry_row).to_contain_text("Appointment A-UI-1")
    expect(retry_row).to_contain_text("AdvancedMD kept failing or timing out")
    expect(retry_row).to_contain_text("AdvancedMD unavailable (AMD_UNAVAILABLE)")
    # Practice-local time with its zone's name, not an ISO string.
    expect(retry_row.locator("td").first).to_have_text(re.compile(r"\d{4}.*M[SD]T$"))
    expect(page.get_by_role("button", name="Retry all")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "failed-work-admin.png")

    retry_row.get_by_role("button", name="Retry").click()
    expect(page.locator("#page-message")).to_contain_text("Appointment A-UI-1 is queued again")
    expect(retry_row).to_have_count(0)

    discard_row = page.locator(f"tr[data-job='{discarded.job_id}']")
    discard_row.get_by_role("button", name="Discard…").click()
    discard_row.get_by_label("Reason").fill("Patient merged in the EHR")
    discard_row.get_by_role("button", name="Discard", exact=True).click()
    expect(page.locator("#page-message")).to_contain_text("Patient P-UI-2 was discarded")
    expect(page.locator("#failed")).to_contain_text("No failed work")
    assert store.page(None, 10) == ([], None)
    audit = world.api("GET", "/audit?action=failed_work_discard")["items"]
    assert audit[0]["details"] == {"jobId": discarded.job_id, "reason": "Patient merged in the EHR"}
    opened.assert_clean()


def test_retry_all_queues_every_failed_job(
    world: UiWorld, open_page: OpenPage, store: DynamoFailedWork
) -> None:
    for entity in ("A-UI-2", "A-UI-3"):
        add_failed(store, entity)
    opened = open_page("/ui/failed-work")
    page = opened.page
    expect(page.locator("#failed tbody tr")).to_have_count(2)
    page.get_by_role("button", name="Retry all").click()
    expect(page.locator("#page-message")).to_contain_text("2 failed syncs are queued again")
    expect(page.locator("#failed")).to_contain_text("No failed work")
    opened.assert_clean()


def test_billing_retries_but_neither_discards_nor_retries_all(
    world: UiWorld, open_page: OpenPage, store: DynamoFailedWork
) -> None:
    add_failed(store, "A-UI-ERR")
    opened = open_page("/ui/failed-work", role="billing")
    page = opened.page
    row = page.locator("#failed tbody tr")
    expect(row).to_contain_text("Appointment A-UI-ERR")
    expect(row.get_by_role("button", name="Retry")).to_be_visible()
    expect(row.get_by_role("button", name="Discard…")).to_have_count(0)
    expect(page.get_by_role("button", name="Retry all")).to_be_hidden()
    assert_accessible(page)
    screenshot(page, "failed-work-billing.png")
    opened.assert_clean()


def test_provider_is_told_the_failed_work_page_is_not_for_them(open_page: OpenPage) -> None:
    opened = open_page("/ui/failed-work", role="provider")
    expect(opened.page.locator("#page-message")).to_contain_text(
        "This page is for billing staff and administrators"
    )
    expect(opened.page.locator("#failed table")).to_have_count(0)
    opened.assert_clean()


def test_audit_trail_filters_by_action_and_actor_and_pages(
    world: UiWorld, open_page: OpenPage
) -> None:
    opened = open_page("/ui/audit")
    page = opened.page
    table = page.locator("#audit table")
    # The seed's admin saved mappings and settings: the trail shows them in plain words.
    expect(table).to_contain_text("Changed a mapping")
    expect(table).to_contain_text("Replaced the settings")
    expect(table.locator("tbody tr td").first).to_have_text(re.compile(r"\d{4}.*M[SD]T$"))
    assert_accessible(page)
    screenshot(page, "audit-admin.png")

    page.get_by_label("What was done").select_option("mapping_update")
    page.get_by_role("button", name="Show", exact=True).click()
    rows = page.locator("#audit tbody tr")
    expect(rows.first).to_contain_text("Changed a mapping")
    expect(page.locator("#audit")).not_to_contain_text("Replaced the settings")
    count = rows.count()
    assert count >= 3

    page.get_by_label("Who (user id)").fill("nobody-at-all")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#audit")).to_contain_text("Nothing recorded for these filters")
    opened.assert_clean()


def test_audit_trail_pages_with_show_older(world: UiWorld, open_page: OpenPage) -> None:
    trail = DynamoAuditTrail(
        _resource(world).Table(world.stack.resources.tables["AuditTable"]), PRACTICE
    )
    now = datetime.now(UTC)
    for n in range(55):
        trail.append(
            AuditEntry(
                id=f"ui-paging-{n:03d}",
                at=now - timedelta(minutes=n + 1),
                subject="ui-paging-admin",
                role="admin",
                action="test_connection",
                entity_type="settings",
                entity_id="connection",
                outcome="success",
                details={"ok": True},
            )
        )
    opened = open_page("/ui/audit")
    page = opened.page
    box = page.locator("#audit")
    # The unfiltered first page (over 50 entries: "Show older entries" shows) must not be
    # mistaken for the filtered one: wait for each load to end before reading rows.
    expect(box).to_have_attribute("aria-busy", "false")
    page.get_by_label("Who (user id)").fill("ui-paging-admin")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(box).to_have_attribute("aria-busy", "false")
    rows = page.locator("#audit tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.filter(has_not_text="ui-paging-admin")).to_have_count(0)
    expect(rows.first).to_contain_text("Tested the AdvancedMD connection")
    page.get_by_role("button", name="Show older entries").click()
    expect(rows).to_have_count(55)
    expect(page.get_by_role("button", name="Show older entries")).to_be_hidden()
    opened.assert_clean()


def test_audit_trail_is_for_admins_only(open_page: OpenPage) -> None:
    opened = open_page("/ui/audit", role="billing")
    expect(opened.page.locator("#page-message")).to_contain_text(
        "This page is for practice administrators"
    )
    opened.assert_clean()


# The shared "Show more" pager (app.js `pager`), driven in the browser with a fetch whose
# answers the test releases in the order it wants: pages accumulate, a reset started while an
# older page is in flight wins (the older answer is dropped), and a failure clears the list and
# says why on the page.
PAGER_SCENARIO = """
async () => {
  const A = window.amdsync;
  const box = document.createElement("div");
  const more = document.createElement("button");
  document.body.append(box, more);
  const asked = [];
  const answers = [];
  const fetch = (cursor) => {
    asked.push(cursor);
    return new Promise((resolve, reject) => answers.push({ resolve, reject }));
  };
  const drawn = [];
  const list = A.pager(box, more, fetch, () => drawn.push(list.items.slice()));
  const settle = () => new Promise((done) => setTimeout(done, 0));

  const first = list.load(true);
  const busyWhileLoading = box.getAttribute("aria-busy");
  answers[0].resolve({ items: ["a", "b"], nextCursor: "c1" });
  await first;
  const afterFirst = {
    items: list.items.slice(), more: !more.hidden, busy: box.getAttribute("aria-busy"),
  };

  more.click();
  const older = answers[1];
  const reset = list.load(true);
  answers[2].resolve({ items: ["z"], nextCursor: null });
  await reset;
  older.resolve({ items: ["c"], nextCursor: "c2" });
  await settle();
  const afterReset = { items: list.items.slice(), more: !more.hidden, cursor: list.cursor };

  const failing = list.load(true);
  answers[3].reject(new Error("not an answer from the API"));
  await failing;
  return {
    asked, busyWhileLoading, afterFirst, afterReset, drawn,
    afterFailure: { children: box.childElementCount, busy: box.getAttribute("aria-busy"),
                    message: document.getElementById("page-message").textContent },
  };
}
"""


def test_pager_accumulates_pages_lets_a_reset_win_and_reports_a_failure(
    open_page: OpenPage,
) -> None:
    opened = open_page("/ui/audit")
    expect(opened.page.locator("#audit")).to_have_attribute("aria-busy", "false")
    seen = opened.page.evaluate(PAGER_SCENARIO)
    assert seen["asked"] == [None, "c1", None, None]
    assert seen["busyWhileLoading"] == "true"
    assert seen["afterFirst"] == {"items": ["a", "b"], "more": True, "busy": "false"}
    assert seen["afterReset"] == {"items": ["z"], "more": False, "cursor": None}
    assert seen["drawn"] == [["a", "b"], ["z"]]  # the dropped older page was never drawn
    assert seen["afterFailure"]["children"] == 0
    assert seen["afterFailure"]["busy"] == "false"
    assert "Something unexpected happened" in seen["afterFailure"]["message"]
    opened.assert_clean()

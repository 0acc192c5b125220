"""The Webhooks page in Debian's chromium (issue 18 item 3): add a subscription and see its
secret once, pick events, send a test ping that a receiver on 127.0.0.1 verifies with the
`standardwebhooks` library, read the delivery log, pause, delete."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Dialog, expect
from standardwebhooks import Webhook

from tests.ui.conftest import Opened, UiWorld, screenshot
from tests.ui.test_ui import assert_accessible
from tests.webhook_receiver import Receiver, webhook_receiver

OpenPage = Callable[..., Opened]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def test_add_ping_read_the_log_pause_and_delete_a_webhook(
    world: UiWorld, open_page: OpenPage, receiver: Receiver
) -> None:
    opened = open_page("/ui/webhooks")
    page = opened.page
    expect(page.get_by_role("link", name="Webhooks", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.locator("#webhooks")).to_contain_text("No webhooks yet")

    page.get_by_label("Name (letters, digits, - or _)").fill("ehr-main")
    page.get_by_label("Receiver URL").fill(receiver.url)
    page.get_by_label("A patient reached AdvancedMD").uncheck()
    page.get_by_label("A patient could not be synced").uncheck()
    page.get_by_role("button", name="Add webhook").click()

    secret_box = page.get_by_label("Secret of ehr-main")
    expect(secret_box).to_have_value(re.compile(r"^whsec_[A-Za-z0-9+/=]{40,}$"))
    secret = secret_box.input_value()
    row = page.locator("tr[data-webhook-id=ehr-main]")
    expect(row).to_contain_text("Sending")
    expect(row).to_contain_text("An appointment changed in AdvancedMD")
    expect(row).not_to_contain_text("A patient reached AdvancedMD")
    listed = world.api("GET", "/webhooks")["items"]
    assert [w["events"] for w in listed] == [
        ["appointment.changed", "appointment.synced", "appointment.sync_failed", "conflict.opened"]
    ]
    assert secret not in json.dumps(listed)
    page.get_by_role("button", name="I have copied it").click()
    expect(page.locator("#secret-panel")).to_be_hidden()

    row.get_by_role("button", name="Send a test ping to ehr-main").click()
    expect(page.locator("#page-message")).to_contain_text("Test ping delivered to ehr-main")
    (ping,) = receiver.received()
    assert Webhook(secret).verify(ping.body, ping.headers)["type"] == "ping"

    row.get_by_role("button", name="Deliveries of ehr-main").click()
    log = page.locator("#deliveries tbody tr")
    expect(log).to_have_count(1)
    expect(log.first).to_contain_text("Test ping")
    expect(log.first).to_contain_text("Delivered")
    assert_accessible(page)
    screenshot(page, "webhooks.png")

    row.get_by_role("button", name="Pause ehr-main").click()
    expect(page.locator("tr[data-webhook-id=ehr-main]")).to_contain_text("Paused")
    assert world.api("GET", "/webhooks")["items"][0]["enabled"] is False

    page.reload()
    assert secret not in page.content()  # shown once: a new visit never has it
    page.once("dialog", accept)
    page.locator("tr[data-webhook-id=ehr-main]").get_by_role(
        "button", name="Delete ehr-main"
    ).click()
    expect(page.locator("#webhooks")).to_contain_text("No webhooks yet")
    assert world.api("GET", "/webhooks")["items"] == []
    opened.assert_clean()


def test_a_private_address_is_refused_in_plain_words(open_page: OpenPage) -> None:
    opened = open_page("/ui/webhooks")
    page = opened.page
    page.get_by_label("Name (letters, digits, - or _)").fill("inside")
    page.get_by_label("Receiver URL").fill("https://169.254.169.254/latest/meta-data")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("#webhook-result")).to_contain_text("private or reserved address")
    expect(page.locator("#secret-panel")).to_be_hidden()
    opened.assert_clean(allowed_statuses=frozenset({422}))


def accept(dialog: Dialog) -> None:
    dialog.accept()

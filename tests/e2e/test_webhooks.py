"""Signed webhooks end to end (SPEC §9.4, issue 18): a receiver in this test, on 127.0.0.1,
verifies every delivery with the `standardwebhooks` library and sees an AMD-side change (made
through the simulator's admin API) within one pull, after that appointment's `synced` event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks import Webhook

from local.runner.api_client import wait_for
from tests.e2e.conftest import E2E, PULL_CEILING, SYNC_CEILING, TEST_CEILING, Counters, at
from tests.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.timeout(TEST_CEILING)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def _verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every request so far, each verified (signature, id, fresh timestamp) or the test fails."""
    hook = Webhook(secret)
    events = []
    for request in receiver.received():
        payload = hook.verify(request.body, request.headers)
        assert payload["id"] == request.headers["webhook-id"]
        events.append(payload)
    return events


def _of(events: list[dict[str, Any]], appointment_id: str) -> list[str]:
    return [e["type"] for e in events if e["data"].get("appointmentId") == appointment_id]


def test_a_receiver_verifies_every_delivery_and_sees_the_amd_change_within_one_pull(
    e2e: E2E, counters: Counters, receiver: Receiver
) -> None:
    webhook_id = e2e.new_id("WH").lower()
    subscription = {
        "url": receiver.url,
        "events": ["appointment.changed", "appointment.synced", "appointment.sync_failed"],
        "enabled": True,
    }
    created = e2e.api.call("admin", "PUT", f"/webhooks/{webhook_id}", subscription).expect(201)
    secret = created["secret"]
    assert "secret" not in json.dumps(e2e.api.get("admin", "/webhooks"))

    ping = e2e.api.post("admin", f"/webhooks/{webhook_id}/test")
    assert (ping["type"], ping["state"], ping["lastStatusCode"]) == ("ping", "delivered", 204)

    (slot,) = e2e.take_providers()
    appointment_id = e2e.book(e2e.patient(), slot, at(e2e.take_days(1)[0], 10))
    visit_id = e2e.wait_synced(appointment_id)["advancedMDVisitId"]
    wait_for(lambda: _of(_verified(receiver, secret), appointment_id) == ["appointment.synced"],
             SYNC_CEILING, what="appointment.synced delivered")  # fmt: skip
    e2e.pull()  # settle: only the edit below is new

    e2e.sim.edit_appointment(visit_id, status=1)  # the front desk checks the patient in, in AMD
    e2e.pull()  # one pull

    def changed() -> dict[str, Any] | None:
        found = [e for e in _verified(receiver, secret)
                 if e["type"] == "appointment.changed"
                 and e["data"]["appointmentId"] == appointment_id]  # fmt: skip
        return found[0] if found else None

    event = wait_for(changed, PULL_CEILING, what="appointment.changed delivered")
    (entry,) = [c for c in e2e.changes_for(appointment_id) if c["kind"] == "status"]
    assert event["data"] == entry  # the body is the /changes entry
    assert entry["fields"] == {"status": "CHECKED_IN"} and entry["advancedMDVisitId"] == visit_id
    # In order per appointment, and every delivery verified (a forged one would have raised).
    events = _verified(receiver, secret)
    assert _of(events, appointment_id) == ["appointment.synced", "appointment.changed"]
    assert events[0]["type"] == "ping" and len({e["id"] for e in events}) == len(events)

    log = e2e.api.get("admin", f"/webhooks/{webhook_id}/deliveries")["items"]
    assert {d["type"] for d in log} == {"ping", "appointment.synced", "appointment.changed"}
    assert all(d["state"] == "delivered" and d["attempts"] == 1 for d in log), log
    e2e.api.call("admin", "DELETE", f"/webhooks/{webhook_id}").expect(204)
    counters.assert_clean(logins=None)

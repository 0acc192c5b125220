"""Outgoing webhooks are Standard Webhooks: any receiver's `standardwebhooks` library verifies
them (SPEC §9.4)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from amdsync.domain.webhooks import EventType, WebhookEvent
from amdsync.sync.webhook_signing import event_body, new_secret, signed_headers


def _event() -> WebhookEvent:
    return WebhookEvent(
        event_id="msg_0001",
        type=EventType.APPOINTMENT_CHANGED,
        timestamp=datetime(2026, 11, 25, 17, 5, tzinfo=UTC),
        data={"appointmentId": "A-200", "kind": "status", "fields": {"status": "CHECKED_IN"}},
    )


def test_a_signed_event_verifies_with_the_standard_webhooks_library() -> None:
    secret = new_secret()
    body = event_body(_event())
    headers = signed_headers(secret, "msg_0001", body, datetime.now(UTC))

    payload = Webhook(secret).verify(body, headers)

    assert payload == {
        "id": "msg_0001",
        "type": "appointment.changed",
        "timestamp": "2026-11-25T17:05:00Z",
        "data": {"appointmentId": "A-200", "kind": "status", "fields": {"status": "CHECKED_IN"}},
    }
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["webhook-id"] == "msg_0001"


def test_a_changed_body_or_another_secret_fails_verification() -> None:
    secret = new_secret()
    body = event_body(_event())
    headers = signed_headers(secret, "msg_0001", body, datetime.now(UTC))
    tampered = json.dumps({**json.loads(body), "type": "ping"}).encode()

    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_0002"})


def test_the_signature_is_made_at_the_attempt_so_a_late_retry_still_verifies() -> None:
    """Receivers refuse timestamps older than five minutes: a retry hours later signs anew."""
    secret = new_secret()
    body = event_body(_event())
    stale = signed_headers(secret, "msg_0001", body, datetime.now(UTC) - timedelta(hours=2))
    fresh = signed_headers(secret, "msg_0001", body, datetime.now(UTC))

    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, stale)
    assert Webhook(secret).verify(body, fresh)["id"] == "msg_0001"


def test_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32

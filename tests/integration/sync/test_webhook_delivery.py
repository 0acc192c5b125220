"""Delivering a queued event: signed POST, delivery log, backoff for 24 h, then `failed`
(SPEC §9.4). A real HTTP receiver on 127.0.0.1; the store is in memory; time is a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from amdsync.domain.webhooks import (
    DeliveryMessage,
    EventType,
    WebhookEvent,
    WebhookSubscription,
    next_retry,
)
from amdsync.sync.metrics import NullMetrics
from amdsync.sync.webhook_guard import UrlGuard
from amdsync.sync.webhook_signing import HttpxSender, new_secret
from amdsync.sync.webhooks import WebhookDeliverer
from tests.fakes import FakeClock
from tests.fakes.webhooks import MemoryWebhookStore, fake_resolve
from tests.webhook_receiver import Receiver, webhook_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


class Setup:
    def __init__(self, url: str, events: tuple[EventType, ...] = tuple(EventType)) -> None:
        self.clock = FakeClock(datetime.now(UTC))  # signatures are checked against real time
        self.store = MemoryWebhookStore()
        self.secret = new_secret()
        now = self.clock.now()
        self.subscription = WebhookSubscription(
            webhook_id="wh-1", url=url, events=events, created_at=now, updated_at=now
        )
        self.store.put(self.subscription, self.secret)
        guard = UrlGuard.from_setting(["127.0.0.1"], resolve=fake_resolve)
        self.deliverer = WebhookDeliverer(
            self.store, HttpxSender(), guard, self.clock, NullMetrics()
        )

    def message(self, event_id: str = "msg_1") -> DeliveryMessage:
        event = WebhookEvent(
            event_id=event_id,
            type=EventType.APPOINTMENT_SYNCED,
            timestamp=self.clock.now(),
            data={"appointmentId": "A-1"},
        )
        return DeliveryMessage(webhook_id="wh-1", event=event)


def test_a_delivery_is_signed_logged_and_not_sent_twice(receiver: Receiver) -> None:
    setup = Setup(receiver.url)
    message = setup.message()

    decision = setup.deliverer.deliver(message)
    again = setup.deliverer.deliver(message)  # SQS redelivered it (at least once)

    assert decision.kind == again.kind == "done"
    (request,) = receiver.received()
    assert Webhook(setup.secret).verify(request.body, request.headers)["id"] == "msg_1"
    assert request.headers["webhook-id"] == "msg_1"
    (logged,) = setup.store.deliveries("wh-1")
    assert (logged.state, logged.attempts, logged.last_status_code) == ("delivered", 1, 204)
    assert logged.latency_ms is not None and logged.next_retry_at is None


def test_a_failure_is_retried_with_backoff_then_kept_as_failed_after_24_hours(
    receiver: Receiver,
) -> None:
    setup = Setup(receiver.url)
    message = setup.message()
    receiver.answer_next(*[500] * 20)
    first = setup.clock.now()
    delays = []

    while True:
        decision = setup.deliverer.deliver(message)
        if decision.kind == "done":
            break
        delays.append(round(decision.delay))
        setup.clock.advance(seconds=decision.delay)

    assert delays[:6] == [5, 300, 1800, 7200, 18000, 36000]
    assert setup.clock.now() - first == timedelta(hours=24)  # the last retry at the 24 h mark
    (logged,) = setup.store.deliveries("wh-1")
    assert logged.state == "failed" and logged.error_code == "HTTP_STATUS"
    assert logged.attempts == len(delays) + 1 == len(receiver.received())
    assert logged.last_status_code == 500 and logged.next_retry_at is None


def test_a_receiver_that_recovers_gets_the_event_with_the_same_id(receiver: Receiver) -> None:
    setup = Setup(receiver.url)
    receiver.answer_next(503)
    first = setup.deliverer.deliver(setup.message())
    setup.clock.advance(seconds=first.delay)
    second = setup.deliverer.deliver(setup.message())

    assert (first.kind, second.kind) == ("retry", "done")
    ids = [r.headers["webhook-id"] for r in receiver.received()]
    assert ids == ["msg_1", "msg_1"]
    (logged,) = setup.store.deliveries("wh-1")
    assert (logged.state, logged.attempts, logged.last_status_code) == ("delivered", 2, 204)


def test_a_url_that_became_private_is_not_called_and_fails_at_once() -> None:
    setup = Setup("https://intranet.example.com/hooks")
    decision = setup.deliverer.deliver(setup.message())
    (logged,) = setup.store.deliveries("wh-1")
    assert decision.kind == "done"
    assert (logged.state, logged.error_code) == ("failed", "URL_NOT_ALLOWED")


def test_a_disabled_subscription_gets_nothing(receiver: Receiver) -> None:
    setup = Setup(receiver.url)
    setup.store.put(setup.subscription.model_copy(update={"enabled": False}))
    setup.deliverer.deliver(setup.message())
    assert receiver.received() == []
    (logged,) = setup.store.deliveries("wh-1")
    assert (logged.state, logged.error_code, logged.attempts) == ("failed", "DISABLED", 0)


def test_an_unanswered_connection_is_retried(receiver: Receiver) -> None:
    setup = Setup("http://127.0.0.1:9/hooks")  # discard port: nothing listens
    decision = setup.deliverer.deliver(setup.message())
    (logged,) = setup.store.deliveries("wh-1")
    assert decision.kind == "retry" and decision.delay == 5
    assert logged.error_code == "CONNECT_FAILED" and logged.last_status_code is None


def test_next_retry_gives_up_at_24_hours() -> None:
    clock = FakeClock()
    start = clock.now()
    assert next_retry(start, 1, start) == start + timedelta(seconds=5)
    assert next_retry(start, 6, start + timedelta(hours=20)) == start + timedelta(hours=24)
    assert next_retry(start, 7, start + timedelta(hours=24)) is None

"""Signed webhooks (SPEC §9.4): publishing events to the queue, delivering them to receivers.

Publishing happens where an outcome is recorded (sync/webhook_emitters.py): one queue message
per subscription that wants the event, grouped per subscription and appointment so each
receiver gets an appointment's events in order. Delivery (the webhook delivery function) signs
each attempt, logs it, and retries with backoff for 24 h, after which the entry stays `failed`
in the delivery log. The `/changes` feed stays the source of truth: a lost webhook is a
convenience lost, not data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from amdsync.domain.webhooks import (
    DeliveryMessage,
    EventType,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
    next_retry,
)
from amdsync.observability import logger
from amdsync.sync.metrics import MetricsSink
from amdsync.sync.ports import Clock
from amdsync.sync.webhook_guard import UrlGuard, UrlNotAllowed
from amdsync.sync.webhook_signing import Sender, SendResult, event_body, signed_headers


class WebhookStore(Protocol):
    def subscriptions(self) -> list[WebhookSubscription]: ...
    def get(self, webhook_id: str) -> WebhookSubscription | None: ...
    def put(self, subscription: WebhookSubscription, secret: str | None = None) -> None:
        """Save the subscription; `secret` is stored (apart) only when given, on creation."""
        ...

    def delete(self, webhook_id: str) -> bool: ...
    def secret(self, webhook_id: str) -> str | None: ...
    def get_delivery(self, webhook_id: str, event: WebhookEvent) -> WebhookDelivery | None: ...
    def put_delivery(self, delivery: WebhookDelivery) -> None: ...
    def deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        """Newest first."""
        ...


class WebhookQueue(Protocol):
    def send(self, messages: list[DeliveryMessage], group: str) -> None: ...


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookPublisher:
    """Queues an event for every enabled subscription that lists it. Never fails the caller:
    the outcome is already recorded and the `/changes` feed has it; a queueing failure is
    logged and counted (metric WebhookEnqueueFailed)."""

    def __init__(
        self, store: WebhookStore, queue: WebhookQueue, clock: Clock, metrics: MetricsSink
    ) -> None:
        self._store = store
        self._queue = queue
        self._clock = clock
        self._metrics = metrics
        self._subscriptions: list[WebhookSubscription] | None = None

    def publish(self, event_type: EventType, group: str, data: Callable[[], dict[str, Any]]) -> int:
        """Queue the event for its subscribers; `data` is only built when someone wants it."""
        try:
            wanted = [s for s in self._current() if s.wants(event_type)]
            if not wanted:
                return 0
            event = WebhookEvent(
                event_id=new_event_id(), type=event_type, timestamp=self._clock.now(), data=data()
            )
            messages = [DeliveryMessage(webhook_id=s.webhook_id, event=event) for s in wanted]
            self._queue.send(messages, group)
        except Exception as exc:
            logger.warning(
                "webhook event not queued",
                extra={"event_type": event_type.value, "error_type": type(exc).__name__},
            )
            self._metrics.count("WebhookEnqueueFailed")
            return 0
        return len(wanted)

    def _current(self) -> list[WebhookSubscription]:
        # Read once per publisher (one request or job): a change applies from the next one.
        if self._subscriptions is None:
            self._subscriptions = self._store.subscriptions()
        return self._subscriptions


DecisionKind = Literal["done", "retry"]


@dataclass(frozen=True)
class DeliveryDecision:
    kind: DecisionKind
    delay: float = 0.0
    delivery: WebhookDelivery | None = None


class WebhookDeliverer:
    """One attempt at a time: guard the URL, sign, POST, log, decide whether to retry."""

    def __init__(
        self,
        store: WebhookStore,
        sender: Sender,
        guard: UrlGuard,
        clock: Clock,
        metrics: MetricsSink,
    ) -> None:
        self._store = store
        self._sender = sender
        self._guard = guard
        self._clock = clock
        self._metrics = metrics

    def deliver(self, message: DeliveryMessage) -> DeliveryDecision:
        """Deliver a queued event (at least once: a delivered entry is never sent again)."""
        subscription = self._store.get(message.webhook_id)
        if subscription is None:
            return DeliveryDecision("done")  # deleted, with its delivery log
        event = message.event
        record = self._store.get_delivery(subscription.webhook_id, event) or _new_record(
            subscription, event
        )
        if record.state != "pending":
            return DeliveryDecision("done", delivery=record)
        if not subscription.wants(event.type):
            ended = record.model_copy(update={"state": "failed", "error_code": "DISABLED"})
            self._store.put_delivery(ended)
            return DeliveryDecision("done", delivery=ended)
        record = self._attempt(subscription, event, record, retry=True)
        if record.state == "pending" and record.next_retry_at is not None:
            delay = (record.next_retry_at - self._clock.now()).total_seconds()
            return DeliveryDecision("retry", max(1.0, delay), record)
        return DeliveryDecision("done", delivery=record)

    def send_now(self, subscription: WebhookSubscription, event: WebhookEvent) -> WebhookDelivery:
        """One attempt, no retries (the test ping): the operator sees the answer at once."""
        return self._attempt(subscription, event, _new_record(subscription, event), retry=False)

    def _attempt(
        self,
        subscription: WebhookSubscription,
        event: WebhookEvent,
        record: WebhookDelivery,
        *,
        retry: bool,
    ) -> WebhookDelivery:
        now = self._clock.now()
        result, permanent = self._send(subscription, event)
        attempts = record.attempts + 1
        first = record.first_attempt_at or now
        retry_at = None
        if result.ok:
            state = "delivered"
        elif permanent or not retry:
            state = "failed"
        else:
            retry_at = next_retry(first, attempts, now)
            state = "pending" if retry_at else "failed"
        updated = record.model_copy(
            update={
                "state": state,
                "attempts": attempts,
                "first_attempt_at": first,
                "last_attempt_at": now,
                "last_status_code": result.status_code,
                "latency_ms": result.latency_ms,
                "next_retry_at": retry_at,
                "error_code": result.error_code,
            }
        )
        self._store.put_delivery(updated)
        outcome = "delivered" if result.ok else "failed"
        self._metrics.count("WebhookAttempts", outcome=outcome)
        logger.info(
            "webhook attempt",
            extra={
                "webhook_id": subscription.webhook_id,
                "event_id": event.event_id,
                "event_type": event.type.value,
                "status_code": result.status_code,
                "error_code": result.error_code,
                "state": state,
            },
        )
        return updated

    def _send(
        self, subscription: WebhookSubscription, event: WebhookEvent
    ) -> tuple[SendResult, bool]:
        """The attempt's result, and whether a failure is permanent (a forbidden address)."""
        try:
            self._guard.check(subscription.url)
        except UrlNotAllowed as exc:
            code = "DNS_FAILED" if exc.transient else "URL_NOT_ALLOWED"
            return SendResult(None, 0, code), not exc.transient
        secret = self._store.secret(subscription.webhook_id)
        if secret is None:
            return SendResult(None, 0, "NO_SECRET"), True
        body = event_body(event)
        headers = signed_headers(secret, event.event_id, body, self._clock.now())
        return self._sender.send(subscription.url, headers, body), False


def _new_record(subscription: WebhookSubscription, event: WebhookEvent) -> WebhookDelivery:
    return WebhookDelivery(
        webhook_id=subscription.webhook_id,
        event_id=event.event_id,
        type=event.type,
        created_at=event.timestamp,
    )


@dataclass(frozen=True)
class WebhookServices:
    """What the webhook API needs: the subscriptions, the URL guard, a sender for the ping."""

    store: WebhookStore
    guard: UrlGuard
    deliverer: WebhookDeliverer
    clock: Clock

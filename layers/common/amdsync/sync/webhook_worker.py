"""The webhook delivery function's record loop: one queue message -> one delivery attempt.

A message to retry gets its visibility timeout set to the backoff and is reported as a batch
item failure, so SQS brings it back then; the FIFO group (one subscription, one appointment)
stays blocked meanwhile, which is what keeps an appointment's events in order. A message that
is not a delivery at all is left to the queue's redrive policy (its DLQ).
"""

from __future__ import annotations

from typing import Protocol

from pydantic import ValidationError

from amdsync.domain.webhooks import DeliveryMessage
from amdsync.sync.webhooks import DeliveryDecision, WebhookDeliverer


class VisibilityControl(Protocol):
    def defer(self, receipt_handle: str, seconds: float) -> None: ...


class NotADelivery(Exception):
    """The message body is not a webhook delivery."""


class RetryDelivery(Exception):
    def __init__(self, decision: DeliveryDecision) -> None:
        super().__init__(f"retry in {decision.delay:.0f}s")
        self.decision = decision


def handle_delivery(
    body: str, receipt_handle: str, deliverer: WebhookDeliverer, queue: VisibilityControl
) -> DeliveryDecision:
    """Attempt the delivery; raises RetryDelivery when SQS should bring it back later."""
    try:
        message = DeliveryMessage.model_validate_json(body)
    except ValidationError:
        raise NotADelivery from None
    decision = deliverer.deliver(message)
    if decision.kind == "retry":
        queue.defer(receipt_handle, decision.delay)
        raise RetryDelivery(decision)
    return decision

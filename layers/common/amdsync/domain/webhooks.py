"""Signed webhooks (SPEC §9.4): subscriptions, events and the delivery log, as data.

Events follow the Standard Webhooks payload shape (`type`, `timestamp`, `data`); the event id is
the `webhook-id` header and stays the same on every retry, so a receiver can deduplicate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from amdsync.domain.base import DomainModel


class EventType(StrEnum):
    APPOINTMENT_CHANGED = "appointment.changed"
    APPOINTMENT_SYNCED = "appointment.synced"
    APPOINTMENT_SYNC_FAILED = "appointment.sync_failed"
    PATIENT_SYNCED = "patient.synced"
    PATIENT_SYNC_FAILED = "patient.sync_failed"
    CONFLICT_OPENED = "conflict.opened"
    PING = "ping"


WEBHOOK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
MAX_URL_LENGTH = 2048


class WebhookSubscription(DomainModel):
    """One receiver: where to send, which events, whether it is on. The secret is kept apart."""

    webhook_id: str = Field(pattern=WEBHOOK_ID_PATTERN)
    url: str = Field(max_length=MAX_URL_LENGTH)
    events: tuple[EventType, ...]
    enabled: bool = True
    created_at: AwareDatetime
    updated_at: AwareDatetime

    def wants(self, event_type: EventType) -> bool:
        return self.enabled and event_type in self.events


class WebhookEvent(DomainModel):
    """The JSON body every receiver gets (Standard Webhooks payload structure)."""

    event_id: str = Field(alias="id", min_length=1, max_length=64)
    type: EventType
    timestamp: AwareDatetime
    data: dict[str, Any]


class DeliveryMessage(DomainModel):
    """What the webhook queue carries: one event for one subscription."""

    webhook_id: str = Field(pattern=WEBHOOK_ID_PATTERN)
    event: WebhookEvent


DeliveryState = Literal["pending", "delivered", "failed"]


class WebhookDelivery(DomainModel):
    """The delivery log entry of one event to one subscription, updated on every attempt."""

    webhook_id: str
    event_id: str
    type: EventType
    created_at: AwareDatetime
    state: DeliveryState = "pending"
    attempts: int = 0
    first_attempt_at: AwareDatetime | None = None
    last_attempt_at: AwareDatetime | None = None
    last_status_code: int | None = None
    latency_ms: int | None = None
    next_retry_at: AwareDatetime | None = None
    # A stable code (HTTP_STATUS, TIMEOUT, CONNECT_FAILED, URL_NOT_ALLOWED, DISABLED): never the
    # receiver's answer, which could echo anything.
    error_code: str | None = None


# Standard Webhooks' suggested schedule: after the 1st failed attempt wait 5 s, then 5 min,
# 30 min, 2 h, 5 h, 10 h, 10 h ...; the last retry is made at the 24 h mark.
RETRY_DELAYS_SECONDS = (5, 300, 1800, 7200, 18000, 36000)
RETRY_WINDOW = timedelta(hours=24)


def next_retry(first_attempt: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts, or None: give up (keep as failed)."""
    give_up_at = first_attempt + RETRY_WINDOW
    if now >= give_up_at:
        return None
    delay = RETRY_DELAYS_SECONDS[min(max(attempts, 1), len(RETRY_DELAYS_SECONDS)) - 1]
    return min(now + timedelta(seconds=delay), give_up_at)

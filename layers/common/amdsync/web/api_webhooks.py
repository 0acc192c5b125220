"""Webhook subscriptions, their delivery logs and the test ping (SPEC §9.4), admin only.

`PUT /webhooks/{webhookId}` creates (201, with the signing secret — the only time it is ever
shown) or replaces (200, no secret) a subscription; the URL passes the SSRF guard first
(sync/webhook_guard.py). Every change is audited; neither the secret nor the URL is logged.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import Field

from amdsync.domain.journal import AuditEntry
from amdsync.domain.webhooks import (
    MAX_URL_LENGTH,
    WEBHOOK_ID_PATTERN,
    EventType,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from amdsync.sync.journal import new_id
from amdsync.sync.webhook_guard import UrlNotAllowed
from amdsync.sync.webhook_signing import new_secret
from amdsync.sync.webhooks import WebhookServices, new_event_id
from amdsync.web.context import caller_of, services_of
from amdsync.web.paging import page_of
from amdsync.web.problems import Problem
from amdsync.web.routes import BASE_PATH
from amdsync.web.views import View

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
TAGS = ["webhooks"]


class WebhookRequest(View):
    model_config = View.model_config | {"extra": "forbid"}

    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH)
    events: list[EventType] = Field(min_length=1, max_length=len(EventType))
    enabled: bool = True


class WebhookView(View):
    webhook_id: str = Field(alias="webhookId")
    url: str
    events: list[EventType]
    enabled: bool
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class CreatedWebhookView(WebhookView):
    secret: str = Field(description="The signing secret (whsec_…): shown this once, never again")


class WebhookList(View):
    items: list[WebhookView]


class DeliveryView(View):
    event_id: str = Field(alias="eventId")
    type: EventType
    state: str
    attempts: int
    last_status_code: int | None = Field(alias="lastStatusCode")
    latency_ms: int | None = Field(alias="latencyMs")
    next_retry_at: datetime | None = Field(alias="nextRetryAt")
    created_at: datetime = Field(alias="createdAt")
    last_attempt_at: datetime | None = Field(alias="lastAttemptAt")
    error_code: str | None = Field(alias="errorCode")


class DeliveryPage(View):
    items: list[DeliveryView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


def _webhooks() -> WebhookServices:
    return services_of(router).webhooks()


def _view(subscription: WebhookSubscription) -> WebhookView:
    return WebhookView.model_validate(subscription.model_dump())


def _delivery_view(delivery: WebhookDelivery) -> DeliveryView:
    return DeliveryView.model_validate(delivery.model_dump())


def _checked_id(webhook_id: str) -> str:
    if not re.match(WEBHOOK_ID_PATTERN, webhook_id):
        raise Problem(
            422,
            "VALIDATION_FAILED",
            "Invalid or unknown fields: webhookId (1-64 letters, digits, - or _).",
            errors=[{"field": "webhookId", "problem": "pattern", "message": "not a webhook id"}],
        )
    return webhook_id


def _existing(services: WebhookServices, webhook_id: str) -> WebhookSubscription:
    found = services.store.get(_checked_id(webhook_id))
    if found is None:
        raise Problem(404, "WEBHOOK_NOT_FOUND", "No webhook subscription with this id.")
    return found


@router.get(f"{BASE_PATH}/webhooks", tags=TAGS, summary="Webhook subscriptions (never secrets)")
def list_webhooks() -> WebhookList:
    found = sorted(_webhooks().store.subscriptions(), key=lambda s: s.webhook_id)
    return WebhookList(items=[_view(s) for s in found])


@router.put(
    f"{BASE_PATH}/webhooks/<webhookId>",
    tags=TAGS,
    summary="Create or replace a subscription; creating answers the signing secret once",
    description="`url` must be https on a public host; `events` lists the event types wanted.",
    responses={
        200: {"description": "Replaced", "content": {"application/json": {"model": WebhookView}}},
        201: {
            "description": "Created, with its signing secret",
            "content": {"application/json": {"model": CreatedWebhookView}},
        },
    },
)
def put_webhook(webhookId: str, body: Annotated[WebhookRequest, Body()]) -> Response[str]:
    services = _webhooks()
    webhook_id = _checked_id(webhookId)
    try:
        services.guard.check(body.url)
    except UrlNotAllowed as exc:
        raise Problem(
            422,
            "WEBHOOK_URL_NOT_ALLOWED",
            f"url: {exc.reason}; webhooks go to https URLs on public hosts.",
            errors=[{"field": "url", "problem": "url_not_allowed", "message": exc.reason}],
        ) from None
    now = services.clock.now()
    existing = services.store.get(webhook_id)
    subscription = WebhookSubscription(
        webhook_id=webhook_id,
        url=body.url,
        events=tuple(dict.fromkeys(body.events)),
        enabled=body.enabled,
        created_at=existing.created_at if existing else now,
        updated_at=now,
    )
    if existing is not None:
        services.store.put(subscription)
        _audit("webhook_update", webhook_id, _audited(subscription))
        return Response(200, "application/json", _view(subscription).model_dump_json())
    secret = new_secret()
    services.store.put(subscription, secret)
    _audit("webhook_create", webhook_id, _audited(subscription))
    created = CreatedWebhookView(**_view(subscription).model_dump(), secret=secret)
    return Response(201, "application/json", created.model_dump_json())


@router.delete(f"{BASE_PATH}/webhooks/<webhookId>", tags=TAGS, summary="Delete a subscription")
def delete_webhook(webhookId: str) -> Response[str]:
    services = _webhooks()
    if not services.store.delete(_checked_id(webhookId)):
        raise Problem(404, "WEBHOOK_NOT_FOUND", "No webhook subscription with this id.")
    _audit("webhook_delete", webhookId, {})
    return Response(204, "application/json", "")


@router.get(
    f"{BASE_PATH}/webhooks/<webhookId>/deliveries",
    tags=TAGS,
    summary="Delivery log, newest first: attempts, last status code, latency, next retry",
)
def list_deliveries(
    webhookId: str,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
) -> DeliveryPage:
    services = _webhooks()
    subscription = _existing(services, webhookId)
    items, next_cursor = page_of(services.store.deliveries(subscription.webhook_id), cursor, limit)
    return DeliveryPage(items=[_delivery_view(d) for d in items], next_cursor=next_cursor)


@router.post(
    f"{BASE_PATH}/webhooks/<webhookId>/test",
    tags=TAGS,
    summary="Send a signed `ping` event now (one attempt) and show how the receiver answered",
)
def send_test_ping(webhookId: str) -> DeliveryView:
    services = _webhooks()
    subscription = _existing(services, webhookId)
    event = WebhookEvent(
        event_id=new_event_id(),
        type=EventType.PING,
        timestamp=services.clock.now(),
        data={"webhookId": subscription.webhook_id},
    )
    delivery = services.deliverer.send_now(subscription, event)
    _audit("webhook_test", subscription.webhook_id, {"state": delivery.state})
    return _delivery_view(delivery)


def _audited(subscription: WebhookSubscription) -> dict[str, Any]:
    # The URL may carry a receiver's token in its path or query: the audit keeps its host only.
    host = re.sub(r"^[a-z]+://([^/?#]*).*$", r"\1", subscription.url)
    return {
        "host": host,
        "events": ",".join(e.value for e in subscription.events),
        "enabled": subscription.enabled,
    }


def _audit(action: str, webhook_id: str, details: dict[str, Any]) -> None:
    caller = caller_of(router)
    ctx = services_of(router).context()
    ctx.audit.append(
        AuditEntry(
            id=new_id(),
            at=ctx.clock.now(),
            subject=caller.subject,
            role=caller.primary_role,
            action=action,
            entity_type="settings",
            entity_id=f"webhook:{webhook_id}",
            outcome="success",
            source_ip=caller.source_ip,
            user_agent=caller.user_agent,
            details=details,
        )
    )

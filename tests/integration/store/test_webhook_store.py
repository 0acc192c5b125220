"""Webhook subscriptions, secrets and delivery logs in DynamoDB, and the FIFO webhook queue
(moto): the secret lives in an item of its own, listings never carry it, deletes take it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from amdsync.domain.webhooks import (
    DeliveryMessage,
    EventType,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from amdsync.store.webhooks import DynamoWebhooks, SqsWebhookQueue, group_id
from tests.moto_tables import pk_sk_table

NOW = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from pk_sk_table(monkeypatch)


def _subscription(webhook_id: str = "wh-1") -> WebhookSubscription:
    return WebhookSubscription(
        webhook_id=webhook_id,
        url="https://hooks.example.com/x",
        events=(EventType.PING,),
        created_at=NOW,
        updated_at=NOW,
    )


def _event(n: int) -> WebhookEvent:
    return WebhookEvent(event_id=f"msg_{n}", type=EventType.PING,
                        timestamp=NOW + timedelta(seconds=n), data={})  # fmt: skip


def test_the_secret_is_kept_apart_and_deleted_with_the_subscription(table: Any) -> None:
    store = DynamoWebhooks(table, "main")
    store.put(_subscription(), "whsec_c2VjcmV0")
    store.put(_subscription().model_copy(update={"enabled": False}))  # an update keeps it

    assert store.secret("wh-1") == "whsec_c2VjcmV0"
    assert [s.enabled for s in store.subscriptions()] == [False]
    listed = table.query(KeyConditionExpression="pk = :p",
                         ExpressionAttributeValues={":p": "main#WEBHOOKS"})["Items"]  # fmt: skip
    assert "whsec_c2VjcmV0" not in str(listed)
    assert DynamoWebhooks(table, "other").subscriptions() == []  # per practice

    store.put_delivery(WebhookDelivery(webhook_id="wh-1", event_id="msg_1",
                                       type=EventType.PING, created_at=NOW))  # fmt: skip
    assert store.delete("wh-1") and not store.delete("wh-1")
    assert store.secret("wh-1") is None and store.deliveries("wh-1") == []


def test_deliveries_are_found_by_event_newest_first_and_expire(table: Any) -> None:
    store = DynamoWebhooks(table, "main")
    for n in (1, 3, 2):
        event = _event(n)
        store.put_delivery(
            WebhookDelivery(
                webhook_id="wh-1", event_id=event.event_id, type=event.type,
                created_at=event.timestamp,
            )
        )  # fmt: skip
    stored = store.get_delivery("wh-1", _event(2))
    assert stored is not None
    store.put_delivery(stored.model_copy(update={"state": "delivered", "attempts": 1}))

    assert [d.event_id for d in store.deliveries("wh-1")] == ["msg_3", "msg_2", "msg_1"]
    assert store.get_delivery("wh-1", _event(2)).state == "delivered"  # type: ignore[union-attr]
    items = table.scan()["Items"]
    assert all(int(i["expiresAt"]) > NOW.timestamp() + 29 * 86400 for i in items)


def test_group_ids_stay_within_sqs_limits() -> None:
    assert group_id("wh-1", "A-200") == "wh-1:A-200"
    long = group_id("wh-1", "A" * 200)
    assert len(long) <= 128 and long.startswith("wh-1:")


def test_messages_carry_the_event_and_are_deduplicated_per_subscription(
    table: Any,
) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="hooks.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    queue = SqsWebhookQueue(sqs, url)
    message = DeliveryMessage(webhook_id="wh-1", event=_event(1))
    queue.send([message, message.model_copy(update={"webhook_id": "wh-2"})], "A-200")
    queue.send([message], "A-200")  # a repeat within five minutes: dropped by SQS

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                   AttributeNames=["MessageGroupId"])["Messages"]  # fmt: skip
    groups = sorted(m["Attributes"]["MessageGroupId"] for m in received)
    assert groups == ["wh-1:A-200", "wh-2:A-200"]
    assert DeliveryMessage.model_validate_json(received[0]["Body"]).event == _event(1)

"""Webhook subscriptions, their signing secrets and delivery logs in the sync-state table (SSE
with KMS), and the webhook FIFO queue.

Items (partition keys start with the practice id, like every other item):
- `<practice>#WEBHOOKS` / `<webhookId>`: the subscription (never the secret);
- `<practice>#WEBHOOKSECRET` / `<webhookId>`: the signing secret, an item of its own so no
  listing of subscriptions ever reads it; only `secret()` (the sender) does;
- `<practice>#WEBHOOK#<webhookId>#DELIVERIES` / `<created UTC>#<eventId>`: one delivery log
  entry per event, newest last in key order; they expire after DELIVERY_LOG_DAYS (TTL).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from amdsync.domain.webhooks import (
    DeliveryMessage,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from amdsync.store import keys
from amdsync.store.dynamo import from_dynamo, query_all, to_dynamo

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_sqs import SQSClient

DELIVERY_LOG_DAYS = 30
SEND_BATCH = 10  # SQS SendMessageBatch limit
MAX_GROUP_ID = 128  # SQS MessageGroupId limit


class DynamoWebhooks:
    def __init__(self, table: Table, practice: str) -> None:
        self._table = table
        self._practice = practice

    def subscriptions(self) -> list[WebhookSubscription]:
        condition = Key("pk").eq(keys.webhooks(self._practice))
        return [
            WebhookSubscription.model_validate(from_dynamo(i["data"]))
            for i in query_all(self._table, condition)
        ]

    def get(self, webhook_id: str) -> WebhookSubscription | None:
        key = {"pk": keys.webhooks(self._practice), "sk": webhook_id}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return (
            None if item is None else WebhookSubscription.model_validate(from_dynamo(item["data"]))
        )

    def put(self, subscription: WebhookSubscription, secret: str | None = None) -> None:
        if secret is not None:
            # The secret first: a subscription is never visible to the sender without one.
            self._table.put_item(
                Item={
                    "pk": keys.webhook_secrets(self._practice),
                    "sk": subscription.webhook_id,
                    "secret": secret,
                }
            )
        item = {
            "pk": keys.webhooks(self._practice),
            "sk": subscription.webhook_id,
            "data": subscription.model_dump(mode="json"),
        }
        self._table.put_item(Item=to_dynamo(item))

    def delete(self, webhook_id: str) -> bool:
        key = {"pk": keys.webhooks(self._practice), "sk": webhook_id}
        old = self._table.delete_item(Key=key, ReturnValues="ALL_OLD").get("Attributes")
        self._table.delete_item(Key={"pk": keys.webhook_secrets(self._practice), "sk": webhook_id})
        condition = Key("pk").eq(keys.webhook_deliveries(self._practice, webhook_id))
        with self._table.batch_writer() as batch:
            for item in query_all(self._table, condition):
                batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
        return old is not None

    def secret(self, webhook_id: str) -> str | None:
        key = {"pk": keys.webhook_secrets(self._practice), "sk": webhook_id}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return None if item is None else str(item["secret"])

    def get_delivery(self, webhook_id: str, event: WebhookEvent) -> WebhookDelivery | None:
        key = {
            "pk": keys.webhook_deliveries(self._practice, webhook_id),
            "sk": keys.timed(event.timestamp, event.event_id),
        }
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return None if item is None else WebhookDelivery.model_validate(from_dynamo(item["data"]))

    def put_delivery(self, delivery: WebhookDelivery) -> None:
        expires = delivery.created_at + timedelta(days=DELIVERY_LOG_DAYS)
        item = {
            "pk": keys.webhook_deliveries(self._practice, delivery.webhook_id),
            "sk": keys.timed(delivery.created_at, delivery.event_id),
            "data": delivery.model_dump(mode="json"),
            "expiresAt": int(expires.timestamp()),
        }
        self._table.put_item(Item=to_dynamo(item))

    def deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        condition = Key("pk").eq(keys.webhook_deliveries(self._practice, webhook_id))
        items = query_all(self._table, condition)
        found = [WebhookDelivery.model_validate(from_dynamo(i["data"])) for i in items]
        return sorted(found, key=lambda d: (d.created_at, d.event_id), reverse=True)


class SqsWebhookQueue:
    """The FIFO webhook queue: grouped per subscription and appointment (ordered per
    appointment for each receiver, and one failing receiver never holds up another),
    deduplicated per subscription and event."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, messages: list[DeliveryMessage], group: str) -> None:
        for start in range(0, len(messages), SEND_BATCH):
            batch = messages[start : start + SEND_BATCH]
            entries: list[Any] = [
                {
                    "Id": str(i),
                    "MessageBody": m.model_dump_json(by_alias=True),
                    "MessageGroupId": group_id(m.webhook_id, group),
                    "MessageDeduplicationId": f"{m.webhook_id}:{m.event.event_id}"[:128],
                }
                for i, m in enumerate(batch)
            ]
            reply = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            if reply.get("Failed"):
                codes = sorted({f.get("Code", "?") for f in reply["Failed"]})
                raise RuntimeError(f"SQS refused {len(reply['Failed'])} webhook(s): {codes}")

    def defer(self, receipt_handle: str, seconds: float) -> None:
        """Bring a received message back after `seconds` (SQS caps this at 12 h)."""
        self._client.change_message_visibility(
            QueueUrl=self._url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(int(seconds + 0.999), 43_200)),
        )


def group_id(webhook_id: str, group: str) -> str:
    raw = f"{webhook_id}:{group}"
    if len(raw) <= MAX_GROUP_ID:
        return raw
    return f"{webhook_id}:{hashlib.sha256(group.encode()).hexdigest()}"

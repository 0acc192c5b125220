"""In-memory webhook subscriptions and delivery log (the `WebhookStore` port), a recording
queue, and a resolver that answers DNS from a table (no network in unit tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

from amdsync.domain.webhooks import (
    DeliveryMessage,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

# Hosts the fake DNS knows: public documentation-free addresses and a private one.
PUBLIC_HOST = "hooks.example.com"
DNS = {
    PUBLIC_HOST: ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "intranet.example.com": ["10.1.2.3"],
    "sneaky.example.com": ["93.184.215.14", "127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
}


def fake_resolve(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise OSError("name does not resolve")
    return list(DNS[host])


@dataclass
class MemoryWebhookStore:
    subs: dict[str, WebhookSubscription] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    log: dict[tuple[str, str], WebhookDelivery] = field(default_factory=dict)

    def subscriptions(self) -> list[WebhookSubscription]:
        return list(self.subs.values())

    def get(self, webhook_id: str) -> WebhookSubscription | None:
        return self.subs.get(webhook_id)

    def put(self, subscription: WebhookSubscription, secret: str | None = None) -> None:
        if secret is not None:
            self.secrets[subscription.webhook_id] = secret
        self.subs[subscription.webhook_id] = subscription

    def delete(self, webhook_id: str) -> bool:
        self.secrets.pop(webhook_id, None)
        self.log = {k: v for k, v in self.log.items() if k[0] != webhook_id}
        return self.subs.pop(webhook_id, None) is not None

    def secret(self, webhook_id: str) -> str | None:
        return self.secrets.get(webhook_id)

    def get_delivery(self, webhook_id: str, event: WebhookEvent) -> WebhookDelivery | None:
        return self.log.get((webhook_id, event.event_id))

    def put_delivery(self, delivery: WebhookDelivery) -> None:
        self.log[(delivery.webhook_id, delivery.event_id)] = delivery

    def deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        found = [d for (w, _), d in self.log.items() if w == webhook_id]
        return sorted(found, key=lambda d: (d.created_at, d.event_id), reverse=True)


@dataclass
class RecordingWebhookQueue:
    sent: list[tuple[str, DeliveryMessage]] = field(default_factory=list)

    def send(self, messages: list[DeliveryMessage], group: str) -> None:
        self.sent.extend((group, m) for m in messages)

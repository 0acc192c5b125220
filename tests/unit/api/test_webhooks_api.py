"""The webhook routes (SPEC §9.4): subscriptions with a secret shown once, the SSRF guard at
subscribe time, the delivery log, admin only, every change audited."""

from __future__ import annotations

from typing import Any

import pytest

from amdsync.domain.webhooks import EventType, WebhookDelivery
from tests.fakes.webhooks import PUBLIC_HOST
from tests.unit.api.support import Api

URL = f"https://{PUBLIC_HOST}/amdsync?token=receiver-own-token"
BODY: dict[str, Any] = {"url": URL, "events": ["appointment.changed", "conflict.opened"],
                        "enabled": True}  # fmt: skip


def _put(api: Api, webhook_id: str = "wh-1", body: dict[str, Any] | None = None) -> Any:
    return api.call("PUT", "/webhooks/{webhookId}", path_params={"webhookId": webhook_id},
                    body=BODY if body is None else body)  # fmt: skip


def test_creating_answers_the_secret_once_and_later_reads_never_show_it() -> None:
    api = Api()
    created = _put(api)
    assert created.status == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert {k: body[k] for k in ("webhookId", "url", "events", "enabled")} == {
        "webhookId": "wh-1", **BODY}  # fmt: skip

    listed = api.call("GET", "/webhooks")
    replaced = _put(api, body={**BODY, "enabled": False})

    assert listed.status == 200 and replaced.status == 200
    assert [w["webhookId"] for w in listed.json()["items"]] == ["wh-1"]
    for reply in (listed, replaced):
        assert "secret" not in reply.text and body["secret"] not in reply.text
    assert replaced.json()["enabled"] is False
    assert replaced.json()["createdAt"] == body["createdAt"]
    assert api.services.webhooks().store.secret("wh-1") == body["secret"]  # kept, unchanged


def test_changes_are_audited_without_the_secret_or_the_urls_path() -> None:
    api = Api()
    secret = _put(api).json()["secret"]
    _put(api, body={**BODY, "enabled": False})
    api.call("DELETE", "/webhooks/{webhookId}", path_params={"webhookId": "wh-1"})

    entries = api.world.audit.entries
    assert [e.action for e in entries] == ["webhook_create", "webhook_update", "webhook_delete"]
    assert all(e.entity_id == "webhook:wh-1" and e.subject == "user-1" for e in entries)
    assert entries[0].details == {
        "host": PUBLIC_HOST, "events": ",".join(BODY["events"]), "enabled": True}  # fmt: skip
    text = str([e.model_dump() for e in entries])
    assert secret not in text and "receiver-own-token" not in text


@pytest.mark.parametrize(
    "url",
    [
        f"http://{PUBLIC_HOST}/hooks",
        "https://127.0.0.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://intranet.example.com/hooks",
        "https://[::1]:8443/",
    ],
)
def test_urls_that_are_not_https_on_a_public_host_are_refused(url: str) -> None:
    api = Api()
    reply = _put(api, body={**BODY, "url": url})
    body = reply.assert_problem(422, "WEBHOOK_URL_NOT_ALLOWED")
    assert body["errors"][0]["field"] == "url"
    assert url not in reply.text  # never echoed
    assert api.services.webhooks().store.subscriptions() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "events": []}, "events"),
        ({**BODY, "events": ["appointment.deleted"]}, "events"),
        ({**BODY, "secret": "whsec_mine"}, "secret"),
        ({"events": ["ping"]}, "url"),
    ],
)
def test_invalid_bodies_name_the_field(body: dict[str, Any], field: str) -> None:
    reply = _put(Api(), body=body)
    problem = reply.assert_problem(422, "VALIDATION_FAILED")
    assert any(e["field"].startswith(field) for e in problem["errors"]), problem


def test_a_bad_webhook_id_is_refused() -> None:
    _put(Api(), webhook_id="not an id!").assert_problem(422, "VALIDATION_FAILED")


def test_unknown_ids_are_404() -> None:
    api = Api()
    for method, path in (("DELETE", "/webhooks/{webhookId}"),
                         ("GET", "/webhooks/{webhookId}/deliveries"),
                         ("POST", "/webhooks/{webhookId}/test")):  # fmt: skip
        api.call(method, path, path_params={"webhookId": "nope"}).assert_problem(
            404, "WEBHOOK_NOT_FOUND"
        )


def test_delete_removes_the_subscription_and_its_secret() -> None:
    api = Api()
    _put(api)
    reply = api.call("DELETE", "/webhooks/{webhookId}", path_params={"webhookId": "wh-1"})
    assert reply.status == 204
    assert api.call("GET", "/webhooks").json()["items"] == []
    assert api.services.webhooks().store.secret("wh-1") is None


def test_the_delivery_log_pages_newest_first_with_the_spec_fields() -> None:
    api = Api()
    _put(api)
    store = api.services.webhooks().store
    clock = api.world.clock
    for n in range(3):
        clock.advance(minutes=1)
        store.put_delivery(WebhookDelivery(
            webhook_id="wh-1", event_id=f"msg_{n}", type=EventType.APPOINTMENT_SYNCED,
            created_at=clock.now(), attempts=n + 1, last_status_code=500, latency_ms=12,
            next_retry_at=clock.now(), state="pending", error_code="HTTP_STATUS"))  # fmt: skip

    first = api.call("GET", "/webhooks/{webhookId}/deliveries",
                     path_params={"webhookId": "wh-1"}, query={"limit": "2"}).json()  # fmt: skip
    second = api.call("GET", "/webhooks/{webhookId}/deliveries", path_params={"webhookId": "wh-1"},
                      query={"limit": "2", "cursor": first["nextCursor"]}).json()  # fmt: skip

    assert [d["eventId"] for d in first["items"] + second["items"]] == ["msg_2", "msg_1", "msg_0"]
    assert second["nextCursor"] is None
    assert set(first["items"][0]) >= {"eventId", "type", "attempts", "lastStatusCode",
                                      "latencyMs", "nextRetryAt", "state"}  # fmt: skip


def test_secrets_never_appear_in_the_openapi_document_examples() -> None:
    document = Api().call("GET", "/openapi.json", roles=None).json()
    paths = document["paths"]
    assert set(paths["/api/advancedmd/webhooks/{webhookId}"]) == {"put", "delete"}
    assert "post" in paths["/api/advancedmd/webhooks/{webhookId}/test"]
    assert "get" in paths["/api/advancedmd/webhooks/{webhookId}/deliveries"]

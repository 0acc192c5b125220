"""Every sample event in events/api (one per route of API_ROUTES, with realistic ids, bodies and
JWT claims as API Gateway passes them) through the real api handler, cold-started with Lambda's
environment against moto and the AMD simulator. The table below is the expected status of each
event, sent in this order on one fresh stack (registrations first, so the reads find them);
then every mutation is sent again with its Idempotency-Key and must be replayed."""

from __future__ import annotations

import json
from typing import Any

from amdsync.web.routes import API_ROUTES
from tests.integration.functions.conftest import AwsHarness
from tests.lambda_support import EVENTS, FakeLambdaContext, load_event

EXPECTED: list[tuple[str, int]] = [
    ("get-health", 200),
    ("get-openapi", 200),
    ("put-patients-by-patient-id", 202),
    ("get-patients-by-patient-id-sync-status", 200),
    ("post-patients-by-patient-id-sync", 202),
    ("get-patients-by-patient-id-sync-logs", 200),
    ("put-appointments-by-appointment-id", 202),
    ("get-appointments-by-appointment-id-sync-status", 200),
    ("post-appointments-by-appointment-id-sync", 202),
    ("post-appointments-by-appointment-id-status", 202),
    ("post-appointments-bulk-sync", 202),
    ("get-appointments-bulk-sync-by-job-id", 404),  # job ids are generated: the sample's is not
    ("post-appointments-bulk-sync-by-job-id-cancel", 404),
    ("post-appointments-pull-updates", 202),
    ("get-appointments-pull-updates-by-pull-id", 404),  # pull ids are generated too
    ("get-sync-dashboard", 200),
    ("get-sync-logs", 200),
    ("get-sync-stats", 200),
    ("get-me", 200),
    ("get-schedule", 200),
    ("get-sync-status", 200),
    ("get-appointments", 200),
    ("get-visits-by-visit-id", 200),  # the simulator's seeded visit 5001
    ("get-changes", 200),
    ("get-conflicts", 200),
    ("post-conflicts-by-conflict-id-resolve", 404),  # no conflict on a fresh stack
    ("get-settings", 200),
    ("put-settings", 200),
    ("patch-settings", 200),
    ("post-settings-test-connection", 200),
    ("get-providers", 200),
    ("get-facilities", 200),
    ("get-mappings-by-kind", 200),
    ("put-mappings-by-kind-by-ehr-id", 200),
    ("put-webhooks-by-webhook-id", 201),
    ("get-webhooks", 200),
    ("post-webhooks-by-webhook-id-test", 200),
    ("get-webhooks-by-webhook-id-deliveries", 200),
    ("delete-webhooks-by-webhook-id", 204),
    ("post-patients-sync-all", 202),
    ("get-sync-failed", 200),
    ("post-sync-failed-by-job-id-retry", 404),  # failed jobs come from the worker: none here
    ("delete-sync-failed-by-job-id", 404),
    ("post-sync-failed-retry-all", 202),
    ("get-audit", 200),  # the settings changes above, read back
    ("get-ui-by-page", 200),
    ("get-ui-static-by-file", 200),
    ("get-widgets-by-name", 200),
]
# Never answered from the idempotency record, on purpose: a webhook's creation answer holds its
# signing secret, which must not sit in the control table for a day (web/idempotency.py).
NOT_REPLAYED = {"put-webhooks-by-webhook-id"}


def _events() -> dict[str, dict[str, Any]]:
    return {p.stem: load_event(f"api/{p.name}") for p in sorted((EVENTS / "api").glob("*.json"))}


def test_one_sample_event_per_route_and_a_status_for_each() -> None:
    events = _events()
    assert sorted(events) == sorted(name for name, _ in EXPECTED)
    keys = sorted(e["routeKey"] for e in events.values())
    assert keys == sorted(f"{r.method} {r.full_path}" for r in API_ROUTES)


def test_sample_events_look_like_api_gateway_sent_them() -> None:
    routes = {f"{r.method} {r.full_path}": r for r in API_ROUTES}
    for name, event in _events().items():
        route = routes[event["routeKey"]]
        assert event["version"] == "2.0", name
        assert event["requestContext"]["routeKey"] == event["routeKey"], name
        assert event["requestContext"]["http"]["method"] == route.method, name
        for param in event.get("pathParameters", {}).values():
            assert param in event["rawPath"], name
        claims = event["requestContext"].get("authorizer", {}).get("jwt", {}).get("claims")
        if route.roles is None:
            assert claims is None, name
        else:  # API Gateway flattens array claims to "[a b]"
            assert claims["roles"].startswith("[") and claims["roles"].endswith("]"), name
            assert set(claims["roles"][1:-1].split()) <= {r.value for r in route.roles}, name
        if route.method in ("POST", "PUT"):
            assert event["headers"].get("idempotency-key"), name
        if "body" in event:
            json.loads(event["body"])


def _headers(response: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in (response.get("headers") or {}).items()}


def test_every_sample_event_through_the_real_api_handler(aws: AwsHarness) -> None:
    api = aws.load("api")
    events = _events()
    got: list[tuple[str, int]] = []
    bodies: dict[str, dict[str, Any]] = {}
    for name, _ in EXPECTED:
        response = api.lambda_handler(events[name], FakeLambdaContext())
        got.append((name, response["statusCode"]))
        bodies[name] = response
        if response["statusCode"] >= 400:
            assert _headers(response)["content-type"] == "application/problem+json", name
            assert {"type", "title", "status", "detail", "code"} <= set(
                json.loads(response["body"])
            ), name
    assert got == EXPECTED

    # Replays: the same event again (same Idempotency-Key, same body) answers from the record.
    for name, status in EXPECTED:
        event = events[name]
        if event["requestContext"]["http"]["method"] not in ("POST", "PUT") or status >= 300:
            continue
        if name in NOT_REPLAYED:
            continue
        again = api.lambda_handler(event, FakeLambdaContext())
        assert again["statusCode"] == status, name
        assert _headers(again).get("idempotent-replayed") == "true", name
        assert again["body"] == bodies[name]["body"], name

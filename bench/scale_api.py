"""The API's figures over the seeded store, in-process: the real handler (functions/api/app.py,
imported with the ApiFunction's Lambda environment) invoked with API Gateway HttpApi v2 events
(events/api/*.json, dev JWTs), against the stack's moto. No HTTP front and no network in the
timing: what Lambda would bill for the request, on a warm instance."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from types import ModuleType
from typing import Any

from local.runner.lambda_environment import lambda_environment
from local.runner.stack import LocalStack
from tests.lambda_support import FakeLambdaContext, load_event, load_handler

BASE = "/api/advancedmd"


@contextmanager
def function_environment(stack: LocalStack, logical_id: str) -> Iterator[dict[str, str]]:
    """os.environ as Lambda gives `logical_id` (template.yaml) for the duration."""
    assert stack.moto is not None
    environment = lambda_environment(stack.functions[logical_id], stack.moto.environment())
    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        yield environment
    finally:
        os.environ.clear()
        os.environ.update(saved)


def load_api(stack: LocalStack) -> ModuleType:
    with function_environment(stack, "ApiFunction"):
        return load_handler("api")


def invoke(api: ModuleType, name: str, **changes: Any) -> tuple[int, dict[str, Any], float]:
    """One request: (status, JSON body, seconds inside the handler)."""
    event = load_event(f"api/{name}.json")
    event.update(changes)
    started = time.perf_counter()
    response = api.lambda_handler(event, FakeLambdaContext())
    elapsed = time.perf_counter() - started
    return response["statusCode"], json.loads(response["body"] or "null"), elapsed


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "requests": len(ordered),
    }


def bulk_start(api: ModuleType, first: date, samples: int) -> dict[str, Any]:
    """POST /appointments/bulk-sync for 366 days: 202 `planning` with a job id (SPEC §9.3)."""
    headers = dict(load_event("api/post-appointments-bulk-sync.json")["headers"])
    body = json.dumps({"from": first.isoformat(), "to": (first + timedelta(days=366)).isoformat()})
    warm = {**headers, "idempotency-key": "scale-bench-warm-0001"}
    invoke(api, "post-appointments-bulk-sync", body=body, headers=warm)  # the instance's first
    seconds: list[float] = []
    for sample in range(samples):
        keyed = {**headers, "idempotency-key": f"scale-bench-bulk-{sample:04d}"}
        status, reply, elapsed = invoke(
            api, "post-appointments-bulk-sync", body=body, headers=keyed
        )
        assert status == 202 and reply["state"] == "planning" and reply["jobId"], (status, reply)
        seconds.append(elapsed)
    return {"range_days": 366, **percentiles(seconds)}


def sync_status(api: ModuleType, appointment_id: str) -> float:
    """GET /appointments/{id}/sync-status: one record by key."""
    path = f"{BASE}/appointments/{appointment_id}/sync-status"
    event = load_event("api/get-appointments-by-appointment-id-sync-status.json")
    context = {**event["requestContext"], "http": {**event["requestContext"]["http"], "path": path}}
    status, reply, elapsed = invoke(
        api,
        "get-appointments-by-appointment-id-sync-status",
        rawPath=path,
        pathParameters={"appointmentId": appointment_id},
        requestContext=context,
    )
    assert status == 200 and reply["amdSyncStatus"], (status, reply)
    return elapsed


def repeat(api: ModuleType, name: str, samples: int) -> list[float]:
    """`samples` timed requests of the sample event `name` (GET sync/logs: one page of 50;
    GET sync/stats: 7 days of hourly counters), after one untimed warm-up."""
    out: list[float] = []
    for _ in range(samples + 1):
        status, reply, elapsed = invoke(api, name)
        assert status == 200, (name, status, reply)
        out.append(elapsed)
    return out[1:]

"""`/sync/dashboard` and `/sync/stats` speak camelCase like the rest of the API, and their totals
add up (SPEC §9.4): `total = succeeded + failed + skipped + deferred`, rate-limit deferrals
counted apart from the syncs that succeeded or failed."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from amdsync.domain.journal import SyncLogEntry
from tests.unit.api.support import Api

SNAKE = re.compile(r"[a-z0-9]_[a-z0-9]")


def _entry(api: Api, n: int, **fields: Any) -> None:
    values: dict[str, Any] = {
        "id": f"log-{n:04d}",
        "at": (api.world.clock.now() - timedelta(minutes=n)).isoformat(),
        "entityType": "appointment",
        "entityId": f"A-{n}",
        "operation": "create",
        "direction": "to_amd",
        "outcome": "success",
        "durationMs": 100 + n,
        "amdCalls": 2,
    } | fields
    api.world.ctx.logs.append(SyncLogEntry.model_validate(values))


def _seeded() -> Api:
    api = Api()
    n = 0
    for outcome, count in (("success", 5), ("error", 2), ("conflict", 1), ("skipped", 3)):
        for _ in range(count):
            n += 1
            code = {"error": "AMD_UNAVAILABLE", "conflict": "CONFLICT"}.get(outcome)
            _entry(api, n, outcome=outcome, errorCode=code)
    for _ in range(4):  # our limiter asked to wait: not a sync that failed
        n += 1
        _entry(api, n, outcome="deferred", errorCode="RATE_LIMITED", operation="defer")
    n += 1  # a pull is not a sync, and neither is its deferral
    _entry(api, n, entityType="pull", operation="pull")
    n += 1
    _entry(api, n, entityType="pull", operation="pull", outcome="deferred")
    return api


def assert_camel_keys(value: Any, where: str = "") -> None:
    """Every object key, at any depth, is camelCase (error-code maps excepted: their keys are
    the codes themselves, data rather than field names)."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert not SNAKE.search(key), f"{where}.{key}"
            if key != "errorsByType":
                assert_camel_keys(item, f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            assert_camel_keys(item, where + "[]")


def test_stats_are_camel_case_and_add_up() -> None:
    reply = _seeded().call("GET", "/sync/stats", query={"period": "24h"})
    assert reply.status == 200
    stats = reply.json()
    assert_camel_keys(stats)
    assert (stats["succeeded"], stats["failed"], stats["skipped"], stats["deferred"]) == (
        5,
        3,
        3,
        4,
    )
    assert (
        stats["total"]
        == 15
        == (stats["succeeded"] + stats["failed"] + stats["skipped"] + stats["deferred"])
    )
    # Decided syncs only: deferrals and skips neither help nor hurt the rate.
    assert stats["successRate"] == round(5 / 8, 4)
    assert stats["errorsByType"] == {"AMD_UNAVAILABLE": 2, "CONFLICT": 1}
    assert stats["rateLimitWaits"] == 5  # every deferral, the pull's included
    assert stats["conflicts"] == 1
    assert stats["p95DurationMs"] is not None and stats["averageDurationMs"] is not None
    assert stats["queueDepth"] == 0 and stats["period"] == "24h"


def test_dashboard_is_camel_case_and_its_cards_add_up() -> None:
    api = _seeded()
    reply = api.call("GET", "/sync/dashboard")
    assert reply.status == 200
    board = reply.json()
    assert_camel_keys(board)
    for card in (board["patients"], board["appointments"]):
        assert set(card) == {"total", "synced", "pending", "error", "conflict", "lastSynced"}
        assert card["total"] == card["synced"] + card["pending"] + card["error"] + card["conflict"]
    charges = board["charges"]
    assert set(charges) == {"seen", "withCharges", "withoutCharges"}
    assert charges["seen"] == charges["withCharges"] + charges["withoutCharges"]
    assert set(board["queue"]) == {"depth", "estimatedWaitSeconds"}


def test_the_openapi_document_names_the_camel_case_fields() -> None:
    document = Api().call("GET", "/openapi.json", roles=None).json()
    schemas = document["components"]["schemas"]
    stats = next(s for name, s in schemas.items() if name.startswith("SyncStats"))
    assert {"successRate", "p95DurationMs", "skipped", "deferred", "queueDepth"} <= set(
        stats["properties"]
    )
    assert not [k for k in stats["properties"] if SNAKE.search(k)]

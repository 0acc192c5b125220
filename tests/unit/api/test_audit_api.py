"""SPEC §9.4 audit trail over the API: newest first, paged, filtered by entity, actor, action
and dates (practice-local days), read by query only (never a scan), admin only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from amdsync.domain.journal import AuditEntry
from amdsync.sync.journal import new_id
from tests.unit.api.ops_support import OpsApi, ops_api

FIELDS = {"at", "actor", "action", "entityType", "entityId", "outcome", "details"}


@pytest.fixture
def ops(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpsApi]:
    yield from ops_api(monkeypatch)


@pytest.fixture
def no_scans(ops: OpsApi) -> list[str]:
    """Every Scan the audit table is asked for (the reader must query)."""
    scans: list[str] = []
    client = ops.trail._table.meta.client
    client.meta.events.register("before-call.dynamodb.Scan", lambda **_: scans.append("scan"))
    return scans


def add(
    ops: OpsApi,
    at: str,
    *,
    action: str = "settings_update",
    entity: tuple[str, str] = ("settings", "settings"),
    subject: str = "admin-1",
) -> AuditEntry:
    entry = AuditEntry(
        id=new_id(),
        at=datetime.fromisoformat(at),
        subject=subject,
        role="admin",
        action=action,
        entity_type=entity[0],  # type: ignore[arg-type]
        entity_id=entity[1],
        outcome="success",
        details={"version": 2},
    )
    ops.trail.append(entry)
    return entry


def get(ops: OpsApi, **query: str) -> dict[str, Any]:
    reply = ops.api.call("GET", "/audit", query=query)
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def walk(ops: OpsApi, **query: str) -> list[str]:
    """Follow nextCursor to the end; the entity ids in the order served."""
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(50):
        body = get(ops, **query, **({"cursor": cursor} if cursor else {}))
        assert len(body["items"]) <= int(query.get("limit", "50"))
        seen += [i["entityId"] for i in body["items"]]
        cursor = body["nextCursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


def test_newest_first_with_the_contract_fields(ops: OpsApi, no_scans: list[str]) -> None:
    add(ops, "2026-11-20T10:00:00+00:00", entity=("appointment", "A-old"))
    add(ops, "2026-11-24T10:00:00+00:00", entity=("appointment", "A-new"), subject="admin-2")

    items = get(ops)["items"]

    assert [i["entityId"] for i in items] == ["A-new", "A-old"]
    assert set(items[0]) == FIELDS
    assert items[0]["actor"] == {"subject": "admin-2", "role": "admin"}
    assert items[0]["at"].startswith("2026-11-24T10:00:00")
    assert items[0]["details"] == {"version": 2}
    assert no_scans == []


def test_pages_across_months_without_losing_or_repeating_an_entry(
    ops: OpsApi, no_scans: list[str]
) -> None:
    start = datetime.fromisoformat("2026-09-03T12:00:00+00:00")
    for n in range(9):  # spread over September, October and November
        add(ops, (start + timedelta(days=9 * n)).isoformat(), entity=("conflict", f"C-{n}"))

    served = walk(ops, limit="2", **{"from": "2026-09-01"})

    assert served == [f"C-{n}" for n in reversed(range(9))]
    assert no_scans == []


def test_one_entitys_history_by_the_entity_index(ops: OpsApi, no_scans: list[str]) -> None:
    for n in range(4):
        add(ops, f"2026-11-1{n}T10:00:00+00:00", entity=("appointment", "A-7"))
        add(ops, f"2026-11-1{n}T11:00:00+00:00", entity=("appointment", "A-8"))

    served = walk(ops, entityType="appointment", entityId="A-7", limit="3")

    assert served == ["A-7"] * 4
    assert no_scans == []


def test_filters_by_actor_and_action(ops: OpsApi) -> None:
    add(ops, "2026-11-20T10:00:00+00:00", subject="admin-1", action="settings_update")
    add(ops, "2026-11-21T10:00:00+00:00", subject="admin-2", action="settings_update")
    add(ops, "2026-11-22T10:00:00+00:00", subject="admin-2", action="mapping_update")

    by_actor = get(ops, actor="admin-2")["items"]
    by_both = get(ops, actor="admin-2", action="settings_update")["items"]

    assert [i["at"][:10] for i in by_actor] == ["2026-11-22", "2026-11-21"]
    assert [i["at"][:10] for i in by_both] == ["2026-11-21"]


def test_dates_are_whole_practice_local_days(ops: OpsApi) -> None:
    # 2026-11-21 in Denver (UTC-7) runs from 07:00 UTC on the 21st to 07:00 UTC on the 22nd.
    add(ops, "2026-11-21T06:59:00+00:00", entity=("conflict", "before"))
    add(ops, "2026-11-21T07:00:00+00:00", entity=("conflict", "first"))
    add(ops, "2026-11-22T06:59:00+00:00", entity=("conflict", "last"))
    add(ops, "2026-11-22T07:00:00+00:00", entity=("conflict", "after"))

    items = get(ops, **{"from": "2026-11-21", "to": "2026-11-21"})["items"]

    assert [i["entityId"] for i in items] == ["last", "first"]


def test_entries_older_than_the_default_window_need_a_from(ops: OpsApi) -> None:
    add(ops, "2026-06-01T10:00:00+00:00", entity=("conflict", "C-june"))
    assert get(ops)["items"] == []
    assert [i["entityId"] for i in get(ops, **{"from": "2026-05-01"})["items"]] == ["C-june"]


@pytest.mark.parametrize(
    "query",
    [
        {"entityType": "password"},
        {"from": "2026-11-22", "to": "2026-11-21"},
        {"from": "yesterday"},
        {"limit": "0"},
    ],
)
def test_invalid_filters_are_422_naming_the_field(ops: OpsApi, query: dict[str, str]) -> None:
    body = ops.api.call("GET", "/audit", query=query).assert_problem(422)
    assert next(iter(query)) in body["detail"]


def test_a_foreign_cursor_is_400(ops: OpsApi) -> None:
    forged = "eyJrIjp7InBrIjoib3RoZXIjQVVESVQjMjAyNi0xMSIsInNrIjoieCJ9LCJtIjoiMjAyNi0xMSJ9"
    ops.api.call("GET", "/audit", query={"cursor": forged}).assert_problem(400, "BAD_CURSOR")
    ops.api.call("GET", "/audit", query={"cursor": "%%%"}).assert_problem(400, "BAD_CURSOR")


def test_only_admins_read_the_audit_trail(ops: OpsApi) -> None:
    for role in ("[billing]", "[provider]", "[ehr]"):
        ops.api.call("GET", "/audit", roles=role).assert_problem(403, "FORBIDDEN")

"""A pull's stored window and checkpoint, and manual pull requests, against moto."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from amdsync.domain.pulls import CompletedPull, PullCheckpoint, PullRequest
from amdsync.store.control import DynamoWatermark
from amdsync.store.pulls import DynamoPullRequests, DynamoPullWindows
from tests.moto_tables import pk_sk_table

PRACTICE = "PR-1"
T0 = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from pk_sk_table(monkeypatch, "control")


def _visit(visit_id: str) -> dict[str, Any]:
    return {"visit_id": visit_id, "patient_id": "900", "start": "2026-12-02T09:00:00",
            "status_code": 1, "unresolved": []}  # fmt: skip


def test_a_window_round_trips_piece_by_piece_and_clears(table: Any) -> None:
    windows = DynamoPullWindows(table, PRACTICE)
    assert windows.checkpoint() is None
    checkpoint = PullCheckpoint(
        window_id="w-1", since="2026-12-01 09:00:00", servertime="2026-12-01 09:05:00",
        chunks=2, started_at=T0,
    )  # fmt: skip
    windows.store_window(checkpoint, [[_visit("1"), _visit("2")], [_visit("3")]])
    assert windows.checkpoint() == checkpoint
    assert [v["visit_id"] for v in windows.chunk("w-1", 1)] == ["3"]
    moved = checkpoint.model_copy(update={"next_chunk": 1, "counts": {"updated": 2}})
    windows.save_checkpoint(moved)
    assert windows.checkpoint() == moved
    windows.clear(moved)
    assert windows.checkpoint() is None
    assert table.scan()["Items"] == []
    with pytest.raises(LookupError):
        windows.chunk("w-1", 0)


def test_pull_requests_round_trip(table: Any) -> None:
    requests = DynamoPullRequests(table, PRACTICE)
    pull = PullRequest(pull_id="p-1", requested_at=T0, actor="billing@x")
    requests.create(pull)
    assert requests.get("p-1") == pull
    done = pull.model_copy(
        update={"state": "done", "finished_at": T0, "summary": {"updated": 3}, "status": "ok"}
    )
    requests.save(done)
    assert requests.get("p-1") == done and requests.get("p-2") is None


def test_the_watermark_keeps_the_pull_that_moved_it(table: Any) -> None:
    watermark = DynamoWatermark(table, PRACTICE)
    assert watermark.last_completed() is None
    version = watermark.advance("2026-12-01 09:05:00", T0, 0)  # a pull that recorded nothing
    assert watermark.last_completed() is None and watermark.succeeded_at() == T0
    completed = CompletedPull(read_at=T0, summary={"updated": 2, "created": 1})
    watermark.advance("2026-12-01 09:06:00", T0, version, completed)
    assert watermark.last_completed() == completed
    assert watermark.get().value == "2026-12-01 09:06:00"

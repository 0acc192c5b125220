"""The dashboard's record counters: a save that syncs moves its counts and the newest sync time
in one request; an older sync time still moves the counts and leaves the newer time
(moto table made from template.yaml)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from amdsync.store.counters import RecordCounters
from tests.moto_tables import template_table


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from template_table(monkeypatch, "SyncStateTable")


def requests_of(table: Any) -> Counter[str]:
    made: Counter[str] = Counter()
    table.meta.client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: made.update([model.name])
    )
    return made


def test_a_synced_save_moves_counts_and_time_in_one_request(state: Any) -> None:
    counters = RecordCounters(state, "main", "APPOINTMENTS")
    made = requests_of(state)
    counters.move(None, {"status#pending"}, None)
    counters.move({"status#pending"}, {"status#synced"}, "2026-12-05T10:00:00Z")
    assert made == Counter({"UpdateItem": 2})
    counts, latest = counters.read()
    assert counts == {"status#pending": 0, "status#synced": 1}
    assert latest == "2026-12-05T10:00:00Z"


def test_an_older_sync_time_moves_the_counts_and_keeps_the_newer_time(state: Any) -> None:
    counters = RecordCounters(state, "main", "APPOINTMENTS")
    counters.move(None, {"status#synced"}, "2026-12-05T10:00:00Z")
    counters.move(None, {"status#synced"}, "2026-12-05T09:00:00Z")  # a slower worker's save
    counters.move({"status#synced"}, {"status#synced"}, "2026-12-05T11:00:00Z")  # no count moves
    counts, latest = counters.read()
    assert counts == {"status#synced": 2}
    assert latest == "2026-12-05T11:00:00Z"

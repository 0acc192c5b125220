"""The change feed's `append_once` against moto (issue 15 item 6): many visits' entries in as
few transactions as fit, each visit's entries exactly once per scope however often a pull piece
is replayed, sequence numbers without gaps across appends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from amdsync.domain.feed import ChangeFeedEntry
from amdsync.store.feed import DynamoChangeFeed
from tests.moto_tables import pk_sk_table

PRACTICE = "PR-1"
T0 = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from pk_sk_table(monkeypatch, "state")


def _entries(visit: str, kinds: tuple[str, ...] = ("status",)) -> list[ChangeFeedEntry]:
    return [
        ChangeFeedEntry(
            appointment_id=f"A-{visit}",
            advanced_md_visit_id=visit,
            kind=kind,
            fields={"n": visit},
            at=T0,
        )
        for kind in kinds
    ]


def test_a_replayed_piece_publishes_only_what_it_had_not(table: Any) -> None:
    feed = DynamoChangeFeed(table, PRACTICE)
    # 150 visits with 2 entries each: 300 entries, more than one transaction holds (98).
    sources = {str(v): _entries(str(v), ("status", "time")) for v in range(150)}
    first = feed.append_once("w-1#000000", dict(list(sources.items())[:100]))
    assert len(first) == 200
    replay = feed.append_once("w-1#000000", sources)  # the same piece after a crash
    assert len(replay) == 100  # only the 50 visits not yet published
    assert feed.append_once("w-1#000000", sources) == []
    published = feed.read(0, 1000)
    assert [e.sequence for e in published] == list(range(1, 301))  # no gaps, no repeats
    assert len({(e.advanced_md_visit_id, e.kind) for e in published}) == 300
    assert feed.head() == 300


def test_another_scope_publishes_again_and_empty_sources_write_nothing(table: Any) -> None:
    feed = DynamoChangeFeed(table, PRACTICE)
    feed.append(_entries("x"))  # an ordinary append first: append_once follows its head
    assert len(feed.append_once("w-1#000000", {"1": _entries("1"), "2": []})) == 1
    assert [e.sequence for e in feed.append_once("w-1#000001", {"1": _entries("1")})] == [3]
    assert feed.append_once("w-1#000001", {"2": []}) == []
    assert feed.head() == 3

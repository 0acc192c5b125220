"""`batch_get`, the one BatchGetItem helper: pages of at most 100 keys, missing keys left out,
projection applied, unprocessed keys asked again (moto table made from template.yaml)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from amdsync.store.dynamo import BATCH_GET, batch_get
from tests.moto_tables import template_table


@pytest.fixture
def state(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from template_table(monkeypatch, "SyncStateTable")


def _fill(table: Any, count: int) -> None:
    with table.batch_writer() as writer:
        for n in range(count):
            writer.put_item(Item={"pk": f"K#{n}", "sk": "R", "v": n, "extra": "x"})


def test_more_keys_than_one_page_come_back_once_each_and_missing_keys_are_left_out(
    state: Any,
) -> None:
    _fill(state, BATCH_GET * 2 + 30)
    wanted = [{"pk": f"K#{n}", "sk": "R"} for n in range(BATCH_GET * 2 + 40)]
    calls: list[int] = []
    state.meta.client.meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem",
        lambda params, **_: calls.append(len(params["RequestItems"][state.name]["Keys"])),
    )
    found = batch_get(state, wanted)
    assert sorted(int(i["v"]) for i in found) == list(range(BATCH_GET * 2 + 30))
    assert calls == [BATCH_GET, BATCH_GET, 40]


def test_projection_reads_only_the_named_attributes(state: Any) -> None:
    _fill(state, 3)
    found = batch_get(state, [{"pk": "K#1", "sk": "R"}], "pk, v")
    assert found == [{"pk": "K#1", "v": 1}]


def test_unprocessed_keys_are_asked_again(state: Any) -> None:
    _fill(state, 5)
    client = state.meta.client
    real = client.batch_get_item
    asked: list[int] = []

    def throttled_once(**kwargs: Any) -> Any:
        asked.append(len(kwargs["RequestItems"][state.name]["Keys"]))
        if len(asked) > 1:
            return real(**kwargs)
        page = kwargs["RequestItems"][state.name]
        first = real(RequestItems={state.name: {**page, "Keys": page["Keys"][:2]}})
        first["UnprocessedKeys"] = {state.name: {**page, "Keys": page["Keys"][2:]}}
        return first

    client.batch_get_item = throttled_once
    try:
        found = batch_get(state, [{"pk": f"K#{n}", "sk": "R"} for n in range(5)])
    finally:
        client.batch_get_item = real
    assert sorted(int(i["v"]) for i in found) == [0, 1, 2, 3, 4]
    assert asked == [5, 3]

"""`make bench`'s scale section (issue 15) in quick mode: its invariants, not its figures.

Slow (minutes on a busy 2-core machine): it seeds a store, drains lanes on the simulated clock,
pulls, and starts fresh interpreters for the memory figures.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import run as bench_run
from bench import scale_bench, scale_table, stack_bench
from bench.scale_pull import target_calls
from tests.reliability.world import moto_stack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def scale() -> dict[str, Any]:
    bench_run.cheap_moto_transactions()
    with stack_bench.simulator() as sim, moto_stack(sim) as (stack, _env):
        return scale_bench.run_scale(sim, stack, quick=True)


def test_bulk_start_answers_within_a_second(scale: dict[str, Any]) -> None:
    bulk = scale["api"]["bulk_start_366_days"]
    assert bulk["range_days"] == 366 and bulk["max_ms"] < 1000, bulk


def test_interactive_syncs_wait_at_most_about_one_slot_behind_the_backlog(
    scale: dict[str, Any],
) -> None:
    for lane in ("peak", "off_peak"):
        run = scale["lanes"][lane]
        assert run["backlog_at_start"] > 0 and run["backlog_at_end"] > 0, run
        # One Tier-2 slot at peak is (60 + 2) / 12 s; a redelivery adds at most a second.
        assert run["latency_p95_s"] <= 62 / 12 + 1.5, run
    assert scale["lanes"]["http_429"] == 0


def test_the_pull_publishes_each_change_once_with_the_expected_feed_calls(
    scale: dict[str, Any],
) -> None:
    pull = scale["pull"]
    n = pull["changed_visits"]
    assert pull["feed_calls"] == target_calls(n), pull
    assert pull["change_feed_entries"] == pull["distinct_visits_published"] == n, pull
    assert pull["statuses"][-1] == "ok" and pull["visits_read"] == n, pull


def test_api_memory_cost_and_table_are_reported(scale: dict[str, Any]) -> None:
    for key in ("sync_status", "sync_logs", "sync_stats"):
        assert scale["api"][key]["requests"] > 0 and scale["api"][key]["p95_ms"] > 0
    memory = scale["memory"]
    assert set(memory["import_rss_mb"]) >= {"api", "sync_worker", "pull"}
    assert all(0 < mb < memory["memory_mb_configured"] for mb in memory["import_rss_mb"].values())
    cost = scale["cost"]
    assert cost["measured_inputs"]["sync_write_units"] > 0  # the request counter saw DynamoDB
    assert cost["per_1000_syncs_usd"] > 0 and cost["month"]["total_usd"] > 0
    assert len(scale_table.rows(scale)) >= 10

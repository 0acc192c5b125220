"""Issue 14 acceptance, long variant (`make reliability`): 2,000 Tier-2 calls from 10
concurrent workers across the 18:00 peak end against the simulator's strict modes (sliding
60 s window, AMD's clock 17 s ahead of ours): 0 x 429, >= 90 % of the ceiling. The quick
variant and the harness: tests/integration/amd/test_pacing_strict_sim.py, strict_pacing.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.amd.strict_pacing import assert_paced, drive
from tests.moto_tables import pk_sk_table

pytest_plugins = ["local.amdsim.pytest_plugin"]


@pytest.fixture
def control_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from pk_sk_table(monkeypatch, "control")


@pytest.mark.full
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_2000_tier2_calls_10_workers_across_18_00_sliding_window_amd_17s_ahead(
    amd_sim_strict: Any, control_table: Any
) -> None:
    start = datetime(2025, 3, 12, 23, 52, 0, tzinfo=UTC)  # ours 17:52:00 MDT, AMD 17:52:17
    assert_paced(amd_sim_strict, drive(amd_sim_strict, control_table, start, 2000))

"""Issue 14 acceptance, quick variant (`make test`): 300 Tier-2 calls from 10 concurrent workers
across the 18:00 peak end against the simulator's strict modes (sliding 60 s window, AMD's
clock 17 s ahead): 0 x 429, >= 90 % of the ceiling. The 2,000-call run is
tests/reliability/test_strict_pacing.py; how both work: strict_pacing.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.moto_tables import pk_sk_table

from .strict_pacing import assert_paced, drive

pytest_plugins = ["local.amdsim.pytest_plugin"]


@pytest.fixture
def control_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from pk_sk_table(monkeypatch, "control")


# Wednesday 2025-03-12, MDT (UTC-6). Our clock; AMD's reads 17 s more.
def test_300_tier2_calls_10_workers_across_18_00_sliding_window_amd_17s_ahead(
    amd_sim_strict: Any, control_table: Any
) -> None:
    start = datetime(2025, 3, 12, 23, 57, 0, tzinfo=UTC)  # ours 17:57:00, AMD 17:57:17
    assert_paced(amd_sim_strict, drive(amd_sim_strict, control_table, start, 300))

"""A window of more than 1,000 changed visits finishes across scheduled ticks (issue 15 item 3,
PROTOCOL §3.14, SPEC §9.3). AMD answers it with ids only; each resubmission of ≤ 500 ids is
another feed call, once per ~62 s per office key. The overflow id list goes into the pull's
checkpoint at once, so each tick spends its feed call on the next resubmission (never the
first call again), nothing is published twice, and the watermark moves only at the end.

As deployed: the PullFunction's rate wait, its Lambda deadline counted on the simulator's frozen
clock plus compute (bench/scale_pull.py), a tick every minute. AMD over HTTP to the simulator,
DynamoDB over moto.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from amdsync.amd.errors import RateLimited
from amdsync.sync.pull import PullOptions, PullRun
from bench.scale_pull import (
    FEED_CHUNK,
    PULL_MAX_RATE_WAIT,
    TICK_SECONDS,
    InvocationContext,
    book_changes,
    pull_product,
)
from local.amdsim.handle import SimHandle
from tests.integration.sync.conftest import Stack
from tests.integration.sync.pull_load import EPOCH
from tests.reliability.world import Product, confirm_mappings, shallow_transaction_backups

CHANGED = 1_200
DEADLINE = 60.0  # the scale benchmark's deadline per invocation: tighter than the 120 s deployed
TICKS = 6


@pytest.fixture
def product(stack: Stack, amd_sim_server: SimHandle) -> Iterator[Product]:
    amd_sim_server.admin.reset(clock=EPOCH.isoformat(), frozen=True, seed=5, patients=5,
                               appointments=0)  # fmt: skip
    stack.wipe()
    built = Product.build(amd_sim_server)
    confirm_mappings(built)
    yield pull_product(built)  # the PullFunction's rate wait


def _feed_calls(sim: SimHandle) -> int:
    return int(sim.admin.report()["calls"]["by_action"].get("getupdatedvisits", 0))


def _tick(product: Product) -> str:
    """One scheduled invocation as functions/pull/app.py runs it."""
    context = InvocationContext(product, DEADLINE)
    options = PullOptions(max_feed_wait=PULL_MAX_RATE_WAIT)
    try:
        status = PullRun(product.ctx, options).run(remaining=context.remaining_seconds).status
    except RateLimited:
        status = "rate_limited"
    assert context.elapsed() < DEADLINE, "an invocation ran past its deadline"
    product.clock.sleep(max(TICK_SECONDS - context.elapsed(), 1.0))
    return status


@pytest.mark.timeout(60)
def test_an_overflowing_window_finishes_across_ticks_with_one_feed_call_each(
    product: Product, amd_sim_server: SimHandle
) -> None:
    book_changes(amd_sim_server, product, CHANGED)
    mark = product.ctx.watermark.get().value
    calls_before, head = _feed_calls(amd_sim_server), product.ctx.feed.head()

    statuses: list[str] = []
    with shallow_transaction_backups():  # moto's cost, not ours (test_pull_throughput.py)
        for _ in range(TICKS):
            statuses.append(_tick(product))
            if statuses[-1] == "ok":
                break
            # Until the whole window is stored and applied, the watermark stays where it was.
            assert product.ctx.watermark.get().value == mark, statuses

    assert statuses[-1] == "ok", statuses
    calls = _feed_calls(amd_sim_server) - calls_before
    assert calls == 1 + math.ceil(CHANGED / FEED_CHUNK), (calls, statuses)  # nothing repeated
    assert "rate_limited" not in statuses  # the feed's spacing was checked before each call
    published = [e.advanced_md_visit_id for e in product.ctx.feed.read(head, 5_000)]
    assert len(published) == len(set(published)) == CHANGED
    assert product.ctx.watermark.get().value != mark
    assert product.ctx.pull_windows.checkpoint() is None

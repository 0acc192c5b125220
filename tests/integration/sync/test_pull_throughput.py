"""Pull throughput where AMD is not the limit (issue 15 item 6, SPEC §9.3): the pull processes
≥ 500 visits per second in-process, measured over moto and the simulator (pull_load.py says
what is measured and how): 150 of our appointments checked in at AMD's desk plus 1,850 visits
booked in AMD, one window of 2,000.

Asserted: at most 0.2 DynamoDB requests per visit (the primary, machine-independent figure),
every visit applied (150 updated, 1,850 unlinked, one feed entry each), and ≥ 500 visits per
second of our own CPU time. moto's deep-copy backup per transaction is made shallow while the
pull runs (`shallow_transaction_backups`: moto's cost, in its own threads, not ours; the code
under test is unchanged) only so the test takes seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.amdsim.handle import SimHandle
from tests.integration.sync.conftest import Stack
from tests.integration.sync.pull_load import EPOCH, measured_pull
from tests.reliability.world import Product, confirm_mappings, shallow_transaction_backups

LINKED = 150
NEW = 1850
MIN_VISITS_PER_SECOND = 500
MAX_REQUESTS_PER_VISIT = 0.2


@pytest.fixture
def product(stack: Stack, amd_sim_server: SimHandle) -> Iterator[Product]:
    amd_sim_server.admin.reset(clock=EPOCH.isoformat(), frozen=True, seed=3, patients=30,
                               appointments=0)  # fmt: skip
    stack.wipe()
    built = Product.build(amd_sim_server)
    confirm_mappings(built)
    yield built


@pytest.mark.timeout(300)
def test_the_pull_processes_at_least_500_visits_per_second(
    product: Product, amd_sim_server: SimHandle
) -> None:
    with shallow_transaction_backups():
        figures = measured_pull(product, amd_sim_server, LINKED, NEW)
    print("\n" + figures.line())

    summary = figures.summary
    assert summary.status == "ok"
    assert (summary.visits, summary.updated, summary.unlinked) == (LINKED + NEW, LINKED, NEW)
    entries = [
        (e.appointment_id, e.advanced_md_visit_id, e.kind) for e in product.ctx.feed.read(0, 10_000)
    ]
    assert len(entries) == len(set(entries))  # nothing published twice
    assert sum(1 for e in entries if e[2] == "unlinked") == NEW
    assert sum(1 for e in entries if e[2] == "status") == LINKED  # checked in
    assert figures.requests_per_visit <= MAX_REQUESTS_PER_VISIT, figures.requests
    assert figures.visits_per_cpu_second >= MIN_VISITS_PER_SECOND

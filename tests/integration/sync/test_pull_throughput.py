"""Pull throughput where AMD is not the limit (issue 15 item 6, SPEC §9.3): the pull processes
≥ 500 visits per second in-process.

The product is the worker's real composition (DynamoDB adapters over the local stack's moto,
the AdvancedMD client over HTTP to the simulator) on the simulator's frozen clock, so the feed's
once-a-minute spacing costs no wall time. The window: LINKED of our appointments checked in at
AMD's front desk plus NEW visits booked in AMD by hand, 2,000 in all.

What is measured, and why it is robust on a busy 2-core machine:
- DynamoDB requests per visit (the primary figure: every request is a network round trip in
  AWS), counted on the boto3 client's own event hook. At most 0.2 per visit.
- Our CPU time per visit: this thread's CPU time for the whole run minus the CPU time spent
  inside AMD calls (the transport, timed the same way). CPU time, not wall: other agents on the
  machine stretch wall time, not the instructions we execute; moto's server runs in its own
  threads, so DynamoDB's side of each request is not ours either. The wall figure (the run
  minus AMD's wire time) is printed next to it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.mappings import MappingKind
from amdsync.sync.pull import PullRun
from local.amdsim import admin_edits
from local.amdsim.handle import SimHandle
from tests.integration.sync.conftest import Stack
from tests.reliability.world import (
    APPT_TYPE,
    REFERENCE_PREFIX,
    ZONE,
    Product,
    Slots,
    confirm_mappings,
    desired,
    work_days,
)

# Wed 2025-03-12 19:00 MDT: off-peak, a work day follows.
EPOCH = datetime(2025, 3, 13, 1, 0, tzinfo=UTC)
LINKED = 150
NEW = 1850
MIN_VISITS_PER_SECOND = 500
MAX_REQUESTS_PER_VISIT = 0.2


class AmdTime:
    """Adds up the thread CPU time and the wall time spent inside AMD calls (the transport)."""

    def __init__(self, product: Product) -> None:
        self.cpu = 0.0
        self.wall = 0.0
        transport = product.services.amd.client._transport
        for name in ("post_xmlrpc", "rest"):
            setattr(transport, name, self._timed(getattr(transport, name)))

    def _timed(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.cpu += time.thread_time() - cpu
                self.wall += time.perf_counter() - wall

        return timed


@pytest.fixture
def product(stack: Stack, amd_sim_server: SimHandle) -> Iterator[Product]:
    amd_sim_server.admin.reset(clock=EPOCH.isoformat(), frozen=True, seed=3, patients=30,
                               appointments=0)  # fmt: skip
    stack.wipe()
    built = Product.build(amd_sim_server)
    confirm_mappings(built)
    yield built


def _book_linked(product: Product, sim: SimHandle, count: int) -> None:
    """`count` appointments as a sync leaves them (record, visit claimed, base agreed), written
    through the store adapters: booking them through the worker would take minutes here."""
    state = sim.sim.state
    patient = str(next(iter(state.patients)))
    mappings = product.ctx.mappings
    appt_type = mappings.get(MappingKind.APPOINTMENT_TYPES, APPT_TYPE[0])
    assert appt_type is not None
    slots = Slots(work_days(date(2025, 3, 17), 5))
    for index in range(count):
        provider, start = slots.take()
        column = mappings.get(MappingKind.PROVIDERS, provider)
        assert column is not None and column.amd_column_id is not None
        with state.lock:
            visit = admin_edits.create_appointment(
                sim.sim,
                {"patientid": patient, "columnid": column.amd_column_id, "start": start,
                 "typeids": [appt_type.amd_id], "force": True,
                 "referenceid": f"{REFERENCE_PREFIX}T-{index:04d}"},
            )  # fmt: skip
        record = AppointmentSyncRecord.from_desired(
            f"T-{index:04d}", desired("P-001", provider, start, 1)
        ).model_copy(
            update={
                "advanced_md_visit_id": str(visit.id),
                "advanced_md_patient_id": patient,
                "amd_sync_status": "synced",
            }
        )
        record = record.model_copy(update={"base_snapshot": record.snapshot()})
        product.ctx.appointments.save(record, None)
        assert product.ctx.appointments.claim_visit(str(visit.id), record.appointment_id)


def _change_in_amd(sim: SimHandle, linked: int, new: int) -> None:
    """Our appointments checked in at AMD's desk; new visits booked in AMD (a later week)."""
    state = sim.sim.state
    with state.lock:
        ours = [v for v in state.visits.values() if v.is_appt and v.referenceid]
        assert len(ours) == linked
        for visit in ours:
            admin_edits.edit_appointment(sim.sim, visit.id, {"status": 1})
        patient = next(iter(state.patients))
        columns = sorted(state.columns)
        for made in range(new):
            slot = made // len(columns)
            start = datetime(2025, 4, 14) + timedelta(days=slot // 40, minutes=15 * (slot % 40))
            admin_edits.create_appointment(
                sim.sim,
                {"patientid": patient, "columnid": columns[made % len(columns)], "force": True,
                 "start": start.strftime("%Y-%m-%dT%H:%M:%S")},
            )  # fmt: skip


@pytest.mark.timeout(600)
def test_the_pull_processes_at_least_500_visits_per_second(
    product: Product, amd_sim_server: SimHandle
) -> None:
    _book_linked(product, amd_sim_server, LINKED)
    clock = product.clock
    clock.sleep(61)
    servertime = clock.now().astimezone(ZONE).strftime("%Y-%m-%dT%H:%M:%S.000")
    product.ctx.watermark.advance(servertime, clock.now(), product.ctx.watermark.get().version)
    clock.sleep(5)
    _change_in_amd(amd_sim_server, LINKED, NEW)
    product.clock.sleep(61)

    requests: Counter[str] = Counter()
    client = product.services._dynamodb.meta.client
    client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: requests.update([model.name])
    )
    amd = AmdTime(product)
    cpu, wall = time.thread_time(), time.perf_counter()
    summary = PullRun(product.ctx).run()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall

    visits = LINKED + NEW
    assert summary.status == "ok"
    assert (summary.visits, summary.updated, summary.unlinked) == (visits, LINKED, NEW)
    own_cpu, own_wall = cpu - amd.cpu, wall - amd.wall
    per_visit = sum(requests.values()) / visits
    print(
        f"\npull of {visits} visits: {visits / own_cpu:.0f} visits/s of our CPU "
        f"({own_cpu:.2f} s), {visits / own_wall:.0f} visits/s of wall minus AMD's wire "
        f"({own_wall:.2f} s; AMD {amd.wall:.2f} s); {per_visit:.3f} DynamoDB requests per visit "
        f"{dict(requests.most_common())}"
    )
    assert per_visit <= MAX_REQUESTS_PER_VISIT, dict(requests.most_common())
    assert visits / own_cpu >= MIN_VISITS_PER_SECOND

"""A pull of many changed visits, measured in-process (issue 15 item 6): shared by
test_pull_throughput.py and `bench/` (`--only pull`).

The product is the worker's real composition (`reliability.world.Product`: DynamoDB adapters over
the local stack's moto, the AdvancedMD client over HTTP to the simulator) on the simulator's
frozen clock, so the change feed's once-a-minute spacing costs no wall time. The window:
`linked` of our appointments checked in at AMD's front desk plus `new` visits booked in AMD.

Figures:
- DynamoDB requests per visit, counted on the boto3 client's own event hook (each is a network
  round trip in AWS; robust on a busy machine);
- our CPU time: this thread's CPU time for the run minus the CPU time spent inside AMD calls
  (the transport, timed the same way). moto's server runs in its own threads, so DynamoDB's
  side of a request is not counted as ours; other agents on the machine stretch wall time, not
  the instructions we execute;
- wall time minus AMD's wire time, and DynamoDB's wall time by operation, printed beside it
  (moto's share shows there: see `shallow_transaction_backups`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.mappings import MappingKind
from amdsync.sync.pull import PullOptions, PullRun, PullSummary
from local.amdsim import admin_edits
from local.amdsim.handle import SimHandle
from tests.reliability.world import (
    APPT_TYPE,
    REFERENCE_PREFIX,
    ZONE,
    Product,
    Slots,
    desired,
    work_days,
)

# Wed 2025-03-12 19:00 MDT: off-peak, a work day follows.
WHOLE_WINDOW_FEED_WAIT = 3600.0
EPOCH = datetime(2025, 3, 13, 1, 0, tzinfo=UTC)


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


class DynamoRequests:
    """Counts DynamoDB requests (and their wall time) on the product's boto3 client."""

    def __init__(self, product: Product) -> None:
        self.count: Counter[str] = Counter()
        self.wall: Counter[str] = Counter()
        self._started: dict[str, float] = {}
        events = product.services._dynamodb.meta.client.meta.events
        events.register("before-call.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        self.count.update([model.name])
        self._started[model.name] = time.perf_counter()

    def _after(self, model: Any, **_: Any) -> None:
        self.wall[model.name] += time.perf_counter() - self._started[model.name]


@dataclass
class PullFigures:
    visits: int
    summary: PullSummary
    cpu_seconds: float  # ours: the thread's CPU minus AMD calls
    wall_seconds: float  # the run minus AMD's wire time
    amd_wall_seconds: float
    requests: dict[str, int] = field(default_factory=dict)
    dynamo_wall: dict[str, float] = field(default_factory=dict)

    @property
    def visits_per_cpu_second(self) -> float:
        return self.visits / self.cpu_seconds

    @property
    def requests_per_visit(self) -> float:
        return sum(self.requests.values()) / self.visits

    def line(self) -> str:
        wall = {k: round(v, 2) for k, v in self.dynamo_wall.items()}
        return (
            f"pull of {self.visits} visits: {self.visits_per_cpu_second:.0f} visits/s of our CPU "
            f"({self.cpu_seconds:.2f} s), {self.visits / self.wall_seconds:.0f} visits/s of wall "
            f"minus AMD's wire ({self.wall_seconds:.2f} s; AMD {self.amd_wall_seconds:.2f} s); "
            f"{self.requests_per_visit:.3f} DynamoDB requests per visit {self.requests}; "
            f"DynamoDB wall {wall}"
        )


def book_linked(product: Product, sim: SimHandle, count: int) -> None:
    """`count` appointments as a sync leaves them (record, visit claimed, base agreed), written
    through the store adapters: booking them through the worker would take minutes."""
    state = sim.sim.state
    patient = str(next(iter(state.patients)))
    mappings = product.ctx.mappings
    appt_type = mappings.get(MappingKind.APPOINTMENT_TYPES, APPT_TYPE[0])
    assert appt_type is not None
    slots = Slots(work_days(date(2025, 3, 17), 5 + count // 100))
    for index in range(count):
        provider, start = slots.take()
        column = mappings.get(MappingKind.PROVIDERS, provider)
        assert column is not None and column.amd_column_id is not None
        with state.lock:
            visit = admin_edits.create_appointment(
                sim.sim,
                {"patientid": patient, "columnid": column.amd_column_id, "start": start,
                 "typeids": [appt_type.amd_id], "force": True,
                 "referenceid": f"{REFERENCE_PREFIX}T-{index:05d}"},
            )  # fmt: skip
        record = AppointmentSyncRecord.from_desired(
            f"T-{index:05d}", desired("P-001", provider, start, 1)
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


def change_in_amd(sim: SimHandle, linked: int, new: int) -> None:
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


def measured_pull(product: Product, sim: SimHandle, linked: int, new: int) -> PullFigures:
    """Seed `linked` records, start the watermark, change them and book `new` in AMD, then
    pull once (all pieces in this run) and measure it."""
    book_linked(product, sim, linked)
    clock = product.clock
    clock.sleep(61)
    servertime = clock.now().astimezone(ZONE).strftime("%Y-%m-%dT%H:%M:%S.000")
    product.ctx.watermark.advance(servertime, clock.now(), product.ctx.watermark.get().version)
    clock.sleep(5)
    change_in_amd(sim, linked, new)
    clock.sleep(61)
    requests = DynamoRequests(product)
    amd = AmdTime(product)
    cpu, wall = time.thread_time(), time.perf_counter()
    # A run that may wait for the feed as long as its client (Product.build's hour): the whole
    # window, overflow resubmissions included, in this one run.
    summary = PullRun(product.ctx, PullOptions(max_feed_wait=WHOLE_WINDOW_FEED_WAIT)).run()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    return PullFigures(
        visits=linked + new,
        summary=summary,
        cpu_seconds=cpu - amd.cpu,
        wall_seconds=wall - amd.wall,
        amd_wall_seconds=amd.wall,
        requests=dict(requests.count.most_common()),
        dynamo_wall=dict(requests.wall.most_common()),
    )

"""A bulk of 20,000 appointments completes with nothing twice (issue 15 item 2, SPEC §9.3).

The real bulk code end to end: `BulkSync.start`, the worker's planning steps (paged query,
plan markers, batches of 50, the next step queued first), and `JobProcessor` pushing each
appointment to the simulator, which enforces its own rate limits. The product runs on the
simulator's frozen clock (`SimTime`), so every rate-limit wait advances simulated time only.

Delivery is at-least-once, as SQS's is, and harsher than SQS: `MemoryQueue` has no
deduplication, so everything below must hold by the product's own markers.
* every REDELIVER_EVERY-th appointment message is delivered again after it was processed (a
  delete that never reached SQS);
* one planning step crashes after its page is queued but before the position moves (the
  whole page is planned again, and the next step is queued twice);
* one planning step crashes after a batch is queued but before it is confirmed (that batch's
  50 jobs are queued a second time);
* every planning message is delivered twice (a page replayed).

Checked: the job reports `done` with total = done = 20,000 and nothing failed, progress and ETA
present while it runs, every appointment exists in AMD exactly once (one visit per reference
id, the one its record names), and AMD saw exactly 20,000 creates.

Speed: the EHR records are written through the store in batches (the intake's per-record
checks are not what is tested here), the worker loop runs in-process over `MemoryQueue`
instead of moto's SQS, moto runs in process (`mock_aws`) instead of behind HTTP, and moto's
transactions back up the items they name instead of deep-copying whole tables
(`keyed_transaction_backups`: the same outcome, failed transactions included). As the sync
worker's Lambda does, each batch of 10 messages is one invocation with its own context
(`Services.invocation_context`: settings and mappings read once per batch).
`AMDSYNC_BULK_TOTAL` runs a smaller version locally.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from amdsync.domain.appointments import AppointmentSyncRecord
from amdsync.domain.bulk import BulkJob, BulkSyncRequest
from amdsync.domain.settings import Settings
from amdsync.jobs import SyncJob
from amdsync.sync.bulk import PLAN_PAGE_SIZE, BulkSync
from amdsync.sync.intake import Intake
from amdsync.sync.worker import JobDecision, JobProcessor
from local.amdsim.handle import SimHandle
from tests.reliability.world import (
    PROVIDERS,
    SLOT_HOURS,
    InProcessStack,
    Product,
    demographics,
    desired,
    in_process_stack,
    keyed_transaction_backups,
    sim_visits_by_reference,
)

# More than one planning page, or the crashed planning steps below never happen.
TOTAL = max(int(os.environ.get("AMDSYNC_BULK_TOTAL", "20000")), 2 * PLAN_PAGE_SIZE)
PATIENTS = 20
REDELIVER_EVERY = 97
SAMPLE_EVERY = max(TOTAL // 20, 25)  # progress is read about 20 times during the run
FIRST_DAY = date(2025, 3, 17)  # a Monday after the campaign epoch (off-peak Wednesday evening)


@pytest.fixture(scope="module")
def aws(amd_sim_server: SimHandle) -> Iterator[InProcessStack]:
    """moto in process (the conftest's runs it over HTTP): this run's cost is its ~30
    DynamoDB calls per appointment, and the loopback round trip is a third of each."""
    with in_process_stack(amd_sim_server) as stack, keyed_transaction_backups():
        yield stack


class Crash(Exception):
    """A worker that died mid-step: its message was not deleted, so it is delivered again."""


class CrashOnce:
    """A port proxy whose method `name` raises on its `at`-th call (after doing its work when
    `after` is set: the write happened, the answer was lost)."""

    def __init__(self, inner: Any, name: str, at: int, *, after: bool) -> None:
        self._inner, self._name, self._at, self._after = inner, name, at, after
        self.calls = 0
        self.crashed = False

    def __getattr__(self, attribute: str) -> Any:
        target = getattr(self._inner, attribute)
        if attribute != self._name:
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls != self._at or self.crashed:
                return target(*args, **kwargs)
            self.crashed = True
            if self._after:
                target(*args, **kwargs)
            raise Crash(attribute)

        return call


@dataclasses.dataclass
class Run:
    processed: int = 0
    redelivered: int = 0
    crashes: int = 0
    samples: list[tuple[BulkJob, int]] = dataclasses.field(default_factory=list)
    replayed: set[SyncJob] = dataclasses.field(default_factory=set)


def slots(count: int) -> Iterator[tuple[str, str]]:
    """(provider, local start) pairs, one per open slot, day by day (Mon-Fri)."""
    day = FIRST_DAY
    made = 0
    while True:
        if day.weekday() < 5:
            for provider in PROVIDERS:
                for hour in SLOT_HOURS:
                    if made == count:
                        return
                    made += 1
                    yield provider, f"{day.isoformat()}T{hour:02d}:00:00"
        day += timedelta(days=1)


def seed_patients(product: Product) -> list[str]:
    ids = [f"P-{i:03d}" for i in range(PATIENTS)]
    for index, patient_id in enumerate(ids):
        dob = date(1960, 1, 1) + timedelta(days=index)
        Intake(product.ctx).register_patient(
            patient_id, demographics(f"BULKPAT{index}", "PATIENT", dob.isoformat())
        )
    while product.queue.depth():
        for job in product.queue.take(10):
            assert JobProcessor(product.ctx).process(job).kind == "done"
    return ids


def manual_sync_only(product: Product) -> None:
    stored = product.ctx.settings.get()
    values = {**stored.value.model_dump(by_alias=True), "autoSyncAppointments": False}
    product.ctx.settings.save(Settings.model_validate(values), stored.version)


def seed_appointments(product: Product, patients: list[str]) -> tuple[list[str], str, str]:
    """The EHR's records as the intake stores them (pending, never synced), in store batches."""
    ids: list[str] = []
    batch: list[AppointmentSyncRecord] = []
    first = last = ""
    for n, (provider, start) in enumerate(slots(TOTAL)):
        appointment_id = f"K-{n:05d}"
        body = desired(patients[n % len(patients)], provider, start, 1)
        record = AppointmentSyncRecord.from_desired(appointment_id, body).model_copy(
            update={"amd_sync_status": "pending", "ehr_digest": body.digest()}
        )
        batch.append(record)
        ids.append(appointment_id)
        first, last = first or start[:10], start[:10]
        if len(batch) == 100:
            product.ctx.appointments.create_many(batch)
            batch = []
    product.ctx.appointments.create_many(batch)
    return ids, first, last


def deliver(product: Product, processor: JobProcessor, job: SyncJob, run: Run) -> None:
    """One delivery as the sync worker's Lambda makes it: a decision, or a crash (the message
    stays on the queue and comes back)."""
    try:
        decision: JobDecision = processor.process(job)
    except Crash:
        run.crashes += 1
        product.queue.enqueue([job])
        return
    run.processed += 1
    if decision.kind in ("defer", "retry"):
        product.clock.sleep(decision.delay)  # SQS's visibility timeout, on the simulated clock
        product.queue.enqueue([job])
        return
    assert decision.kind == "done", (job.kind, decision)
    if job.kind == "bulk_plan" and job not in run.replayed:
        run.replayed.add(job)
        run.redelivered += 1
        product.queue.enqueue([job])  # the same planning page delivered again
    elif job.kind == "appointment" and run.processed % REDELIVER_EVERY == 0:
        run.redelivered += 1
        product.queue.enqueue([job])  # processed, but its delete never reached SQS


def drive(
    product: Product, bulk: BulkSync, invocation: Callable[[], JobProcessor], job_id: str
) -> Run:
    run = Run()
    while product.queue.depth():
        processor = invocation()  # one Lambda invocation per batch of up to 10 messages
        for job in product.queue.take(10):
            deliver(product, processor, job, run)
            # Read as a person polling would: now and then, and after every planning step.
            if run.processed % SAMPLE_EVERY == 0 or job.kind == "bulk_plan":
                sample = bulk.progress(job_id)
                assert sample is not None
                run.samples.append((sample, bulk.eta_seconds(sample)))
    return run


def assert_progress_reported(samples: list[tuple[BulkJob, int]]) -> None:
    """Every sample has a state, counts that only grow, and an ETA while work remains."""
    assert len(samples) >= 5, len(samples)
    done = 0
    for job, eta in samples:
        assert job.state in ("planning", "running", "done"), job.state
        assert job.done >= done and job.failed == 0, job
        done = job.done
        if job.state == "planning":
            assert job.total is None and job.percent == 0
        if job.state == "running":
            assert job.total == TOTAL and 0 <= job.percent < 100, job
        if job.remaining > 0:
            assert eta > 0, job
    assert samples[0][0].state == "planning", samples[0]
    assert any(job.total == TOTAL for job, _ in samples)  # the total, once planning is over


def assert_each_once_in_amd(sim: SimHandle, product: Product, ids: list[str]) -> None:
    by_reference = sim_visits_by_reference(sim)
    twice = {ref: len(visits) for ref, visits in by_reference.items() if len(visits) > 1}
    assert not twice, f"{len(twice)} reference ids booked more than once: {list(twice)[:5]}"
    assert len(by_reference) == TOTAL, len(by_reference)
    visit_ids = {str(visits[0].id) for visits in by_reference.values()}
    records = product.ctx.appointments.get_many(ids)  # batched reads: the harness's own cost
    assert len(records) == len(ids)
    linked = {str(r.value.advanced_md_visit_id) for r in records.values()}
    assert linked == visit_ids  # each record names its own, single, visit


@pytest.mark.slow
@pytest.mark.full  # make reliability only
@pytest.mark.timeout(7200)
def test_bulk_of_20000_completes_with_nothing_twice(product: Product, amd_sim: SimHandle) -> None:
    began = time.perf_counter()
    patients = seed_patients(product)
    manual_sync_only(product)
    ids, first, last = seed_appointments(product, patients)
    seeded = time.perf_counter()
    creates_before = amd_sim.admin.report()["calls"]["by_action"].get("appointments.create", 0)

    planning_crash = CrashOnce(product.ctx.bulk_jobs, "save", at=2, after=False)
    confirm_crash = CrashOnce(planning_crash, "confirm_queued", at=3, after=False)
    ctx = dataclasses.replace(product.ctx, bulk_jobs=confirm_crash)
    bulk = BulkSync(ctx)
    request = BulkSyncRequest.model_validate({"from": first, "to": last})
    job = bulk.start(request, actor="billing-bulk")
    assert (job.state, job.total) == ("planning", None)

    simulated_from = product.clock.now()

    def invocation() -> JobProcessor:
        """A worker invocation's own context, over the same crashing bulk store and queue."""
        fresh = product.services.invocation_context()
        return JobProcessor(
            dataclasses.replace(fresh, queue=product.queue, bulk_jobs=confirm_crash)
        )

    run = drive(product, bulk, invocation, job.job_id)

    final = bulk.progress(job.job_id)
    assert final is not None
    assert (final.state, final.total, final.done, final.failed) == ("done", TOTAL, TOTAL, 0)
    assert bulk.eta_seconds(final) == 0 and final.percent == 100
    assert planning_crash.crashed and confirm_crash.crashed and run.crashes == 2
    assert run.redelivered > TOTAL // REDELIVER_EVERY // 2, run.redelivered
    assert_progress_reported(run.samples)
    assert_each_once_in_amd(amd_sim, product, ids)
    creates = amd_sim.admin.report()["calls"]["by_action"]["appointments.create"]
    assert creates - creates_before == TOTAL
    simulated = (product.clock.now() - simulated_from).total_seconds()
    print(
        f"\nbulk {TOTAL}: seed {seeded - began:.0f}s, run {time.perf_counter() - seeded:.0f}s "
        f"wall; {simulated / 60:.0f} simulated minutes; {run.processed} deliveries, "
        f"{run.redelivered} redelivered, {run.crashes} crashes"
    )

"""Figures measured in-process on the simulated clock: AMD calls per sync, our overhead, logins
per day, rate-limit pacing and bulk throughput across a peak boundary, pull of 5,000 changed
visits.

The product is the worker's real composition (`compose.Services`: DynamoDB adapters over the
local stack's moto, the AdvancedMD client over HTTP to the simulator) on `SimTime`, the
simulator's frozen clock, so waiting costs no wall time. The rate-limit figures (`pacing`,
`bulk`) run against the simulator's strict modes (`STRICT_RATE_SWITCHES`: a sliding 60 s
window on an AMD clock 17 s ahead of ours), named in their output, and their ceiling is judged
on AMD's clock.
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3

from amdsync.domain.bulk import BulkSyncRequest
from amdsync.domain.settings import Settings
from amdsync.domain.timefmt import is_peak
from amdsync.sync.bulk import BulkSync
from amdsync.sync.intake import Intake
from amdsync.sync.pull import PullOptions, PullRun
from amdsync.sync.push import AppointmentPush
from amdsync.sync.worker import JobProcessor
from local.amdsim import admin_edits
from local.amdsim.config import STRICT_RATE_SWITCHES
from local.amdsim.handle import SimHandle
from local.runner.stack import LocalStack
from tests.integration.amd import strict_pacing as strict
from tests.integration.sync.cli_scenario import run_cli_next_to_worker
from tests.integration.sync.conftest import Stack
from tests.integration.sync.pull_load import EPOCH as PULL_EPOCH
from tests.integration.sync.pull_load import (
    WHOLE_WINDOW_FEED_WAIT,
    AmdTime,
    DynamoRequests,
    measured_pull,
)
from tests.reliability.world import (
    ZONE,
    Product,
    SimTime,
    Slots,
    change,
    confirm_mappings,
    demographics,
    desired,
    wipe,
    work_days,
)


def _reset(
    sim: SimHandle,
    stack: LocalStack,
    local: datetime,
    patients: int = 30,
    config: dict[str, Any] | None = None,
) -> Product:
    sim.admin.reset(
        clock=local.astimezone(UTC).isoformat(), frozen=True, seed=5, patients=patients,
        appointments=0, config=config,
    )  # fmt: skip
    wipe(stack)
    product = Product.build(sim)
    confirm_mappings(product)
    return product


def _sync_patients(product: Product, count: int) -> list[str]:
    ids = [f"P-{i:04d}" for i in range(count)]
    for index, patient_id in enumerate(ids):
        dob = date(1960, 1, 1) + timedelta(days=index)
        Intake(product.ctx).register_patient(
            patient_id, demographics(f"BENCH{index}", "PATIENT", dob.isoformat())
        )
    _drain(product)
    return ids


def _drain(product: Product) -> None:
    while product.queue.depth():
        for job in product.queue.take(10):
            decision = JobProcessor(product.ctx).process(job)
            if decision.kind in ("defer", "retry"):
                product.clock.sleep(decision.delay)
                product.queue.enqueue([job])


def _calls(sim: SimHandle) -> dict[str, int]:
    return dict(sim.sim.metrics.snapshot()["calls"]["by_action"])


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)
    }


class WireTimer:
    """Wraps the client's transport to add up the time spent waiting for AMD."""

    def __init__(self, product: Product) -> None:
        self.seconds = 0.0
        transport = product.services.amd.client._transport
        for name in ("post_xmlrpc", "rest"):
            setattr(transport, name, self._timed(getattr(transport, name)))

    def _timed(self, call: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


def calls_and_overhead(sim: SimHandle, stack: LocalStack, n: int = 40) -> dict[str, Any]:
    """AMD calls per create / status change with warm lookups; our time per sync minus AMD's."""
    product = _reset(sim, stack, datetime(2025, 3, 12, 19, 0, tzinfo=ZONE))  # off-peak
    patients = _sync_patients(product, 10)
    slots = Slots(work_days(date(2025, 3, 13), 10))
    timer = WireTimer(product)
    result: dict[str, Any] = {}
    for kind in ("create", "status"):
        per_sync_calls: list[int] = []
        overhead_ms: list[float] = []
        by_action: dict[str, int] = {}
        for i in range(n):
            appointment_id = f"B-{i:04d}"
            if kind == "create":
                provider, start = slots.take()
                Intake(product.ctx).register_appointment(
                    appointment_id, desired(patients[i % len(patients)], provider, start, 1)
                )
            else:
                Intake(product.ctx).change_status(appointment_id, change("CHECKED_IN"))
            product.queue.take(10)  # run the push directly: no queue time in this figure
            before, wire_before = _calls(sim), timer.seconds
            started = time.perf_counter()
            AppointmentPush(product.ctx).run(appointment_id)
            elapsed = time.perf_counter() - started
            delta = _delta(before, _calls(sim))
            per_sync_calls.append(sum(delta.values()))
            for action, count in delta.items():
                by_action[action] = by_action.get(action, 0) + count
            overhead_ms.append((elapsed - (timer.seconds - wire_before)) * 1000)
        result[kind] = {
            "syncs": n,
            "amd_calls_per_sync": statistics.mean(per_sync_calls),
            "amd_calls_by_action": {k: v / n for k, v in sorted(by_action.items())},
            "overhead_ms_p50": statistics.median(overhead_ms),
            "overhead_ms_p95": _p95(overhead_ms),
        }
    return result


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def logins_per_day(sim: SimHandle, stack: LocalStack, workers: int = 10) -> dict[str, Any]:
    """10 workers (own Services each, shared DynamoDB token cache) over one simulated day."""
    day_start = datetime(2025, 3, 12, 0, 0, 30, tzinfo=ZONE)
    product = _reset(sim, stack, day_start)
    patients = _sync_patients(product, 2)
    provider, start = Slots(work_days(date(2025, 3, 13), 1)).take()
    Intake(product.ctx).register_appointment("L-1", desired(patients[0], provider, start, 1))
    _drain(product)
    stored = product.ctx.appointments.get("L-1")
    assert stored is not None and stored.value.advanced_md_visit_id
    visit_id = stored.value.advanced_md_visit_id
    # Count from a clean slate: the day starts with no token anywhere.
    sim.sim.state.tokens = {}
    sim.sim.metrics.reset()
    wipe(stack)
    clock = SimTime(sim)
    fleet = [Product.build(sim, clock=clock) for _ in range(workers)]
    errors: list[str] = []
    step = timedelta(minutes=3)
    end = day_start.replace(hour=23, minute=59, second=59)
    logins_by_day: dict[str, int] = {}
    calls = 0
    while clock.now() < end:
        before = sim.sim.metrics.logins
        barrier = threading.Barrier(workers)

        def work(worker: Product, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait()
                worker.ctx.scheduler.get_appointment(visit_id)
            except Exception as exc:  # reported, never hidden
                errors.append(repr(exc))

        threads = [threading.Thread(target=work, args=(w,)) for w in fleet]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        calls += workers
        day = clock.now().astimezone(ZONE).date().isoformat()
        logins_by_day[day] = logins_by_day.get(day, 0) + sim.sim.metrics.logins - before
        clock.sleep(step.total_seconds())
    report = sim.admin.report()
    return {
        "workers": workers,
        "calls": calls,
        "simulated": f"{day_start:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S} America/Denver",
        "logins": report["logins"],
        "logins_by_local_day": logins_by_day,
        "errors": errors[:5],
        "violations": report["violations"]["count"],
        "http_429": report["http_429"],
    }


def strict_pacing(sim: SimHandle, stack: LocalStack, n: int = 2000) -> dict[str, Any]:
    """Issue 14's acceptance run: n Tier-2 calls from 10 concurrent workers (own clients, shared
    DynamoDB token cache and pacing item) across the 18:00 peak end, simulator strict modes."""
    sim.admin.reset(
        clock=datetime(2025, 3, 12, 5, 0, tzinfo=ZONE).isoformat(), frozen=True, seed=5,
        patients=30, appointments=60, config=STRICT_RATE_SWITCHES,
    )  # fmt: skip
    wipe(stack)
    assert stack.resources is not None
    table = boto3.resource("dynamodb").Table(stack.resources.tables["ControlTable"])
    start = datetime(2025, 3, 12, 17, 52, tzinfo=ZONE)  # ours; AMD's clock reads 17:52:17
    began = time.perf_counter()
    run = strict.drive(sim, table, start.astimezone(UTC), n)
    result = strict.figures(sim, run)
    result["wall_seconds"] = round(time.perf_counter() - began, 1)
    result["rate_mode"] = sim.admin.report()["rate_mode"]
    return result


def bulk_across_peak(sim: SimHandle, stack: LocalStack, n: int = 2000) -> dict[str, Any]:
    """Bulk sync of n appointments starting 10 minutes before peak ends (17:50 Denver, our
    clock), the simulator in its strict modes (sliding window, AMD's clock 17 s ahead)."""
    start_local = datetime(2025, 3, 12, 17, 50, tzinfo=ZONE)
    product = _reset(
        sim, stack, datetime(2025, 3, 12, 5, 0, tzinfo=ZONE), config=STRICT_RATE_SWITCHES
    )
    patients = _sync_patients(product, 40)
    settings = product.ctx.settings.get()
    manual = Settings.model_validate(
        {**settings.value.model_dump(by_alias=True), "autoSyncAppointments": False}
    )
    product.ctx.settings.save(manual, settings.version)
    days = work_days(date(2025, 3, 13), 17)
    slots = Slots(days)
    setup = time.perf_counter()
    for i in range(n):
        provider, begin = slots.take()
        Intake(product.ctx).register_appointment(
            f"K-{i:05d}", desired(patients[i % len(patients)], provider, begin, 1)
        )
    setup_s = time.perf_counter() - setup
    sim.admin.set_clock(start_local.astimezone(UTC).isoformat(), frozen=True)
    sim.sim.metrics.reset()
    product.services.amd.client.session()  # the day's login, before the clock starts
    job = BulkSync(product.ctx).start(
        BulkSyncRequest.model_validate({"from": days[0].isoformat(), "to": days[-1].isoformat()}),
        actor="bench",
    )
    assert job.state == "planning", job.state  # planned by the worker (SPEC §9.3)
    creates: list[datetime] = []
    original = product.services.amd.client._transport.rest

    def counting(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        reply = original(method, url, *args, **kwargs)
        if method == "POST" and url.endswith("/scheduler/Appointments"):
            creates.append(product.clock.now())
        return reply

    product.services.amd.client._transport.rest = counting
    began = time.perf_counter()
    first_at = product.clock.now()
    _drain(product)
    wall = time.perf_counter() - began
    progress = BulkSync(product.ctx).progress(job.job_id)
    assert progress is not None and progress.total == n, progress
    report = sim.admin.report()
    # The ceiling: the Tier-2 budget (REST is budgeted as Tier 2, PROTOCOL §6) from the first
    # to the last create, on AMD's clock, at each instant's peak/off-peak limit.
    offset = timedelta(seconds=report["rate_mode"]["clock_offset_seconds"])
    amd_creates = [(c + offset).timestamp() for c in creates]
    ceiling = strict.ceiling(amd_creates[0], amd_creates[-1])
    peak_creates = sum(1 for c in creates if is_peak(c + offset))
    worst_peak, worst_off = strict.busiest_windows(amd_creates)
    return {
        "appointments": n,
        "created": len(creates),
        "done": progress.done if progress else None,
        "failed": progress.failed if progress else None,
        "rate_mode": report["rate_mode"],
        "simulated_minutes": round((creates[-1] - first_at).total_seconds() / 60, 2),
        "peak_creates": peak_creates,
        "ceiling_calls": round(ceiling, 1),
        "throughput_pct_of_ceiling": round(100 * len(creates) / ceiling, 1),
        "busiest_60s_ending_peak": worst_peak,
        "busiest_60s_ending_off_peak": worst_off,
        "http_429": report["http_429"],
        "rate_limited": report["rate_limited"]["total"],
        "violations": report["violations"]["count"],
        "amd_calls": report["calls"]["total"],
        "wall_seconds": round(wall, 1),
        "setup_seconds": round(setup_s, 1),
        "product": product,
    }


def pull_changed(sim: SimHandle, product: Product, linked: int, extra: int) -> dict[str, Any]:
    """Pull after `linked` of our appointments changed in AMD and `extra` were booked there."""
    state = sim.sim.state
    clock = product.clock
    clock.sleep(120)
    servertime = clock.now().astimezone(ZONE).strftime("%Y-%m-%dT%H:%M:%S.000")
    current = product.ctx.watermark.get()
    product.ctx.watermark.advance(servertime, clock.now(), current.version)
    clock.sleep(5)
    with state.lock:
        ours = [v for v in state.visits.values() if v.is_appt and v.referenceid][:linked]
        patient = next(iter(state.patients))
        for visit in ours:
            admin_edits.edit_appointment(sim.sim, visit.id, {"status": 1})
        columns = sorted(state.columns)
        day = date(2025, 4, 14)
        made = 0
        while made < extra:
            column = columns[made % len(columns)]
            slot = made // len(columns)
            start = datetime(day.year, day.month, day.day) + timedelta(
                days=slot // 40, minutes=15 * (slot % 40)
            )
            data = {"patientid": patient, "columnid": column, "force": True}
            data["start"] = start.strftime("%Y-%m-%dT%H:%M:%S")
            admin_edits.create_appointment(sim.sim, data)
            made += 1
    clock.sleep(61)
    before = _calls(sim)
    requests, amd = DynamoRequests(product), AmdTime(product)
    began, cpu = time.perf_counter(), time.thread_time()
    # Waits for the feed's turns as its client does: the whole window, overflow included.
    summary = PullRun(product.ctx, PullOptions(max_feed_wait=WHOLE_WINDOW_FEED_WAIT)).run()
    wall, cpu = time.perf_counter() - began, time.thread_time() - cpu - amd.cpu
    delta = _delta(before, _calls(sim))
    report = sim.admin.report()
    visits = linked + extra
    return {
        "changed_visits": visits,
        "summary": {k: getattr(summary, k) for k in ("visits", "updated", "unlinked", "status")},
        "amd_calls": sum(delta.values()),
        "feed_calls": delta.get("getupdatedvisits", 0),
        "amd_calls_by_action": delta,
        "target_calls": 1 + -(-visits // 500),
        "wall_seconds": round(wall, 1),
        "visits_per_second": round(summary.visits / wall, 1),
        "visits_per_cpu_second": round(summary.visits / cpu),
        "dynamodb_requests_per_visit": round(sum(requests.count.values()) / visits, 3),
        "http_429": report["http_429"],
        "rate_limited": report["rate_limited"]["total"],
    }


def pull_seeded(sim: SimHandle, stack: LocalStack, linked: int, new: int) -> dict[str, Any]:
    """The pull on its own (`--only pull`): `linked` records seeded through the store adapters
    and checked in at AMD's desk, `new` visits booked in AMD; our CPU and DynamoDB requests per
    visit (tests/integration/sync/pull_load.py, the same load test_pull_throughput runs)."""
    sim.admin.reset(clock=PULL_EPOCH.isoformat(), frozen=True, seed=3, patients=30,
                    appointments=0)  # fmt: skip
    wipe(stack)
    product = Product.build(sim)
    confirm_mappings(product)
    before = _calls(sim)
    figures = measured_pull(product, sim, linked, new)
    delta = _delta(before, _calls(sim))
    summary = figures.summary
    return {
        "changed_visits": figures.visits,
        "summary": {k: getattr(summary, k) for k in ("visits", "updated", "unlinked", "status")},
        "amd_calls": sum(delta.values()),
        "feed_calls": delta.get("getupdatedvisits", 0),
        "target_calls": 1 + -(-figures.visits // 500),
        "cpu_seconds": round(figures.cpu_seconds, 2),
        "visits_per_cpu_second": round(figures.visits_per_cpu_second),
        "wall_seconds_excl_amd": round(figures.wall_seconds, 1),
        "visits_per_second": round(figures.visits / figures.wall_seconds, 1),
        "dynamodb_requests_per_visit": round(figures.requests_per_visit, 3),
        "dynamodb_requests": figures.requests,
    }


def cli_next_to_worker(sim: SimHandle, stack: LocalStack, env: dict[str, str]) -> dict[str, Any]:
    """Issue 14's second acceptance figure: the operator CLI's `appointments` over 30 days at
    peak next to a running worker, strict simulator modes (tests/integration/sync/cli_scenario)."""
    run = run_cli_next_to_worker(Stack(stack, env), sim)
    figures = run.figures()
    figures["errors"] = [repr(error) for error in run.errors]
    return figures

"""Issue 15's scale benchmark (SPEC §9.3), one run on one moto store seeded with a practice's
year: 50,000 synced appointments and 10,000 patients (`--quick`: a few hundred).

    a. bulk-start latency for 366 days        (API handler in-process, scale_api)
    b. interactive latency behind 2,000 background jobs, peak and off-peak (sim clock, scale_lanes)
    c. a pull of 10,000 changed visits in 60 s invocations               (sim clock, scale_pull)
    d. API p95 of sync-status, logs and stats                          (API handler in-process)
    e. peak memory per function                                                  (scale_memory)
    f. cost per 1,000 syncs and per month                                          (scale_cost)
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3

from bench import scale_api, scale_cost, scale_memory, scale_pull
from bench.scale_lanes import Lanes, compute_ms
from bench.scale_requests import RequestCounter
from bench.scale_seed import seed_logs, seed_practice, seeded_appointment_id
from bench.sim_bench import _calls, _delta, _reset, _sync_patients
from bench.virtual_time import VirtualTime
from local.amdsim.handle import SimHandle
from local.runner.stack import LocalStack
from tests.lambda_support import load_handler
from tests.reliability.world import ZONE, Product, Slots, work_days


@dataclass(frozen=True)
class Sizes:
    appointments: int
    patients: int
    logs: int
    backlog: int
    interactive: int
    pulled: int
    api_samples: int
    bulk_samples: int


FULL = Sizes(50_000, 10_000, 50_000, 2_000, 30, 10_000, 200, 10)
QUICK = Sizes(400, 100, 400, 200, 4, 300, 10, 2)
DAY = date(2025, 3, 12)  # a Wednesday: peak 06:00-18:00 America/Denver
PEAK_START = datetime(2025, 3, 12, 10, 0, tzinfo=ZONE)
OFF_PEAK_START = datetime(2025, 3, 12, 19, 0, tzinfo=ZONE)
# A practice's year: ~300 days of history and ~2 months booked ahead of DAY.
FIRST_DAY = DAY - timedelta(days=300)
ARRIVAL_GAP = 20.0
MEMORY_PULL = 100  # one stored piece of the pull (PullOptions.chunk_size)
# template.yaml: the BackgroundQueue's MaximumConcurrency (= the function's reserved concurrency).
BACKGROUND_WORKERS = 2


def run_scale(sim: SimHandle, stack: LocalStack, quick: bool) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    counter = RequestCounter().install()
    product = _reset(sim, stack, datetime(2025, 3, 12, 5, 0, tzinfo=ZONE))
    out: dict[str, Any] = {"sizes": sizes.__dict__, "seconds": {}}
    out["seed"] = _timed(out, "seed", lambda: _seed(stack, product, sizes))
    patients = _sync_patients(product, 20)
    measured: dict[str, Any] = {}
    out["lanes"] = _timed(out, "lanes", lambda: _lanes(sim, product, patients, sizes, counter))
    measured.update(out["lanes"].pop("cost_inputs"))
    out["pull"] = _timed(out, "pull", lambda: _pull(sim, product, sizes, counter))
    measured.update(out["pull"].pop("cost_inputs"))
    with scale_api.function_environment(stack, "ApiFunction"):
        api = load_handler("api")
        out["api"] = _timed(out, "api", lambda: _api(api, sizes, counter))
        measured.update(out["api"].pop("cost_inputs"))
        api_peak = _api_memory(api)
    out["memory"] = _timed(out, "memory", lambda: _memory(sim, stack, product, patients, api_peak))
    measured["memory_gb"] = stack.functions["SyncWorkerFunction"].memory_mb / 1024
    out["cost"] = scale_cost.model(measured)
    return out


def _timed(out: dict[str, Any], name: str, call: Any) -> Any:
    """Run one phase; print its figures as soon as it ends (a full run takes most of an hour,
    and a later phase's failure must not lose what the earlier ones measured)."""
    began = time.perf_counter()
    result = call()
    out["seconds"][name] = round(time.perf_counter() - began, 1)
    figures = json.dumps(result, default=str, sort_keys=True)
    print(f"... scale {name}: {out['seconds'][name]} s {figures}", file=sys.stderr, flush=True)
    return result


def _seed(stack: LocalStack, product: Product, sizes: Sizes) -> dict[str, Any]:
    assert stack.resources is not None
    dynamodb = boto3.resource("dynamodb")
    table = dynamodb.Table(stack.resources.tables["SyncStateTable"])
    practice = product.ctx.practice
    seeded = seed_practice(table, practice, sizes.appointments, sizes.patients, FIRST_DAY)
    logs = dynamodb.Table(stack.resources.tables["LogsTable"])
    seeded["log_entries"] = seed_logs(logs, practice, sizes.logs, datetime.now(UTC))
    return seeded


def _lanes(
    sim: SimHandle, product: Product, patients: list[str], sizes: Sizes, counter: RequestCounter
) -> dict[str, Any]:
    lanes = _two_lanes(sim, patients, work_days(DAY + timedelta(days=5), 30))
    lanes.register_backlog(sizes.backlog)
    counter.reset()
    before = _calls(sim)
    result: dict[str, Any] = {}
    for name, start in (("peak", PEAK_START), ("off_peak", OFF_PEAK_START)):
        sim.admin.set_clock(start.astimezone(UTC).isoformat(), frozen=True)
        result[name] = lanes.measure(sizes.interactive, ARRIVAL_GAP, BACKGROUND_WORKERS)
    result["compute"] = compute_ms(lanes.compute)
    result["http_429"] = sim.admin.report()["http_429"]
    syncs = len(lanes.compute["done"])
    units = counter.snapshot()
    amd = sum(_delta(before, _calls(sim)).values())
    defer_s = sum(lanes.compute["defer"])
    result["dynamodb_per_sync"] = {
        "write_units": round(units["write_units"] / syncs, 1),
        "read_units": round(units["read_units"] / syncs, 1),
        "requests": round(sum(v for k, v in units["requests"].items() if ":" not in k) / syncs, 1),
    }
    result["cost_inputs"] = {
        "sync_seconds": (sum(lanes.compute["done"]) + defer_s) / syncs,
        "deferrals_per_sync": len(lanes.compute["defer"]) / syncs,
        "amd_calls_per_sync": amd / syncs,
        "sync_write_units": units["write_units"] / syncs,
        "sync_read_units": units["read_units"] / syncs,
    }
    return result


def _two_lanes(sim: SimHandle, patients: list[str], days: list[date]) -> Lanes:
    """The two worker functions' compositions (max_rate_wait 0, as deployed) on one clock."""
    clock = VirtualTime(sim)
    return Lanes(
        interactive=Product.build(sim, clock=clock, max_rate_wait=0.0),  # type: ignore[arg-type]
        background=Product.build(sim, clock=clock, max_rate_wait=0.0),  # type: ignore[arg-type]
        backlog=[],
        patients=patients,
        slots=Slots(days),
        time=clock,
    )


def _pull(
    sim: SimHandle, product: Product, sizes: Sizes, counter: RequestCounter
) -> dict[str, Any]:
    """As deployed first; if that cannot finish the window within one invocation per feed call
    plus STUCK_AFTER, again with the CLI's rate wait, so the feed's waits happen inside the
    invocations (and count against their deadline)."""
    n = sizes.pulled
    deployed = scale_pull.pull_product(product)
    scale_pull.book_changes(sim, deployed, n)
    # One feed call per tick at best (1 + ⌈n/500⌉ of them), and some slack for ticks whose
    # feed turn does not fit their deadline.
    limit = scale_pull.target_calls(n) + scale_pull.STUCK_AFTER
    out = _pull_run(sim, deployed, n, counter, limit)
    out["composition"] = "PullFunction (rate wait 50 s)"
    if not out["finished"]:
        out = {"as_deployed": out}
        waiting = scale_pull.pull_product(product, scale_pull.WAITING_MAX_RATE_WAIT)
        out.update(_pull_run(sim, waiting, n, counter, scale_pull.MAX_INVOCATIONS))
        out["composition"] = "rate wait 3600 s (the CLI's): feed waits inside the invocation"
    idle = _idle_pull(deployed, counter)
    out["idle_pull"] = {k: idle[k] for k in ("wall_seconds", "write_units", "read_units")}
    out["cost_inputs"].update(
        idle_pull_seconds=idle["wall_seconds"],
        idle_pull_write_units=idle["write_units"],
        idle_pull_read_units=idle["read_units"],
    )
    return out


def _pull_run(
    sim: SimHandle, puller: Product, n: int, counter: RequestCounter, limit: int
) -> dict[str, Any]:
    feed = puller.ctx.feed
    head, before = feed.head(), _calls(sim)
    counter.reset()
    run = scale_pull.run_invocations(puller, limit=limit)
    units = counter.snapshot()
    published = _published(puller, head)
    calls = _delta(before, _calls(sim))
    wall = sum(i["wall_seconds"] for i in run["invocations"])
    return {
        "changed_visits": n,
        "finished": run["finished"],
        "visits_read": run["visits"],
        "invocations": len(run["invocations"]),
        "statuses": [i["status"] for i in run["invocations"]],
        "invocation_seconds": [i["seconds"] for i in run["invocations"]],
        "longest_invocation_s": max(i["seconds"] for i in run["invocations"]),
        "deadline_s": scale_pull.DEADLINE_SECONDS,
        "feed_calls": calls.get("getupdatedvisits", 0),
        "target_calls": scale_pull.target_calls(n),
        "amd_calls_by_action": calls,
        "change_feed_entries": feed.head() - head,
        "distinct_visits_published": len(set(published)),
        "wall_seconds": round(wall, 1),
        "visits_per_second": round(len(published) / wall, 1),
        "cost_inputs": {
            "pull_seconds_per_visit": wall / n,
            "pull_write_units_per_visit": units["write_units"] / n,
            "pull_read_units_per_visit": units["read_units"] / n,
        },
    }


def _published(product: Product, after: int) -> list[str]:
    ids: list[str] = []
    while page := product.ctx.feed.read(after, 500):
        ids.extend(str(entry.advanced_md_visit_id) for entry in page)
        after = page[-1].sequence
    return ids


def _idle_pull(product: Product, counter: RequestCounter) -> dict[str, Any]:
    """The minute's pull when nothing changed: what every tick of a quiet day costs."""
    product.clock.sleep(scale_pull.TICK_SECONDS)
    counter.reset()
    run = scale_pull.run_invocations(product)
    units = counter.snapshot()
    assert [i["status"] for i in run["invocations"]] == ["ok"], run
    return {
        "wall_seconds": run["invocations"][0]["wall_seconds"],
        "write_units": units["write_units"],
        "read_units": units["read_units"],
    }


def _api(api: Any, sizes: Sizes, counter: RequestCounter) -> dict[str, Any]:
    counter.reset()
    bulk = scale_api.bulk_start(api, FIRST_DAY, sizes.bulk_samples)
    writes = counter.snapshot()
    ids = [seeded_appointment_id(i * 7919 % sizes.appointments) for i in range(sizes.api_samples)]
    scale_api.sync_status(api, ids[0])  # warm
    counter.reset()
    status = [scale_api.sync_status(api, i) for i in ids]
    reads = counter.snapshot()
    logs = scale_api.repeat(api, "get-sync-logs", sizes.api_samples)
    stats = scale_api.repeat(api, "get-sync-stats", sizes.api_samples)
    samples = sizes.bulk_samples + 1  # and the warm-up request
    return {
        "how": "in-process: functions/api/app.py lambda_handler, HttpApi v2 events, moto",
        "bulk_start_366_days": bulk,
        "sync_status": scale_api.percentiles(status),
        "sync_logs": scale_api.percentiles(logs),
        "sync_stats": scale_api.percentiles(stats),
        "cost_inputs": {
            "api_write_seconds": bulk["p50_ms"] / 1000,
            "api_write_units": writes["write_units"] / samples,
            "api_write_read_units": writes["read_units"] / samples,
            "api_read_seconds": scale_api.percentiles(status)["p50_ms"] / 1000,
            "api_read_units": reads["read_units"] / len(ids),
            "api_read_write_units": reads["write_units"] / len(ids),
        },
    }


def _api_memory(api: Any) -> float:
    def requests() -> None:
        scale_api.sync_status(api, seeded_appointment_id(0))
        scale_api.repeat(api, "get-sync-logs", 1)
        scale_api.repeat(api, "get-sync-stats", 1)

    return scale_memory.invocation_peak_mb(requests)


def _memory(
    sim: SimHandle, stack: LocalStack, product: Product, patients: list[str], api_peak: float
) -> dict[str, Any]:
    lanes = _two_lanes(sim, patients, work_days(DAY + timedelta(days=60), 5))
    worker_peak = scale_memory.invocation_peak_mb(lambda: lanes.measure(1, 1.0, 1))
    puller = scale_pull.pull_product(product)
    scale_pull.book_changes(sim, puller, MEMORY_PULL)
    pull_peak = scale_memory.invocation_peak_mb(lambda: scale_pull.run_invocations(puller))
    return {
        "how": "import_rss_mb: peak RSS (VmHWM) of a fresh interpreter importing the handler; "
        "invocation_peak_mb: tracemalloc peak of one warm invocation in-process",
        "import_rss_mb": scale_memory.import_rss_mb(stack),
        "invocation_peak_mb": {
            "api": api_peak,
            "sync_worker": worker_peak,
            "pull": pull_peak,
        },
        "invocations": {
            "api": "GET sync-status + GET sync/logs + GET sync/stats",
            "sync_worker": "one interactive appointment create",
            "pull": f"one pull of {MEMORY_PULL} AMD-side changes",
        },
        "memory_mb_configured": stack.functions["SyncWorkerFunction"].memory_mb,
    }

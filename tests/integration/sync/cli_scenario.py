"""Issue 14's CLI acceptance scenario, shared by the test (test_cli_next_to_service.py) and the
benchmark (`python -m bench.run --only cli`): the operator CLI runs `appointments` over 30 days at
peak next to a running sync worker, both the real compositions over the same moto tables, against
the simulator's strict modes (sliding 60 s window, AMD's clock 17 s ahead of ours), on a simulated
clock both sides share (`SharedTime`: the simulator's clock, frozen on a Wednesday 10:00 in
Denver, moved only when every caller waits), so PROTOCOL §6's peak limits apply on both sides and
waiting a minute costs no wall time.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from amdsync.cli import main
from amdsync.compose import Services
from amdsync.config import WorkerSettings, load_settings
from amdsync.jobs import SyncJob
from amdsync.sync.metrics import RecordingMetrics
from amdsync.sync.worker import JobDecision, JobProcessor
from local.amdsim.config import STRICT_RATE_SWITCHES
from local.amdsim.handle import SimHandle
from tests.integration.amd.simtools import SimTime, VirtualTime
from tests.integration.sync.conftest import (
    SIM_SEED,
    ZONE,
    Stack,
    World,
    confirm_mappings,
)
from tests.integration.sync.invariants import calls, counters

ROOT = Path(__file__).resolve().parents[3]
PEAK = datetime(2025, 3, 12, 10, 0, tzinfo=ZONE)  # Wednesday 10:00 MDT: peak hours (§6)
CLI_DAYS = 30
BOOKINGS = 12  # the worker's share of Tier 2 at peak: 12 creates, a minute's worth on its own


class SharedTime(VirtualTime):
    """`VirtualTime` with waits rounded up to whole milliseconds: the simulator's clock has
    millisecond resolution, so a wake-up between two milliseconds would never be reached."""

    def sleep(self, seconds: float) -> None:
        super().sleep(math.ceil(max(seconds, 0.001) * 1000) / 1000)


def _cli_environment(stack: Stack) -> dict[str, str]:
    """What the runbook has an operator do next to the local stack: the functions' own
    environment (tables, secret name, login URL, AWS endpoint), nothing of the CLI's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMD_", "AMDSYNC_"))}
    env.update(stack.environment)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])
    return env


def _work_days(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _drain_on(world: World, clock: SharedTime, decisions: list[JobDecision]) -> None:
    """The sync worker, as Lambda + SQS run it: receive, process, delete; a deferral (no rate
    budget: the worker never sleeps for it) comes back after its wait, on the shared clock."""
    sqs = world.stack.client("sqs")
    url = world.settings.sync_queue_url
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=0
    ).get("Messages", []):
        for message in messages:
            job = SyncJob.model_validate_json(message["Body"])
            while (decision := JobProcessor(world.ctx).process(job)).kind in ("defer", "retry"):
                decisions.append(decision)
                clock.sleep(decision.delay)
            decisions.append(decision)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@dataclass
class CliNextToWorker:
    """What one run of the scenario saw."""

    exit_codes: list[int] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    rows: Any = None  # the CLI's --json output
    stderr: str = ""
    decisions: list[JobDecision] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)  # the simulator's
    simulated_seconds: float = 0.0
    wall_seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        seen = counters(self.report)
        return {
            "cli_days": CLI_DAYS,
            "worker_bookings": BOOKINGS,
            "rate_mode": self.report["rate_mode"],
            "cli_exit_codes": self.exit_codes,
            "getdatevisits": calls(self.report, "getdatevisits"),
            "appointments_created": calls(self.report, "appointments.create"),
            "logins": seen["logins"],
            "http_429": seen["http_429"],
            "violations": seen["violations"],
            "simulated_minutes": round(self.simulated_seconds / 60, 2),
            "wall_seconds": round(self.wall_seconds, 1),
        }


def run_cli_next_to_worker(stack: Stack, amd_sim: SimHandle) -> CliNextToWorker:
    began = time.perf_counter()
    # AMD that disagrees with us: a sliding 60 s window, its clock 17 s ahead of ours.
    amd_sim.admin.reset(
        clock=PEAK.astimezone(UTC), frozen=True, config=STRICT_RATE_SWITCHES, **SIM_SEED
    )
    stack.wipe()
    settings = load_settings(WorkerSettings)
    metrics = RecordingMetrics()
    # Setup (the service's day so far): its login and lookups, the EHR's bookings queued.
    setup = Services(settings, metrics, clock=SimTime(amd_sim))  # limits: PROTOCOL §6
    confirm_mappings(setup.context(), setup)
    clock = SharedTime(amd_sim, workers=2)
    worker = Services(settings, metrics, clock=clock)  # another process: same tables
    world = World(stack, amd_sim, worker, worker.context(), metrics, "CLI14", settings)
    patient = world.id("P")
    world.register_patient(patient)
    days = _work_days(PEAK.date() + timedelta(days=1), 2)
    for n in range(BOOKINGS):
        day = days[n % 2]
        start = datetime(day.year, day.month, day.day, 8 + n // 2)  # practice-local, free slots
        world.register(world.id(f"A{n}"), patient, start, duration=30)

    run = CliNextToWorker()
    out = io.StringIO()

    def run_worker() -> None:
        try:
            _drain_on(world, clock, run.decisions)
        except BaseException as exc:  # reported by the caller
            run.errors.append(exc)
        finally:
            clock.finished()

    def run_cli() -> None:
        last = PEAK.date() + timedelta(days=CLI_DAYS - 1)
        argv = ["--json", "appointments", "--from", PEAK.date().isoformat()]
        argv += ["--to", last.isoformat()]
        err = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                run.exit_codes.append(main(argv, _cli_environment(stack), clock=clock))
        except BaseException as exc:
            run.errors.append(exc)
        finally:
            run.stderr = err.getvalue()
            clock.finished()

    threads = [threading.Thread(target=run_worker), threading.Thread(target=run_cli)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if any(thread.is_alive() for thread in threads):
        run.errors.append(TimeoutError("worker or CLI hung"))
    run.rows = json.loads(out.getvalue()) if out.getvalue().strip() else None
    run.report = amd_sim.admin.report()
    run.simulated_seconds = (amd_sim.sim.clock.now() - PEAK.astimezone(UTC)).total_seconds()
    run.wall_seconds = time.perf_counter() - began
    return run

"""One AdvancedMD identity per office key for every caller (issue 14 item 3): the operator CLI,
pointed at the service's stack, uses the service's token cache and rate buckets, so running it
next to the service costs no second login and no 429.

The worker and the CLI here are the real compositions (`compose.Services` for the worker,
`amdsync.cli.main` for the CLI) over the same moto tables and the simulator. The acceptance run
is at peak, against the simulator's strict modes (sliding 60 s window, AMD's clock 17 s ahead),
on a simulated clock both sides share (`SharedTime`: the simulator's clock, frozen on
a Wednesday 10:00 in Denver, moved only when every caller waits), so PROTOCOL §6's peak limits
apply on both sides (no widened table) and waiting a minute costs no wall time.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

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
from tests.integration.sync.invariants import assert_sim_clean, calls

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


def test_cli_appointments_over_30_days_at_peak_next_to_a_worker_one_login_no_429(
    stack: Stack, amd_sim: SimHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    # AMD that disagrees with us: a sliding 60 s window, its clock 17 s ahead of ours.
    amd_sim.admin.reset(
        clock=PEAK.astimezone(UTC), frozen=True, config=STRICT_RATE_SWITCHES, **SIM_SEED
    )
    report = amd_sim.admin.report()["rate_mode"]
    assert (report["rate_window"], report["clock_offset_seconds"]) == ("sliding", 17.0)
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

    decisions: list[JobDecision] = []
    errors: list[BaseException] = []
    codes: list[int] = []

    def run_worker() -> None:
        try:
            _drain_on(world, clock, decisions)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            clock.finished()

    def run_cli() -> None:
        last = PEAK.date() + timedelta(days=CLI_DAYS - 1)
        argv = ["--json", "appointments", "--from", PEAK.date().isoformat()]
        try:
            argv += ["--to", last.isoformat()]
            codes.append(main(argv, _cli_environment(stack), clock=clock))
        except BaseException as exc:
            errors.append(exc)
        finally:
            clock.finished()

    threads = [threading.Thread(target=run_worker), threading.Thread(target=run_cli)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "worker or CLI hung"
    assert errors == []
    out, err = capsys.readouterr()
    assert codes == [0], err
    rows = json.loads(out)
    assert isinstance(rows, list)
    assert "no stack configured" not in err
    report = amd_sim.admin.report()
    assert calls(report, "getdatevisits") >= CLI_DAYS
    assert calls(report, "appointments.create") == BOOKINGS
    assert [d.kind for d in decisions].count("done") == BOOKINGS + 1
    # Both callers needed more than a minute of Tier 2 at peak: they really shared the budget.
    assert amd_sim.sim.clock.now() - PEAK.astimezone(UTC) > timedelta(minutes=3)
    assert_sim_clean(report, logins=1, http_429=0)


def _run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amdsync.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_processes_with_the_functions_environment_reuse_the_services_login(
    stack: Stack, amd_sim: SimHandle
) -> None:
    """The runbook's way, as separate processes on the real clock: the service has logged in;
    the operator's CLI runs with the functions' environment and never logs in again."""
    # Real time, like an operator's terminal; AMD counts a sliding window on a clock 17 s ahead.
    amd_sim.admin.reset(config=STRICT_RATE_SWITCHES, **SIM_SEED)
    stack.wipe()
    service = Services(load_settings(WorkerSettings), RecordingMetrics())
    service.amd.client.session()  # the service's login
    env = _cli_environment(stack)
    today = datetime.now(ZONE).date()
    for args in (
        ["test-connection"],
        ["--json", "limits"],
        ["appointments", "--from", str(today), "--to", str(today + timedelta(days=1))],
    ):
        result = _run_cli(env, *args)
        assert result.returncode == 0, result.stderr
        assert "no stack configured" not in result.stderr
    assert_sim_clean(amd_sim.admin.report(), logins=1, http_429=0)

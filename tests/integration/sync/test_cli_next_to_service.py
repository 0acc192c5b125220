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

import subprocess
import sys
from datetime import datetime, timedelta

from amdsync.compose import Services
from amdsync.config import WorkerSettings, load_settings
from amdsync.sync.metrics import RecordingMetrics
from local.amdsim.config import STRICT_RATE_SWITCHES
from local.amdsim.handle import SimHandle
from tests.integration.sync.cli_scenario import (
    BOOKINGS,
    CLI_DAYS,
    _cli_environment,
    run_cli_next_to_worker,
)
from tests.integration.sync.conftest import SIM_SEED, ZONE, Stack
from tests.integration.sync.invariants import assert_sim_clean, calls


def test_cli_appointments_over_30_days_at_peak_next_to_a_worker_one_login_no_429(
    stack: Stack, amd_sim: SimHandle
) -> None:
    run = run_cli_next_to_worker(stack, amd_sim)
    assert run.errors == []
    assert run.exit_codes == [0], run.stderr
    assert isinstance(run.rows, list)
    assert "no stack configured" not in run.stderr
    mode = run.report["rate_mode"]
    assert (mode["rate_window"], mode["clock_offset_seconds"]) == ("sliding", 17.0)
    assert calls(run.report, "getdatevisits") >= CLI_DAYS
    assert calls(run.report, "appointments.create") == BOOKINGS
    assert [d.kind for d in run.decisions].count("done") == BOOKINGS + 1
    # Both callers needed more than a minute of Tier 2 at peak: they really shared the budget.
    assert run.simulated_seconds > 180
    assert_sim_clean(run.report, logins=1, http_429=0)


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

"""`make run` output (issue 18 item 7): function logs go to one file per function under the log
directory, the runner's own lines to runner.log, and the terminal shows progress and a short
banner (URLs, where logs go, the export lines, two curl lines, `ready`) and nothing else."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local.runner.function_host import FunctionPool, HostConfig
from local.runner.lambda_environment import lambda_environment
from tests.integration.runner.test_http_front import echo_spec

REPO = Path(__file__).resolve().parents[3]


def test_a_functions_output_goes_to_its_file_not_the_terminal(tmp_path, capfd) -> None:
    spec = echo_spec()
    log_file = tmp_path / "Echo.log"
    pool = FunctionPool(HostConfig(spec, lambda_environment(spec, {}), str(log_file)), 2)
    try:
        pool.invoke({"say": "first-line"})
        pool.invoke({"say": "second-line"})
    finally:
        pool.stop()
    text = log_file.read_text()
    for expected in ("first-line", "first-line (stderr)", "second-line", "second-line (stderr)"):
        assert expected in text.splitlines()
    terminal = capfd.readouterr()
    assert "first-line" not in terminal.out + terminal.err


def _start(log_dir: Path) -> tuple[subprocess.Popen[str], list[str]]:
    command = [sys.executable, "-m", "local.runner", "--api-port", "0", "--moto-port", "0"]
    command += ["--sim-port", "0", "--issuer-port", "0", "--no-seed", "--no-scheduler"]
    command += ["--log-dir", str(log_dir)]
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'layers' / 'common'}"}
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # the terminal: both streams
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.strip() == "ready":
            break
    return process, lines


def _value(lines: list[str], name: str) -> str:
    return next(line for line in lines if line.startswith(f"{name} ")).split(" ", 1)[1]


def test_the_terminal_shows_progress_and_the_banner_and_the_logs_go_to_files(tmp_path) -> None:
    log_dir = tmp_path / "logs"
    process, lines = _start(log_dir)
    try:
        assert lines and lines[-1] == "ready", lines
        assert lines[0].startswith("starting ")
        banner = lines[1:]
        names = [line.split(" ", 1)[0] for line in banner]
        assert names[:5] == ["api", "ui", "amdsim", "moto", "issuer"]
        assert _value(banner, "logs") == str(log_dir.resolve())
        exports = [line.split("=", 1)[0] for line in banner if line.startswith("export ")]
        assert exports == [
            f"export AMDSYNC_TOKEN_{role}" for role in ("ADMIN", "BILLING", "PROVIDER", "EHR")
        ]
        curls = [line for line in banner if line.startswith("curl ")]
        assert len(curls) == 2 and all("$AMDSYNC_TOKEN_" in line for line in curls)
        api = _value(banner, "api")
        assert all(line.split()[0] in _BANNER_WORDS for line in banner), banner
        # Every hosted function has its own file; the runner's own lines have theirs.
        files = {path.name for path in log_dir.iterdir()}
        assert {"runner.log", "ApiFunction.log", "SyncWorkerFunction.log"} <= files
        # A request: its function logs to ApiFunction.log, the request line to runner.log.
        admin = next(line for line in banner if line.startswith("export AMDSYNC_TOKEN_ADMIN="))
        token = admin.split("=", 1)[1]
        request = urllib.request.Request(
            f"{api}/mappings/providers", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as reply:
            assert reply.status == 200
        assert_eventually_in(log_dir / "ApiFunction.log", '"service":"amdsync-api"')
        assert_eventually_in(log_dir / "runner.log", "GET /api/advancedmd/mappings/providers")
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    # After `ready` the terminal stays quiet until it stops: no logs, no tracebacks.
    assert rest.strip().splitlines() == ["stopping"]


_BANNER_WORDS = {"api", "ui", "amdsim", "moto", "issuer", "logs", "note", "export", "curl", "ready"}


def assert_eventually_in(path: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never reached {path.name}")

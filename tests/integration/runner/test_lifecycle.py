"""Starting and stopping leaves nothing behind: no host processes, no simulator, no moto."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local.runner.jwt_authorizer import JwtAuthorizer, JwtSettings
from local.runner.simulator import simulator_available
from local.runner.stack import LocalStack
from local.runner.tokens import DEV_CLIENT_ID
from tests.integration.runner.conftest import quiet_config

REPO = Path(__file__).resolve().parents[3]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[-1].startswith("Z"))


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def test_full_stack_starts_serves_and_stops_without_orphans() -> None:
    config = quiet_config(start_simulator=True, run_http=True, run_pollers=True, run_scheduler=True)
    stack = LocalStack(config).start()
    try:
        assert set(stack.pools) == {
            "ApiFunction",
            "SyncWorkerFunction",
            "BackgroundWorkerFunction",
            "PullFunction",
            "WeeklyReportFunction",
            "WebhookDeliveryFunction",
        }
        pids = stack.child_pids()
        assert len(pids) == 6 + (1 if simulator_available() else 0)
        assert all(alive(pid) for pid in pids)
        # One process per function: Powertools singletons cannot leak across functions.
        assert len(set(pids)) == len(pids)
        with urllib.request.urlopen(f"{stack.api_base_url}/health", timeout=10) as response:
            assert json.load(response) == {"status": "ok"}
        if simulator_available():
            assert stack.simulator is not None and stack.simulator.url.startswith("http://")
    finally:
        stack.stop()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)]
    stack.stop()  # idempotent


def test_the_entry_point_prints_urls_and_tokens_then_ready_and_stops_on_sigterm() -> None:
    command = [sys.executable, "-m", "local.runner", "--api-port", "0", "--moto-port", "0"]
    # Without the demo seed: this test is about the entry point, and `make run`'s seeded start
    # is timed on its own (README); under a loaded test machine the seed alone can take 40 s.
    command += ["--sim-port", "0", "--issuer-port", "0", "--fast-clock", "60", "--no-seed"]
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'layers' / 'common'}"}
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
            if line.strip() == "ready":
                break
        assert lines and lines[-1] == "ready", lines
        api = next(line for line in lines if line.startswith("api "))
        assert api.startswith("api http://127.0.0.1:") and api.endswith("/api/advancedmd")
        assert any(line.startswith("moto http://127.0.0.1:") for line in lines)
        assert any(line.startswith("amdsim ") for line in lines)
        exports = dict(line.split("=", 1) for line in lines if line.startswith("export "))
        assert list(exports) == [
            f"export AMDSYNC_TOKEN_{r}" for r in ("ADMIN", "BILLING", "PROVIDER", "EHR")
        ]
        # The tokens come from the printed issuer: its JWKS verifies them, RS256.
        issuer = next(line for line in lines if line.startswith("issuer "))[len("issuer ") :]
        assert issuer.startswith("http://127.0.0.1:")
        authorizer = JwtAuthorizer(JwtSettings(issuer=issuer, audience=DEV_CLIENT_ID))
        claims = authorizer.authorize("Bearer " + exports["export AMDSYNC_TOKEN_BILLING"])
        assert claims is not None and claims["roles"] == "[billing]"
        assert not any(part == "demo" for line in lines for part in line.split())  # no password
        children = descendants(process.pid)
        assert len(children) >= 4
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if alive(pid)]

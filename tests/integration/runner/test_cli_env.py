"""The runbook's CLI instructions next to the running local stack (`make run`): the operator
sources `.local/cli.env` and runs `amdsync`; the CLI shares the service's AdvancedMD token and
rate budget, so the whole session costs one login and no 429 (issue 14 item 3).

Real processes on the real clock, as an operator would have them: `python -m local.runner`
(functions in their own processes, the simulator) and the CLI as separate commands.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from local.runner.api_client import AmdsyncApi

REPO = Path(__file__).resolve().parents[3]
PYTHONPATH = f"{REPO}{os.pathsep}{REPO / 'layers' / 'common'}"


def _start_runner(cli_env: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    command = [sys.executable, "-m", "local.runner", "--api-port", "0", "--moto-port", "0"]
    command += ["--sim-port", "0", "--no-seed", "--no-scheduler", "--cli-env", str(cli_env)]
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline().strip()
        if not line or line == "ready":
            break
        if line.startswith("export "):
            name, value = line.removeprefix("export ").split("=", 1)
            found[name] = value
        else:
            key, _, value = line.partition(" ")
            found[key] = value
    assert "cli-env" in found, found
    return process, found


def _operator(cli_env: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """One CLI command in an operator's shell: `. .local/cli.env && amdsync …`."""
    quoted = " ".join(f"'{arg}'" for arg in args)
    script = f". '{cli_env}' && exec '{sys.executable}' -m amdsync.cli {quoted}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AMD_", "AWS_"))}
    clean = {k: v for k, v in clean.items() if not k.endswith("_TABLE")}
    return subprocess.run(
        ["bash", "-c", script],
        env={**clean, "PYTHONPATH": PYTHONPATH, "HOME": str(cli_env.parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_sourced_from_cli_env_shares_the_services_login_and_budget(tmp_path: Path) -> None:
    cli_env = tmp_path / ".local" / "cli.env"
    process, announced = _start_runner(cli_env)
    try:
        assert announced["cli-env"] == str(cli_env)
        assert cli_env.stat().st_mode & 0o077 == 0
        text = cli_env.read_text()
        for name in ("CONTROL_TABLE", "CACHE_TABLE", "AMD_SECRET_NAME", "AWS_ENDPOINT_URL"):
            assert f"export {name}=" in text
        assert "AMD_PASSWORD" not in text  # the AMD credentials stay in the secret
        tokens = {"admin": announced["AMDSYNC_TOKEN_ADMIN"]}
        api = AmdsyncApi(announced["api"], tokens)
        # The service logs in first (the admin console's connection test) ...
        assert api.post("admin", "/settings/test-connection")["ok"] is True
        # ... then the operator runs the CLI next to it, as the runbook says.
        today = datetime.now(ZoneInfo("America/Denver")).date()
        for args in (
            ("test-connection",),
            ("--json", "limits"),
            ("appointments", "--from", str(today), "--to", str(today + timedelta(days=2))),
        ):
            result = _operator(cli_env, *args)
            assert result.returncode == 0, result.stderr
            assert "no stack configured" not in result.stderr
        with urllib.request.urlopen(f"{announced['amdsim']}/_sim/report", timeout=10) as reply:
            report = json.load(reply)
        assert report["logins"] == 1, report["logins"]
        assert report["http_429"] == 0
        assert report["violations"]["count"] == 0
        assert not (tmp_path / ".cache" / "amdsync").exists()  # no private token was made
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert not cli_env.exists()  # removed with the stack it pointed at

"""How long the api function's module takes to import at cold start (the part of an init we
control): functions/api/app.py loaded in a fresh interpreter with the environment
template.yaml gives it, as Lambda does. Prints the figure; fails only past a generous bound.

The bound is loose on purpose and applies to CPU time (a loaded CI machine stretches wall
time, not CPU time); the printed wall figure and the slowest imports (from `-X importtime`)
are what to watch.

The ratio test (issue 15 item 6) sets the import against `import boto3, pydantic, httpx` alone,
measured in the same run: fresh interpreters, the two probes interleaved, medians of RATIO_RUNS
each (a busy machine slows both alike). Issue 15 asks for TARGET_RATIO; the X-Ray tracer, Jinja
and the AMD client are now built on first use, and the test holds the ratio reached
(BOUND_RATIO, CPU time) so a regression fails it. What still separates the two: pydantic's
model machinery and our models, Powertools' resolver with validation, and the route modules."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.lambda_support import FUNCTIONS, REPO

BOUND_CPU_MS = 3000.0
RUNS = 3
RATIO_RUNS = 7
TARGET_RATIO = 1.3  # issue 15 item 6 (not yet reached: see the module docstring)
BOUND_RATIO = 3.0  # CPU-time ratio held (measured 2.2-2.6 on a busy 2-core machine; main was ~3)

PROBE = """
import importlib.util, json, sys, time
start, cpu = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = (time.perf_counter() - start) * 1000
cpu_ms = (time.process_time() - cpu) * 1000
assert callable(module.lambda_handler)
print(json.dumps({"ms": elapsed, "cpu_ms": cpu_ms, "modules": len(sys.modules)}))
"""


BASELINE_PROBE = """
import json, sys, time
start, cpu = time.perf_counter(), time.process_time()
import boto3, pydantic, httpx
elapsed = (time.perf_counter() - start) * 1000
cpu_ms = (time.process_time() - cpu) * 1000
print(json.dumps({"ms": elapsed, "cpu_ms": cpu_ms, "modules": len(sys.modules)}))
"""


def _api_environment() -> dict[str, str]:
    """The ApiFunction's variables from template.yaml (Globals + its own), refs filled in."""
    template, problems = decode(str(REPO / "template.yaml"))
    assert not problems
    variables: dict[str, Any] = {
        **template["Globals"]["Function"]["Environment"]["Variables"],
        **template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"],
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    for name, value in variables.items():
        env[name] = value if isinstance(value, str) else f"placeholder-{name.lower()}"
    env.update(
        {
            "PRACTICE_ID": "main",
            "PRACTICE_TIMEZONE": "America/Denver",
            "AMD_TRUSTED_HOSTS": "advancedmd.com",
            "ROLE_CLAIM": "roles",
            "AMD_PARTNER_LOGIN_URL": "https://partnerlogin.example.invalid/practicemanager/xmlrpc/processrequest.aspx",
            "SYNC_QUEUE_URL": "https://sqs.us-west-2.amazonaws.com/123456789012/amdsync.fifo",
            "WEBHOOK_QUEUE_URL": "https://sqs.us-west-2.amazonaws.com/123456789012/hooks.fifo",
            "WEBHOOK_INSECURE_HOSTS": "",
            "AWS_REGION": "us-west-2",
            "AWS_DEFAULT_REGION": "us-west-2",
            "AWS_LAMBDA_FUNCTION_NAME": "amdsync-api-dev",
            "PYTHONPATH": os.pathsep.join([str(REPO / "layers" / "common"), str(REPO)]),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _run(env: dict[str, str], *flags: str, probe: str = PROBE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *flags, "-c", probe, str(FUNCTIONS / "api" / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _slowest(importtime: str, count: int = 8) -> list[tuple[int, str]]:
    rows = []
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        if len(name) - len(name.lstrip()) == 1:  # top-level imports only (no nesting indent)
            rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:count]


def test_api_cold_import_time(capsys: pytest.CaptureFixture[str]) -> None:
    env = _api_environment()
    figures = []
    for _ in range(RUNS):
        done = _run(env)
        assert done.returncode == 0, done.stderr[-2000:]
        figures.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = min(f["ms"] for f in figures)
    best_cpu = min(f["cpu_ms"] for f in figures)
    detail = _run(env, "-X", "importtime")
    assert detail.returncode == 0, detail.stderr[-2000:]
    with capsys.disabled():
        runs = ", ".join(f"{f['ms']:.0f}" for f in figures)
        print(
            f"\napi cold import: best {best:.0f} ms wall, {best_cpu:.0f} ms CPU of {RUNS} "
            f"(runs: {runs} ms; {figures[0]['modules']} modules)"
        )
        for micros, name in _slowest(detail.stderr):
            print(f"  {micros / 1000:8.1f} ms  {name}")
    assert best_cpu < BOUND_CPU_MS, figures


def _figures(env: dict[str, str], probe: str) -> dict[str, float]:
    done = _run(env, probe=probe)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_api_cold_import_against_boto3_pydantic_httpx(capsys: pytest.CaptureFixture[str]) -> None:
    env = _api_environment()
    app: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    for _ in range(RATIO_RUNS):  # interleaved: a burst of load slows both probes alike
        base.append(_figures(env, BASELINE_PROBE))
        app.append(_figures(env, PROBE))
    ratios = {
        key: statistics.median(f[key] for f in app) / statistics.median(f[key] for f in base)
        for key in ("cpu_ms", "ms")
    }
    with capsys.disabled():
        for key, unit in (("cpu_ms", "CPU"), ("ms", "wall")):
            print(
                f"\napi import vs boto3+pydantic+httpx ({unit}, medians of {RATIO_RUNS}): "
                f"{statistics.median(f[key] for f in app):.0f} ms / "
                f"{statistics.median(f[key] for f in base):.0f} ms = {ratios[key]:.2f} "
                f"(target {TARGET_RATIO})"
            )
    assert ratios["cpu_ms"] <= BOUND_RATIO, (ratios, app, base)


def test_the_api_import_leaves_xray_jinja_and_the_amd_client_for_first_use() -> None:
    """What the ratio owes to laziness, checked by name (robust to any machine's speed)."""
    probe = PROBE.replace(
        "assert callable(module.lambda_handler)",
        "assert callable(module.lambda_handler)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('aws_xray_sdk', 'jinja2') or m in ('amdsync.amd.client', 'amdsync.amd.service'))))",
    )
    done = _run(_api_environment(), probe=probe)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[0]) == []

"""How long the api function's module takes to import at cold start (the part of an init we
control): functions/api/app.py loaded in a fresh interpreter with the environment template.yaml
gives it, as Lambda does, from the layer as `sam build` makes it: amdsync copied and compiled to
bytecode by layers/common/Makefile (`package bytecode`). The third-party packages are the ones a
deployed function has and no others (tests/runtime_site.py: the layer's requirements and the
runtime's boto3, linked from the venv, which holds .pyc as the layer does; `python -S` keeps the
rest of the venv out: its development packages made `import httpx` load httpx's command line,
click, rich and pygments, which flattered the ratio below by ~0.2). CPU time is asserted (a loaded
machine stretches wall time more than CPU time); wall time and the slowest imports
(`-X importtime`) are printed.

The ratio test (issue 15 item 6) sets the import against `import boto3, pydantic, httpx` alone,
measured in the same run: fresh interpreters, the probes interleaved, the median of the pairs'
ratios (a burst of load slows both runs of a pair alike; best-of-9 per probe swung 1.48-1.85
between runs on a loaded machine, the paired median 1.46-1.62). The import loads what routing
needs (Powertools' resolver with request validation, the settings model, the gate); route groups,
the stores, the use cases and the AMD client load on first use. A third probe, the library floor,
imports and builds only what the handler cannot do without (boto3, pydantic's BaseModel,
Powertools' logger, metrics and validating resolver): its ratio to the baseline is what the
libraries alone cost, and the handler's ratio to it is what amdsync adds (docs/performance.md).

Laziness must not just move the cost: the first-request test measures import + the first
GET /sync/status and PUT /patients/{id} against moto, in fresh interpreters, and prints both."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from amdsync.web.routes import API_ROUTES
from local.runner.lambda_environment import lambda_environment
from local.runner.stack import LocalStack
from tests.lambda_support import EVENTS, FUNCTIONS, REPO
from tests.runtime_site import link_runtime_site
from tests.stacks import resources_only

BOUND_CPU_MS = 3000.0
RUNS = 3
RATIO_RUNS = 9
TARGET_RATIO = 1.3  # issue 15 item 6: not met (docs/performance.md)
# Held: the libraries the handler cannot do without already cost ~1.4 x the baseline (the floor
# probe); the handler measured 1.46-1.62 on the shared 2-core machine (docs/performance.md).
# BOUND_RATIO fails main before the lazy route groups; the name check below catches a route
# group, the stores or the AMD client back at import whatever the machine's speed.
BOUND_RATIO = 1.8
FIRST_REQUEST_RUNS = 3

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

# What the handler cannot avoid at import, built as it builds them: the floor under its ratio.
LIBRARY_FLOOR_PROBE = """
import json, sys, time
start, cpu = time.perf_counter(), time.process_time()
import boto3
from pydantic import BaseModel
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics
Logger(), Metrics(namespace="floor"), APIGatewayHttpResolver(enable_validation=True)
elapsed = (time.perf_counter() - start) * 1000
cpu_ms = (time.process_time() - cpu) * 1000
print(json.dumps({"ms": elapsed, "cpu_ms": cpu_ms, "modules": len(sys.modules)}))
"""


@pytest.fixture(scope="module")
def runtime_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return link_runtime_site(tmp_path_factory.mktemp("runtime"))


@pytest.fixture(scope="module")
def layer_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """amdsync as the CommonLayer ships it: copied and compiled by the layer's own Makefile."""
    artifacts = tmp_path_factory.mktemp("layer")
    done = subprocess.run(
        ["make", "-s", "-C", str(REPO / "layers" / "common"), "package", "bytecode"],
        env={**os.environ, "ARTIFACTS_DIR": str(artifacts), "LAYER_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    site = artifacts / "python"
    assert (site / "amdsync" / "__pycache__" / "compose.cpython-311.pyc").is_file()
    return site


@pytest.fixture(scope="module")
def api_environment(layer_site: Path, runtime_site: Path) -> dict[str, str]:
    return _api_environment(layer_site, runtime_site)


def _api_environment(site: Path, runtime: Path) -> dict[str, str]:
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
            "PYTHONPATH": os.pathsep.join([str(site), str(runtime), str(REPO)]),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _run(
    env: dict[str, str], *flags: str, probe: str = PROBE, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # -S: no site-packages but the deployed ones on PYTHONPATH
        [sys.executable, "-S", *flags, "-c", probe, str(FUNCTIONS / "api" / "app.py"), *args],
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


def test_api_cold_import_time(
    capsys: pytest.CaptureFixture[str], api_environment: dict[str, str]
) -> None:
    env = api_environment
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


def _paired(runs: list[dict[str, float]], top: str, bottom: str) -> float:
    """The median of the runs' CPU-time ratios: each run's probes ran back to back."""
    return statistics.median(run[top] / run[bottom] for run in runs)


def test_api_cold_import_against_boto3_pydantic_httpx(
    capsys: pytest.CaptureFixture[str], api_environment: dict[str, str]
) -> None:
    probes = {"base": BASELINE_PROBE, "app": PROBE, "floor": LIBRARY_FLOOR_PROBE}
    runs: list[dict[str, float]] = []
    for _ in range(RATIO_RUNS):  # interleaved: a burst of load slows the probes of a run alike
        runs.append({k: _figures(api_environment, probe)["cpu_ms"] for k, probe in probes.items()})
    ratio = _paired(runs, "app", "base")
    best = {k: min(run[k] for run in runs) for k in probes}
    with capsys.disabled():
        print(
            f"\napi import vs boto3+pydantic+httpx (CPU, median of {RATIO_RUNS} paired ratios): "
            f"{ratio:.2f} (target {TARGET_RATIO}, bound {BOUND_RATIO}); best of each "
            f"{best['app']:.0f} / {best['base']:.0f} ms = {best['app'] / best['base']:.2f}\n"
            f"library floor vs boto3+pydantic+httpx: {_paired(runs, 'floor', 'base'):.2f}; "
            f"api import vs library floor (amdsync's own part): "
            f"{_paired(runs, 'app', 'floor'):.2f}"
        )
    assert ratio <= BOUND_RATIO, (ratio, runs)


DEPLOYED_CHECK_PROBE = """
import importlib.util, json, sys
import httpx, boto3, aws_lambda_powertools, jinja2, aws_xray_sdk
dev = [n for n in ("pytest", "moto", "rich", "click", "pygments") if importlib.util.find_spec(n)]
cli = sorted({"rich", "click"} & set(sys.modules))
print(json.dumps({"dev_importable": dev, "cli_loaded": cli}))
"""


def test_the_probes_see_the_deployed_packages_and_no_development_ones(
    api_environment: dict[str, str],
) -> None:
    """The baseline's `import httpx` must not load httpx's command line (click, rich), which a
    development venv has and a deployed function does not."""
    figures = _figures(api_environment, DEPLOYED_CHECK_PROBE)
    assert figures == {"dev_importable": [], "cli_loaded": []}, figures


# Loaded on first use, never by the import: X-Ray, Jinja, the AMD client, every route group,
# the stores and the use cases (the package prefixes below).
DEFERRED_PACKAGES = ("aws_xray_sdk", "jinja2", "amdsync.sync", "amdsync.store")
DEFERRED_MODULES = ("amdsync.amd.client", "amdsync.amd.service", "amdsync.amd.transport")


def test_the_api_import_leaves_route_groups_stores_xray_jinja_and_amd_for_first_use(
    api_environment: dict[str, str],
) -> None:
    """What the ratio owes to laziness, checked by name (robust to any machine's speed)."""
    groups = sorted({f"amdsync.web.{r.group}" for r in API_ROUTES if r.group})
    probe = PROBE.replace(
        "assert callable(module.lambda_handler)",
        "assert callable(module.lambda_handler)\nprint(json.dumps(sorted(sys.modules)))",
    )
    done = _run(api_environment, probe=probe)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[0]))
    assert len(groups) == 8 and not loaded & set(groups), sorted(loaded & set(groups))
    early = sorted(
        m
        for m in loaded
        if m in DEFERRED_MODULES or any(m == p or m.startswith(p + ".") for p in DEFERRED_PACKAGES)
    )
    assert early == [], early


FIRST_REQUEST_PROBE = """
import importlib.util, json, sys, time
from tests.lambda_support import FakeLambdaContext
event = json.loads(open(sys.argv[2]).read())
start, cpu = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported, imported_cpu = time.perf_counter(), time.process_time()
result = module.lambda_handler(event, FakeLambdaContext())
done, done_cpu = time.perf_counter(), time.process_time()
print(json.dumps({
    "status": result["statusCode"],
    "import_cpu_ms": (imported_cpu - cpu) * 1000,
    "request_cpu_ms": (done_cpu - imported_cpu) * 1000,
    "cpu_ms": (done_cpu - cpu) * 1000,
    "ms": (done - start) * 1000,
}))
"""


@pytest.fixture(scope="module")
def moto_api_environment(layer_site: Path, runtime_site: Path) -> Iterator[dict[str, str]]:
    """The ApiFunction's environment against a moto server holding the template's resources
    (the local runner's code creates them), with the layer as `sam build` makes it."""
    config = resources_only()
    stack = LocalStack(config).start()
    try:
        assert stack.moto is not None
        env = lambda_environment(stack.functions["ApiFunction"], stack.moto.environment())
        env["PYTHONPATH"] = os.pathsep.join([str(layer_site), str(runtime_site), str(REPO)])
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PATH"] = os.environ.get("PATH", "")
        yield env
    finally:
        stack.stop()


def _first_request_events(directory: Path, run: int) -> dict[str, Path]:
    """GET /sync/status as sampled, and PUT /patients/{id} for a patient (and Idempotency-Key)
    of this run's own, so each cold start does the whole write, not a replay."""
    status = json.loads((EVENTS / "api" / "get-sync-status.json").read_text())
    put = json.loads((EVENTS / "api" / "put-patients-by-patient-id.json").read_text())
    patient = f"cold-start-{run}"
    put["pathParameters"] = {"patientId": patient}
    put["rawPath"] = put["requestContext"]["http"]["path"] = f"/api/advancedmd/patients/{patient}"
    put["headers"]["idempotency-key"] = f"cold-start-{run}"
    events = {"GET /sync/status": status, "PUT /patients/{patientId}": put}
    paths = {}
    for name, event in events.items():
        path = directory / f"{run}-{name.split()[0].lower()}.json"
        path.write_text(json.dumps(event))
        paths[name] = path
    return paths


def test_import_and_first_request_of_a_typical_route(
    capsys: pytest.CaptureFixture[str],
    moto_api_environment: dict[str, str],
    tmp_path: Path,
) -> None:
    """Import + the first request, each in a fresh interpreter (the cost a cold request pays;
    printed, with the import alone, so laziness is not mistaken for a saving)."""
    figures: dict[str, list[dict[str, float]]] = {}
    base: list[dict[str, float]] = []
    for run in range(FIRST_REQUEST_RUNS):
        base.append(_figures(moto_api_environment, BASELINE_PROBE))
        for name, event in _first_request_events(tmp_path, run).items():
            done = _run(moto_api_environment, probe=FIRST_REQUEST_PROBE, args=(str(event),))
            assert done.returncode == 0, done.stderr[-2000:]
            figure = json.loads(done.stdout.strip().splitlines()[-1])
            assert figure["status"] in (200, 202), (name, figure)
            figures.setdefault(name, []).append(figure)
    base_cpu = statistics.median(f["cpu_ms"] for f in base)
    with capsys.disabled():
        print(f"\nboto3+pydantic+httpx: {base_cpu:.0f} ms CPU (median of {FIRST_REQUEST_RUNS})")
        for name, runs in figures.items():
            median = {key: statistics.median(f[key] for f in runs) for key in runs[0]}
            print(
                f"{name}: import {median['import_cpu_ms']:.0f} + first request "
                f"{median['request_cpu_ms']:.0f} = {median['cpu_ms']:.0f} ms CPU "
                f"({median['cpu_ms'] / base_cpu:.2f} x), {median['ms']:.0f} ms wall"
            )

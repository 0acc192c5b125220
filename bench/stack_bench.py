"""Figures measured on the running local stack (HTTP front, function processes, SQS pollers,
moto) against an in-process simulator on real time: end-to-end latency of a single sync, and
50 concurrent API clients. Also cold-start import time and the layer size."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from local.amdsim.app import Simulator
from local.amdsim.handle import SimHandle
from local.amdsim.server import start_server
from local.runner.lambda_environment import lambda_environment
from local.runner.moto_endpoint import forget_cached_sdk_clients
from local.runner.stack import LocalStack, StackConfig
from tests.reliability.world import (
    Product,
    Slots,
    confirm_mappings,
    work_days,
)

ROOT = Path(__file__).resolve().parents[1]
# No rate limit applies in the latency and load figures (SPEC §2.7 "when AMD answers normally
# and no rate limit applies"): off-peak limits at every hour on both sides.
WIDE_LIMITS = {
    "T1": {"peak": 60, "off_peak": 60},
    "T2": {"peak": 120, "off_peak": 120},
    "T3": {"peak": 120, "off_peak": 120},
    "FEED": {"peak": 60, "off_peak": 60},
}
SIM_WIDE = {
    "peak_limits": {"1": 60, "2": 120, "3": 120},
    "offpeak_limits": {"1": 60, "2": 120, "3": 120},
    "updated_cap_per_minute": 60,
}


@contextmanager
def simulator(patients: int = 30) -> Iterator[SimHandle]:
    sim = Simulator(seed=5, patients=patients, appointments=0)
    server, thread = start_server(sim)
    try:
        yield SimHandle(base_url=sim.base_url, sim=sim)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class RunningStack:
    stack: LocalStack
    sim: SimHandle
    tokens: dict[str, str]
    base: str


@contextmanager
def running_stack(
    sim: SimHandle, *, log_path: Path | None = None, api_concurrency: int = 4
) -> Iterator[RunningStack]:
    """The whole local stack; the functions' stdout/stderr go to `log_path` when given (the
    function processes inherit this process's file descriptors 1 and 2 at spawn, so this
    process's own output goes there too until the stack stops)."""
    saved_env = dict(os.environ)
    saved_fds = (os.dup(1), os.dup(2))
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - closed below
    stack: LocalStack | None = None
    try:
        if log is not None:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
        config = StackConfig(
            api_port=0,
            moto_port=0,
            sim_port=0,
            start_simulator=False,
            run_scheduler=False,
            api_concurrency=api_concurrency,
            parameter_overrides={"AmdPartnerLoginUrl": sim.partner_login_url},
            function_environment={"AMD_RATE_LIMITS_JSON": json.dumps(WIDE_LIMITS)},
        )
        # The descriptors stay redirected while the stack runs: pools spawn hosts on demand.
        forget_cached_sdk_clients()
        stack = LocalStack(config).start()
        assert stack.moto is not None
        env = lambda_environment(
            stack.functions["SyncWorkerFunction"],
            stack.moto.environment(),
            {"AMD_RATE_LIMITS_JSON": json.dumps(WIDE_LIMITS)},
        )
        os.environ.update(env)
        sim.admin.config(**SIM_WIDE)
        yield RunningStack(stack, sim, stack.tokens, stack.api_base_url)
    finally:
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        os.close(saved_fds[0])
        os.close(saved_fds[1])
        if stack is not None:
            stack.stop()
        if log is not None:
            log.close()
        os.environ.clear()
        os.environ.update(saved_env)


def prepare(running: RunningStack) -> Product:
    """Mappings confirmed from the simulator's lookups (an admin's job), written in-process."""
    product = Product.build(running.sim)
    confirm_mappings(product)
    return product


def _put_patient(
    client: httpx.Client, running: RunningStack, patient_id: str, **names: str
) -> None:
    body = {
        "firstName": names.get("first", "BENCHA"),
        "lastName": names.get("last", "PATIENT"),
        "dateOfBirth": names.get("dob", "1970-01-01"),
        "sex": "F",
        "phone": "5555550142",
        "address": {"line1": "7 Lark Lane", "city": "Ogden", "state": "UT", "zip": "84401"},
        "ehrVersion": 1,
    }
    reply = client.put(f"{running.base}/patients/{patient_id}", json=body, headers=_auth(running))
    assert reply.status_code in (200, 202), reply.text


def _auth(running: RunningStack, role: str = "ehr") -> dict[str, str]:
    return {"Authorization": f"Bearer {running.tokens[role]}"}


def appointment_body(patient: str, provider: str, start: str, version: int) -> dict[str, Any]:
    return {
        "patientId": patient,
        "providerId": provider,
        "facilityId": "MAIN",
        "appointmentType": "THERAPY_50",
        "start": start,
        "timeZone": "America/Denver",
        "durationMinutes": 50,
        "status": "SCHEDULED",
        "ehrVersion": version,
    }


def wait_synced(
    client: httpx.Client, running: RunningStack, appointment_id: str, timeout: float = 30.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    url = f"{running.base}/appointments/{appointment_id}/sync-status"
    while time.monotonic() < deadline:
        reply = client.get(url, headers=_auth(running, "provider"))
        if reply.status_code == 200 and reply.json().get("amdSyncStatus") in ("synced", "error"):
            return dict(reply.json())
        time.sleep(0.01)
    raise TimeoutError(appointment_id)


def single_sync_latency(running: RunningStack, n: int = 25) -> dict[str, Any]:
    """PUT accepted -> AMD has it -> record `synced`, at simulator latency 0 and 150 ms."""
    today = running.sim.sim.clock.now().date()
    slots = Slots(work_days(today + timedelta(days=1), 10))
    out: dict[str, Any] = {}
    with httpx.Client(timeout=30) as client:
        _put_patient(client, running, "P-LAT")
        for latency in (0, 150):
            running.sim.admin.latency(latency)
            samples: list[float] = []
            for i in range(n):
                appointment_id = f"LAT-{latency}-{i:03d}"
                provider, start = slots.take()
                started = time.perf_counter()
                reply = client.put(
                    f"{running.base}/appointments/{appointment_id}",
                    json=appointment_body("P-LAT", provider, start, 1),
                    headers=_auth(running),
                )
                assert reply.status_code == 202, reply.text
                status = wait_synced(client, running, appointment_id)
                elapsed = time.perf_counter() - started
                assert status["amdSyncStatus"] == "synced", status
                visit = running.sim.admin.appointment(int(status["advancedMDVisitId"]))
                assert visit["referenceid"].endswith(appointment_id)
                samples.append(elapsed * 1000)
            out[f"latency_{latency}ms"] = {
                "syncs": n,
                "p50_ms": round(statistics.median(samples), 1),
                "p95_ms": round(_p95(samples), 1),
                "max_ms": round(max(samples), 1),
            }
        running.sim.admin.latency(0)
    return out


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def api_load(running: RunningStack, clients: int = 50, seconds: float = 60.0) -> dict[str, Any]:
    """`clients` concurrent API clients for `seconds`: 80 % sync-status reads, 20 % upserts,
    each client on its own appointments (registered before the clock starts)."""
    today = running.sim.sim.clock.now().date()
    slots = Slots(work_days(today + timedelta(days=1), 25))
    with httpx.Client(timeout=60) as setup:
        _put_patient(setup, running, "P-LOAD")
        owned: list[list[str]] = []
        for c in range(clients):
            ids = []
            for k in range(2):
                appointment_id = f"LOAD-{c:02d}-{k}"
                provider, start = slots.take()
                reply = setup.put(
                    f"{running.base}/appointments/{appointment_id}",
                    json=appointment_body("P-LOAD", provider, start, 1),
                    headers=_auth(running),
                )
                assert reply.status_code == 202, reply.text
                ids.append(appointment_id)
            owned.append(ids)
    lock = threading.Lock()
    reads: list[float] = []
    upserts: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + seconds

    def client_loop(index: int) -> None:
        versions = dict.fromkeys(owned[index], 1)
        turn = 0
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < stop_at:
                turn += 1
                appointment_id = owned[index][turn % len(owned[index])]
                started = time.perf_counter()
                if turn % 5 == 0:
                    versions[appointment_id] += 1
                    with lock:
                        provider, start = slots.take()
                    reply = client.put(
                        f"{running.base}/appointments/{appointment_id}",
                        json=appointment_body("P-LOAD", provider, start, versions[appointment_id]),
                        headers=_auth(running),
                    )
                    bucket = upserts
                else:
                    reply = client.get(
                        f"{running.base}/appointments/{appointment_id}/sync-status",
                        headers=_auth(running, "provider"),
                    )
                    bucket = reads
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    bucket.append(elapsed)
                    if reply.status_code >= 400:
                        errors.append(f"{reply.status_code} {reply.text[:120]}")

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "requests": len(reads) + len(upserts),
        "throughput_rps": round((len(reads) + len(upserts)) / wall, 1),
        "reads": len(reads),
        "reads_p50_ms": round(statistics.median(reads), 1),
        "reads_p95_ms": round(_p95(reads), 1),
        "upserts": len(upserts),
        "upserts_p50_ms": round(statistics.median(upserts), 1),
        "upserts_p95_ms": round(_p95(upserts), 1),
        "errors": len(errors),
        "error_samples": errors[:5],
        "api_hosts": running.stack.config.api_concurrency,
    }


FUNCTIONS = {
    "api": "ApiFunction",
    "sync_worker": "SyncWorkerFunction",
    "pull": "PullFunction",
    "weekly_report": "WeeklyReportFunction",
}
_IMPORT = (
    "import time; t = time.perf_counter(); import app; "
    "print(round((time.perf_counter() - t) * 1000, 1))"
)


def cold_starts(stack: LocalStack, runs: int = 5) -> dict[str, Any]:
    """Import time of each handler in a fresh interpreter with its Lambda environment."""
    assert stack.moto is not None
    out: dict[str, Any] = {}
    baseline = [
        _fresh(["-c", "import time; t = time.perf_counter(); print(0.0)"], None, os.environ.copy())
        for _ in range(2)
    ]
    del baseline
    for name, logical_id in FUNCTIONS.items():
        spec = stack.functions[logical_id]
        env = lambda_environment(spec, stack.moto.environment())
        env["PYTHONPATH"] = f"{ROOT / 'layers' / 'common'}"
        samples = [_fresh(["-c", _IMPORT], spec.code_dir, env) for _ in range(runs)]
        out[name] = {"import_ms_p50": statistics.median(samples), "import_ms_max": max(samples)}
    return out


def _fresh(args: list[str], cwd: Path | None, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    if cwd is None:
        return (time.perf_counter() - started) * 1000
    return float(done.stdout.strip().splitlines()[-1])


def layer_size() -> dict[str, Any]:
    """The CommonLayer as `sam build` makes it when present; otherwise built the same way by
    its Makefile (arm64/CPython 3.11 wheels, amdsync, bytecode) into a scratch directory."""
    built = ROOT / ".aws-sam" / "build" / "CommonLayer"
    if built.is_dir():
        return {"source": str(built.relative_to(ROOT)), "bytes": _du(built)}
    target = Path(tempfile.mkdtemp(prefix="amdsync-layer-"))
    try:
        done = subprocess.run(
            ["make", "-s", "-C", str(ROOT / "layers" / "common"), "build-CommonLayer"],
            env={**os.environ, "ARTIFACTS_DIR": str(target), "LAYER_PYTHON": sys.executable},
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            return {"source": "layers/common/Makefile failed", "error": done.stderr[-400:]}
        python = target / "python"
        zipped = shutil.make_archive(str(target / "layer"), "zip", target, "python")
        pyc = sum(p.stat().st_size for p in python.rglob("*.pyc"))
        return {
            "source": "make -C layers/common build-CommonLayer (arm64 wheels + amdsync + .pyc)",
            "bytes": _du(python),
            "pyc_bytes": pyc,
            "zip_bytes": Path(zipped).stat().st_size,
        }
    finally:
        shutil.rmtree(target, ignore_errors=True)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def today_plus(days: int) -> date:
    return date.today() + timedelta(days=days)

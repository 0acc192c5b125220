"""`make bench`: every figure of issue 10, each measured in this one run, printed as a table
and written to bench/results.json.

    .venv/bin/python -m bench.run [--quick] [--only NAME ...] [--out bench/results.json]

`--quick` shrinks the sample sizes (a smoke run, not the published figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import scale_bench, scale_table, sim_bench, stack_bench
from tests.reliability.world import moto_stack, shallow_transaction_backups

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = (
    "latency",
    "load",
    "coldstart",
    "layer",
    "calls",
    "logins",
    "pacing",
    "cli",
    "bulk",
    "pull",
    "scale",
)


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def run(only: set[str], quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.run"
        + (" --quick" if quick else "")
        + (
            "" if only == set(SECTIONS) else " --only " + " ".join(s for s in SECTIONS if s in only)
        ),
        "machine": machine(),
        "git": _git(),
    }
    timings: dict[str, float] = {}

    def timed(name: str, call: Any) -> None:
        if name not in only:
            return
        began = time.perf_counter()
        print(f"... {name}", file=sys.stderr, flush=True)
        results[name] = call()
        timings[name] = round(time.perf_counter() - began, 1)

    if only & {"latency", "load", "coldstart"}:
        with stack_bench.simulator() as sim:
            log = Path(tempfile.mkdtemp(prefix="amdsync-bench-")) / "functions.log"
            with stack_bench.running_stack(sim, log_path=log) as running:
                stack_bench.prepare(running)
                timed(
                    "latency", lambda: stack_bench.single_sync_latency(running, 8 if quick else 25)
                )
                timed(
                    "load",
                    lambda: stack_bench.api_load(running, 50, 10.0 if quick else 60.0),
                )
                timed(
                    "coldstart", lambda: stack_bench.cold_starts(running.stack, 2 if quick else 5)
                )
    timed("layer", stack_bench.layer_size)
    if only & {"calls", "logins", "pacing", "cli", "bulk", "pull"}:
        # moto's deep-copy transaction backups: see tests/reliability/world.py (docs say so).
        with (
            shallow_transaction_backups(),
            stack_bench.simulator() as sim,
            moto_stack(sim) as (stack, _env),
        ):
            timed("calls", lambda: sim_bench.calls_and_overhead(sim, stack, 10 if quick else 40))
            timed("logins", lambda: sim_bench.logins_per_day(sim, stack))
            timed("pacing", lambda: sim_bench.strict_pacing(sim, stack, 300 if quick else 2000))
            timed("cli", lambda: sim_bench.cli_next_to_worker(sim, stack, _env))
            size = 300 if quick else 2000
            timed("bulk", lambda: sim_bench.bulk_across_peak(sim, stack, size))
            if "bulk" in results:
                product = results["bulk"].pop("product")
                linked = min(2000, results["bulk"]["created"])
                extra = (1000 if quick else 5000) - linked
                timed("pull", lambda: sim_bench.pull_changed(sim, product, linked, extra))
            else:  # the pull on its own: its records seeded through the store adapters
                linked, new = (150, 850) if quick else (2000, 3000)
                timed("pull", lambda: sim_bench.pull_seeded(sim, stack, linked, new))
    if "scale" in only:
        with (
            shallow_transaction_backups(),
            stack_bench.simulator() as sim,
            moto_stack(sim) as (stack, _env),
        ):
            timed("scale", lambda: scale_bench.run_scale(sim, stack, quick))
    results["seconds"] = timings
    return results


def _git() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _mode(window: str | None, offset: float) -> str:
    """How the simulator counted: every rate-limit figure names it."""
    return f"{window} window, AMD clock {offset:+g} s"


def table(results: dict[str, Any]) -> list[tuple[str, str, str]]:  # noqa: C901, PLR0912, PLR0915 - flat
    rows: list[tuple[str, str, str]] = []
    lat = results.get("latency")
    if lat:
        for key, label in (("latency_0ms", "AMD latency 0 ms"), ("latency_150ms", "150 ms")):
            d = lat[key]
            rows.append(
                (f"single sync end to end, {label}", f"p50 {d['p50_ms']} ms / p95 {d['p95_ms']} ms",
                 "p95 < 2000 ms"))  # fmt: skip
    calls = results.get("calls")
    if calls:
        c, s = calls["create"], calls["status"]
        for label, d in (("create", c), ("status change", s)):
            figure = f"p50 {d['overhead_ms_p50']:.1f} ms / p95 {d['overhead_ms_p95']:.1f} ms"
            rows.append((f"our overhead per {label} (excl. AMD time)", figure, "-"))
        rows.append(("AMD calls per create (warm lookups)", f"{c['amd_calls_per_sync']:g}", "1"))
        rows.append(("AMD calls per status change", f"{s['amd_calls_per_sync']:g}", "2"))
    logins = results.get("logins")
    if logins:
        rows.append((f"logins per office key, simulated day, {logins['workers']} workers",
                     f"{logins['logins']} ({logins['calls']} calls)", "1"))  # fmt: skip
    pacing = results.get("pacing")
    if pacing:
        mode = _mode(pacing["rate_window"], pacing["clock_offset_seconds"])
        rows.append((f"{pacing['calls']} Tier-2 calls, {pacing['workers']} workers, across 18:00 "
                     f"({mode}): % of ceiling", f"{pacing['throughput_pct_of_ceiling']} %",
                     ">= 90 %"))  # fmt: skip
        rows.append((f"  HTTP 429 from AMD ({mode})",
                     f"{pacing['http_429']} (busiest 60 s: {pacing['busiest_60s_ending_peak']} "
                     f"peak, {pacing['busiest_60s_ending_off_peak']} off-peak)", "0"))  # fmt: skip
    cli = results.get("cli")
    if cli:
        mode = _mode(cli["rate_mode"]["rate_window"], cli["rate_mode"]["clock_offset_seconds"])
        rows.append((f"CLI appointments over {cli['cli_days']} days at peak next to a worker "
                     f"({mode}): logins, HTTP 429", f"{cli['logins']}, {cli['http_429']}",
                     "1, 0"))  # fmt: skip
    bulk = results.get("bulk")
    if bulk:
        rate = bulk.get("rate_mode", {})
        mode = _mode(rate.get("rate_window"), rate.get("clock_offset_seconds", 0))
        rows.append((f"bulk {bulk['appointments']} across 18:00 peak end ({mode}): % of T2 "
                     "ceiling", f"{bulk['throughput_pct_of_ceiling']} % ({bulk['created']} in "
                     f"{bulk['simulated_minutes']} sim-min)", ">= 95 %"))  # fmt: skip
        rows.append((f"bulk: HTTP 429 from AMD ({mode})", str(bulk["http_429"]), "0"))
    pull = results.get("pull")
    if pull:
        rows.append((f"pull of {pull['changed_visits']} changed visits: GETUPDATEDVISITS calls",
                     f"{pull['feed_calls']} (all AMD calls: {pull['amd_calls']})",
                     str(pull["target_calls"])))  # fmt: skip
        rows.append(("pull: visits processed per second (wall)", str(pull["visits_per_second"]),
                     "-"))  # fmt: skip
        if "visits_per_cpu_second" in pull:
            rows.append(("pull: visits per second of our CPU (excl. AMD calls)",
                         str(pull["visits_per_cpu_second"]), ">= 500"))  # fmt: skip
            rows.append(("pull: DynamoDB requests per visit",
                         str(pull["dynamodb_requests_per_visit"]), "<= 0.2"))  # fmt: skip
    cold = results.get("coldstart")
    if cold:
        for name, d in cold.items():
            rows.append((f"cold-start import, {name}", f"{d['import_ms_p50']:.0f} ms", "-"))
    layer = results.get("layer")
    if layer and "bytes" in layer:
        zipped = f", zip {layer['zip_bytes'] / 1e6:.1f} MB" if "zip_bytes" in layer else ""
        rows.append(("layer size (arm64, unzipped)", f"{layer['bytes'] / 1e6:.1f} MB{zipped}",
                     "< 250 MB"))  # fmt: skip
    load = results.get("load")
    if load:
        rows.append((f"API load, {load['clients']} clients {load['seconds']} s",
                     f"{load['throughput_rps']} req/s, {load['errors']} errors",
                     "0 errors"))  # fmt: skip
        rows.append(
            ("  sync-status reads", f"p95 {load['reads_p95_ms']} ms ({load['reads']})", "-")
        )
        rows.append(("  upserts", f"p95 {load['upserts_p95_ms']} ms ({load['upserts']})", "-"))
    if results.get("scale"):
        rows.extend(scale_table.rows(results["scale"]))
    return rows


def print_table(rows: list[tuple[str, str, str]]) -> None:
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    header = ("figure", "measured", "target")
    print(" | ".join(h.ljust(w) for h, w in zip(header, width, strict=True)))
    print("-+-".join("-" * w for w in width))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, width, strict=True)))


def merged(path: Path, results: dict[str, Any], only: set[str]) -> dict[str, Any]:
    """`--only`: the sections run replace theirs in the existing file, every other section and
    the whole run's metadata stay; each replaced section records the run it comes from."""
    try:
        existing: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return results
    run_info = {k: results[k] for k in ("measured_at", "command", "machine", "git")}
    for name in only & set(results):
        if isinstance(results[name], dict):
            results[name]["run"] = run_info
        existing[name] = results[name]
    existing.setdefault("seconds", {}).update(results.get("seconds", {}))
    return existing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", choices=SECTIONS)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args()
    only = set(args.only or SECTIONS)
    results = run(only, args.quick)
    written = merged(Path(args.out), results, only) if args.only else results
    Path(args.out).write_text(json.dumps(written, indent=2, default=str) + "\n")
    print_table(table(results))
    print(f"\nmachine: {results['machine']}; written to {args.out}")


if __name__ == "__main__":
    main()

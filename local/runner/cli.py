"""`python -m local.runner`: start the local stack, print where everything is, then `ready`.

Ctrl-C or SIGTERM stops every part and child process. A few progress lines, then the banner
(for people and scripts, `<name> <value>`): `api http://…/api/advancedmd`, `ui …` (the
console's sign-in page), `amdsim http://…` (or a note), `moto http://…`, `issuer http://…` (the
local OIDC issuer), with `--log-dir DIR` `logs <absolute DIR>` (each function's log in
`DIR/<LogicalId>.log`, the runner's in `DIR/runner.log`: nothing of theirs on the terminal),
with `--cli-env PATH`
`cli-env <absolute path>` (the export lines that point the `amdsync` CLI at this stack; removed
on stop), `seed …` (what the demo seed queued and its ETA), one `export AMDSYNC_TOKEN_<ROLE>=…`
per dev role (an access token from that issuer), two `curl` examples, then `ready`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from local.runner.cli_env import remove_cli_env, write_cli_env
from local.runner.clock import Clock, ScaledClock, SystemClock
from local.runner.log_files import RUNNER_LOG, function_log, prepare, send_runner_logs_to
from local.runner.seed import SeedResult, curl_examples, seed_demo_data, seed_summary
from local.runner.stack import LocalStack, StackConfig
from local.runner.tokens import export_lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.runner", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=3000)
    parser.add_argument("--moto-port", type=int, default=5000)
    parser.add_argument("--sim-port", type=int, default=4000)
    parser.add_argument("--issuer-port", type=int, default=9400, help="the local OIDC issuer")
    parser.add_argument("--no-sim", action="store_true", help="do not start local/amdsim")
    parser.add_argument(
        "--fast-clock",
        type=float,
        default=None,
        metavar="N",
        help="run schedules on a clock N times faster than real time",
    )
    parser.add_argument("--no-scheduler", action="store_true", help="fire no schedules")
    parser.add_argument("--no-seed", action="store_true", help="start without the demo data")
    parser.add_argument(
        "--cli-env",
        type=Path,
        default=None,
        metavar="PATH",
        help="write the export lines that point the amdsync CLI at this stack to PATH "
        "(make run: .local/cli.env)",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="write each function's log to DIR/<Function>.log and the runner's to "
        "DIR/runner.log instead of the terminal (make run: .local/logs)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log_dir = _route_logs(args.log_dir)
    clock: Clock = ScaledClock(args.fast_clock) if args.fast_clock else SystemClock()
    config = StackConfig(
        host=args.host,
        api_port=args.api_port,
        moto_port=args.moto_port,
        sim_port=args.sim_port,
        issuer_port=args.issuer_port,
        start_simulator=not args.no_sim,
        clock=clock,
        run_scheduler=not args.no_scheduler,
        # Local development: the sign-in page also takes a pasted token (SPEC §9.5).
        function_environment={"UI_TOKEN_PASTE": "true"},
        log_dir=log_dir,
    )
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    stack = LocalStack(config)
    cli_env: Path | None = None
    try:
        _say("starting moto, the AdvancedMD simulator, the OIDC issuer and the functions …")
        stack.start()
        seeded = None if args.no_seed else seed_demo_data(stack, say=_say)
        if args.cli_env is not None:
            cli_env = write_cli_env(stack, args.cli_env)
        announce(stack, cli_env, log_dir=log_dir, seeded=seeded)
        while not stopping.wait(0.5):
            pass
    finally:
        print("stopping", flush=True)
        if cli_env is not None:
            remove_cli_env(cli_env)
        stack.stop()
    return 0


def _route_logs(log_dir: Path | None) -> Path | None:
    """With a log directory the terminal keeps only progress and the banner (log_files.py)."""
    if log_dir is None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        return None
    prepared = prepare(log_dir)
    send_runner_logs_to(prepared)
    return prepared


def announce(
    stack: LocalStack,
    cli_env: Path | None = None,
    *,
    log_dir: Path | None = None,
    seeded: SeedResult | None = None,
) -> None:
    sys.stdout.write("\n".join(banner(stack, cli_env, log_dir=log_dir, seeded=seeded)) + "\n")
    sys.stdout.flush()


def banner(
    stack: LocalStack,
    cli_env: Path | None = None,
    *,
    log_dir: Path | None = None,
    seeded: SeedResult | None = None,
) -> list[str]:
    """The lines printed last, for people and scripts: `<name> <value>` (api, ui, amdsim, moto,
    issuer, logs, cli-env, seed), the `export` lines, the `curl` examples, then `ready`."""
    assert stack.moto is not None and stack.issuer is not None
    lines = [f"api {stack.api_base_url}", f"ui {stack.api_base_url}/ui/sign-in"]
    if stack.simulator is not None:
        lines.append(f"amdsim {stack.simulator.url}")
    else:
        lines.append("amdsim not running (--no-sim or local.amdsim not importable)")
    lines.append(f"moto {stack.moto.url}")
    lines.append(f"issuer {stack.issuer.url}")
    lines.extend(f"note {note}" for note in stack.notes)
    if log_dir is not None:
        lines.append(f"logs {log_dir}")
        lines.append(f"note logs: one file per function ({_examples(stack)}), and {RUNNER_LOG}")
    if cli_env is not None:
        lines.append(f"cli-env {cli_env}")
    if seeded is not None and seeded.appointments:
        lines.append(f"seed {seed_summary(seeded)}")
    lines.extend(export_lines(stack.tokens))
    first = seeded.appointments[0] if seeded is not None and seeded.appointments else None
    examples = curl_examples(stack.api_base_url, first)
    lines.extend([examples[0], examples[2]])  # the admin's dashboard, a provider's badge
    lines.append("ready")
    return lines


def _examples(stack: LocalStack) -> str:
    names = [str(function_log(Path(), name)) for name in sorted(stack.functions)[:2]]
    return ", ".join([*names, "…"])


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

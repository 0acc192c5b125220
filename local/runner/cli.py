"""`python -m local.runner`: start the local stack, print where everything is, then `ready`.

Ctrl-C or SIGTERM stops every part and child process. Output lines (for people and scripts):
`api http://…/api/advancedmd`, `amdsim http://…` (or a note), `moto http://…`, `issuer http://…`
(the local OIDC issuer), one `export AMDSYNC_TOKEN_<ROLE>=…` per dev role (an access token from
that issuer), with `--cli-env PATH` also `cli-env <absolute
path>` (the file of export lines that point the `amdsync` CLI at this stack; removed on stop),
then `ready`.
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
from local.runner.seed import seed_demo_data
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
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
        stack.start()
        if not args.no_seed:
            seed_demo_data(stack)
        if args.cli_env is not None:
            cli_env = write_cli_env(stack, args.cli_env)
        announce(stack, cli_env)
        while not stopping.wait(0.5):
            pass
    finally:
        print("stopping", flush=True)
        if cli_env is not None:
            remove_cli_env(cli_env)
        stack.stop()
    return 0


def announce(stack: LocalStack, cli_env: Path | None = None) -> None:
    assert stack.moto is not None
    lines = [f"api {stack.api_base_url}"]
    if stack.simulator is not None:
        lines.append(f"amdsim {stack.simulator.url}")
    else:
        lines.append("amdsim not running (--no-sim or local.amdsim not importable)")
    lines.append(f"moto {stack.moto.url}")
    lines.extend(f"note {note}" for note in stack.notes)
    assert stack.issuer is not None
    lines.append(f"issuer {stack.issuer.url}")
    lines.extend(export_lines(stack.tokens))
    if cli_env is not None:
        lines.append(f"cli-env {cli_env}")
    lines.append("ready")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()

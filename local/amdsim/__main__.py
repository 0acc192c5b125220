"""`python -m local.amdsim --host 127.0.0.1 --port 0 [--seed S]`"""

from __future__ import annotations

import argparse
import logging
import sys

from .app import Simulator
from .config import RATE_WINDOWS, STRICT_RATE_SWITCHES, SimConfig
from .server import SimHTTPServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.amdsim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--appointments", type=int, default=300)
    parser.add_argument("--api-host", default=None, help="host segment, e.g. api-417")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--rate-window", choices=RATE_WINDOWS, default=None)
    parser.add_argument(
        "--clock-offset", type=float, default=None, help="AMD's clock ahead (+) of ours, seconds"
    )
    parser.add_argument(
        "--strict", action="store_true", help="sliding window, AMD's clock 17 s ahead"
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    config = SimConfig(latency_ms=args.latency_ms, rate_limits_enabled=not args.no_rate_limits)
    if args.api_host:
        config.api_host = args.api_host
    if args.strict:
        config.update(STRICT_RATE_SWITCHES)
    if args.rate_window is not None:
        config.rate_window = args.rate_window
    if args.clock_offset is not None:
        config.clock_offset_seconds = args.clock_offset
    sim = Simulator(config, seed=args.seed, patients=args.patients, appointments=args.appointments)
    server = SimHTTPServer((args.host, args.port), sim)
    sys.stdout.write(f"listening on {sim.base_url}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

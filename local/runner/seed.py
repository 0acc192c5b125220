"""The demo-data hook: called once the stack is up, before the runner prints `ready`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local.runner.stack import LocalStack


def seed_demo_data(stack: LocalStack) -> None:
    """Load the demo providers, facilities, patients and appointments into the stack.

    TODO(issue 8, demo seed): another engineer fills this in. It has the running stack: moto
    clients via `stack.moto.client(...)`, table names in `stack.resources.tables`, the simulator
    URL in `stack.simulator.url` (None with --no-sim), and `stack.invoke(logical_id, event)`.
    """
    del stack

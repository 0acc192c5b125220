"""The local stack as most integration tests use it: the template's AWS resources in moto on a
free port, and nothing else running (no HTTP front, pollers, scheduler or function processes);
the tests call the handlers or the use cases in-process."""

from __future__ import annotations

from local.amdsim.handle import SimHandle
from local.runner.stack import StackConfig


def resources_only(sim: SimHandle | None = None, **parameters: str) -> StackConfig:
    """With `sim`, the stack's AdvancedMD login URL is that simulator's; `parameters` override
    more of the template's parameters."""
    if sim is not None:
        parameters = {"AmdPartnerLoginUrl": sim.partner_login_url, **parameters}
    return StackConfig(
        api_port=0,
        moto_port=0,
        sim_port=0,
        start_simulator=False,
        run_http=False,
        run_pollers=False,
        run_scheduler=False,
        prewarm=False,
        functions=(),
        parameter_overrides=parameters,
    )

"""The local stack, composed: moto → simulator → OIDC issuer → resources → function pools →
HTTP front → SQS pollers → scheduler. One place shows what talks to what; `stop()` undoes it
in reverse.

Only endpoints, clocks and secrets differ from AWS, and all of them are configuration: the AMD
partner-login URL is the template's own `AmdPartnerLoginUrl` parameter pointed at the simulator,
the JWT issuer/audience are the `OidcIssuer`/`OidcAudience` parameters pointed at the local OIDC
issuer (local/runner/oidc_issuer.py), the webhook receivers allowed on the loopback host the
`WebhookInsecureHosts` parameter, and the functions reach moto through `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from local.runner.clock import Clock, SystemClock
from local.runner.function_host import FunctionError, FunctionPool, HostConfig
from local.runner.function_specs import FunctionSpec, read_functions
from local.runner.http_front import ApiGateway, ApiGatewaySettings, HttpFront
from local.runner.httpapi_events import RouteTable
from local.runner.jwt_authorizer import JwtAuthorizer, JwtSettings
from local.runner.lambda_environment import lambda_environment
from local.runner.log_files import function_log
from local.runner.moto_endpoint import MotoEndpoint
from local.runner.oidc_issuer import DEFAULT_LIFETIME, LocalIssuer
from local.runner.resources import LocalResources, create_resources
from local.runner.scheduler import Scheduler
from local.runner.simulator import PARTNER_LOGIN_PATH, SimulatorProcess, simulator_available
from local.runner.sqs_poller import PollerSettings, SqsEventSourcePoller
from local.runner.template import TEMPLATE_PATH, Template
from local.runner.tokens import DEV_CLIENT_ID, dev_tokens, dev_users

LOG = logging.getLogger("local.runner")
BASE_PATH = "/api/advancedmd"


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    api_port: int = 3000
    moto_port: int = 5000
    sim_port: int = 4000
    start_simulator: bool = True
    clock: Clock = field(default_factory=SystemClock)
    issuer_port: int = 0  # the local OIDC issuer (make run: 9400); 0 picks a free port
    audience: str = DEV_CLIENT_ID  # the OidcAudience parameter: the clients' id at the issuer
    token_lifetime: timedelta = DEFAULT_LIFETIME  # of the tokens the issuer signs in with
    template_path: Path = TEMPLATE_PATH
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    # Webhook receivers the local functions may call over http on a loopback address (the
    # template's WebhookInsecureHosts; empty when deployed): a developer's or a test's receiver.
    webhook_insecure_hosts: str = "127.0.0.1"
    property_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Extra variables for every function's environment (configuration only, e.g. the e2e
    # suite's AMD_RATE_LIMITS_JSON); the template's own variables stay as deployed.
    function_environment: dict[str, str] = field(default_factory=dict)
    api_concurrency: int = 4  # api hosts; each serves one request at a time
    # Every function's Timeout times this. The emulated services (moto, in one process) are far
    # slower than AWS's, and slower still on a busy machine: tests that load the machine may
    # stretch the deadlines instead of failing on them. Deploys use the template's values.
    function_timeout_scale: float = 1.0
    prewarm: bool = True  # cold-start one host per function before `ready`
    poll_wait_seconds: int = 1
    # Which parts to run; tests switch off what they drive by hand.
    run_http: bool = True
    run_pollers: bool = True
    run_scheduler: bool = True
    functions: tuple[str, ...] | None = None  # logical ids to host; None = all
    # Each function's output goes to `<log_dir>/<LogicalId>.log` (make run: .local/logs);
    # None leaves it on the runner's own stdout/stderr (tests read it there).
    log_dir: Path | None = None


@dataclass
class LocalStack:
    config: StackConfig = field(default_factory=StackConfig)
    moto: MotoEndpoint | None = None
    simulator: SimulatorProcess | None = None
    issuer: LocalIssuer | None = None
    resources: LocalResources | None = None
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    pools: dict[str, FunctionPool] = field(default_factory=dict)
    http: HttpFront | None = None
    pollers: list[SqsEventSourcePoller] = field(default_factory=list)
    scheduler: Scheduler | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def api_base_url(self) -> str:
        return (self.http.url if self.http else "") + BASE_PATH

    @property
    def jwt(self) -> JwtSettings:
        """What the local authorizer trusts (the started issuer and the configured audience)."""
        assert self.issuer is not None, "the stack is not started"
        return JwtSettings(issuer=self.issuer.url, audience=self.config.audience)

    @cached_property
    def tokens(self) -> dict[str, str]:
        """One access token per development role, signed in at the local issuer (once)."""
        return dev_tokens(self.jwt.issuer, self.config.audience)

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        config = self.config
        self.moto = MotoEndpoint(config.host, config.moto_port).start()
        login_url = f"http://{config.host}:{config.sim_port}{PARTNER_LOGIN_PATH}"
        if config.start_simulator and simulator_available():
            self.simulator = SimulatorProcess(config.host, config.sim_port).start()
            login_url = self.simulator.partner_login_url
        elif config.start_simulator:
            self.notes.append("local.amdsim is not importable: running without the simulator")
        self.issuer = LocalIssuer(
            dev_users(), config.host, config.issuer_port, config.token_lifetime
        ).start()
        template = Template.load(config.template_path)
        parameters = template.parameter_values(
            {
                "OidcIssuer": self.jwt.issuer,
                "OidcAudience": self.jwt.audience,
                # The local issuer's tokens carry their roles in `roles` (oidc_issuer.py).
                "RoleClaim": "roles",
                "AmdPartnerLoginUrl": login_url,
                "WebhookInsecureHosts": config.webhook_insecure_hosts,
                **config.parameter_overrides,
            }
        )
        self.resources = create_resources(
            template, self.moto, parameters, config.property_overrides
        )
        self.functions = {
            logical_id: _scaled(spec, config.function_timeout_scale)
            for logical_id, spec in read_functions(template, self.resources.resolver).items()
        }
        self._start_pools()
        if config.run_http:
            self._start_http(parameters["Stage"])
        if config.run_pollers:
            for poller in self.make_pollers():
                poller.start(self._concurrency_of(poller))
                self.pollers.append(poller)
        if config.run_scheduler:
            self.scheduler = self.make_scheduler(config.clock).start()

    def _start_pools(self) -> None:
        wanted = self.config.functions
        assert self.moto is not None
        for logical_id, spec in self.functions.items():
            if wanted is not None and logical_id not in wanted:
                continue
            environment = lambda_environment(
                spec, self.moto.environment(), self.config.function_environment
            )
            log_file = None
            if self.config.log_dir is not None:
                log_file = str(function_log(self.config.log_dir, logical_id))
            host = HostConfig(spec, environment, log_file)
            pool = FunctionPool(host, self._pool_size(spec))
            self.pools[logical_id] = pool
        if self.config.prewarm:
            # Cold starts in parallel: each is mostly a fresh interpreter importing its handler.
            with ThreadPoolExecutor(len(self.pools) or 1, "prewarm") as executor:
                for warmed in executor.map(lambda pool: pool.prewarm(1), self.pools.values()):
                    del warmed

    def _pool_size(self, spec: FunctionSpec) -> int:
        if spec.routes:
            return max(1, self.config.api_concurrency)
        limits = [source.maximum_concurrency or 1 for source in spec.sqs_sources]
        return max([1, *limits])

    def _concurrency_of(self, poller: SqsEventSourcePoller) -> int:
        return poller.source.maximum_concurrency or 1

    def _start_http(self, stage: str) -> None:
        routes = RouteTable(route for spec in self.functions.values() for route in spec.routes)
        gateway = ApiGateway(
            routes,
            JwtAuthorizer(self.jwt),
            self.invoke,
            ApiGatewaySettings(base_path=BASE_PATH, stage=stage),
        )
        self.http = HttpFront(gateway, self.config.host, self.config.api_port).start()

    def make_pollers(self) -> list[SqsEventSourcePoller]:
        """One poller per SQS event source of a hosted function (not started)."""
        assert self.moto is not None and self.resources is not None
        pollers = []
        settings = PollerSettings(wait_seconds=self.config.poll_wait_seconds)
        for spec in self.functions.values():
            if spec.logical_id not in self.pools:
                continue
            for source in spec.sqs_sources:
                if source.enabled:
                    url = self.resources.queue_url_for_arn(source.queue_arn)
                    sqs = self.moto.client("sqs")
                    pollers.append(SqsEventSourcePoller(source, url, sqs, self.invoke, settings))
        return pollers

    def make_scheduler(self, clock: Clock, *, asynchronous: bool = True) -> Scheduler:
        """A scheduler for the hosted functions' ScheduleV2 events (not started)."""
        schedules = [
            schedule
            for spec in self.functions.values()
            if spec.logical_id in self.pools
            for schedule in spec.schedules
        ]
        return Scheduler(schedules, clock, self.invoke, asynchronous=asynchronous)

    def invoke(self, function: str, event: Mapping[str, Any] | dict[str, Any]) -> Any:
        """Invoke a hosted function by logical id, synchronously (RequestResponse)."""
        pool = self.pools.get(function)
        if pool is None:
            payload = {"errorType": "Runner.FunctionNotHosted", "errorMessage": function}
            raise FunctionError(function, payload)
        return pool.invoke(dict(event))

    def child_pids(self) -> list[int]:
        pids = [pid for pool in self.pools.values() for pid in pool.pids()]
        if self.simulator and self.simulator.pid:
            pids.append(self.simulator.pid)
        return pids

    def stop(self) -> None:
        """Stop everything started, newest first; safe to call twice or after a failed start."""
        for poller in self.pollers:
            poller.request_stop()  # an in-flight batch ends when its function's pool stops
        steps: list[Any] = [self.scheduler, self.http, *self.pools.values(), *self.pollers]
        steps += [self.issuer, self.simulator, self.moto]
        for part in steps:
            if part is None:
                continue
            try:
                part.stop()
            except Exception:
                LOG.exception("stopping %s failed", type(part).__name__)
        self.scheduler, self.http, self.simulator, self.moto = None, None, None, None
        self.issuer = None
        self.__dict__.pop("tokens", None)
        self.pollers.clear()
        self.pools.clear()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _scaled(spec: FunctionSpec, scale: float) -> FunctionSpec:
    if scale == 1.0:
        return spec
    return dataclasses.replace(spec, timeout_seconds=math.ceil(spec.timeout_seconds * scale))

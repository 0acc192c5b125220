"""The template's `AWS::Serverless::Function`s as the runner needs them: code, handler, timeout,
environment (Globals merged with the function's own) and event sources (HttpApi, SQS, ScheduleV2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.runner.template import REPO_ROOT, Resolver, Template

DEFAULT_TIMEOUT_SECONDS = 3  # CloudFormation's default when neither Globals nor the function set it
DEFAULT_MEMORY_MB = 128


@dataclass(frozen=True)
class HttpRoute:
    method: str  # upper case, or ANY
    path: str  # with {param} placeholders, as API Gateway writes them
    public: bool  # Auth: Authorizer: NONE
    function: str  # logical id of the function serving it

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsEventSource:
    function: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleSpec:
    function: str
    name: str
    expression: str  # rate(...) or cron(...)
    timezone: str
    input: str | None = None  # the schedule's Input, if it sets one
    enabled: bool = True


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    function_name: str
    code_dir: Path
    handler: str  # module.attribute, as Lambda reads it
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]
    routes: tuple[HttpRoute, ...] = ()
    sqs_sources: tuple[SqsEventSource, ...] = ()
    schedules: tuple[ScheduleSpec, ...] = ()
    arn: str = ""


def read_functions(template: Template, resolver: Resolver) -> dict[str, FunctionSpec]:
    """Every serverless function of the template, resolved against the created resources."""
    global_props = template.globals.get("Function", {})
    specs = {}
    for logical_id, resource in template.resources_of_type("AWS::Serverless::Function").items():
        props = resource.get("Properties", {})
        specs[logical_id] = _read_function(logical_id, props, global_props, resolver)
    return specs


def _read_function(
    logical_id: str, props: dict[str, Any], global_props: dict[str, Any], resolver: Resolver
) -> FunctionSpec:
    def prop(name: str, default: Any) -> Any:
        return resolver.resolve(props.get(name, global_props.get(name, default)))

    environment = {
        **_variables(global_props, resolver),
        **_variables(props, resolver),
    }
    routes: list[HttpRoute] = []
    sources: list[SqsEventSource] = []
    schedules: list[ScheduleSpec] = []
    for event in props.get("Events", {}).values():
        kind, event_props = event.get("Type"), event.get("Properties", {})
        if kind == "HttpApi":
            routes.append(_http_route(logical_id, event_props))
        elif kind == "SQS":
            sources.append(_sqs_source(logical_id, resolver.resolve(event_props)))
        elif kind == "ScheduleV2":
            schedules.append(_schedule(logical_id, resolver.resolve(event_props)))
    code_uri = str(prop("CodeUri", "."))
    function_name = str(prop("FunctionName", logical_id))
    return FunctionSpec(
        logical_id=logical_id,
        function_name=function_name,
        arn=f"arn:aws:lambda:{resolver.region}:{resolver.account_id}:function:{function_name}",
        code_dir=(REPO_ROOT / code_uri).resolve(),
        handler=str(prop("Handler", "app.lambda_handler")),
        timeout_seconds=int(prop("Timeout", DEFAULT_TIMEOUT_SECONDS)),
        memory_mb=int(prop("MemorySize", DEFAULT_MEMORY_MB)),
        environment=environment,
        routes=tuple(routes),
        sqs_sources=tuple(sources),
        schedules=tuple(schedules),
    )


def _variables(props: dict[str, Any], resolver: Resolver) -> dict[str, str]:
    variables = props.get("Environment", {}).get("Variables", {})
    return {name: str(resolver.resolve(value)) for name, value in variables.items()}


def _http_route(function: str, props: dict[str, Any]) -> HttpRoute:
    authorizer = props.get("Auth", {}).get("Authorizer")
    method = str(props.get("Method", "ANY")).upper()
    return HttpRoute(
        method="ANY" if method in {"ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD"} else method,
        path=str(props.get("Path", "/")),
        public=authorizer == "NONE",
        function=function,
    )


def _sqs_source(function: str, props: dict[str, Any]) -> SqsEventSource:
    scaling = props.get("ScalingConfig", {})
    maximum = scaling.get("MaximumConcurrency")
    return SqsEventSource(
        function=function,
        queue_arn=str(props["Queue"]),
        batch_size=int(props.get("BatchSize", 10)),
        report_batch_item_failures="ReportBatchItemFailures"
        in props.get("FunctionResponseTypes", []),
        maximum_concurrency=int(maximum) if maximum is not None else None,
        enabled=bool(props.get("Enabled", True)),
    )


def _schedule(function: str, props: dict[str, Any]) -> ScheduleSpec:
    return ScheduleSpec(
        function=function,
        name=str(props.get("Name", f"{function}-schedule")),
        expression=str(props["ScheduleExpression"]),
        timezone=str(props.get("ScheduleExpressionTimezone", "UTC")),
        input=props.get("Input"),
        enabled=str(props.get("State", "ENABLED")).upper() != "DISABLED",
    )

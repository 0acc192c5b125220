"""Drive the API resolver directly: HttpApi v2 events with JWT claims, over `tests/fakes`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from amdsync.store.alarms import AlarmState
from amdsync.sync.webhook_guard import UrlGuard
from amdsync.sync.webhook_signing import Sender, SendResult
from amdsync.sync.webhooks import WebhookDeliverer, WebhookServices
from amdsync.web.resolver import create_resolver
from amdsync.web.routes import API_ROUTES, BASE_PATH, RouteSpec
from amdsync.web.views import BudgetView, ConnectionInfo, ConnectionReport, LookupItem
from tests.fakes import FACILITIES, PRACTICE, PROVIDERS, World, build_world
from tests.fakes.failed_work import FakeAuditLog, FakeFailedWork
from tests.fakes.failures import FaultPlan
from tests.fakes.webhooks import MemoryWebhookStore, fake_resolve
from tests.lambda_support import FakeLambdaContext

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


class FakeAmdAdmin:
    """The `AmdAdmin` port: lookups from the fake mappings, a healthy connection, budgets."""

    def __init__(self) -> None:
        self.faults = FaultPlan()

    def lookup(self, kind: str) -> list[LookupItem]:
        self.faults.before("lookup")
        if kind == "providers":
            return [
                LookupItem(amd_id=profile, code=ehr_id, name=f"Dr {ehr_id}", column_ids=[column])
                for ehr_id, (profile, column) in PROVIDERS.items()
            ]
        if kind == "facilities":
            return [LookupItem(amd_id=amd, code=ehr, name=ehr) for ehr, amd in FACILITIES.items()]
        return []

    def test_connection(self) -> ConnectionReport:
        self.faults.before("test_connection")
        return ConnectionReport(ok=True, message="Connected.", provider_count=len(PROVIDERS))

    def budgets(self) -> list[BudgetView]:
        return [BudgetView(budget="tier1", limit=1, used=0, peak=False)]

    def connection_info(self) -> ConnectionInfo:
        return ConnectionInfo(office_key="••••99", username="api", app_name="amdsync")

    def appointment_link(self, visit_id: str) -> str | None:
        return f"https://amd.invalid/visits/{visit_id}"


class SenderNotAllowed:
    """Unit tests have no network: a test ping here is a bug in the test."""

    def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        raise AssertionError("no HTTP in unit tests")


def fake_webhook_services(world: World, sender: Sender | None = None) -> WebhookServices:
    store = MemoryWebhookStore()
    guard = UrlGuard(resolve=fake_resolve)
    deliverer = WebhookDeliverer(
        store, sender or SenderNotAllowed(), guard, world.clock, world.metrics
    )
    return WebhookServices(store=store, guard=guard, deliverer=deliverer, clock=world.clock)


@dataclass
class FakeApiServices:
    world: World = field(default_factory=build_world)
    admin: FakeAmdAdmin = field(default_factory=FakeAmdAdmin)
    hooks: WebhookServices | None = None
    failed: Any = field(default_factory=FakeFailedWork)
    audit: Any = None  # the audit reader; defaults to one over the world's audit trail
    alarms: list[AlarmState] = field(default_factory=list)

    @property
    def practice(self) -> str:
        return PRACTICE

    def context(self) -> Any:
        return self.world.ctx

    def amd_admin(self) -> FakeAmdAdmin:
        return self.admin

    def alarm_states(self) -> list[AlarmState]:
        return list(self.alarms)

    def webhooks(self) -> WebhookServices:
        if self.hooks is None:
            self.hooks = fake_webhook_services(self.world)
        return self.hooks

    def failed_work(self) -> Any:
        return self.failed

    def audit_log(self) -> Any:
        return self.audit or FakeAuditLog(self.world.audit)


def claims(roles: Any, practice: str | None = PRACTICE, sub: str = "user-1") -> dict[str, Any]:
    values: dict[str, Any] = {"sub": sub, "roles": roles, "exp": "1900000000"}
    if practice is not None:
        values["practice"] = practice
    return values


def http_event(
    method: str,
    route_path: str,
    *,
    path_params: dict[str, str] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    jwt_claims: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway HttpApi (payload 2.0) event for `route_path` (relative, `{param}` style)."""
    params = path_params or {}
    raw_path = BASE_PATH + re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], route_path)
    route_key = f"{method} {BASE_PATH}{route_path}"
    all_headers = {
        "content-type": "application/merge-patch+json" if method == "PATCH" else "application/json",
        **{k.lower(): v for k, v in (headers or {}).items()},
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api0000000",
            "domainName": "api.example.invalid",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "pytest",
            },
            "requestId": "req-0001",
            "routeKey": route_key,
            "stage": "$default",
            "time": "25/Nov/2026:17:00:00 +0000",
            "timeEpoch": 1795712400000,
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if params:
        event["pathParameters"] = dict(params)
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if jwt_claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": jwt_claims, "scopes": None}}
    return event


@dataclass
class Api:
    """The resolver over fake services, with helpers to call it like API Gateway would."""

    services: FakeApiServices = field(default_factory=FakeApiServices)
    resolver: APIGatewayHttpResolver | None = None

    def __post_init__(self) -> None:
        if self.resolver is None:
            self.resolver = create_resolver(lambda: self.services)

    @property
    def world(self) -> World:
        return self.services.world

    def call(self, method: str, route_path: str, roles: Any = "[admin]", **kwargs: Any) -> Reply:
        if roles is not None and "jwt_claims" not in kwargs:
            kwargs["jwt_claims"] = claims(roles)
        event = http_event(method, route_path, **kwargs)
        assert self.resolver is not None
        return Reply(self.resolver.resolve(event, FakeLambdaContext()))


@dataclass
class Reply:
    raw: dict[str, Any]

    @property
    def status(self) -> int:
        return int(self.raw["statusCode"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in (self.raw.get("headers") or {}).items()}

    @property
    def text(self) -> str:
        return str(self.raw.get("body") or "")

    def json(self) -> Any:
        return json.loads(self.text)

    def assert_problem(self, status: int, code: str | None = None) -> dict[str, Any]:
        """Assert a problem+json answer with the documented members; return its body."""
        assert self.status == status, (self.status, self.text)
        assert self.headers["content-type"] == "application/problem+json"
        body: dict[str, Any] = self.json()
        assert set(body) >= PROBLEM_KEYS, body
        assert body["status"] == status
        assert body["type"].startswith("https://")
        assert body["title"] and body["title"] != "Error", body  # names the kind of failure
        if code is not None:
            assert body["code"] == code, body
        assert "Traceback" not in self.text
        return body


def route_of(method: str, path: str) -> RouteSpec:
    return next(r for r in API_ROUTES if (r.method, r.path) == (method, path))

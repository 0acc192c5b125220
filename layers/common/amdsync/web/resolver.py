"""The HTTP API resolver: routers, the request gate (body size, token, role), the
idempotency middleware and the problem+json error mapping.

The gate runs before Powertools' request validation: a caller without a token or with the
wrong role gets 401/403, never a 422 that would describe the schema to them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from amdsync.observability import logger
from amdsync.web.auth import authorize, caller_from_event
from amdsync.web.body_guard import check_body
from amdsync.web.idempotency import PersistenceFactory, idempotency_middleware
from amdsync.web.problems import Problem, validation_problem
from amdsync.web.route_groups import ROUTES_BY_KEY, RouteGroups
from amdsync.web.routes import API_ROUTES, BASE_PATH

if TYPE_CHECKING:
    from amdsync.amd.errors import AmdError
    from amdsync.web.services import ApiServices

API_TITLE = "amdsync"
API_VERSION = "0.1.0"
MAX_BODY_BYTES = 64 * 1024

ServicesFactory = Callable[[], "ApiServices"]


class ApiResolver(APIGatewayHttpResolver):
    """Powertools' HttpApi resolver with a gate that answers before request validation, and
    route groups included on their first request (web/route_groups.py)."""

    def __init__(self, gate: Callable[[Mapping[str, Any]], Problem | None] | None) -> None:
        super().__init__(enable_validation=True)
        self._gate = gate
        self.groups = RouteGroups(self)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        problem = self._gate(event) if self._gate is not None else None
        if problem is not None:
            return _problem_result(problem)
        self.groups.load_for(str(event.get("routeKey", "")))
        return super().resolve(event, context)


def _problem_result(problem: Problem) -> dict[str, Any]:
    """An HttpApi (payload 2.0) result for a problem found before routing."""
    response = problem.response()
    headers = {k: v if isinstance(v, str) else ",".join(v) for k, v in response.headers.items()}
    return {
        "statusCode": response.status_code,
        "headers": headers,
        "body": response.body,
        "isBase64Encoded": False,
        "cookies": [],
    }


def create_resolver(
    services: ServicesFactory | None = None,
    role_claim: str = "roles",
    idempotency: PersistenceFactory | None = None,
) -> APIGatewayHttpResolver:
    gate = _request_gate(services, role_claim) if services is not None else None
    app = ApiResolver(gate)

    @app.get(f"{BASE_PATH}/health", summary="Liveness", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(f"{BASE_PATH}/openapi.json", summary="This API's OpenAPI 3.1 document", tags=["ops"])
    def openapi() -> Response[dict[str, Any]]:
        return Response(200, "application/json", openapi_document(app))

    if services is not None:
        app.use(middlewares=[_context_middleware(services, role_claim)])
        if idempotency is not None:
            app.use(middlewares=[idempotency_middleware(idempotency)])
    _register_error_handlers(app)
    return app


def _request_gate(
    services: ServicesFactory, role_claim: str
) -> Callable[[Mapping[str, Any]], Problem | None]:
    """A route we know (404), token and role (401/403), body size (413), then the body's media
    type and JSON shape (415/400), from the raw event."""

    def gate(event: Mapping[str, Any]) -> Problem | None:
        route = ROUTES_BY_KEY.get(str(event.get("routeKey", "")))
        try:
            if route is None:
                # Whatever API Gateway matched, a route missing from our table has no role
                # rule: refuse it rather than let it through unchecked.
                raise Problem(404, "NOT_FOUND", "No such route.")
            authorize(route, caller_from_event(event, role_claim), lambda: services().practice)
            if _body_size(event) > MAX_BODY_BYTES:
                raise Problem(
                    413, "BODY_TOO_LARGE", f"Request bodies are limited to {MAX_BODY_BYTES} bytes."
                )
            check_body(event, route.method)
        except Problem as problem:
            return problem
        return None

    return gate


def _body_size(event: Mapping[str, Any]) -> int:
    body = str(event.get("body") or "")
    if event.get("isBase64Encoded"):
        try:
            return len(base64.b64decode(body))
        except ValueError:
            return len(body)
    return len(body.encode())


def _context_middleware(
    services: ServicesFactory, role_claim: str
) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response[Any]]:
    """The request's services and caller, for the routes (the gate has checked them)."""

    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        caller = caller_from_event(app.current_event.raw_event, role_claim)
        app.append_context(services=services(), caller=caller)  # type: ignore[no-untyped-call]
        return next_middleware(app)

    return middleware


def _problem(exc: Exception) -> Response[Any]:
    return _to_problem(exc).response()


def _to_problem(exc: Exception) -> Problem:
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, RequestValidationError):
        return validation_problem(list(exc.errors()))
    if isinstance(exc, ValidationError):
        return validation_problem([dict(e) for e in exc.errors()])
    problem = _domain_problem(exc)
    if problem is not None:
        return problem
    logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
    return Problem(500, "INTERNAL", "Something went wrong on our side; it has been logged.")


def _domain_problem(exc: Exception) -> Problem | None:  # noqa: PLR0911 - one branch per family
    # Imported here, not at the top: only the route groups raise these, and a cold start
    # should not load the domain and AMD modules for routes it may never serve (a route that
    # raised one has imported it already, so this costs nothing then).
    from amdsync.amd.errors import AmdError  # noqa: PLC0415
    from amdsync.domain.concurrency import StaleWriteError, VersionReusedError  # noqa: PLC0415
    from amdsync.domain.errors import DomainError, IllegalTransitionError  # noqa: PLC0415
    from amdsync.sync.intake import NotRegistered  # noqa: PLC0415

    if isinstance(exc, IllegalTransitionError):
        return Problem(409, exc.code.value, exc.message)
    if isinstance(exc, NotRegistered):
        return Problem(404, "NOT_REGISTERED", "The EHR has not registered this id.")
    if isinstance(exc, StaleWriteError):
        return Problem(409, "CONCURRENT_UPDATE", "The record changed meanwhile; retry.")
    if isinstance(exc, VersionReusedError):
        return Problem(
            409,
            "VERSION_REUSED",
            "This ehrVersion was already used with different content; send a higher ehrVersion.",
        )
    if isinstance(exc, DomainError):
        return Problem(422, exc.code.value, exc.message)
    if isinstance(exc, AmdError):
        return _amd_problem(exc)
    return None


def _amd_problem(exc: AmdError) -> Problem:
    from amdsync.amd.errors import Family, RateLimited  # noqa: PLC0415 (see _domain_problem)

    if isinstance(exc, RateLimited):
        return Problem(
            503,
            "RATE_LIMITED",
            "AdvancedMD's rate limit is reached; retry later.",
            retry_after=max(1, int(exc.retry_after + 0.999)),
        )
    if exc.family in (Family.TRANSIENT, Family.SESSION_EXPIRED):
        return Problem(
            503, "AMD_UNAVAILABLE", "AdvancedMD is not answering; retry later.", retry_after=30
        )
    return Problem(502, exc.error_code, exc.meaning)


def _register_error_handlers(app: APIGatewayHttpResolver) -> None:
    # One handler for every exception (Powertools looks handlers up along the exception's
    # MRO): _to_problem sorts them into families, importing the domain ones only when raised.
    app.exception_handler(Exception)(_problem)

    @app.not_found
    def not_found(_: Exception) -> Response[Any]:
        return Problem(404, "NOT_FOUND", "No such route.").response()


def openapi_document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The OpenAPI document generated from the routes (committed as docs/openapi.json)."""
    if isinstance(app, ApiResolver):
        app.groups.load_all()  # it describes every route, loaded or not yet
    schema = app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION)
    document: dict[str, Any] = json.loads(schema)
    return with_security(with_problem_responses(document))


# Every failure answers RFC 9457 problem+json (web/problems.py); the resolver only knows the
# success shapes and its own 422, so the error answers are declared here, once for all.
PROBLEM_STATUSES = {
    "400": "Malformed request (e.g. invalid JSON, bad cursor)",
    "401": "Missing, invalid or expired bearer token",
    "403": "The caller's role may not use this route",
    "404": "Unknown id or route",
    "409": "Conflict: illegal status transition, concurrent update, reused ehrVersion",
    "412": "If-Match did not match the current ETag; nothing was written",
    "413": "Request body too large",
    "415": "The body is not application/json (merge-patch+json for PATCH)",
    "422": "Validation failed; the problem names the fields",
    "429": "Too soon: AdvancedMD's change feed may be read once a minute; see Retry-After",
    "500": "Unexpected error (logged; never carries details)",
    "502": "AdvancedMD rejected the request",
    "503": "AdvancedMD unavailable or rate-limited; see Retry-After",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def with_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"$ref": "#/components/schemas/Problem"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in PROBLEM_STATUSES.items():
                responses[status] = {
                    "description": description,
                    "content": {"application/problem+json": {"schema": problem}},
                }
    return document


# The HttpApi's JWT authorizer guards every route the route table gives roles; the roles
# themselves are checked by the gate (web/auth.py) and listed per operation for readers.
BEARER_SCHEME = "bearerAuth"
SECURITY_SCHEMES: dict[str, Any] = {
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "An access token from the deployment's OIDC issuer; the role claim (template "
            "parameter RoleClaim) must hold one of the operation's x-amdsync-roles."
        ),
    }
}
ROLES_EXTENSION = "x-amdsync-roles"


def with_security(document: dict[str, Any]) -> dict[str, Any]:
    """Bearer JWT on every operation with roles; public ones say explicitly that none is needed."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    routes = {(r.method.lower(), r.full_path): r for r in API_ROUTES}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            route = routes.get((method, path))
            if route is None or route.roles is None:
                operation["security"] = []
                continue
            roles = sorted(route.roles)
            operation["security"] = [{BEARER_SCHEME: []}]
            operation[ROLES_EXTENSION] = roles
            note = "Roles: " + ", ".join(roles) + "."
            description = operation.get("description")
            operation["description"] = f"{description}\n\n{note}" if description else note
    return document

"""The local API Gateway: a threaded HTTP server that turns requests into HttpApi v2 events.

Order of checks mirrors API Gateway: no matching route → 404 `{"message":"Not Found"}`; route
protected by the JWT authorizer and no valid token → 401 `{"message":"Unauthorized"}` (the
function is not invoked); otherwise the function's pool is invoked and its result returned. A
handler error is a 500 `{"message":"Internal Server Error"}`, a timeout a 503, as in AWS.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.runner.function_host import FunctionError, FunctionTimeout
from local.runner.httpapi_events import (
    HttpRequest,
    HttpResponse,
    RouteMatch,
    RouteTable,
    build_event,
    gateway_message,
    response_from_result,
)
from local.runner.jwt_authorizer import JwtAuthorizer

LOG = logging.getLogger("local.runner.http")

Invoker = Callable[[str, dict[str, Any]], Any]  # (function logical id, event) -> result


@dataclass(frozen=True)
class ApiGatewaySettings:
    base_path: str  # only paths under it are served (e.g. /api/advancedmd)
    stage: str  # the HttpApi's StageName
    api_id: str = "local"
    account_id: str = "123456789012"


class ApiGateway:
    """Routing, authorization and invocation; independent of the socket server for tests."""

    def __init__(
        self,
        routes: RouteTable,
        authorizer: JwtAuthorizer,
        invoke: Invoker,
        settings: ApiGatewaySettings,
    ) -> None:
        self._routes = routes
        self._authorizer = authorizer
        self._invoke = invoke
        self._settings = settings

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.target.partition("?")[0]
        base = self._settings.base_path.rstrip("/")
        if path != base and not path.startswith(base + "/"):
            return gateway_message(404, "Not Found")
        match = self._routes.match(request.method, path)
        if match is None:
            return gateway_message(404, "Not Found")
        claims = None
        if not match.route.public:
            claims = self._authorizer.authorize(_header(request.headers, "authorization"))
            if claims is None:
                return gateway_message(401, "Unauthorized")
        return self._call(request, match, claims)

    def _call(
        self, request: HttpRequest, match: RouteMatch, claims: dict[str, str] | None
    ) -> HttpResponse:
        event = build_event(
            request,
            match,
            stage=self._settings.stage,
            api_id=self._settings.api_id,
            account_id=self._settings.account_id,
            claims=claims,
        )
        try:
            result = self._invoke(match.route.function, event)
        except FunctionTimeout:
            LOG.warning("%s timed out on %s", match.route.function, match.route.route_key)
            return gateway_message(503, "Service Unavailable")
        except FunctionError as exc:
            # The error type only: a message may quote request data (PHI) back.
            LOG.warning(
                "%s failed on %s: %s", match.route.function, match.route.route_key, exc.error_type
            )
            return gateway_message(500, "Internal Server Error")
        try:
            return response_from_result(result)
        except (TypeError, ValueError) as exc:
            LOG.warning("%s returned a malformed response: %s", match.route.function, type(exc))
            return gateway_message(500, "Internal Server Error")


def _header(headers: Any, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return str(value)
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        response = self.server.gateway.handle(request)
        self.send_response(response.status)
        names = {name.lower() for name, _ in response.headers}
        for name, value in response.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        if "content-type" not in names and response.body:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        # Paths carry ids only (never PHI); query strings are dropped to be safe.
        LOG.info("%s %s", self.command, self.path.partition("?")[0])


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: ApiGateway

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints a traceback to stderr; a caller that hung up before its answer
        # (a curl timeout, a closed browser tab) is not an error of the stack.
        if isinstance(sys.exc_info()[1], ConnectionError):
            LOG.info("the client left before its answer was written")
            return
        LOG.exception("serving a request failed")


class HttpFront:
    """The socket server around an ApiGateway; port 0 picks a free port."""

    def __init__(self, gateway: ApiGateway, host: str = "127.0.0.1", port: int = 3000) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.gateway = gateway
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="http-front", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HttpFront:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def routes_by_function(routes: Mapping[str, Any]) -> RouteTable:
    """Convenience for callers holding FunctionSpecs keyed by logical id."""
    return RouteTable(route for spec in routes.values() for route in spec.routes)

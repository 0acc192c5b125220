"""API Gateway HttpApi (payload format 2.0) translation: route matching, request → event,
handler result → HTTP response. Pure functions; the server lives in http_front.py.

Faithful details worth knowing:
- The template's HttpApi has a named stage (`StageName: !Ref Stage`), and API Gateway then puts
  the stage in `rawPath` and `requestContext.http.path` (`/dev/api/advancedmd/health`) with
  `requestContext.stage = "dev"`; Powertools strips it again. The local URL has no stage prefix.
- Header names are lower-cased; repeated headers and query parameters are joined with commas;
  the Cookie header moves to `cookies`; `body` is omitted when empty and base64-encoded (with
  `isBase64Encoded`) when the content type is not text.
- A result without `statusCode` is a 200 JSON body, as API Gateway infers for format 2.0.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.runner.function_specs import HttpRoute

_TEXT_TYPES = re.compile(
    r"^(text/|application/(json|xml|javascript|x-www-form-urlencoded|[\w.+-]*\+(json|xml))\b)"
)


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class HttpRequest:
    """What the HTTP server read, before translation."""

    method: str
    target: str  # path with query string, as on the request line
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment != ""]


class RouteTable:
    """The template's HttpApi routes, matched as API Gateway does: literal segments beat
    `{param}` segments, which beat a greedy `{proxy+}`, compared left to right."""

    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        self._routes = [(route, _segments(route.path)) for route in routes]

    def match(self, method: str, path: str) -> RouteMatch | None:
        requested = [unquote(segment) for segment in _segments(path)]
        best: tuple[tuple[int, ...], RouteMatch] | None = None
        for route, pattern in self._routes:
            if route.method not in {method.upper(), "ANY"}:
                continue
            parameters = _match_segments(pattern, requested)
            if parameters is None:
                continue
            rank = tuple(_segment_rank(segment) for segment in pattern)
            rank += (0 if route.method != "ANY" else 1,)
            if best is None or rank < best[0]:
                best = (rank, RouteMatch(route, parameters))
        return None if best is None else best[1]


def _segment_rank(segment: str) -> int:
    if segment.startswith("{") and segment.endswith("+}"):
        return 2
    return 1 if segment.startswith("{") else 0


def _match_segments(pattern: list[str], requested: list[str]) -> dict[str, str] | None:
    parameters: dict[str, str] = {}
    for index, segment in enumerate(pattern):
        if segment.startswith("{") and segment.endswith("+}"):
            if index >= len(requested):
                return None
            parameters[segment[1:-2]] = "/".join(requested[index:])
            return parameters
        if index >= len(requested):
            return None
        if segment.startswith("{") and segment.endswith("}"):
            parameters[segment[1:-1]] = requested[index]
        elif segment != requested[index]:
            return None
    return parameters if len(pattern) == len(requested) else None


def build_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    stage: str,
    api_id: str,
    account_id: str,
    claims: dict[str, str] | None,
) -> dict[str, Any]:
    """The payload-2.0 event API Gateway would send for `request` on `match`."""
    path, _, raw_query = request.target.partition("?")
    stage_path = path if stage == "$default" else f"/{stage}{path}"
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    now = time.time()
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{secrets.token_hex(12)}")
    host = headers.get("host", "localhost")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": stage_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": request.method.upper(),
                "path": stage_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": base64.b64encode(secrets.token_bytes(12)).decode().rstrip("="),
            "routeKey": match.route.route_key,
            "stage": stage,
            "time": _clf_time(now),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query = _query_parameters(raw_query)
    if query:
        event["queryStringParameters"] = query
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if request.body:
        if _TEXT_TYPES.match(headers.get("content-type", "text/plain").lower()):
            event["body"] = request.body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def _clf_time(epoch: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch))


def _query_parameters(raw_query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
    return parameters


def response_from_result(result: Any) -> HttpResponse:
    """Turn a handler's return value into the HTTP response API Gateway would send."""
    if not (isinstance(result, dict) and "statusCode" in result):
        inferred = json.dumps(result).encode()
        return HttpResponse(200, [("content-type", "application/json")], inferred)
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), str(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body") or ""
    payload: bytes
    if result.get("isBase64Encoded"):
        payload = base64.b64decode(body)
    elif isinstance(body, str):
        payload = body.encode()
    else:
        payload = json.dumps(body).encode()
    return HttpResponse(int(result["statusCode"]), headers, payload)


def gateway_message(status: int, message: str) -> HttpResponse:
    """API Gateway's own JSON responses: `{"message": "Unauthorized"}` and friends."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)
